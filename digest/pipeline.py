"""The pipeline: the only module that calls several stages.

Read it as a table of contents::

    build_edition   sources -> fetch -> new entries -> extract -> cluster -> rank
                    -> condense -> assemble -> render -> write -> record -> archive
    render_again    issue.json -> render -> write (an editor's changes)
    condense_inputs files or URLs -> entries -> extract -> cluster -> condense

Everything is gathered in memory first; only a finished issue is written
(atomically), and only a written issue is recorded in the state store.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from digest import assemble, cluster, condense, extract, ingest, issuejson, output
from digest.config import Config, EditionConfig, FetchConfig, parse_duration, resolve_path
from digest.errors import DigestError
from digest.render import render_archive, render_issue
from digest.render.templates import environment
from digest.state import IssueRecord, State
from digest.types import Briefing, BrieflyItem, Entry, FeedResult, Issue, Source, Story

log = logging.getLogger("digest")

#: Called once per source as it finishes (drives the progress bar).
FeedCallback = Callable[[FeedResult], None]


class EveryFeedFailed(DigestError):
    """No source of an edition could be read: there is nothing to build from."""


@dataclass(frozen=True)
class BuildResult:
    edition: str
    #: The new issue folder; None when the edition had nothing (or too little) new.
    path: Path | None
    issue: Issue | None
    #: Why there is no issue, when there is none.
    reason: str = ""


@dataclass(frozen=True)
class Window:
    """Which entries a build may use.

    Those published at or after ``since`` (None: any time), and those first seen after
    ``seen_after``: a feed may carry an item dated before the previous issue that it
    only published later, and that item is still news to the reader.
    """

    since: datetime | None
    seen_after: datetime | None = None

    def admits(self, published: datetime, first_seen: datetime) -> bool:
        if self.since is None or published >= self.since:
            return True
        return self.seen_after is not None and first_seen > self.seen_after


def build_edition(
    config: Config,
    edition: EditionConfig,
    state: State,
    *,
    out_dir: Path,
    now: datetime,
    since: datetime | str | None = None,
    on_feed: FeedCallback | None = None,
) -> BuildResult:
    """Build one issue of ``edition``; ``since`` is a datetime, "all", or None for the default window."""
    tz = ZoneInfo(edition.timezone)
    window = build_window(edition, state, now, since)

    results = fetch(config, edition, state, now, on_feed)
    entries = new_entries(results, edition.name, state, now, window)
    stories = assemble.rank(cluster.cluster([extract.extract(e) for e in entries]))
    briefings, briefly, left_over = condense_stories(stories, edition, tz)

    if len(briefings) < max(edition.min_stories, 1):
        reason = "nothing new" if not stories else f"{len(briefings)} new stories, fewer than min_stories"
        return BuildResult(edition=edition.name, path=None, issue=None, reason=reason)

    edition_dir = out_dir / edition.name
    issue = assemble.assemble(
        edition=edition.name,
        title=edition.title,
        issue_id=assemble.next_issue_id(now.astimezone(tz).date(), taken_issue_ids(state, edition_dir)),
        built_at=now.astimezone(tz),
        briefings=briefings,
        briefly=briefly,
        results=results,
    )
    path = write(config, edition, issue, edition_dir)
    state.record_issue(
        IssueRecord(
            edition=edition.name,
            issue_id=issue.issue_id,
            built_at=now,
            resume_from=resume_point(left_over, now),
            path=str(path),
            stories=len(issue.stories),
        ),
        issue.entry_ids,
    )
    write_archive(config, edition, edition_dir)
    return BuildResult(edition=edition.name, path=path, issue=issue)


def build_window(edition: EditionConfig, state: State, now: datetime, since: datetime | str | None) -> Window:
    """An explicit --since; else where the previous issue left off; else the edition's lookback."""
    if since == "all":
        return Window(None)
    if isinstance(since, datetime):
        return Window(since)
    previous = state.last_issue(edition.name)
    if previous is not None:
        return Window(previous.resume_from, seen_after=previous.built_at)
    if edition.lookback == "all":
        return Window(None)
    return Window(now - parse_duration(edition.lookback))


def fetch(
    config: Config, edition: EditionConfig, state: State, now: datetime, on_feed: FeedCallback | None
) -> tuple[FeedResult, ...]:
    """Every source, concurrently; failures are logged and kept in the results."""
    sources = tuple(Source(url=s.url, name=s.name, full_text=s.full_text) for s in edition.sources)
    results = ingest.fetch_sources(
        sources, config.fetch, state.validators(s.url for s in sources), now, on_done=on_feed
    )
    for result in results:
        if result.status == "failed":
            log.warning("edition %s: source failed: %s", edition.name, result.error)
    if all(r.status == "failed" for r in results):
        raise EveryFeedFailed(f"edition {edition.name}: every source failed")
    state.save_validators(results)
    return results


def new_entries(
    results: Iterable[FeedResult], edition: str, state: State, now: datetime, window: Window
) -> tuple[Entry, ...]:
    """Entries no earlier issue used, inside the window; undated ones count as published when first seen."""
    entries = [e for r in results for e in r.entries]
    first_seen = state.first_seen((e.id for e in entries), now)
    used = state.used_entries(edition)
    fresh: dict[str, Entry] = {}
    for entry in entries:
        if entry.id in used or entry.id in fresh:
            continue
        if not entry.dated:
            entry = dataclasses.replace(entry, published=first_seen[entry.id])
        if window.admits(entry.published, first_seen[entry.id]):
            fresh[entry.id] = entry
    return tuple(fresh.values())


def condense_stories(
    stories: Sequence[Story], edition: EditionConfig, tz: tzinfo
) -> tuple[list[Briefing], list[BrieflyItem], list[Story]]:
    """Condense in rank order until max_stories briefings; too-short stories go to Briefly."""
    condenser = condense.get_condenser(edition.condense)
    briefings: list[Briefing] = []
    briefly: list[BrieflyItem] = []
    for position, story in enumerate(stories):
        if len(briefings) >= edition.max_stories:
            return briefings, briefly, list(stories[position:])
        briefing = condenser.condense(story, tz)
        if briefing is None:
            briefly.append(condense.briefly_item(story))
        else:
            briefings.append(briefing)
    return briefings, briefly, []


def resume_point(left_over: Sequence[Story], now: datetime) -> datetime:
    """Where the next issue's window starts: early enough to keep the stories left over."""
    published = [a.entry.published for s in left_over for a in s.articles]
    return min([*published, now])


def taken_issue_ids(state: State, edition_dir: Path) -> set[str]:
    """Ids recorded in the state store and folders already in out/ (a store may have been reset)."""
    on_disk = {p.name for p in edition_dir.iterdir() if p.is_dir()} if edition_dir.is_dir() else set()
    return state.issue_ids(edition_dir.name) | on_disk


def write(config: Config, edition: EditionConfig, issue: Issue, edition_dir: Path) -> Path:
    """Render every output of the issue in memory, then move the finished folder into place."""
    env = environment(theme_dir(config, edition))
    links = assemble.links_for(edition.base_url, issue.issue_id)
    sender = edition.delivery.from_ if edition.delivery else None
    rendered = render_issue(issue, edition, links, env, sender=sender)
    return output.write_issue(edition_dir, issue.issue_id, rendered)


def write_archive(config: Config, edition: EditionConfig, edition_dir: Path) -> None:
    """The edition's index.html and feed.xml, from every issue folder on disk."""
    env = environment(theme_dir(config, edition))
    index_html, feed_xml = render_archive(output.read_issues(edition_dir), edition, env)
    output.replace_files(edition_dir, {"index.html": index_html, "feed.xml": feed_xml})


def theme_dir(config: Config, edition: EditionConfig) -> Path | None:
    return resolve_path(config, edition.theme) if edition.theme else None


def render_again(config: Config, edition: EditionConfig, issue_dir: Path) -> Issue:
    """Render every output of an issue folder again from its (edited) issue.json."""
    issue = issuejson.load(issue_dir / "issue.json")
    env = environment(theme_dir(config, edition))
    links = assemble.links_for(edition.base_url, issue.issue_id)
    sender = edition.delivery.from_ if edition.delivery else None
    output.replace_files(issue_dir, render_issue(issue, edition, links, env, sender=sender).files())
    write_archive(config, edition, issue_dir.parent)
    return issue


def condense_inputs(
    targets: Sequence[str],
    fetch_settings: FetchConfig,
    edition: EditionConfig,
    now: datetime,
    title: str | None,
) -> tuple[list[Briefing], list[BrieflyItem]]:
    """Files or URLs -> briefings, for ``digest condense``; stories about one event are merged."""
    entries: list[Entry] = []
    for target in targets:
        for entry in ingest.read_inputs(target, fetch_settings, now):
            if title and not entry.title:
                entry = dataclasses.replace(entry, title=title)
            entries.append(entry)
    stories = cluster.cluster([extract.extract(e) for e in entries])
    briefings, briefly, _ = condense_stories(
        stories, edition.model_copy(update={"max_stories": max(len(stories), 1)}), ZoneInfo(edition.timezone)
    )
    return briefings, briefly
