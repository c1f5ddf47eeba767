"""The state store: what Digest must remember between runs.

SQLAlchemy Core over any database URL: SQLite by default (a file under the config's
``state_dir``), PostgreSQL by ``database_url``. Each concern is one module that alone knows its
tables (each module's docstring lists them), and a small class over the one shared engine:

| part | module | tables |
|---|---|---|
| ``state.fetch`` | ``fetch.py`` | ``http_validators``, ``source_health`` |
| ``state.entries`` | ``entries.py`` | ``entries_seen``, ``kept_entries``, ``used_entries`` |
| ``state.issues`` | ``issues.py`` | ``issues`` |
| ``state.ledger`` | ``ledger.py`` | ``deliveries``, ``suppressions`` |
| ``state.leases``, ``state.secrets`` | ``leases.py`` | ``send_leases``, ``secrets`` |
| ``state.claims`` | ``claims.py`` | ``send_claims`` |
| ``state.runs`` | ``runs.py`` | ``runs`` |
| ``state.build_leases`` | ``buildleases.py`` | ``build_leases`` |
| ``state.bounces`` | ``bounces.py`` | ``bounce_reports``, ``bounce_events`` |

``db.py`` holds what they share (the engine, transactions, how datetimes are stored, errors);
``schema.py`` keeps the schema current through the Alembic revisions in ``migrations/``.

What a build learnt (the validators, the entries first seen, the entries kept for later, the
issue and its used entries) is written in one transaction (``State.committing_build``: written
while the PDF renders, committed once the issue's folder is in place), so a build that fails or is
killed anywhere before leaves the store as it was and the next build fetches and publishes the
same news. That one write crosses concerns, so
it lives here, made of the parts' writes that take the caller's connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType

from sqlalchemy import Connection

from digest.config import Config
from digest.state import bounces, buildleases, claims, entries, fetch, issues, leases, ledger, runs, schema
from digest.state.buildleases import BuildLease
from digest.state.claims import ClaimedMark
from digest.state.db import Database, masked, state_url
from digest.state.fetch import SourceHealth
from digest.state.issues import IssueRecord
from digest.state.leases import SendLease
from digest.state.ledger import SendRecord
from digest.state.runs import RunOutcome, RunRecord
from digest.types import Entry, FeedResult


@dataclass(frozen=True)
class BuildRecord:
    """What one build of an edition learnt, committed at once by ``State.commit_build``."""

    edition: str
    #: Aware; when the build ran.
    now: datetime
    #: The fetch's outcomes: ok ones give their validators (not-modified and failed keep the old).
    results: tuple[FeedResult, ...] = ()
    #: entry id -> when first seen, for entries the store had not seen before.
    first_seen: Mapping[str, datetime] = field(default_factory=dict)
    #: Entries fetched and not published: with ``kept_unread``, they replace what the edition kept.
    kept: tuple[Entry, ...] = ()
    #: The kept entries the build read (``entries.kept_entries``): a row that is still one of them
    #: is left as it is, so a build rewrites only the kept entries that changed.
    kept_before: tuple[Entry, ...] = ()
    #: Ids of kept entries the build did not read and keeps as they are.
    kept_unread: tuple[str, ...] = ()
    #: The issue built, if any, and the entries it used.
    issue: IssueRecord | None = None
    used: tuple[str, ...] = ()


class State:
    """The state store at a database URL, its schema brought up to date on opening (unless
    ``migrate`` is False: then a store behind the code is refused). A context manager."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self._db = Database(url)
        try:
            schema.ensure_current(self._db, migrate=migrate)
        except BaseException:
            self._db.close()
            raise
        self.fetch = fetch.FetchCache(self._db)
        self.entries = entries.Entries(self._db)
        self.issues = issues.Issues(self._db)
        self.ledger = ledger.Ledger(self._db)
        self.leases = leases.Leases(self._db)
        self.secrets = leases.Secrets(self._db)
        self.runs = runs.Runs(self._db)
        self.build_leases = buildleases.BuildLeases(self._db)
        self.bounces = bounces.Bounces(self._db)
        self.claims = claims.Claims(self._db)

    @classmethod
    def of(cls, config: Config) -> State:
        """The store ``config`` names, migrated on opening as its ``state.auto_migrate`` says."""
        return cls(state_url(config), migrate=config.state.auto_migrate)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> State:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def record_issue(self, record: IssueRecord, entry_ids: Iterable[str]) -> None:
        """The issue and the entries it used, in one transaction.

        Raises StateError when the issue id is taken or an entry was already used by the edition.
        """
        self._db.run(lambda conn: _record_issue(conn, record, entry_ids))

    def commit_build(self, record: BuildRecord) -> None:
        """Everything a build learnt, in one transaction: the validators of what it fetched, the
        entries it saw first, the entries kept for the next issue (replacing the edition's), and
        the issue with its used entries. Until this commits, the store is as before the build.
        Kept rows are replaced only where they changed (a kept entry waits for many builds).

        Raises StateError when the issue id is taken or an entry was already used by the edition.
        """
        self._db.run(PendingBuild(record).write)

    @contextmanager
    def committing_build(self, record: BuildRecord) -> Iterator[PendingBuild]:
        """``commit_build`` around a block: the block may ``prepare()`` the record's rows while it
        waits (a build does, while its PDF is rendered); they are written and committed in one
        short transaction when the block ends, and not at all if it raises. The transaction is
        not held open across the block: on SQLite it would stop every other writer (a scheduler's
        lease heartbeat, a send, an unsubscribe) for as long as the PDF takes."""
        pending = PendingBuild(record)
        yield pending
        self._db.run(pending.write)

    def mark_sending(self, edition: str, issue_id: str, address: str, holder: str, now: datetime) -> bool:
        """Write a message's ``sending`` mark, if ``holder`` still holds the edition's send lease
        (renewed by the same transaction); False, and nothing written, when it does not. The mark
        and the check are one write so that a sender whose lease was taken over marks nothing."""

        def write(conn: Connection) -> bool:
            if not leases.renew(conn, edition, holder, now):
                return False
            ledger.mark_sending(conn, edition, issue_id, address, now)
            return True

        return self._db.run(write)

    @property
    def shares_sends(self) -> bool:
        """Whether several senders may share an issue: claims need ``FOR UPDATE SKIP LOCKED`` and
        advisory locks (PostgreSQL); on SQLite one sender holds the edition's lease."""
        return self._db.engine.dialect.name == "postgresql"


class PendingBuild:
    """A build's record waiting for its commit (``State.committing_build``)."""

    def __init__(self, record: BuildRecord) -> None:
        self._record = record
        self._encoded: dict[str, str] | None = None

    def prepare(self) -> None:
        """Encode the kept entries now (the costly part for a large build), touching no table."""
        if self._encoded is None:
            self._encoded = entries.encoded(self._record.kept)

    def write(self, conn: Connection) -> None:
        """Write the record in ``conn``'s transaction. Raises StateError as ``commit_build``."""
        self.prepare()
        assert self._encoded is not None
        record = self._record
        fetch.write_validators(conn, record.results)
        entries.add_seen(conn, record.first_seen)
        entries.replace_kept(
            conn,
            record.edition,
            record.now,
            record.kept,
            record.kept_before,
            record.kept_unread,
            self._encoded,
        )
        if record.issue is not None:
            _record_issue(conn, record.issue, record.used)


def migrate(url: str) -> schema.Migration:
    """Bring the store at ``url`` to this code's schema (``digest migrate``); refuses one ahead of it."""
    db = Database(url)
    try:
        return schema.upgrade(db)
    finally:
        db.close()


def _record_issue(conn: Connection, record: IssueRecord, entry_ids: Iterable[str]) -> None:
    issues.add_issue(conn, record)
    entries.add_used(conn, record.edition, record.issue_id, entry_ids)


__all__ = [
    "BuildLease",
    "BuildRecord",
    "ClaimedMark",
    "IssueRecord",
    "PendingBuild",
    "RunOutcome",
    "RunRecord",
    "SendLease",
    "SendRecord",
    "SourceHealth",
    "State",
    "masked",
    "migrate",
    "state_url",
]
