"""One sender per edition at a time: a lease in the state store.

A send reads the delivery ledger once, at its start, and mails every active subscriber without
an outcome. Two sends of one edition at the same time (an editor's ``digest send`` while
``digest run`` sends on schedule, or two editors) would read the same ledger and mail the same
subscribers twice. So a send first takes the edition's lease (``send_leases`` in the state
store, so that it holds across machines sharing a PostgreSQL store):

- A holder is named ``host:pid:token``. While another holder's lease is in force, a send
  stops before it mails anyone, with a DeliveryError naming the holder and since when.
- A lease is in force until its holder deletes it (when its send ends, however it ends), or
  it has not been renewed for ``EXPIRES_AFTER`` (a crashed holder on another machine), or its
  holder is a process of this machine that no longer exists (a crashed holder here: taken
  over at once).
- The holder renews it every ``RENEW_EVERY`` while it hands messages to the deliverer. A send
  that finds its lease taken over (it stalled for longer than ``EXPIRES_AFTER``) hands no
  further message out; what it has not sent is left to the new holder.

The deliverer's own retries wait at most a few minutes without an outcome (smtp.py), well
inside ``EXPIRES_AFTER``.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from digest.errors import DeliveryError
from digest.state import SendLease, State

#: A lease not renewed for this long is taken to belong to a send that died.
EXPIRES_AFTER = timedelta(minutes=10)
#: How often a send renews its lease.
RENEW_EVERY = timedelta(seconds=30)

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class Lease:
    """An edition's send lease, held by this process."""

    def __init__(self, state: State, edition: str, holder: str, clock: Clock) -> None:
        self.state = state
        self.edition = edition
        self.holder = holder
        self._clock = clock
        self._renewed = clock()
        #: False once another holder has taken the lease over.
        self.held = True

    def keep(self) -> bool:
        """Renew the lease when it is due; whether it is still this process's."""
        if self.held and self._clock() - self._renewed >= RENEW_EVERY:
            self._renewed = self._clock()
            self.held = self.state.leases.renew_send_lease(self.edition, self.holder, self._renewed)
        return self.held


@contextmanager
def send_lease(state: State, edition: str, clock: Clock = _now) -> Iterator[Lease]:
    """The edition's send lease for the block; DeliveryError when another send holds it."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    lease = state.leases.take_send_lease(
        edition, holder, clock(), expired=lambda other: expired(other, clock())
    )
    if lease.holder != holder:
        raise DeliveryError(
            f"edition {edition}: another send is in progress ({describe(lease.holder)}, since "
            f"{lease.since:%Y-%m-%d %H:%M:%S} UTC); nothing was sent. Run it again when that one is done."
        )
    held = Lease(state, edition, holder, clock)
    try:
        yield held
    finally:
        state.leases.release_send_lease(edition, holder)


def expired(lease: SendLease, now: datetime) -> bool:
    """Whether ``lease`` no longer protects a send: not renewed in time, or its process is gone."""
    if now - lease.renewed_at >= EXPIRES_AFTER:
        return True
    host, _, rest = lease.holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    if os.name != "posix":
        # Signal 0 only asks whether a process exists on POSIX; elsewhere os.kill ends it.
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process: alive
        return False
    return False


def describe(holder: str) -> str:
    """``host:pid:token`` as a person reads it."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    return f"process {pid} on {host}" if pid else holder
