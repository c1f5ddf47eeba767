"""The pipeline: the only module that calls several stages.

Read it as a table of contents::

    build_edition   sources -> fetch -> new entries (+ those kept: news.py) -> full text -> preview -> cluster
                    -> rank -> extract + condense -> assemble -> render -> write -> commit -> archive
    render_again    issue.json -> render -> write (an editor's changes)
    condense_inputs files or URLs -> entries -> preview -> cluster -> extract + condense
    send_issue      issue folder -> subscribers - suppressed - ledger -> per subscriber: the build's
                    bodies personalised -> mark sending -> deliver -> ledger (deliver/send.py)

Everything is gathered in memory first; only a finished issue is written (atomically), and only
then does the state store learn anything: the feeds' validators, the entries seen and kept for the
next issue and the issue itself, in one transaction (written while the PDF is made, committed once
the folder is in place). A build that fails before leaves the store as it was, so the next one
fetches and publishes the same news.

No stage here knows about processes: the caller (the command line, the scheduler) hands the
build a ``map`` and a PDF renderer (digest/workers.py), and the pipeline passes them on to the
stages that use them (previews, extraction; rendering). Fetching runs on this process's threads
(see ``fetch``), and neither the workers nor the renderer start a process before the build has news.
"""

from __future__ import annotations

import builtins
import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from digest import assemble, ingest
from digest.config import Config, EditionConfig, FetchConfig, resolve_path
from digest.errors import BuildStopped, EveryFeedFailed, UsageError
from digest.news import build_window, new_entries, resume_point
from digest.progress import Progress, ProgressEvent, counting_sources, ignore
from digest.state import BuildRecord, IssueRecord, State
from digest.text import counted
from digest.types import (
    Briefing,
    BrieflyItem,
    Candidate,
    Entry,
    FeedResult,
    Issue,
    Map,
    Rendered,
    Skipped,
    Source,
)

# The stages after fetching are imported in the functions that use them: a build whose every
# source answers 304 needs none of them, and importing them would take half of its time.
if TYPE_CHECKING:
    from digest.condense import Condenser
    from digest.deliver import Deliverer
    from digest.deliver.send import SendReport
    from digest.render.pdf import Renderer

log = logging.getLogger("digest")

#: Called once per source as it finishes (drives the progress bar).
FeedCallback = Callable[[FeedResult], None]


@dataclass(frozen=True)
class BuildResult:
    edition: str
    #: The new issue folder; None when the edition had nothing (or too little) new.
    path: Path | None
    issue: Issue | None
    #: Why there is no issue, when there is none.
    reason: str = ""


def build_edition(
    config: Config,
    edition: EditionConfig,
    state: State,
    *,
    out_dir: Path,
    now: datetime,
    renderer: Renderer,
    since: datetime | str | None = None,
    progress: Progress = ignore,
    stop: threading.Event | None = None,
    map: Map = builtins.map,
) -> BuildResult:
    """Build one issue of ``edition``; ``since`` is a datetime, "all", or None for the default window.

    ``map`` runs the stages' bulk work (builtins.map, or ``Workers.map`` to spread it over
    processes); ``renderer`` makes the PDF. ``progress`` hears of each step (digest/progress.py).
    ``stop``, once set, makes the build give up at its next check, always before it writes
    anything (BuildStopped): after fetching and after condensing.
    """
    tz = edition.timezone
    window = build_window(edition, state, now, since)

    progress(ProgressEvent("fetching", edition.name, 0, len(edition.sources)))
    fetched = counting_sources(edition.name, len(edition.sources), progress)
    results = fetch(config, edition, state, now, fetched, map)
    check_stop(stop)
    news = new_entries(results, edition.name, state, now, window)
    learnt = BuildRecord(
        edition=edition.name,
        now=now,
        results=results,
        first_seen=news.first_seen,
        kept_before=news.kept,
        kept_unread=news.outside,
    )
    if not news.entries:
        state.commit_build(learnt)
        return BuildResult(edition=edition.name, path=None, issue=None, reason="nothing new")
    # News, so a PDF to make: the renderer starts now, its imports overlapping the work below.
    renderer.prepare()
    from digest import cluster, condense, extract

    entries = extract.with_full_text(
        news.entries, {s.url for s in edition.sources if s.full_text}, config.fetch
    )
    stories = assemble.rank(cluster.cluster(extract.preview_all(entries, map), map))
    condenser = condense.get_condenser(edition.condense, cache_dir=condense_cache(config))
    progress(ProgressEvent("condensing", edition.name, total=min(len(stories), edition.max_stories)))
    condensed = condense_stories(stories, edition, tz, condenser, map)
    check_stop(stop)

    if len(condensed.briefings) < max(edition.min_stories, 1):
        fewer = f"{counted(len(condensed.briefings), 'new story', 'new stories')}, fewer than min_stories"
        reason = "nothing new" if not stories else fewer
        # No issue: every entry waits for the next build, as if the feeds sent it again.
        state.commit_build(dataclasses.replace(learnt, kept=entries))
        return BuildResult(edition=edition.name, path=None, issue=None, reason=reason)

    edition_dir = out_dir / edition.name
    issue = assemble.assemble(
        edition=edition.name,
        title=edition.title,
        issue_id=assemble.next_issue_id(now.astimezone(tz).date(), taken_issue_ids(state, edition_dir)),
        built_at=now.astimezone(tz),
        briefings=condensed.briefings,
        briefly=condensed.briefly,
        results=results,
        report=(*condenser.notes(), *(str(s) for s in condensed.skipped)),
    )
    record = IssueRecord(
        edition=edition.name,
        issue_id=issue.issue_id,
        built_at=now,
        resume_from=resume_point(condensed.left_over, now),
        path=str(edition_dir / issue.issue_id),
        stories=len(issue.stories),
    )
    kept = tuple(e for story in condensed.left_over for e in story.entries)
    learnt = dataclasses.replace(learnt, kept=kept, issue=record, used=issue.entry_ids)
    path = write(config, edition, issue, edition_dir, renderer, progress, state, learnt)
    write_archive(config, edition, edition_dir)
    return BuildResult(edition=edition.name, path=path, issue=issue)


def check_stop(stop: threading.Event | None) -> None:
    """Give up if asked to: nothing is written or committed yet, so the next build does the same work."""
    if stop is not None and stop.is_set():
        raise BuildStopped("stopped before anything was written")


def fetch(
    config: Config,
    edition: EditionConfig,
    state: State,
    now: datetime,
    on_feed: FeedCallback | None,
    map: Map = builtins.map,
) -> tuple[FeedResult, ...]:
    """Every source, concurrently (threads of this process), each document parsed through ``map``
    (a build whose every source answers 304 hands it nothing); failures are logged and kept in the
    results. The validators the sources sent are committed with the rest of the build (``BuildRecord``)."""
    sources = tuple(Source(url=s.url, name=s.name, full_text=s.full_text) for s in edition.sources)
    validators = state.fetch.validators(s.url for s in sources)
    results = ingest.fetch_sources(sources, config.fetch, validators, now, on_done=on_feed, map=map)
    for result in results:
        if result.status == "failed":
            log.warning("edition %s: source failed: %s", edition.name, result.error)
    # Before giving up on an edition whose every source failed: that is when `digest status` matters most.
    state.fetch.record_source_outcomes(edition.name, results, now)
    if all(r.status == "failed" for r in results):
        raise EveryFeedFailed(f"edition {edition.name}: every source failed")
    return results


def condense_cache(config: Config) -> Path:
    """Where backends keep costly results (a model's answers), beside the state."""
    return resolve_path(config, config.state_dir) / "condense-cache"


@dataclass(frozen=True)
class Condensed:
    """What extracting and condensing the stories an issue reaches gave."""

    briefings: tuple[Briefing, ...]
    briefly: tuple[BrieflyItem, ...]
    #: Stories whose extraction or condensing failed: in the run report, not retried.
    skipped: tuple[Skipped, ...]
    #: Stories not reached, and short ones beyond max_briefly: they wait for the next issue.
    left_over: tuple[Candidate, ...]


def condense_stories(
    stories: Sequence[Candidate],
    edition: EditionConfig,
    tz: tzinfo,
    condenser: Condenser,
    map: Map = builtins.map,
) -> Condensed:
    """Extract and condense in rank order until max_stories briefings; too-short stories go to
    Briefly, up to max_briefly (the others wait, as stories not reached do); a story that fails
    is skipped (logged) and the next one takes its place. Only the stories reached are extracted."""
    from digest.condense import condense_candidates

    briefings: list[Briefing] = []
    briefly: list[BrieflyItem] = []
    skipped: list[Skipped] = []
    waiting: list[Candidate] = []
    position = 0
    while position < len(stories) and len(briefings) < edition.max_stories:
        # As many stories as briefings are missing: each of them is reached whatever it gives.
        batch = stories[position : position + edition.max_stories - len(briefings)]
        for story, outcome in zip(batch, condense_candidates(batch, condenser, tz, map), strict=True):
            if isinstance(outcome, Briefing):
                briefings.append(outcome)
            elif isinstance(outcome, Skipped):
                log.warning("edition %s: %s", edition.name, outcome)
                skipped.append(outcome)
            elif len(briefly) < edition.max_briefly:
                briefly.append(outcome)
            else:
                waiting.append(story)
        position += len(batch)
    left_over = (*waiting, *stories[position:])
    return Condensed(tuple(briefings), tuple(briefly), tuple(skipped), left_over)


def taken_issue_ids(state: State, edition_dir: Path) -> set[str]:
    """Ids recorded in the state store and folders already in out/ (a store may have been reset)."""
    on_disk = {p.name for p in edition_dir.iterdir() if p.is_dir()} if edition_dir.is_dir() else set()
    return state.issues.issue_ids(edition_dir.name) | on_disk


def write(
    config: Config,
    edition: EditionConfig,
    issue: Issue,
    edition_dir: Path,
    renderer: Renderer,
    progress: Progress,
    state: State,
    learnt: BuildRecord,
) -> Path:
    """Render every output of the issue in memory, then move the finished folder into place; what the
    build learnt is prepared meanwhile (as the PDF is made) and committed after. A folder whose commit
    fails is withdrawn: unrecorded, the next build would publish it again, under another id."""
    from digest import output

    issue = dataclasses.replace(issue, config=config_reference(config, edition_dir / issue.issue_id))
    path: Path | None = None
    try:
        with state.committing_build(learnt) as pending:
            progress(ProgressEvent("rendering", edition.name))
            rendered = render(config, edition, issue, renderer, meanwhile=pending.prepare)
            progress(ProgressEvent("writing", edition.name))
            path = output.write_issue(edition_dir, issue.issue_id, rendered)
    except BaseException:
        if path is not None:
            output.withdraw_issue(path)
        raise
    return path


def config_reference(config: Config, issue_dir: Path) -> str:
    """The config's path as issue.json records it: relative to the issue's folder where it can be."""
    target = config.path.resolve()
    try:
        return Path(os.path.relpath(target, issue_dir.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return str(target)


def render(
    config: Config,
    edition: EditionConfig,
    issue: Issue,
    renderer: Renderer,
    meanwhile: Callable[[], object] | None = None,
) -> Rendered:
    """Every output of the issue, in memory, with the edition's theme, links and sender."""
    from digest.render import render_issue
    from digest.render.templates import environment
    from digest.unsubscribe import endpoint_url

    env = environment(theme_dir(config, edition))
    # With delivery, the bodies carry the bare unsubscribe endpoint: they are what each subscriber's
    # message is made from, with the subscriber's own link put in its place (deliver/message.py).
    endpoint = endpoint_url(edition.base_url) if edition.delivery else ""
    links = assemble.links_for(edition.base_url, issue.issue_id, unsubscribe=endpoint)
    sender = edition.delivery.from_ if edition.delivery else None
    rendered = render_issue(issue, edition, links, env, renderer, sender=sender, meanwhile=meanwhile)
    # What rendering adds to the run report (what the e-mail left out to fit) is said on stderr too.
    for line in rendered.report:
        if line not in issue.report:
            log.warning("edition %s: issue %s: %s", edition.name, issue.issue_id, line)
    return rendered


def write_archive(config: Config, edition: EditionConfig, edition_dir: Path) -> None:
    """The edition's index.html and feed.xml, from every issue folder on disk."""
    from digest import output
    from digest.render import render_archive
    from digest.render.templates import environment

    env = environment(theme_dir(config, edition))
    index_html, feed_xml = render_archive(output.read_issues(edition_dir), edition, env)
    output.replace_files(edition_dir, {"index.html": index_html, "feed.xml": feed_xml})


def theme_dir(config: Config, edition: EditionConfig) -> Path | None:
    return resolve_path(config, edition.theme) if edition.theme else None


def render_again(config: Config, edition: EditionConfig, issue_dir: Path, renderer: Renderer) -> Issue:
    """Render every output of an issue folder again from its (edited) issue.json."""
    from digest import issuejson, output

    issue = issuejson.load(issue_dir / "issue.json")
    issue = dataclasses.replace(issue, config=config_reference(config, issue_dir))
    output.replace_files(issue_dir, render(config, edition, issue, renderer).files())
    write_archive(config, edition, issue_dir.parent)
    return issue


def condense_inputs(
    targets: Sequence[str],
    fetch_settings: FetchConfig,
    edition: EditionConfig,
    now: datetime,
    title: str | None,
    map: Map = builtins.map,
) -> tuple[list[Briefing], list[BrieflyItem]]:
    """Files or URLs -> briefings, for ``digest condense``; stories about one event are merged."""
    from digest import cluster, condense, extract

    entries: list[Entry] = []
    for target in targets:
        for entry in ingest.read_inputs(target, fetch_settings, now):
            if title and not entry.title:
                entry = dataclasses.replace(entry, title=title)
            entries.append(entry)
    stories = cluster.cluster(extract.preview_all(entries, map), map)
    condensed = condense_stories(
        stories,
        edition.model_copy(update={"max_stories": max(len(stories), 1)}),
        edition.timezone,
        condense.get_condenser(edition.condense),
        map,
    )
    return list(condensed.briefings), list(condensed.briefly)


# --- delivery ---------------------------------------------------------------------------------------------


def latest_issue_dir(edition: EditionConfig, state: State, out_dir: Path) -> Path:
    """The edition's most recently built issue folder: the state store's record, else the newest on disk."""
    record = state.issues.last_issue(edition.name)
    if record is not None and (Path(record.path) / "issue.json").is_file():
        return Path(record.path)
    folders = [p for p in (out_dir / edition.name).glob("*/issue.json") if not p.parent.name.startswith(".")]
    if not folders:
        raise UsageError(f"{out_dir / edition.name}: edition {edition.name} has no issue to send yet")
    return max(folders, key=lambda p: (p.stat().st_mtime, p.parent.name)).parent


def send_issue(
    config: Config,
    edition: EditionConfig,
    state: State,
    issue_dir: Path,
    *,
    dry_run: bool = False,
    deliverer: Deliverer | None = None,
    progress: Progress = ignore,
) -> SendReport:
    """Mail the issue in ``issue_dir`` to its edition's subscribers, each once (deliver/send.py)."""
    from digest.deliver.send import send_issue as send

    return send(config, edition, state, issue_dir, dry_run=dry_run, deliverer=deliverer, progress=progress)
