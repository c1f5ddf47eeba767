"""The fetch cache: what the last fetch of each source left for the next one.

- ``http_validators(url PK, etag, last_modified, updated_at)``: the ETag and Last-Modified of
  each source's last successful fetch, sent back as a conditional GET next time.
- ``source_health(edition, url, name, failures_in_a_row, last_error, last_failed_at, last_ok_at,
  PK(edition, url))``: each source's failure streak, updated after every fetch of an edition
  (``digest status`` shows the failing ones).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Connection, Integer, String, Table, Text, delete, insert, select

from digest.state.db import Database, batches, instant, metadata, now_stamp, stamp, unique
from digest.types import FeedResult

http_validators = Table(
    "http_validators",
    metadata,
    Column("url", String(2048), primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("updated_at", String(32), nullable=False),
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


class FetchCache:
    """The HTTP validators and the sources' failure streaks."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def validators(self, urls: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
        """url -> (etag, last_modified) for those of ``urls`` fetched before."""
        wanted = unique(urls)

        def read(conn: Connection) -> dict[str, tuple[str | None, str | None]]:
            found: dict[str, tuple[str | None, str | None]] = {}
            for batch in batches(wanted):
                query = select(http_validators.c.url, http_validators.c.etag, http_validators.c.last_modified)
                for url, etag, last_modified in conn.execute(query.where(http_validators.c.url.in_(batch))):
                    found[url] = (etag, last_modified)
            return found

        return self._db.run(read)

    def save_validators(self, results: Iterable[FeedResult]) -> None:
        """Keep the validators of ok results (even none: the server stopped sending them).

        Not-modified results keep what was stored; failed ones change nothing.
        """
        self._db.run(lambda conn: write_validators(conn, results))

    def record_source_outcomes(self, edition: str, results: Iterable[FeedResult], now: datetime) -> None:
        """After a fetch: a failed source's streak grows by one; a source that worked starts again at 0."""
        outcomes = {r.source.url: r for r in results}
        if not outcomes:
            return
        when = stamp(now)
        key = source_health.c.edition == edition

        def write(conn: Connection) -> None:
            before: dict[str, dict[str, object]] = {}
            for batch in batches(list(outcomes)):
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
                        last_failed_at=when,
                    )
                else:
                    # The last error stays on record: when a source recovers, it is history, not news.
                    row.update(failures_in_a_row=0, last_ok_at=when)
                rows.append(row)
            for batch in batches(list(outcomes)):
                conn.execute(delete(source_health).where(key, source_health.c.url.in_(batch)))
            conn.execute(insert(source_health), rows)

        self._db.run(write)

    def failing_sources(self, edition: str) -> list[SourceHealth]:
        """Sources of ``edition`` that failed in their latest fetch, longest streak first."""
        query = (
            select(source_health)
            .where(source_health.c.edition == edition, source_health.c.failures_in_a_row > 0)
            .order_by(source_health.c.failures_in_a_row.desc(), source_health.c.url)
        )
        rows = self._db.run(lambda conn: conn.execute(query).mappings().all())
        return [
            SourceHealth(
                edition=row["edition"],
                url=row["url"],
                name=row["name"],
                failures_in_a_row=row["failures_in_a_row"],
                last_error=row["last_error"],
                last_failed_at=instant(row["last_failed_at"]) if row["last_failed_at"] else None,
                last_ok_at=instant(row["last_ok_at"]) if row["last_ok_at"] else None,
            )
            for row in rows
        ]


def write_validators(conn: Connection, results: Iterable[FeedResult]) -> None:
    """The validators of ok results, in the caller's transaction (see ``FetchCache.save_validators``)."""
    fetched = {r.source.url: r for r in results if r.status == "ok"}
    if not fetched:
        return
    when = now_stamp()
    rows = [
        {"url": url, "etag": r.etag, "last_modified": r.last_modified, "updated_at": when}
        for url, r in fetched.items()
    ]
    # Delete then insert: an upsert every database understands the same way.
    for batch in batches(list(fetched)):
        conn.execute(delete(http_validators).where(http_validators.c.url.in_(batch)))
    conn.execute(insert(http_validators), rows)
