"""Who holds what: the send leases, and the secrets Digest made itself.

- ``send_leases(edition PK, holder, since, renewed_at)``: who is sending the edition's issues
  now (deliver/lease.py), so that two senders never read the ledger at once and mail the same
  subscribers. The holder is a random token; its heartbeat renews the lease, and a lease not
  renewed for the edition's ``lease_timeout`` is taken over. The holder deletes it when done.
- ``secrets(name PK, value, created_at)``: secrets Digest made itself (the unsubscribe HMAC key
  when no environment variable gives one), made by the first process that needs one and kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Column, Connection, String, Table, Text, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from digest.errors import StateError
from digest.state.db import Database, instant, masked, metadata, now_stamp, stamp

send_leases = Table(
    "send_leases",
    metadata,
    Column("edition", String(200), primary_key=True),
    Column("holder", String(400), nullable=False),
    Column("since", String(32), nullable=False),
    Column("renewed_at", String(32), nullable=False),
)
secrets = Table(
    "secrets",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
)

T = TypeVar("T")


@dataclass(frozen=True)
class SendLease:
    """Who is sending an edition's issues, since when, and when they last said so; aware UTC."""

    edition: str
    holder: str
    since: datetime
    renewed_at: datetime


class _LeaseRace(Exception):
    """The send lease changed between reading it and writing it."""


class Leases:
    """The send lease of each edition."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def send_lease(self, edition: str) -> SendLease | None:
        """The edition's send lease, if anyone holds it."""
        return self._db.run(lambda conn: _lease(conn, edition))

    def take_send_lease(self, edition: str, holder: str, now: datetime, *, timeout: timedelta) -> SendLease:
        """The edition's send lease for ``holder``, unless another holder renewed it less than
        ``timeout`` before ``now``: the lease in force afterwards either way (compare its holder).

        Two processes taking it at once cannot both succeed: the row is inserted (its primary
        key admits one) or taken over only where it still is what this process read.
        """
        when = stamp(now)

        def take(conn: Connection) -> SendLease:
            current = _lease(conn, edition)
            if current is None:
                conn.execute(
                    insert(send_leases),
                    [{"edition": edition, "holder": holder, "since": when, "renewed_at": when}],
                )
            elif current.holder == holder or now - current.renewed_at >= timeout:
                taken = conn.execute(
                    update(send_leases)
                    .where(
                        send_leases.c.edition == edition,
                        send_leases.c.holder == current.holder,
                        send_leases.c.renewed_at == stamp(current.renewed_at),
                    )
                    .values(holder=holder, since=when, renewed_at=when)
                )
                if taken.rowcount != 1:
                    raise _LeaseRace
            else:
                return current
            return SendLease(edition, holder, now, now)

        return retried(self._db, take, _LeaseRace, f"the send lease of {edition}")

    @contextmanager
    def session_lock(self, name: str) -> Iterator[bool | None]:
        """On PostgreSQL, the session advisory lock ``name`` for the block: True when this process
        holds it, False when another session does. The server releases it when the block ends or
        when the holder's connection drops (a process killed, a machine gone), so a lock, unlike a
        lease row, never outlives its holder. None on databases without such locks (SQLite)."""
        if self._db.engine.dialect.name != "postgresql":
            yield None
            return
        key = advisory_key(name)
        try:
            with self._db.engine.connect() as conn:
                held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
                conn.commit()  # the lock is the session's: no transaction stays open meanwhile
                try:
                    yield held
                finally:
                    if held:
                        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                        conn.commit()
        except SQLAlchemyError as err:
            raise self._db.error(err) from err

    def renew_send_lease(self, edition: str, holder: str, now: datetime) -> bool:
        """The holder's heartbeat; False when the lease is no longer theirs."""
        return self._db.run(lambda conn: renew(conn, edition, holder, now))

    def release_send_lease(self, edition: str, holder: str) -> None:
        """Give the lease up, if ``holder`` still has it."""
        query = delete(send_leases).where(send_leases.c.edition == edition, send_leases.c.holder == holder)
        self._db.run(lambda conn: conn.execute(query))


class Secrets:
    """Secrets made once and kept."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def secret(self, name: str, make: Callable[[], str]) -> tuple[str, bool]:
        """The secret kept under ``name``, made with ``make`` and kept on first use; True when just made."""

        def read_or_make(conn: Connection) -> tuple[str, bool]:
            found = conn.execute(select(secrets.c.value).where(secrets.c.name == name)).scalar()
            if found is not None:
                return str(found), False
            value = make()
            conn.execute(insert(secrets), [{"name": name, "value": value, "created_at": now_stamp()}])
            return value, True

        return self._db.run(read_or_make)


def retried(db: Database, take: Callable[[Connection], T], race: type[Exception], what: str) -> T:
    """``take`` (a lease's read, then its write) in a transaction, read and tried again when another
    process inserted or took the lease between the read and the write (``race``, or the primary
    key refusing a second row)."""
    for _ in range(4):
        try:
            return db.run(take)
        except (race, StateError) as err:
            if isinstance(err, StateError) and not isinstance(err.__cause__, IntegrityError):
                raise
    raise StateError(f"{masked(db.url)}: {what} keeps changing hands")


def advisory_key(name: str) -> int:
    """The bigint key of PostgreSQL's advisory lock called ``name`` (the same in every process)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def renew(conn: Connection, edition: str, holder: str, now: datetime) -> bool:
    """Say that ``holder`` is still sending, in the caller's transaction; False when it no longer holds it."""
    renewed = conn.execute(
        update(send_leases)
        .where(send_leases.c.edition == edition, send_leases.c.holder == holder)
        .values(renewed_at=stamp(now))
    )
    return bool(renewed.rowcount == 1)


def _lease(conn: Connection, edition: str) -> SendLease | None:
    row = conn.execute(select(send_leases).where(send_leases.c.edition == edition)).first()
    if row is None:
        return None
    return SendLease(row.edition, row.holder, instant(row.since), instant(row.renewed_at))
