"""Who is mailing which subscriber of an issue now, when several senders share it (PostgreSQL).

- ``send_claims(edition, issue_id, address, position, holder, lock_key, heartbeat,
  PK(edition, issue_id, address))``: one row per subscriber of the issue still to be mailed.
  Every sender that starts adds the subscribers it found without an outcome (a row present is
  left as it is), in the order of the subscribers file (``position``). A sender claims the next
  rows with ``SELECT ... FOR UPDATE SKIP LOCKED``, so two senders never claim the same row, and
  writes itself in as their ``holder`` (a random token), with the key of the session advisory
  lock it holds while it lives (``lock_key``) and a ``heartbeat`` it renews.

A row is claimable when nobody holds it, when its holder's advisory lock is gone (the server
drops it with the holder's connection: a killed sender's rows are taken over at once), or when
its heartbeat is older than the edition's ``delivery.lease_timeout`` (a sender frozen with its
connection still up). A row is deleted in the transaction that writes its subscriber's outcome
to the ledger, so while a sender is mailing someone the row is there and no sender that starts
meanwhile can add that subscriber again. ``deliver/shared.py`` says what the senders do with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Index,
    Integer,
    String,
    Table,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from digest.state.db import Database, batches, metadata, now_stamp, stamp

send_claims = Table(
    "send_claims",
    metadata,
    Column("edition", String(200), primary_key=True),
    Column("issue_id", String(200), primary_key=True),
    Column("address", String(320), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("holder", String(64)),
    Column("lock_key", BigInteger),
    Column("heartbeat", String(32)),
    Index("send_claims_order", "edition", "issue_id", "position"),
)

#: The next rows nobody alive holds, locked (skipping rows another sender is claiming this
#: instant), then written as the claimer's. An advisory lock on a bigint key shows in pg_locks
#: as its high and low 32 bits (classid, objid) with objsubid 1.
_CLAIM = text(
    """
    WITH picked AS (
        SELECT c.edition, c.issue_id, c.address FROM send_claims c
        WHERE c.edition = :edition AND c.issue_id = :issue_id
          AND (c.holder IS NULL OR c.heartbeat < :stale OR NOT EXISTS (
                SELECT 1 FROM pg_locks l
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND ((l.classid::int8 << 32) | l.objid::int8) = c.lock_key))
        ORDER BY c.position
        LIMIT :limit
        FOR UPDATE OF c SKIP LOCKED
    )
    UPDATE send_claims s SET holder = :holder, lock_key = :lock_key, heartbeat = :now
    FROM picked
    WHERE s.edition = picked.edition AND s.issue_id = picked.issue_id AND s.address = picked.address
    RETURNING s.address, s.position
    """
)


#: A subscriber's ``sending`` mark, in one statement (committed alone: one round trip per
#: message, where a transaction of four statements took six): the row renewed if still the
#: holder's, the ledger read, and the mark written when the row is the holder's and the ledger
#: has no outcome (nor a mark left by another sender, unless ``proceed`` says to send again).
_MARK = text(
    """
    WITH held AS (
        UPDATE send_claims SET heartbeat = :now
        WHERE edition = :edition AND issue_id = :issue_id AND address = :address AND holder = :holder
        RETURNING 1
    ), current AS (
        SELECT status FROM deliveries WHERE edition = :edition AND issue_id = :issue_id AND address = :address
    ), marked AS (
        INSERT INTO deliveries (edition, issue_id, address, status, detail, at)
        SELECT :edition, :issue_id, :address, 'sending', '', :now
        WHERE EXISTS (SELECT 1 FROM held)
          AND NOT EXISTS (SELECT 1 FROM current WHERE status <> 'sending')
          AND (:proceed OR NOT EXISTS (SELECT 1 FROM current))
        ON CONFLICT (edition, issue_id, address)
        DO UPDATE SET status = 'sending', detail = '', at = EXCLUDED.at
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM held), (SELECT status FROM current), EXISTS (SELECT 1 FROM marked)
    """
)
#: A subscriber's outcome written and its row deleted, in one statement.
_SETTLE = text(
    """
    WITH gone AS (
        DELETE FROM send_claims WHERE edition = :edition AND issue_id = :issue_id AND address = :address
    )
    INSERT INTO deliveries (edition, issue_id, address, status, detail, at)
    VALUES (:edition, :issue_id, :address, :status, :detail, :at)
    ON CONFLICT (edition, issue_id, address) DO UPDATE
    SET status = EXCLUDED.status, detail = EXCLUDED.detail, at = EXCLUDED.at
    """
)
#: A message certainly not delivered: its ``sending`` mark and its row deleted, in one statement.
_FORGET = text(
    """
    WITH gone AS (
        DELETE FROM send_claims WHERE edition = :edition AND issue_id = :issue_id AND address = :address
    )
    DELETE FROM deliveries
    WHERE edition = :edition AND issue_id = :issue_id AND address = :address AND status = 'sending'
    """
)

#: What ``Claims.mark`` did.
ClaimedMark = Literal["lost", "done", "skipped", "resent", "marked"]
#: Outcomes that end a subscriber's entry in the ledger.
SETTLED = frozenset({"sent", "failed", "unknown"})


class Claims:
    """The claim rows of the issues being sent by several senders at once."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, edition: str, issue_id: str, addresses: Sequence[tuple[int, str]]) -> None:
        """Rows for these (position, address) pairs, unclaimed; a row already there is left as it is."""
        rows = [
            {"edition": edition, "issue_id": issue_id, "address": address, "position": position}
            for position, address in addresses
        ]

        def write(conn: Connection) -> None:
            for batch in batches(rows):
                conn.execute(pg_insert(send_claims).on_conflict_do_nothing(), batch)

        if rows:
            self._db.run(write)

    def claim(
        self,
        edition: str,
        issue_id: str,
        holder: str,
        lock_key: int,
        now: datetime,
        *,
        timeout: timedelta,
        limit: int,
    ) -> list[str]:
        """Up to ``limit`` claimable rows, now ``holder``'s: their addresses, in the file's order."""
        values = {
            "edition": edition,
            "issue_id": issue_id,
            "stale": stamp(now - timeout),
            "limit": limit,
            "holder": holder,
            "lock_key": lock_key,
            "now": stamp(now),
        }
        rows = self._db.run(lambda conn: conn.execute(_CLAIM, values).all())
        return [address for address, _ in sorted(rows, key=lambda row: row[1])]

    def held_by_others(self, edition: str, issue_id: str, holder: str) -> int:
        """Rows of the issue that another sender holds (or that nobody holds yet)."""
        query = select(func.count()).where(
            send_claims.c.edition == edition,
            send_claims.c.issue_id == issue_id,
            send_claims.c.holder.is_distinct_from(holder),
        )
        return int(self._db.run(lambda conn: conn.execute(query).scalar_one()))

    def renew(self, holder: str, now: datetime) -> None:
        """The holder's heartbeat, on every row it holds."""
        query = update(send_claims).where(send_claims.c.holder == holder).values(heartbeat=stamp(now))
        self._db.run(lambda conn: conn.execute(query))

    def mark(
        self,
        edition: str,
        issue_id: str,
        address: str,
        holder: str,
        now: datetime,
        *,
        own_mark: bool,
        resend_unknown: bool,
        skipped: str,
    ) -> ClaimedMark:
        """A shared send's ``sending`` mark, written only while ``holder`` holds the subscriber's
        row and the ledger has no outcome for it (the row and the ledger change together here):

        - ``lost``: the row is no longer the holder's (taken over), nothing written;
        - ``done``: the ledger has the subscriber's outcome already (another sender), row dropped;
        - ``skipped``: a ``sending`` mark another sender left (it died mailing it) and the edition
          sends such messages at most once: recorded ``unknown`` with ``skipped``, row dropped;
        - ``resent``: such a mark, and the edition sends them again: marked anew;
        - ``marked``: marked (``own_mark``: a mark this sender wrote for an earlier try is its own).
        """
        values = {
            "edition": edition,
            "issue_id": issue_id,
            "address": address,
            "holder": holder,
            "now": stamp(now),
            "proceed": own_mark or resend_unknown,
        }
        row = self._db.run_alone(_MARK, values)[0]
        held, status, marked = row[0], row[1], row[2]
        if not held:
            return "lost"
        if marked:
            return "resent" if status == "sending" and not own_mark else "marked"
        if status in SETTLED:
            self.drop(edition, issue_id, address)
            return "done"
        self.settle(edition, issue_id, address, "unknown", skipped)
        return "skipped"

    def settle(self, edition: str, issue_id: str, address: str, status: str, detail: str) -> None:
        """A shared send's outcome for one subscriber, and the end of its row, at once;
        ``pending`` deletes the ``sending`` mark instead (certainly not delivered)."""
        key = {"edition": edition, "issue_id": issue_id, "address": address}
        if status == "pending":
            self._db.run_alone(_FORGET, key)
            return
        self._db.run_alone(_SETTLE, {**key, "status": status, "detail": detail, "at": now_stamp()})

    def drop(self, edition: str, issue_id: str, address: str) -> None:
        """The subscriber's row, gone without an outcome (nobody is to mail it in this send)."""
        self._db.run(lambda conn: drop(conn, edition, issue_id, address))

    def release(self, holder: str) -> None:
        """Give back every row ``holder`` still holds (its subscribers not tried): claimable at once."""
        query = (
            update(send_claims)
            .where(send_claims.c.holder == holder)
            .values(holder=None, lock_key=None, heartbeat=None)
        )
        self._db.run(lambda conn: conn.execute(query))


def drop(conn: Connection, edition: str, issue_id: str, address: str) -> None:
    """The subscriber's row, gone (in the caller's transaction)."""
    conn.execute(delete(send_claims).where(_row(edition, issue_id, address)))


def _row(edition: str, issue_id: str, address: str) -> ColumnElement[bool]:
    return (
        (send_claims.c.edition == edition)
        & (send_claims.c.issue_id == issue_id)
        & (send_claims.c.address == address)
    )
