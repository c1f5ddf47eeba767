"""The delivery ledger and the suppression list: who got an issue, and who must never get one.

- ``deliveries(edition, issue_id, address, status, detail, at, PK(edition, issue_id, address))``:
  one commit per change. ``sending`` is written before a message's data goes out (in the same
  transaction that checks the sender still holds its lease: ``State.mark_sending``); it becomes
  ``sent`` after the server's 250, ``failed`` after a permanent refusal, ``unknown`` when the data
  went out, no reply came and the edition sends such messages at most once; it is deleted when
  the message was certainly not delivered (a 4xx, a connection refused). A ``sending`` row found
  by the next send is a message whose fate a crash hid (deliver/send.py decides what to do).
- ``suppressions(edition, address, how, at, PK(edition, address))``: unsubscribed addresses,
  never mailed again by that edition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, ColumnElement, Connection, String, Table, Text, delete, func, insert, select

from digest.state.db import Database, batches, instant, metadata, now_stamp, stamp

deliveries = Table(
    "deliveries",
    metadata,
    Column("edition", String(200), primary_key=True),
    Column("issue_id", String(200), primary_key=True),
    Column("address", String(320), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("detail", Text, nullable=False),
    Column("at", String(32), nullable=False),
)
suppressions = Table(
    "suppressions",
    metadata,
    Column("edition", String(200), primary_key=True),
    Column("address", String(320), primary_key=True),
    Column("how", String(32), nullable=False),
    Column("at", String(32), nullable=False),
)


@dataclass(frozen=True)
class SendRecord:
    """The latest issue of an edition that went to subscribers, from the delivery ledger."""

    edition: str
    issue_id: str
    #: When its latest delivery was recorded; aware UTC.
    at: datetime
    #: Subscribers it was sent to (accepted by the server).
    recipients: int


class Ledger:
    """What each issue's delivery came to, address by address, and the addresses suppressed."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def deliveries(self, edition: str, issue_id: str) -> dict[str, str]:
        """address -> status (sending, sent, failed, unknown) of every message of the issue in the ledger."""
        query = select(deliveries.c.address, deliveries.c.status).where(
            deliveries.c.edition == edition, deliveries.c.issue_id == issue_id
        )
        return self._db.run(lambda conn: {address: status for address, status in conn.execute(query)})

    def statuses(self, edition: str, issue_id: str, addresses: list[str]) -> dict[str, str]:
        """address -> status of those of ``addresses`` that the ledger has for the issue."""

        def read(conn: Connection) -> dict[str, str]:
            found: dict[str, str] = {}
            for batch in batches(addresses):
                query = select(deliveries.c.address, deliveries.c.status).where(
                    deliveries.c.edition == edition,
                    deliveries.c.issue_id == issue_id,
                    deliveries.c.address.in_(batch),
                )
                found.update({address: status for address, status in conn.execute(query)})
            return found

        return self._db.run(read)

    def record_delivery(self, edition: str, issue_id: str, address: str, status: str, detail: str) -> None:
        """One delivery's outcome, committed at once (the ledger is only as exact as its commits)."""
        self._db.run(lambda conn: write_delivery(conn, edition, issue_id, address, status, detail))

    def forget_sending(self, edition: str, issue_id: str, address: str) -> None:
        """Delete a message's ``sending`` mark: it was certainly not delivered; the next send sends it."""
        self._db.run(lambda conn: forget_sending(conn, edition, issue_id, address))

    def last_send(self, edition: str) -> SendRecord | None:
        """The edition's issue most recently delivered to a subscriber, per the delivery ledger."""

        def read(conn: Connection) -> SendRecord | None:
            sent = (deliveries.c.edition == edition) & (deliveries.c.status == "sent")
            latest = conn.execute(
                select(deliveries.c.issue_id, deliveries.c.at).where(sent).order_by(deliveries.c.at.desc())
            ).first()
            if latest is None:
                return None
            issue_id, at = latest
            counted = select(func.count(), func.max(deliveries.c.at)).where(
                sent, deliveries.c.issue_id == issue_id
            )
            recipients, last_at = conn.execute(counted).one()
            return SendRecord(
                edition=edition, issue_id=issue_id, at=instant(last_at or at), recipients=recipients
            )

        return self._db.run(read)

    def suppressed(self, edition: str) -> set[str]:
        """Every address unsubscribed from ``edition``."""
        query = select(suppressions.c.address).where(suppressions.c.edition == edition)
        return self._db.run(lambda conn: set(conn.execute(query).scalars()))

    def suppress(self, edition: str, address: str, how: str) -> bool:
        """Add ``address`` to the edition's suppression list; False when it was there already."""

        def write(conn: Connection) -> bool:
            where = (suppressions.c.edition == edition) & (suppressions.c.address == address)
            if conn.execute(select(suppressions.c.address).where(where)).first() is not None:
                return False
            row = {"edition": edition, "address": address, "how": how, "at": now_stamp()}
            conn.execute(insert(suppressions), [row])
            return True

        return self._db.run(write)


def mark_sending(conn: Connection, edition: str, issue_id: str, address: str, now: datetime) -> None:
    """A message's ``sending`` mark, in the caller's transaction (which checks the lease or claim)."""
    write_delivery(conn, edition, issue_id, address, "sending", "", now)


def write_delivery(
    conn: Connection,
    edition: str,
    issue_id: str,
    address: str,
    status: str,
    detail: str,
    at: datetime | None = None,
) -> None:
    """One message's status in the ledger, replacing what it had, in the caller's transaction."""
    conn.execute(delete(deliveries).where(_message(edition, issue_id, address)))
    row = {"edition": edition, "issue_id": issue_id, "address": address, "status": status, "detail": detail}
    conn.execute(insert(deliveries), [{**row, "at": stamp(at) if at else now_stamp()}])


def forget_sending(conn: Connection, edition: str, issue_id: str, address: str) -> None:
    """Delete a message's ``sending`` mark, in the caller's transaction."""
    conn.execute(
        delete(deliveries).where(_message(edition, issue_id, address), deliveries.c.status == "sending")
    )


def _message(edition: str, issue_id: str, address: str) -> ColumnElement[bool]:
    return (
        (deliveries.c.edition == edition)
        & (deliveries.c.issue_id == issue_id)
        & (deliveries.c.address == address)
    )
