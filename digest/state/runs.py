"""The scheduler's memory, for ``digest status`` (see digest/scheduler.py).

- ``runs(id PK, edition, started_at, finished_at, outcome, issue_id, stories, reason, recipients,
  send_error)``: each run of an edition by ``digest run``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Column, Integer, String, Table, Text, insert, select

from digest.state.db import Database, instant, metadata, stamp

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("edition", String(200), nullable=False, index=True),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("issue_id", String(200)),
    Column("stories", Integer),
    Column("reason", Text, nullable=False),
    Column("recipients", Integer),
    Column("send_error", Text),
)

RunOutcome = Literal["built", "skipped", "failed", "stopped"]


@dataclass(frozen=True)
class RunRecord:
    """One run of an edition by the scheduler: what it built and sent, or why not."""

    edition: str
    #: Aware; returned in UTC.
    started_at: datetime
    finished_at: datetime
    #: built: an issue was written; skipped: nothing (or too little) new; failed: an error;
    #: stopped: abandoned before writing anything because the scheduler was asked to stop.
    outcome: RunOutcome
    #: One line: what was built, why nothing was, or what went wrong.
    reason: str
    issue_id: str | None = None
    stories: int | None = None
    #: Subscribers the issue went to; None when it was not sent (no delivery, or sending failed).
    recipients: int | None = None
    #: One line, when sending failed.
    send_error: str | None = None


class Runs:
    """The runs the scheduler made."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record_run(self, record: RunRecord) -> None:
        row = {
            "edition": record.edition,
            "started_at": stamp(record.started_at),
            "finished_at": stamp(record.finished_at),
            "outcome": record.outcome,
            "issue_id": record.issue_id,
            "stories": record.stories,
            "reason": record.reason,
            "recipients": record.recipients,
            "send_error": record.send_error,
        }
        self._db.run(lambda conn: conn.execute(insert(runs), [row]))

    def last_runs(self, edition: str, count: int = 1) -> list[RunRecord]:
        """The ``count`` most recent runs of ``edition``, newest first."""
        query = select(runs).where(runs.c.edition == edition).order_by(runs.c.id.desc()).limit(count)
        rows = self._db.run(lambda conn: conn.execute(query).mappings().all())
        return [
            RunRecord(
                edition=row["edition"],
                started_at=instant(row["started_at"]),
                finished_at=instant(row["finished_at"]),
                outcome=row["outcome"],
                reason=row["reason"],
                issue_id=row["issue_id"],
                stories=row["stories"],
                recipients=row["recipients"],
                send_error=row["send_error"],
            )
            for row in rows
        ]
