"""Bounce and complaint reports ``digest bounces`` read (deliver/bounces.py): each once, and what it
said of whom.

- ``bounce_reports(report_id PK, read_at, outcome)``: every report read (its Message-ID, else a
  hash of it), so a report read again counts nothing.
- ``bounce_events(edition, address, report_id, kind, status, detail, at, PK(edition, address,
  report_id))``: what each report said of a subscriber (a hard or soft bounce, a complaint); the
  counts decide when an address goes on the ledger's suppression list, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Column, Connection, String, Table, Text, func, insert, select
from sqlalchemy.exc import IntegrityError

from digest.errors import StateError
from digest.state.db import Database, batches, metadata, now_stamp, unique
from digest.state.ledger import suppressions

bounce_reports = Table(
    "bounce_reports",
    metadata,
    Column("report_id", String(1000), primary_key=True),
    Column("read_at", String(32), nullable=False),
    Column("outcome", String(16), nullable=False),
)
bounce_events = Table(
    "bounce_events",
    metadata,
    Column("edition", String(200), primary_key=True),
    Column("address", String(320), primary_key=True),
    Column("report_id", String(1000), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("at", String(32), nullable=False),
)

#: ``suppressions.how`` of addresses ``digest bounces`` suppressed.
BOUNCED, COMPLAINED = "bounced", "complaint"


@dataclass(frozen=True)
class BounceEvent:
    """What one bounce or complaint report said of one subscriber of an edition."""

    edition: str
    address: str
    #: "hard", "soft" or "complaint".
    kind: str
    #: The RFC 3463 status, or a complaint's feedback type.
    status: str
    detail: str


@dataclass(frozen=True)
class BounceFigures:
    """An edition's bounces and complaints so far, for ``digest status``."""

    edition: str
    hard: int
    soft: int
    complaints: int
    #: Addresses suppressed because of bounces, and because of complaints.
    suppressed_bounced: int
    suppressed_complained: int


@dataclass(frozen=True)
class ReportRecord:
    """One bounce or complaint report read, and what it said of whom."""

    #: Its Message-ID, else a hash of it.
    report_id: str
    #: "matched", "unmatched" (it named no subscriber) or "no-event" (it reported no failure).
    outcome: str
    events: tuple[BounceEvent, ...]


class Bounces:
    """The reports read, their events, and the suppressions they brought."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def read_reports(self, report_ids: Iterable[str]) -> set[str]:
        """Those of ``report_ids`` already read."""
        wanted = unique(report_ids)

        def read(conn: Connection) -> set[str]:
            found: set[str] = set()
            for batch in batches(wanted):
                query = select(bounce_reports.c.report_id).where(bounce_reports.c.report_id.in_(batch))
                found.update(conn.execute(query).scalars())
            return found

        return self._db.run(read)

    def record_reports(
        self, reports: Sequence[ReportRecord], verdict: Callable[[str, Mapping[str, int]], str | None]
    ) -> list[list[tuple[str, str, str]] | None]:
        """Reports and their events, in one transaction; for each, None when it was read before,
        else the (edition, address, how) it newly suppressed.

        For each (edition, address) a report names, ``verdict(edition, counts of each kind so far)``
        says how to suppress it (``BOUNCED``, ``COMPLAINED``) or None.
        """
        stamp = now_stamp()

        def record(conn: Connection, report: ReportRecord) -> list[tuple[str, str, str]] | None:
            seen = select(bounce_reports.c.report_id).where(bounce_reports.c.report_id == report.report_id)
            if conn.execute(seen).first() is not None:
                return None
            row = {"report_id": report.report_id, "read_at": stamp, "outcome": report.outcome}
            conn.execute(insert(bounce_reports), [row])
            events = {
                (e.edition, e.address): {**vars(e), "report_id": report.report_id, "at": stamp}
                for e in report.events
            }
            if events:
                conn.execute(insert(bounce_events), list(events.values()))
            suppressed = []
            for edition, address in events:
                mine = (bounce_events.c.edition == edition) & (bounce_events.c.address == address)
                counts = select(bounce_events.c.kind, func.count()).where(mine).group_by(bounce_events.c.kind)
                how = verdict(edition, {kind: int(n) for kind, n in conn.execute(counts)})
                where = (suppressions.c.edition == edition) & (suppressions.c.address == address)
                if how and conn.execute(select(suppressions.c.address).where(where)).first() is None:
                    conn.execute(
                        insert(suppressions),
                        [{"edition": edition, "address": address, "how": how, "at": stamp}],
                    )
                    suppressed.append((edition, address, how))
            return suppressed

        def write(conn: Connection) -> list[list[tuple[str, str, str]] | None]:
            return [record(conn, report) for report in reports]

        for _ in range(2):
            try:
                return self._db.run(write)
            except StateError as err:
                # Another process wrote the same report or suppression between a check and an insert:
                # the next try sees it.
                if not isinstance(err.__cause__, IntegrityError):
                    raise
        return self._db.run(write)

    def figures(self, edition: str) -> BounceFigures:
        def read(conn: Connection) -> BounceFigures:
            kinds = select(bounce_events.c.kind, func.count()).where(bounce_events.c.edition == edition)
            events = {kind: int(n) for kind, n in conn.execute(kinds.group_by(bounce_events.c.kind))}
            hows = select(suppressions.c.how, func.count()).where(suppressions.c.edition == edition)
            suppressed = {how: int(n) for how, n in conn.execute(hows.group_by(suppressions.c.how))}
            return BounceFigures(
                edition=edition,
                hard=events.get("hard", 0),
                soft=events.get("soft", 0),
                complaints=events.get("complaint", 0),
                suppressed_bounced=suppressed.get(BOUNCED, 0),
                suppressed_complained=suppressed.get(COMPLAINED, 0),
            )

        return self._db.run(read)
