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
- ``kept_entries(edition, entry_id, published, kept_at, entry, PK(edition, entry_id))``: entries a build of
  the edition fetched and did not publish (the stories its issue had no room for, or all of them
  when it built none), each as JSON; the next build uses them beside what the feeds send, so they
  wait for the next issue even when every feed answers 304. A build reads whole only those inside
  its window (``published`` tells), and replaces the edition's set, rewriting only what changed.
- ``deliveries(edition, issue_id, address, status, detail, at, PK(edition, issue_id, address))``: the
  delivery ledger. A row is written only after the SMTP server's 250 (``sent``) or a permanent
  refusal (``failed``), one commit per message, so a rerun sends exactly what has no row.
- ``send_leases(edition PK, holder, since, renewed_at)``: who is sending the edition's issues
  now (deliver/lease.py), so that two senders never read the ledger at once and mail the same
  subscribers. A holder renews its lease while it sends and deletes it when done.
- ``suppressions(edition, address, how, at, PK(edition, address))``: unsubscribed addresses,
  never mailed again by that edition.
- ``secrets(name PK, value, created_at)``: secrets Digest made itself (the unsubscribe HMAC key
  when no environment variable gives one).
- ``runs(id PK, edition, started_at, finished_at, outcome, issue_id, stories, reason, recipients,
  send_error)``: each run of an edition by ``digest run``, for ``digest status``.
- ``source_health(edition, url, name, failures_in_a_row, last_error, last_failed_at, last_ok_at,
  PK(edition, url))``: each source's failure streak, updated after every fetch of an edition.

Datetimes are stored as fixed-width ISO 8601 strings in UTC (``2026-03-14T07:00:00.000000+00:00``):
every database stores and compares them alike, and sorting the text sorts the instants. They are
always returned as aware UTC datetimes. What a build learnt (the validators, the entries first
seen, the entries kept for later, the issue and its used entries) is written in one transaction
(``commit_build``), after the issue's folder is in place, so a build that fails or is killed
anywhere leaves the store as it was and the next build fetches and publishes the same news.
Every database failure is raised as a StateError naming the database URL with its password masked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal, TypeVar

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
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError

from digest.config import Config
from digest.errors import StateError
from digest.text import normalize_space
from digest.types import Entry, FeedResult

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
kept_entries = Table(
    "kept_entries",
    metadata,
    Column("edition", String(200), primary_key=True),
    Column("entry_id", String(64), primary_key=True),
    Column("published", String(32), nullable=False),
    Column("kept_at", String(32), nullable=False),
    Column("entry", Text, nullable=False),
)
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
send_leases = Table(
    "send_leases",
    metadata,
    Column("edition", String(200), primary_key=True),
    Column("holder", String(400), nullable=False),
    Column("since", String(32), nullable=False),
    Column("renewed_at", String(32), nullable=False),
)
suppressions = Table(
    "suppressions",
    metadata,
    Column("edition", String(200), primary_key=True),
    Column("address", String(320), primary_key=True),
    Column("how", String(32), nullable=False),
    Column("at", String(32), nullable=False),
)
secrets = Table(
    "secrets",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
)
# The scheduler's memory, for `digest status` (see digest/scheduler.py).
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
source_health = Table(
    "source_health",
    metadata,
    Column("edition", String(200), primary_key=True),
    Column("url", String(2048), primary_key=True),
    Column("name", Text, nullable=False),
    Column("failures_in_a_row", Integer, nullable=False),
    Column("last_error", Text),
    Column("last_failed_at", String(32)),
    Column("last_ok_at", String(32)),
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
    #: The kept entries the build read (``State.kept_entries``): a row that is still one of them
    #: is left as it is, so a build rewrites only the kept entries that changed.
    kept_before: tuple[Entry, ...] = ()
    #: Ids of kept entries the build did not read and keeps as they are.
    kept_unread: tuple[str, ...] = ()
    #: The issue built, if any, and the entries it used.
    issue: IssueRecord | None = None
    used: tuple[str, ...] = ()


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


@dataclass(frozen=True)
class SourceHealth:
    """How one source of an edition has fared lately."""

    edition: str
    url: str
    name: str
    #: Builds in a row in which it failed; 0 once it works again.
    failures_in_a_row: int
    last_error: str | None
    last_failed_at: datetime | None
    last_ok_at: datetime | None


@dataclass(frozen=True)
class SendLease:
    """Who is sending an edition's issues, since when, and when they last said so; aware UTC."""

    edition: str
    holder: str
    since: datetime
    renewed_at: datetime


@dataclass(frozen=True)
class SendRecord:
    """The latest issue of an edition that went to subscribers, from the delivery ledger."""

    edition: str
    issue_id: str
    #: When its latest delivery was recorded; aware UTC.
    at: datetime
    #: Subscribers it was sent to (accepted by the server).
    recipients: int


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


def _entry_json(entry: Entry) -> str:
    return json.dumps(
        {
            "id": entry.id,
            "feed": entry.feed,
            "feed_url": entry.feed_url,
            "title": entry.title,
            "link": entry.link,
            "published": _stamp(entry.published),
            "dated": entry.dated,
            "summary_html": entry.summary_html,
            "content_html": entry.content_html,
        },
        ensure_ascii=False,
    )


def _entry(text: str) -> Entry:
    data = json.loads(text)
    return Entry(
        id=data["id"],
        feed=data["feed"],
        feed_url=data["feed_url"],
        title=data["title"],
        link=data["link"],
        published=_instant(data["published"]),
        dated=bool(data["dated"]),
        summary_html=data["summary_html"],
        content_html=data["content_html"],
    )


class _LeaseRace(Exception):
    """The send lease changed between reading it and writing it."""


def create_tables(engine: Engine) -> None:
    """Create the tables that are absent. Two processes starting on a new database may race to create
    the same table; the loser's "already exists" is harmless, so it checks once more."""
    try:
        metadata.create_all(engine)
    except OperationalError as err:
        if "already exists" not in str(err):
            raise
        metadata.create_all(engine)


class State:
    """The state store at a database URL; tables are created when absent. A context manager."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            # Another process (digest run beside digest status or send) may hold SQLite's lock a moment.
            options = {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {}
            self._engine = create_engine(url, **options)
            create_tables(self._engine)
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
        self._run(lambda conn: self._save_validators(conn, results))

    @staticmethod
    def _save_validators(conn: Connection, results: Iterable[FeedResult]) -> None:
        fetched = {r.source.url: r for r in results if r.status == "ok"}
        if not fetched:
            return
        now = _stamp(datetime.now(UTC))
        rows = [
            {"url": url, "etag": r.etag, "last_modified": r.last_modified, "updated_at": now}
            for url, r in fetched.items()
        ]
        # Delete then insert: an upsert every database understands the same way.
        for batch in _batches(list(fetched)):
            conn.execute(delete(http_validators).where(http_validators.c.url.in_(batch)))
        conn.execute(insert(http_validators), rows)

    # --- entries ---

    def first_seen(self, entry_ids: Iterable[str], now: datetime) -> dict[str, datetime]:
        """entry id -> when it was first seen, for every id asked; unseen ids are recorded as ``now``."""
        wanted = _unique(entry_ids)

        def read_and_add(conn: Connection) -> dict[str, datetime]:
            seen = self._seen(conn, wanted)
            new = dict.fromkeys((i for i in wanted if i not in seen), _instant(_stamp(now)))
            self._add_seen(conn, new)
            return {**seen, **new}

        return self._run(read_and_add)

    def seen_before(self, entry_ids: Iterable[str]) -> dict[str, datetime]:
        """entry id -> when it was first seen, for those of ``entry_ids`` seen before; records nothing."""
        wanted = _unique(entry_ids)
        return self._run(lambda conn: self._seen(conn, wanted))

    @staticmethod
    def _seen(conn: Connection, wanted: list[str]) -> dict[str, datetime]:
        seen: dict[str, datetime] = {}
        for batch in _batches(wanted):
            query = select(entries_seen.c.entry_id, entries_seen.c.first_seen)
            for entry_id, first in conn.execute(query.where(entries_seen.c.entry_id.in_(batch))):
                seen[entry_id] = _instant(first)
        return seen

    def _add_seen(self, conn: Connection, first_seen: Mapping[str, datetime]) -> None:
        """Record first sightings, except of ids another build recorded meanwhile (that one stands)."""
        already = self._seen(conn, list(first_seen))
        new = [i for i in first_seen if i not in already]
        if new:
            conn.execute(
                insert(entries_seen), [{"entry_id": i, "first_seen": _stamp(first_seen[i])} for i in new]
            )

    def kept(self, edition: str) -> dict[str, datetime]:
        """entry id -> published, of the entries earlier builds of ``edition`` kept for later."""
        query = select(kept_entries.c.entry_id, kept_entries.c.published).where(
            kept_entries.c.edition == edition
        )
        rows = self._run(lambda conn: list(conn.execute(query)))
        return {entry_id: _instant(published) for entry_id, published in rows}

    def kept_entries(self, edition: str, entry_ids: Iterable[str] | None = None) -> tuple[Entry, ...]:
        """The entries earlier builds of ``edition`` kept for later (those of ``entry_ids``, when
        given), oldest kept first."""
        key = kept_entries.c.edition == edition
        query = select(kept_entries.c.entry).order_by(kept_entries.c.kept_at, kept_entries.c.entry_id)
        if entry_ids is None:
            return tuple(
                _entry(text)
                for text in self._run(lambda conn: list(conn.execute(query.where(key)).scalars()))
            )
        wanted = _unique(entry_ids)

        def read(conn: Connection) -> list[str]:
            return [
                text
                for batch in _batches(wanted)
                for text in conn.execute(query.where(key, kept_entries.c.entry_id.in_(batch))).scalars()
            ]

        return tuple(_entry(text) for text in self._run(read))

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
        self._run(lambda conn: self._record_issue(conn, record, entry_ids))

    @staticmethod
    def _record_issue(conn: Connection, record: IssueRecord, entry_ids: Iterable[str]) -> None:
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
        conn.execute(insert(issues), [issue_row])
        if used_rows:
            conn.execute(insert(used_entries), used_rows)

    def commit_build(self, record: BuildRecord) -> None:
        """Everything a build learnt, in one transaction: the validators of what it fetched, the
        entries it saw first, the entries kept for the next issue (replacing the edition's), and
        the issue with its used entries. Until this commits, the store is as before the build.
        Kept rows are replaced only where they changed (a kept entry waits for many builds).

        Raises StateError when the issue id is taken or an entry was already used by the edition.
        """
        stamp = _stamp(record.now)
        kept = {e.id: e for e in record.kept}
        before = {e.id: e for e in record.kept_before}
        unread = set(record.kept_unread) - set(kept)
        edition = kept_entries.c.edition == record.edition

        def write(conn: Connection) -> None:
            self._save_validators(conn, record.results)
            self._add_seen(conn, record.first_seen)
            stored = set(conn.execute(select(kept_entries.c.entry_id).where(edition)).scalars())
            stale = [i for i in stored if i not in unread and (i not in kept or before.get(i) != kept[i])]
            for batch in _batches(stale):
                conn.execute(delete(kept_entries).where(edition, kept_entries.c.entry_id.in_(batch)))
            rows = [
                {
                    "edition": record.edition,
                    "entry_id": i,
                    "published": _stamp(e.published),
                    "kept_at": stamp,
                    "entry": _entry_json(e),
                }
                for i, e in kept.items()
                if i not in stored or i in stale
            ]
            for batch in _batches(rows):
                conn.execute(insert(kept_entries), batch)
            if record.issue is not None:
                self._record_issue(conn, record.issue, record.used)

        self._run(write)

    # --- delivery ledger, suppressions, secrets ---

    def deliveries(self, edition: str, issue_id: str) -> dict[str, str]:
        """address -> status ("sent" or "failed") of every delivery of the issue recorded so far."""
        query = select(deliveries.c.address, deliveries.c.status).where(
            deliveries.c.edition == edition, deliveries.c.issue_id == issue_id
        )
        return self._run(lambda conn: {address: status for address, status in conn.execute(query)})

    def record_delivery(self, edition: str, issue_id: str, address: str, status: str, detail: str) -> None:
        """One delivery's outcome, committed at once (the ledger is only as exact as its commits)."""
        row = {
            "edition": edition,
            "issue_id": issue_id,
            "address": address,
            "status": status,
            "detail": detail,
            "at": _stamp(datetime.now(UTC)),
        }
        key = (deliveries.c.edition == edition) & (deliveries.c.issue_id == issue_id)

        def write(conn: Connection) -> None:
            conn.execute(delete(deliveries).where(key, deliveries.c.address == address))
            conn.execute(insert(deliveries), [row])

        self._run(write)

    def send_lease(self, edition: str) -> SendLease | None:
        """The edition's send lease, if anyone holds it."""
        return self._run(lambda conn: self._lease(conn, edition))

    def take_send_lease(
        self, edition: str, holder: str, now: datetime, *, expired: Callable[[SendLease], bool]
    ) -> SendLease:
        """The edition's send lease for ``holder``, unless someone else holds it and it has not
        ``expired``: the lease in force afterwards either way (compare its holder).

        Two processes taking it at once cannot both succeed: the row is inserted (its primary
        key admits one) or taken over only where it still is what this process read.
        """
        stamp = _stamp(now)

        def take(conn: Connection) -> SendLease:
            current = self._lease(conn, edition)
            if current is None:
                conn.execute(
                    insert(send_leases),
                    [{"edition": edition, "holder": holder, "since": stamp, "renewed_at": stamp}],
                )
            elif current.holder == holder or expired(current):
                taken = conn.execute(
                    update(send_leases)
                    .where(
                        send_leases.c.edition == edition,
                        send_leases.c.holder == current.holder,
                        send_leases.c.renewed_at == _stamp(current.renewed_at),
                    )
                    .values(holder=holder, since=stamp, renewed_at=stamp)
                )
                if taken.rowcount != 1:
                    raise _LeaseRace
            else:
                return current
            return SendLease(edition, holder, now, now)

        for _ in range(3):
            try:
                return self._run(take)
            except (_LeaseRace, StateError) as err:
                # Another process inserted or took it between the read and the write: read again.
                if isinstance(err, StateError) and not isinstance(err.__cause__, IntegrityError):
                    raise
        lease = self.send_lease(edition)
        if lease is None:
            raise StateError(f"{masked(self.url)}: the send lease of {edition} keeps changing hands")
        return lease

    def renew_send_lease(self, edition: str, holder: str, now: datetime) -> bool:
        """Say that ``holder`` is still sending; False when the lease is no longer theirs."""
        query = (
            update(send_leases)
            .where(send_leases.c.edition == edition, send_leases.c.holder == holder)
            .values(renewed_at=_stamp(now))
        )
        return bool(self._run(lambda conn: conn.execute(query).rowcount == 1))

    def release_send_lease(self, edition: str, holder: str) -> None:
        """Give the lease up, if ``holder`` still has it."""
        query = delete(send_leases).where(send_leases.c.edition == edition, send_leases.c.holder == holder)
        self._run(lambda conn: conn.execute(query))

    @staticmethod
    def _lease(conn: Connection, edition: str) -> SendLease | None:
        row = conn.execute(select(send_leases).where(send_leases.c.edition == edition)).first()
        if row is None:
            return None
        return SendLease(row.edition, row.holder, _instant(row.since), _instant(row.renewed_at))

    def suppressed(self, edition: str) -> set[str]:
        """Every address unsubscribed from ``edition``."""
        query = select(suppressions.c.address).where(suppressions.c.edition == edition)
        return self._run(lambda conn: set(conn.execute(query).scalars()))

    def suppress(self, edition: str, address: str, how: str) -> bool:
        """Add ``address`` to the edition's suppression list; False when it was there already."""

        def write(conn: Connection) -> bool:
            where = (suppressions.c.edition == edition) & (suppressions.c.address == address)
            if conn.execute(select(suppressions.c.address).where(where)).first() is not None:
                return False
            row = {"edition": edition, "address": address, "how": how, "at": _stamp(datetime.now(UTC))}
            conn.execute(insert(suppressions), [row])
            return True

        return self._run(write)

    def secret(self, name: str, make: Callable[[], str]) -> tuple[str, bool]:
        """The secret kept under ``name``, made with ``make`` and kept on first use; True when just made."""

        def read_or_make(conn: Connection) -> tuple[str, bool]:
            found = conn.execute(select(secrets.c.value).where(secrets.c.name == name)).scalar()
            if found is not None:
                return str(found), False
            value = make()
            row = {"name": name, "value": value, "created_at": _stamp(datetime.now(UTC))}
            conn.execute(insert(secrets), [row])
            return value, True

        return self._run(read_or_make)

    # --- the scheduler's runs and the sources' health (digest status) ---

    def record_run(self, record: RunRecord) -> None:
        row = {
            "edition": record.edition,
            "started_at": _stamp(record.started_at),
            "finished_at": _stamp(record.finished_at),
            "outcome": record.outcome,
            "issue_id": record.issue_id,
            "stories": record.stories,
            "reason": record.reason,
            "recipients": record.recipients,
            "send_error": record.send_error,
        }
        self._run(lambda conn: conn.execute(insert(runs), [row]))

    def last_runs(self, edition: str, count: int = 1) -> list[RunRecord]:
        """The ``count`` most recent runs of ``edition``, newest first."""
        query = select(runs).where(runs.c.edition == edition).order_by(runs.c.id.desc()).limit(count)
        rows = self._run(lambda conn: conn.execute(query).mappings().all())
        return [
            RunRecord(
                edition=row["edition"],
                started_at=_instant(row["started_at"]),
                finished_at=_instant(row["finished_at"]),
                outcome=row["outcome"],
                reason=row["reason"],
                issue_id=row["issue_id"],
                stories=row["stories"],
                recipients=row["recipients"],
                send_error=row["send_error"],
            )
            for row in rows
        ]

    def record_source_outcomes(self, edition: str, results: Iterable[FeedResult], now: datetime) -> None:
        """After a fetch: a failed source's streak grows by one; a source that worked starts again at 0."""
        outcomes = {r.source.url: r for r in results}
        if not outcomes:
            return
        stamp = _stamp(now)
        key = source_health.c.edition == edition

        def write(conn: Connection) -> None:
            before: dict[str, dict[str, object]] = {}
            for batch in _batches(list(outcomes)):
                query = select(source_health).where(key, source_health.c.url.in_(batch))
                before.update({row["url"]: dict(row) for row in conn.execute(query).mappings()})
            rows = []
            for url, result in outcomes.items():
                fresh = dict.fromkeys(("last_error", "last_failed_at", "last_ok_at"), None)
                fresh["failures_in_a_row"] = 0
                row = {**before.get(url, fresh), "edition": edition, "url": url, "name": result.name}
                if result.status == "failed":
                    streak = row["failures_in_a_row"]
                    row.update(
                        failures_in_a_row=(streak if isinstance(streak, int) else 0) + 1,
                        last_error=result.error,
                        last_failed_at=stamp,
                    )
                else:
                    # The last error stays on record: when a source recovers, it is history, not news.
                    row.update(failures_in_a_row=0, last_ok_at=stamp)
                rows.append(row)
            for batch in _batches(list(outcomes)):
                conn.execute(delete(source_health).where(key, source_health.c.url.in_(batch)))
            conn.execute(insert(source_health), rows)

        self._run(write)

    def failing_sources(self, edition: str) -> list[SourceHealth]:
        """Sources of ``edition`` that failed in their latest fetch, longest streak first."""
        query = (
            select(source_health)
            .where(source_health.c.edition == edition, source_health.c.failures_in_a_row > 0)
            .order_by(source_health.c.failures_in_a_row.desc(), source_health.c.url)
        )
        rows = self._run(lambda conn: conn.execute(query).mappings().all())
        return [
            SourceHealth(
                edition=row["edition"],
                url=row["url"],
                name=row["name"],
                failures_in_a_row=row["failures_in_a_row"],
                last_error=row["last_error"],
                last_failed_at=_instant(row["last_failed_at"]) if row["last_failed_at"] else None,
                last_ok_at=_instant(row["last_ok_at"]) if row["last_ok_at"] else None,
            )
            for row in rows
        ]

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
                edition=edition, issue_id=issue_id, at=_instant(last_at or at), recipients=recipients
            )

        return self._run(read)

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


__all__ = [
    "BuildRecord",
    "IssueRecord",
    "RunOutcome",
    "RunRecord",
    "SendLease",
    "SendRecord",
    "SourceHealth",
    "State",
    "masked",
    "state_url",
]
