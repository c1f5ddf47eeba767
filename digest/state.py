"""The state store: what Digest must remember between runs.

SQLAlchemy Core over any database URL: SQLite by default (a file under the config's
``state_dir``), PostgreSQL by ``database_url``. Tables, created on first use:

- ``http_validators(url PK, etag, last_modified, updated_at)``: the ETag and Last-Modified of
  each source's last successful fetch, sent back as a conditional GET next time.
- ``entries_seen(entry_id PK, first_seen)``: when each entry was first fetched, so an undated
  entry counts as published then, and keeps that date in later runs.
- ``used_entries(edition, entry_id, issue_id, PK(edition, entry_id))``: every entry an issue of
  an edition included; the primary key makes "never in two issues of one edition" a database
  rule, not only a filter.
- ``issues(edition, issue_id, built_at, resume_from, path, stories, PK(edition, issue_id))``: each
  issue built, for the next issue's window and id.

Datetimes are stored as fixed-width ISO 8601 strings in UTC (``2026-03-14T07:00:00.000000+00:00``):
every database stores and compares them alike, and sorting the text sorts the instants. They are
always returned as aware UTC datetimes. An issue and its used entries are written in one
transaction, so a crash leaves either both or neither. Every database failure is raised as a
StateError naming the database URL with its password masked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import TypeVar

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    insert,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from digest.config import Config
from digest.errors import StateError
from digest.text import normalize_space
from digest.types import FeedResult

#: Rows per ``IN (...)`` query: far below every database's limit on bound parameters.
BATCH = 500

metadata = MetaData()

http_validators = Table(
    "http_validators",
    metadata,
    Column("url", String(2048), primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("updated_at", String(32), nullable=False),
)
entries_seen = Table(
    "entries_seen",
    metadata,
    Column("entry_id", String(64), primary_key=True),
    Column("first_seen", String(32), nullable=False),
)
used_entries = Table(
    "used_entries",
    metadata,
    Column("edition", String(200), primary_key=True),
    Column("entry_id", String(64), primary_key=True),
    Column("issue_id", String(200), nullable=False),
)
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

T = TypeVar("T")


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


def state_url(config: Config) -> str:
    """``config.database_url`` if set, else an SQLite file under the config's state_dir (created)."""
    if config.database_url:
        return config.database_url
    folder = (config.folder / config.state_dir).resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StateError(f"{folder}: cannot create the state folder ({err.strerror or err})") from err
    return f"sqlite:///{folder / 'state.sqlite3'}"


def masked(url: str) -> str:
    """The database URL with its password hidden, fit for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        # Not even parseable: hide anything between "user:" and "@" by hand.
        return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)


def _stamp(moment: datetime) -> str:
    """An aware datetime -> fixed-width UTC text that sorts like the instants."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()} given to the state store")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _batches(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def _unique(items: Iterable[str]) -> list[str]:
    """Distinct items, first occurrence order (so repeated ids cost one row)."""
    return list(dict.fromkeys(items))


class State:
    """The state store at a database URL; tables are created when absent. A context manager."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self._engine = create_engine(url)
            metadata.create_all(self._engine)
        except (SQLAlchemyError, ImportError) as err:
            # ImportError: the URL names a driver that is not installed (e.g. psycopg).
            raise self._error(err) from err

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> State:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- HTTP validators ---

    def validators(self, urls: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
        """url -> (etag, last_modified) for those of ``urls`` fetched before."""
        wanted = _unique(urls)

        def read(conn: Connection) -> dict[str, tuple[str | None, str | None]]:
            found: dict[str, tuple[str | None, str | None]] = {}
            for batch in _batches(wanted):
                query = select(http_validators.c.url, http_validators.c.etag, http_validators.c.last_modified)
                for url, etag, last_modified in conn.execute(query.where(http_validators.c.url.in_(batch))):
                    found[url] = (etag, last_modified)
            return found

        return self._run(read)

    def save_validators(self, results: Iterable[FeedResult]) -> None:
        """Keep the validators of ok results (even none: the server stopped sending them).

        Not-modified results keep what was stored; failed ones change nothing.
        """
        fetched = {r.source.url: r for r in results if r.status == "ok"}
        if not fetched:
            return
        now = _stamp(datetime.now(UTC))
        rows = [
            {"url": url, "etag": r.etag, "last_modified": r.last_modified, "updated_at": now}
            for url, r in fetched.items()
        ]

        def write(conn: Connection) -> None:
            # Delete then insert: an upsert every database understands the same way.
            for batch in _batches(list(fetched)):
                conn.execute(delete(http_validators).where(http_validators.c.url.in_(batch)))
            conn.execute(insert(http_validators), rows)

        self._run(write)

    # --- entries ---

    def first_seen(self, entry_ids: Iterable[str], now: datetime) -> dict[str, datetime]:
        """entry id -> when it was first seen, for every id asked; unseen ids are recorded as ``now``."""
        wanted = _unique(entry_ids)
        stamp = _stamp(now)

        def read_and_add(conn: Connection) -> dict[str, datetime]:
            seen: dict[str, datetime] = {}
            for batch in _batches(wanted):
                query = select(entries_seen.c.entry_id, entries_seen.c.first_seen)
                for entry_id, first in conn.execute(query.where(entries_seen.c.entry_id.in_(batch))):
                    seen[entry_id] = _instant(first)
            new = [entry_id for entry_id in wanted if entry_id not in seen]
            if new:
                conn.execute(insert(entries_seen), [{"entry_id": i, "first_seen": stamp} for i in new])
                seen.update(dict.fromkeys(new, _instant(stamp)))
            return seen

        return self._run(read_and_add)

    def used_entries(self, edition: str) -> set[str]:
        """Every entry id an issue of ``edition`` included."""
        query = select(used_entries.c.entry_id).where(used_entries.c.edition == edition)
        return self._run(lambda conn: set(conn.execute(query).scalars()))

    # --- issues ---

    def issue_ids(self, edition: str) -> set[str]:
        query = select(issues.c.issue_id).where(issues.c.edition == edition)
        return self._run(lambda conn: set(conn.execute(query).scalars()))

    def last_issue(self, edition: str) -> IssueRecord | None:
        """The most recently built issue of ``edition``, or None before the first."""
        query = (
            select(issues)
            .where(issues.c.edition == edition)
            .order_by(issues.c.built_at.desc(), issues.c.issue_id.desc())
            .limit(1)
        )
        row = self._run(lambda conn: conn.execute(query).mappings().first())
        if row is None:
            return None
        return IssueRecord(
            edition=row["edition"],
            issue_id=row["issue_id"],
            built_at=_instant(row["built_at"]),
            resume_from=_instant(row["resume_from"]),
            path=row["path"],
            stories=row["stories"],
        )

    def record_issue(self, record: IssueRecord, entry_ids: Iterable[str]) -> None:
        """The issue and the entries it used, in one transaction.

        Raises StateError when the issue id is taken or an entry was already used by the edition.
        """
        issue_row = {
            "edition": record.edition,
            "issue_id": record.issue_id,
            "built_at": _stamp(record.built_at),
            "resume_from": _stamp(record.resume_from),
            "path": record.path,
            "stories": record.stories,
        }
        used_rows = [
            {"edition": record.edition, "entry_id": entry_id, "issue_id": record.issue_id}
            for entry_id in _unique(entry_ids)
        ]

        def write(conn: Connection) -> None:
            conn.execute(insert(issues), [issue_row])
            if used_rows:
                conn.execute(insert(used_entries), used_rows)

        self._run(write)

    # --- plumbing ---

    def _run(self, work: Callable[[Connection], T]) -> T:
        """``work`` in one transaction (committed on return, rolled back on error)."""
        try:
            with self._engine.begin() as conn:
                return work(conn)
        except SQLAlchemyError as err:
            raise self._error(err) from err

    def _error(self, err: BaseException) -> StateError:
        # SQLAlchemy's messages span lines (SQL, parameters, a link): keep the first, on one line.
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return StateError(f"{masked(self.url)}: {normalize_space(first_line)}")


__all__ = ["IssueRecord", "State", "masked", "state_url"]
