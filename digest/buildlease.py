"""One scheduler makes each scheduled run: the build lease.

Several ``digest run`` processes may share one state store (PostgreSQL, or SQLite on a shared
disk), for a scheduler that survives the loss of a machine. Each wakes at an edition's scheduled
time and would build and send it: APScheduler 3's job store does not coordinate schedulers. So a
scheduled run first takes the lease of its edition and scheduled time (``build_leases`` in the
state store, digest/state/buildleases.py):

- The first scheduler to take it builds and sends. Another finds it held, says so in one line
  (the edition, the scheduled time, the holder) and makes nothing; it keeps watching the lease
  (every ``timeout / 4``, at most every few seconds) until the holder finishes, so that the run is
  made however the holder fares. A holder that finished marked the run done, with whatever
  outcome (built, nothing new, failed): the run is settled, and a scheduler coming to it late (or
  to an earlier time of the edition) skips it too.
- The holder renews its lease with a heartbeat (digest/heartbeat.py, as a send does). A lease not
  renewed for ``timeout`` (the edition's ``delivery.lease_timeout``, else a minute) belongs to a
  scheduler that died or froze, and a watching scheduler takes the run over. On PostgreSQL the
  holder also keeps a session advisory lock on the run, which the server drops with the holder's
  connection: a run whose holder died is taken over at the watcher's next look.
- The holder records the issue it built before sending it. A scheduler taking over a run whose
  issue was built sends that issue (the delivery ledger sends only what is missing) instead of
  building another, which would find nothing new and leave subscribers without the issue.
- A run stopped before writing anything (the scheduler asked to stop) gives its lease back: the
  scheduler's next start makes that run, or a watching scheduler takes it at once.

The holder's name says which host and process it is, for the operator reading the logs; only its
random part makes it unique (host names and process ids repeat across containers).

``digest build`` takes no lease: an editor asking for an issue gets one whatever the scheduler did
(a scheduled run already made is no reason to refuse), exactly as before schedulers were shared.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from digest.config import EditionConfig
from digest.errors import StateError
from digest.heartbeat import Heartbeat
from digest.logs import fields
from digest.schedule import local_time
from digest.state import BuildLease, State
from digest.state.db import stamp

log = logging.getLogger("digest")

Clock = Callable[[], datetime]
#: The build lease's timeout for an edition without delivery (whose ``lease_timeout`` it takes).
DEFAULT_TIMEOUT = timedelta(seconds=60)
#: A watching scheduler looks at the lease at least this often.
MAX_WATCH_INTERVAL = 5.0


def _now() -> datetime:
    return datetime.now(UTC)


def lease_timeout(edition: EditionConfig) -> timedelta:
    """How long a scheduled run's holder may go without a heartbeat before its run is taken over."""
    if edition.delivery is None:
        return DEFAULT_TIMEOUT
    return timedelta(seconds=edition.delivery.lease_timeout)


def holder_name() -> str:
    """A new holder: the host and process, for people, and a random part, for uniqueness."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class HeldRun:
    """A scheduled run whose lease this process holds, renewed by a heartbeat while it is made."""

    def __init__(self, state: State, lease: BuildLease, timeout: timedelta, clock: Clock) -> None:
        self.state = state
        self.edition = lease.edition
        self.fire_time = lease.fire_time
        self.holder = lease.holder
        self.timeout = timeout
        #: The issue a previous holder built and may not have sent in full: send it, build nothing.
        self.built_issue = lease.issue_id
        self._clock = clock
        self._finished = False
        self.heartbeat = Heartbeat(
            lambda: state.build_leases.renew(self.edition, self.fire_time, self.holder, clock()),
            timeout,
            f"build lease {self.edition}",
        )

    def built(self, issue_id: str) -> None:
        """Record the issue built, before it is sent, for a scheduler that might take the run over."""
        if not self.state.build_leases.built(self.edition, self.fire_time, self.holder, issue_id):
            self.heartbeat.lose()

    def finish(self) -> None:
        """Mark the run made (whatever its outcome), so that no scheduler makes it again."""
        self._finished = self.state.build_leases.finish(
            self.edition, self.fire_time, self.holder, self._clock(), self.timeout
        )
        if not self._finished:
            self.heartbeat.lose()

    def release(self) -> None:
        """Give the run back unless it finished: it was stopped, or failed to record its end."""
        if not self._finished:
            self.state.build_leases.release(self.edition, self.fire_time, self.holder)


@contextmanager
def scheduled_run(
    state: State, edition: EditionConfig, fire_time: datetime, stop: threading.Event, clock: Clock = _now
) -> Iterator[HeldRun | None]:
    """The run of ``edition`` scheduled at ``fire_time``, for this process to make: a HeldRun, or
    None when another scheduler made it (or this one was told to stop while watching); logged."""
    timeout, holder = lease_timeout(edition), holder_name()
    watch_every = min(timeout.total_seconds() / 4, MAX_WATCH_INTERVAL)
    seen: BuildLease | None = None
    while True:
        with state.leases.session_lock(f"digest build {edition.name} {stamp(fire_time)}") as locked:
            # On PostgreSQL the advisory lock says whether the holder is alive: without it, the lease
            # is read, not taken; with it, a lease left unfinished belongs to a dead holder.
            current = state.build_leases.lease(edition.name, fire_time)
            if locked is False:
                lease = current or seen
            else:
                wait = timedelta(0) if locked else timeout
                lease = state.build_leases.take(edition.name, fire_time, holder, clock(), timeout=wait)
            if lease is not None and lease.holder == holder and lease.done_at is None:
                if current is not None and current.holder != holder:
                    _log_takeover(edition, fire_time, lease, current)
                elif seen is not None:
                    log.info(
                        "edition %s: %s gave the run of %s back (stopped): making it here",
                        edition.name,
                        seen.holder,
                        local_time(fire_time, edition.timezone),
                        extra=fields("run-taken-over", edition.name),
                    )
                held = HeldRun(state, lease, timeout, clock)
                with held.heartbeat:
                    try:
                        yield held
                    finally:
                        _release(held)
                return
        if lease is not None and lease.done_at is not None:
            _log_made_elsewhere(edition, fire_time, lease)
            yield None
            return
        if lease is not None and (seen is None or seen.holder != lease.holder):
            _log_held_elsewhere(edition, fire_time, lease, timeout)
        seen = lease or seen
        if stop.wait(watch_every):
            log.info(
                "edition %s: stopping; the run of %s is left to the scheduler making it",
                edition.name,
                local_time(fire_time, edition.timezone),
                extra=fields("watch-stopped", edition.name),
            )
            yield None
            return


def _release(held: HeldRun) -> None:
    try:
        held.release()
    except StateError as err:
        # The lease then lapses by itself, after its timeout.
        log.warning("edition %s: could not give the run's lease back: %s", held.edition, err)


def _log_held_elsewhere(
    edition: EditionConfig, fire_time: datetime, lease: BuildLease, timeout: timedelta
) -> None:
    log.info(
        "edition %s: the run of %s is being made by another scheduler (%s, since %s); this one skips "
        "it, and takes it over should that one stop renewing its lease for %s",
        edition.name,
        local_time(fire_time, edition.timezone),
        lease.holder,
        local_time(lease.since, edition.timezone),
        f"{timeout.total_seconds():g} s",
        extra=fields("run-held-elsewhere", edition.name),
    )


def _log_made_elsewhere(edition: EditionConfig, fire_time: datetime, lease: BuildLease) -> None:
    zone = edition.timezone
    which = "" if lease.fire_time == fire_time else f" (a later one, of {local_time(lease.fire_time, zone)})"
    issue = f", issue {lease.issue_id}" if lease.issue_id else ""
    log.info(
        "edition %s: the run of %s is skipped: another scheduler (%s) made it%s%s",
        edition.name,
        local_time(fire_time, zone),
        lease.holder,
        which,
        issue,
        extra=fields("run-made-elsewhere", edition.name, lease.issue_id),
    )


def _log_takeover(
    edition: EditionConfig, fire_time: datetime, lease: BuildLease, previous: BuildLease
) -> None:
    then = f"; its issue {lease.issue_id} is built: sending it" if lease.issue_id else ""
    log.warning(
        "edition %s: taking over the run of %s from %s, which stopped renewing its lease at %s%s",
        edition.name,
        local_time(fire_time, edition.timezone),
        previous.holder,
        local_time(previous.renewed_at, edition.timezone),
        then,
        extra=fields("run-taken-over", edition.name, lease.issue_id),
    )
