"""Entries: when each was first seen, which an edition keeps for later, which its issues used.

- ``entries_seen(entry_id PK, first_seen)``: when each entry was first fetched, so an undated
  entry counts as published then, and keeps that date in later runs.
- ``kept_entries(edition, entry_id, published, kept_at, entry, PK(edition, entry_id))``: entries a
  build of the edition fetched and did not publish (the stories its issue had no room for, or all
  of them when it built none), each as JSON; the next build uses them beside what the feeds send,
  so they wait for the next issue even when every feed answers 304. A build reads whole only those
  inside its window (``published`` tells), and replaces the edition's set, rewriting only what
  changed.
- ``used_entries(edition, entry_id, issue_id, PK(edition, entry_id))``: every entry an issue of
  an edition included; the primary key makes "never in two issues of one edition" a database
  rule, not only a filter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import Column, Connection, String, Table, Text, delete, insert, select

from digest.state.db import Database, batches, instant, metadata, stamp, unique
from digest.types import Entry

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
kept_entries = Table(
    "kept_entries",
    metadata,
    Column("edition", String(200), primary_key=True),
    Column("entry_id", String(64), primary_key=True),
    Column("published", String(32), nullable=False),
    Column("kept_at", String(32), nullable=False),
    Column("entry", Text, nullable=False),
)


class Entries:
    """Entries seen, kept for a later issue and used by an issue."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def first_seen(self, entry_ids: Iterable[str], now: datetime) -> dict[str, datetime]:
        """entry id -> when it was first seen, for every id asked; unseen ids are recorded as ``now``."""
        wanted = unique(entry_ids)

        def read_and_add(conn: Connection) -> dict[str, datetime]:
            seen = _seen(conn, wanted)
            new = dict.fromkeys((i for i in wanted if i not in seen), instant(stamp(now)))
            add_seen(conn, new)
            return {**seen, **new}

        return self._db.run(read_and_add)

    def seen_before(self, entry_ids: Iterable[str]) -> dict[str, datetime]:
        """entry id -> when it was first seen, for those of ``entry_ids`` seen before; records nothing."""
        wanted = unique(entry_ids)
        return self._db.run(lambda conn: _seen(conn, wanted))

    def kept(self, edition: str) -> dict[str, datetime]:
        """entry id -> published, of the entries earlier builds of ``edition`` kept for later."""
        query = select(kept_entries.c.entry_id, kept_entries.c.published).where(
            kept_entries.c.edition == edition
        )
        rows = self._db.run(lambda conn: list(conn.execute(query)))
        return {entry_id: instant(published) for entry_id, published in rows}

    def kept_entries(self, edition: str, entry_ids: Iterable[str] | None = None) -> tuple[Entry, ...]:
        """The entries earlier builds of ``edition`` kept for later (those of ``entry_ids``, when
        given), oldest kept first."""
        key = kept_entries.c.edition == edition
        query = select(kept_entries.c.entry).order_by(kept_entries.c.kept_at, kept_entries.c.entry_id)
        if entry_ids is None:
            return tuple(
                _entry(text)
                for text in self._db.run(lambda conn: list(conn.execute(query.where(key)).scalars()))
            )
        wanted = unique(entry_ids)

        def read(conn: Connection) -> list[str]:
            return [
                text
                for batch in batches(wanted)
                for text in conn.execute(query.where(key, kept_entries.c.entry_id.in_(batch))).scalars()
            ]

        return tuple(_entry(text) for text in self._db.run(read))

    def used_entries(self, edition: str) -> set[str]:
        """Every entry id an issue of ``edition`` included."""
        query = select(used_entries.c.entry_id).where(used_entries.c.edition == edition)
        return self._db.run(lambda conn: set(conn.execute(query).scalars()))


# --- writes in the caller's transaction (a build commits them with its issue) ---


def add_seen(conn: Connection, first_seen: Mapping[str, datetime]) -> None:
    """Record first sightings, except of ids another build recorded meanwhile (that one stands)."""
    already = _seen(conn, list(first_seen))
    new = [i for i in first_seen if i not in already]
    if new:
        conn.execute(insert(entries_seen), [{"entry_id": i, "first_seen": stamp(first_seen[i])} for i in new])


def replace_kept(
    conn: Connection,
    edition: str,
    now: datetime,
    kept: Iterable[Entry],
    before: Iterable[Entry],
    unread: Iterable[str],
    encoded: Mapping[str, str] | None = None,
) -> None:
    """The edition's kept entries become ``kept`` and ``unread`` (ids kept as they are). A row still
    equal to what the build read (``before``) stays; only what changed is rewritten. ``encoded``
    holds rows already made by ``encoded()``."""
    keep = {e.id: e for e in kept}
    read = {e.id: e for e in before}
    untouched = set(unread) - set(keep)
    key = kept_entries.c.edition == edition
    stored = set(conn.execute(select(kept_entries.c.entry_id).where(key)).scalars())
    stale = [i for i in stored if i not in untouched and (i not in keep or read.get(i) != keep[i])]
    for batch in batches(stale):
        conn.execute(delete(kept_entries).where(key, kept_entries.c.entry_id.in_(batch)))
    when = stamp(now)
    rows = [
        {
            "edition": edition,
            "entry_id": i,
            "published": stamp(e.published),
            "kept_at": when,
            "entry": encoded[i] if encoded is not None and i in encoded else _json(e),
        }
        for i, e in keep.items()
        if i not in stored or i in stale
    ]
    for batch in batches(rows):
        conn.execute(insert(kept_entries), batch)


def add_used(conn: Connection, edition: str, issue_id: str, entry_ids: Iterable[str]) -> None:
    """The entries an issue used; an IntegrityError when one was used by the edition before."""
    rows = [{"edition": edition, "entry_id": i, "issue_id": issue_id} for i in unique(entry_ids)]
    if rows:
        conn.execute(insert(used_entries), rows)


def _seen(conn: Connection, wanted: list[str]) -> dict[str, datetime]:
    seen: dict[str, datetime] = {}
    for batch in batches(wanted):
        query = select(entries_seen.c.entry_id, entries_seen.c.first_seen)
        for entry_id, first in conn.execute(query.where(entries_seen.c.entry_id.in_(batch))):
            seen[entry_id] = instant(first)
    return seen


def encoded(kept: Iterable[Entry]) -> dict[str, str]:
    """Each entry's stored form, by id: made ahead of the transaction that writes them."""
    return {e.id: _json(e) for e in kept}


def _json(entry: Entry) -> str:
    return json.dumps(
        {
            "id": entry.id,
            "feed": entry.feed,
            "feed_url": entry.feed_url,
            "title": entry.title,
            "link": entry.link,
            "published": stamp(entry.published),
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
        published=instant(data["published"]),
        dated=bool(data["dated"]),
        summary_html=data["summary_html"],
        content_html=data["content_html"],
    )
