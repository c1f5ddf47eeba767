"""One sender per edition at a time on SQLite: a lease in the state store.

(On PostgreSQL several senders share an issue instead, each claiming the subscribers it mails:
deliver/shared.py. A dry run, which records nothing, takes neither.)

A send reads the delivery ledger once, at its start, and mails every active subscriber without
an outcome. Two sends of one edition at the same time (an editor's ``digest send`` while
``digest run`` sends on schedule, or two editors, or two containers sharing a store) would read
the same ledger and mail the same subscribers twice. So a send first takes the edition's lease
(``send_leases`` in the state store, so that it holds wherever the store is shared):

- The holder is a random token, nothing else: host names and process ids say nothing across
  containers, PID namespaces or cloned machines. While another holder's lease is in force, a
  send stops before it mails anyone, with a DeliveryError saying since when.
- A heartbeat thread (digest/heartbeat.py) renews the lease every ``timeout / 4``. A lease not renewed for
  ``timeout`` (``delivery.lease_timeout``) belongs to a send that died or froze, and the next
  send takes it over; so a crashed send delays the next one by ``timeout`` at most.
- Where the store has session advisory locks (PostgreSQL, should a lease be taken there) the
  holder also holds one for the edition, which the server releases when the holder's
  connection drops: a holder that died is taken over at once, a live one never.
- Each message's ``sending`` mark is written only in a transaction that finds the lease still
  this sender's (``State.mark_sending``). A sender whose lease was taken over therefore stops
  before its next message; and a message it had marked just before (frozen between the mark
  and its data) is seen by the new holder as one of unknown fate, never mailed silently twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from digest.errors import DeliveryError
from digest.heartbeat import Heartbeat
from digest.state import SendLease, State

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Lease:
    """An edition's send lease, held by this process and renewed by a heartbeat thread."""

    def __init__(self, state: State, edition: str, holder: str, timeout: timedelta, clock: Clock) -> None:
        self.state = state
        self.edition = edition
        self.holder = holder
        self.timeout = timeout
        self._clock = clock
        self._heartbeat = Heartbeat(
            lambda: state.leases.renew_send_lease(edition, holder, clock()), timeout, f"send lease {edition}"
        )

    @property
    def held(self) -> bool:
        """False once another holder has taken the lease over."""
        return self._heartbeat.held

    def mark_sending(self, issue_id: str, address: str) -> bool:
        """Write the message's ``sending`` mark while the lease is this sender's; False when it is not."""
        if self.held and self.state.mark_sending(self.edition, issue_id, address, self.holder, self._clock()):
            return True
        self._heartbeat.lose()
        return False

    def start(self) -> None:
        self._heartbeat.start()

    def stop(self) -> None:
        self._heartbeat.stop()


@contextmanager
def send_lease(state: State, edition: str, timeout: timedelta, clock: Clock = utc_now) -> Iterator[Lease]:
    """The edition's send lease for the block; DeliveryError when another send holds it."""
    holder = uuid.uuid4().hex
    with state.leases.session_lock(f"digest send {edition}") as locked:
        # On PostgreSQL the advisory lock says whether another sender is alive; holding it, a
        # lease row left behind belongs to a dead one and is taken over at once.
        if locked is False:
            _refuse(edition, state.leases.send_lease(edition), timeout, alone=False)
        wait = timedelta(0) if locked else timeout
        lease = state.leases.take_send_lease(edition, holder, clock(), timeout=wait)
        if lease.holder != holder:
            _refuse(edition, lease, timeout, alone=not state.shares_sends)
        held = Lease(state, edition, holder, timeout, clock)
        held.start()
        try:
            yield held
        finally:
            held.stop()
            state.leases.release_send_lease(edition, holder)


def _refuse(edition: str, lease: SendLease | None, timeout: timedelta, *, alone: bool) -> NoReturn:
    since = f" (since {lease.since:%Y-%m-%d %H:%M:%S} UTC)" if lease else ""
    free_at = f"{lease.renewed_at + timeout:%H:%M:%S} UTC" if lease else ""
    crashed = f" (a send that crashed leaves its lease until {free_at} at the latest)" if lease else ""
    why = (
        " An SQLite state store allows one sender at a time; several senders share an issue when "
        "the store is on PostgreSQL (database_url)."
        if alone
        else ""
    )
    raise DeliveryError(
        f"edition {edition}: another send is in progress{since}; nothing was sent. "
        f"Run it again when that one is done{crashed}.{why}"
    )
