"""Issues built, for the next issue's window and id.

- ``issues(edition, issue_id, built_at, resume_from, path, stories, PK(edition, issue_id))``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Connection, Integer, String, Table, Text, insert, select

from digest.state.db import Database, instant, metadata, stamp

issues = Table(
    "issues",
    metadata,
    Column("edition", String(200), primary_key=True),
    Column("issue_id", String(200), primary_key=True),
    Column("built_at", String(32), nullable=False),
    Column("resume_from", String(32), nullable=False),
    Column("path", Text, nullable=False),
    Column("stories", Integer, nullable=False),
)


@dataclass(frozen=True)
class IssueRecord:
    """One issue built, as the state store keeps it."""

    edition: str
    issue_id: str
    #: Aware; returned in UTC.
    built_at: datetime
    #: Where the next issue's window starts (early enough for stories left over); aware.
    resume_from: datetime
    #: The issue folder.
    path: str
    stories: int


class Issues:
    """The issues each edition built."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def issue_ids(self, edition: str) -> set[str]:
        query = select(issues.c.issue_id).where(issues.c.edition == edition)
        return self._db.run(lambda conn: set(conn.execute(query).scalars()))

    def last_issue(self, edition: str) -> IssueRecord | None:
        """The most recently built issue of ``edition``, or None before the first."""
        query = (
            select(issues)
            .where(issues.c.edition == edition)
            .order_by(issues.c.built_at.desc(), issues.c.issue_id.desc())
            .limit(1)
        )
        row = self._db.run(lambda conn: conn.execute(query).mappings().first())
        if row is None:
            return None
        return IssueRecord(
            edition=row["edition"],
            issue_id=row["issue_id"],
            built_at=instant(row["built_at"]),
            resume_from=instant(row["resume_from"]),
            path=row["path"],
            stories=row["stories"],
        )


def add_issue(conn: Connection, record: IssueRecord) -> None:
    """The issue, in the caller's transaction; an IntegrityError when its id is taken."""
    row = {
        "edition": record.edition,
        "issue_id": record.issue_id,
        "built_at": stamp(record.built_at),
        "resume_from": stamp(record.resume_from),
        "path": record.path,
        "stories": record.stories,
    }
    conn.execute(insert(issues), [row])
