"""Which entries a build may publish: its window, the entries fetched and those earlier builds
kept, and where the next issue's window starts.

A window follows from the previous issue (where it left off, and when it was built, so that an
item a feed published late still counts), else from the edition's lookback; ``--since`` gives
one explicitly. An entry an earlier issue used is never published again; an entry a build
fetched and did not publish is kept in the state store and read by the next build whether or
not the feed sends it again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from digest.config import EditionConfig
from digest.state import State
from digest.types import Candidate, Entry, FeedResult


@dataclass(frozen=True)
class Window:
    """Which entries a build may use.

    Those published at or after ``since`` (None: any time), and those first seen after
    ``seen_after``: a feed may carry an item dated before the previous issue that it
    only published later, and that item is still news to the reader.
    """

    since: datetime | None
    seen_after: datetime | None = None
    #: Given on the command line (``--since``) rather than following from the previous issue.
    explicit: bool = False

    def admits(self, published: datetime, first_seen: datetime) -> bool:
        if self.since is None or published >= self.since:
            return True
        return self.seen_after is not None and first_seen > self.seen_after


def build_window(edition: EditionConfig, state: State, now: datetime, since: datetime | str | None) -> Window:
    """An explicit --since; else where the previous issue left off; else the edition's lookback."""
    if since == "all":
        return Window(None, explicit=True)
    if isinstance(since, datetime):
        return Window(since, explicit=True)
    previous = state.issues.last_issue(edition.name)
    if previous is not None:
        return Window(previous.resume_from, seen_after=previous.built_at)
    return Window(None if edition.lookback is None else now - edition.lookback)


@dataclass(frozen=True)
class News:
    """The entries a build may publish, and what it learnt finding them."""

    #: Entries no earlier issue used, inside the window: fetched now or kept by an earlier build.
    entries: tuple[Entry, ...]
    #: entry id -> now, for the entries the state store had not seen (committed with the build).
    first_seen: Mapping[str, datetime]
    #: The kept entries read (those inside the window that no feed sent again).
    kept: tuple[Entry, ...] = ()
    #: Ids of kept entries outside an explicit window (``--since``): kept on, unread, for later.
    outside: tuple[str, ...] = ()


def new_entries(
    results: Iterable[FeedResult], edition: str, state: State, now: datetime, window: Window
) -> News:
    """Entries no earlier issue used, inside the window, from the fetch and from the entries earlier
    builds kept (the fetched copy wins; a kept entry is read only when inside the window); undated
    ones count as published when first seen."""
    fetched = [e for r in results for e in r.entries]
    kept = state.entries.kept(edition)
    seen = state.entries.seen_before([*(e.id for e in fetched), *kept])
    first_seen = {e.id: now for e in fetched if e.id not in seen}
    used = state.entries.used_entries(edition)
    fresh: dict[str, Entry] = {}
    for entry in fetched:
        if entry.id in used or entry.id in fresh:
            continue
        when = seen.get(entry.id, now)
        if not entry.dated:
            entry = dataclasses.replace(entry, published=when)
        if window.admits(entry.published, when):
            fresh[entry.id] = entry
    # A kept entry's date is already its first sighting when the feed gave none.
    waiting = {i: published for i, published in kept.items() if i not in used and i not in fresh}
    inside = [i for i, published in waiting.items() if window.admits(published, seen.get(i, now))]
    read = state.entries.kept_entries(edition, inside)
    fresh.update((e.id, e) for e in read)
    outside = tuple(i for i in waiting if window.explicit and i not in fresh)
    return News(tuple(fresh.values()), first_seen, read, outside)


def resume_point(left_over: Sequence[Candidate], now: datetime) -> datetime:
    """Where the next issue's window starts: early enough to keep the stories left over."""
    published = [e.published for s in left_over for e in s.entries]
    return min([*published, now])
