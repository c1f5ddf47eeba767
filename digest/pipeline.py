"""The pipeline: the only module that calls several stages.

Read it as a table of contents::

    build_edition   sources -> fetch -> new entries (+ those kept) -> full text -> preview -> cluster
                    -> rank -> extract + condense -> assemble -> render -> write -> commit -> archive
    render_again    issue.json -> render -> write (an editor's changes)
    condense_inputs files or URLs -> entries -> preview -> cluster -> extract + condense
    send_issue      issue folder -> subscribers - suppressed - ledger -> render once
                    -> per subscriber: personalise -> deliver -> ledger

Everything is gathered in memory first; only a finished issue is written
(atomically), and only then does the state store learn anything: the feeds'
validators, the entries seen, the entries kept for the next issue and the issue
itself, in one commit. A build that fails anywhere before leaves the store as it
was, so the next one fetches and publishes the same news.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from digest import assemble, ingest
from digest.config import Config, EditionConfig, FetchConfig, parse_duration, resolve_path
from digest.errors import EveryFeedFailed, OutputError, UsageError
from digest.state import BuildRecord, IssueRecord, State
from digest.text import counted
from digest.types import (
    Briefing,
    BrieflyItem,
    Candidate,
    Entry,
    FeedResult,
    Issue,
    Rendered,
    Skipped,
    Source,
)

# The stages after fetching (extract, cluster, condense, render, output, deliver) are imported in
# the functions that use them: a build whose every source answers 304 needs none of them, and
# importing them all would take half of its one-second budget (issue 8).
if TYPE_CHECKING:
    from digest.condense import Condenser
    from digest.deliver import Deliverer, Outcome
    from digest.deliver.lease import Lease
    from digest.deliver.message import MessageMaker
    from digest.subscribers import Subscriber

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
    with cyclic_gc_paused():
        return _build_edition(config, edition, state, out_dir=out_dir, now=now, since=since, on_feed=on_feed)


_gc_pauses = 0
_gc_was_enabled = True
_gc_pauses_lock = threading.Lock()


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: a build allocates its entries, articles and stories
    and keeps them to the end, so every full collection walks them all again for nothing. At
    10,000 entries the collector took about a sixth of a cold build (issue 8). Reference
    counting still frees everything that is not in a cycle; the collector resumes after the
    last build in progress (the scheduler's builds may overlap)."""
    global _gc_pauses, _gc_was_enabled
    with _gc_pauses_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_pauses_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def _build_edition(
    config: Config,
    edition: EditionConfig,
    state: State,
    *,
    out_dir: Path,
    now: datetime,
    since: datetime | str | None,
    on_feed: FeedCallback | None,
) -> BuildResult:
    tz = ZoneInfo(edition.timezone)
    window = build_window(edition, state, now, since)

    results = fetch(config, edition, state, now, starting_pdf_worker_on_news(on_feed))
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
    from digest import cluster, condense, extract
    from digest.render.pdf import start_worker as start_pdf_worker

    # If no web source has started it: now, while this process extracts, clusters and condenses.
    start_pdf_worker()
    entries = extract.with_full_text(
        news.entries, {s.url for s in edition.sources if s.full_text}, config.fetch
    )
    stories = assemble.rank(cluster.cluster(extract.preview_all(entries)))
    condenser = condense.get_condenser(edition.condense, cache_dir=condense_cache(config))
    condensed = condense_stories(stories, edition, tz, condenser)

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
    path = write(config, edition, issue, edition_dir)
    record = IssueRecord(
        edition=edition.name,
        issue_id=issue.issue_id,
        built_at=now,
        resume_from=resume_point(condensed.left_over, now),
        path=str(path),
        stories=len(issue.stories),
    )
    kept = tuple(e for story in condensed.left_over for e in story.entries)
    state.commit_build(dataclasses.replace(learnt, kept=kept, issue=record, used=issue.entry_ids))
    write_archive(config, edition, edition_dir)
    return BuildResult(edition=edition.name, path=path, issue=issue)


def starting_pdf_worker_on_news(on_feed: FeedCallback | None) -> FeedCallback:
    """``on_feed``, after starting the PDF renderer's child when a web source sends entries.

    The child's start (Python, WeasyPrint, fonts: about a second of the other core) then
    overlaps the fetching and parsing, not the extraction that needs that core too. A source
    that answers 304 sends nothing; a local file is read whole every time, so it does not
    count as news.
    """

    def on_done(result: FeedResult) -> None:
        if result.entries and result.source.is_remote:
            from digest.render.pdf import start_worker

            start_worker()
        if on_feed is not None:
            on_feed(result)

    return on_done


def build_window(edition: EditionConfig, state: State, now: datetime, since: datetime | str | None) -> Window:
    """An explicit --since; else where the previous issue left off; else the edition's lookback."""
    if since == "all":
        return Window(None, explicit=True)
    if isinstance(since, datetime):
        return Window(since, explicit=True)
    previous = state.issues.last_issue(edition.name)
    if previous is not None:
        return Window(previous.resume_from, seen_after=previous.built_at)
    if edition.lookback == "all":
        return Window(None)
    return Window(now - parse_duration(edition.lookback))


def fetch(
    config: Config, edition: EditionConfig, state: State, now: datetime, on_feed: FeedCallback | None
) -> tuple[FeedResult, ...]:
    """Every source, concurrently; failures are logged and kept in the results. The validators
    the sources sent are committed with the rest of the build (``BuildRecord``), not here."""
    sources = tuple(Source(url=s.url, name=s.name, full_text=s.full_text) for s in edition.sources)
    validators = state.fetch.validators(s.url for s in sources)
    if any(s.is_remote and s.url not in validators for s in sources):
        # A web source with nothing to compare against sends its whole feed: news, most likely,
        # and a PDF to render, so the renderer's child starts now, at low priority, and is ready
        # when the stories are. (Otherwise it starts when a source sends entries: a build whose
        # every source answers 304 starts none.)
        from digest.render.pdf import start_worker

        start_worker()
    results = ingest.fetch_sources(sources, config.fetch, validators, now, on_done=on_feed)
    for result in results:
        if result.status == "failed":
            log.warning("edition %s: source failed: %s", edition.name, result.error)
    # Before giving up on an edition whose every source failed: that is when `digest status` matters most.
    state.fetch.record_source_outcomes(edition.name, results, now)
    if all(r.status == "failed" for r in results):
        raise EveryFeedFailed(f"edition {edition.name}: every source failed")
    return results


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
    #: Stories not reached: they wait for the next issue.
    left_over: tuple[Candidate, ...]


def condense_stories(
    stories: Sequence[Candidate], edition: EditionConfig, tz: tzinfo, condenser: Condenser
) -> Condensed:
    """Extract and condense in rank order until max_stories briefings; too-short stories go to
    Briefly; a story that fails is skipped (logged) and the next one takes its place. Only the
    stories reached are extracted."""
    from digest.condense import condense_candidates

    briefings: list[Briefing] = []
    briefly: list[BrieflyItem] = []
    skipped: list[Skipped] = []
    position = 0
    while position < len(stories) and len(briefings) < edition.max_stories:
        # As many stories as briefings are missing: each of them is reached whatever it gives.
        batch = stories[position : position + edition.max_stories - len(briefings)]
        for outcome in condense_candidates(batch, condenser, tz):
            if isinstance(outcome, Briefing):
                briefings.append(outcome)
            elif isinstance(outcome, Skipped):
                log.warning("edition %s: %s", edition.name, outcome)
                skipped.append(outcome)
            else:
                briefly.append(outcome)
        position += len(batch)
    return Condensed(tuple(briefings), tuple(briefly), tuple(skipped), tuple(stories[position:]))


def resume_point(left_over: Sequence[Candidate], now: datetime) -> datetime:
    """Where the next issue's window starts: early enough to keep the stories left over."""
    published = [e.published for s in left_over for e in s.entries]
    return min([*published, now])


def taken_issue_ids(state: State, edition_dir: Path) -> set[str]:
    """Ids recorded in the state store and folders already in out/ (a store may have been reset)."""
    on_disk = {p.name for p in edition_dir.iterdir() if p.is_dir()} if edition_dir.is_dir() else set()
    return state.issues.issue_ids(edition_dir.name) | on_disk


def write(config: Config, edition: EditionConfig, issue: Issue, edition_dir: Path) -> Path:
    """Render every output of the issue in memory, then move the finished folder into place."""
    from digest import output

    issue = dataclasses.replace(issue, config=config_reference(config, edition_dir / issue.issue_id))
    return output.write_issue(edition_dir, issue.issue_id, render(config, edition, issue))


def config_reference(config: Config, issue_dir: Path) -> str:
    """The config's path as issue.json records it: relative to the issue's folder where it can be."""
    target = config.path.resolve()
    try:
        return Path(os.path.relpath(target, issue_dir.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return str(target)


def render(config: Config, edition: EditionConfig, issue: Issue) -> Rendered:
    """Every output of the issue, in memory, with the edition's theme, links and sender."""
    from digest.render import render_issue
    from digest.render.templates import environment

    env = environment(theme_dir(config, edition))
    links = assemble.links_for(edition.base_url, issue.issue_id)
    sender = edition.delivery.from_ if edition.delivery else None
    rendered = render_issue(issue, edition, links, env, sender=sender)
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


def render_again(config: Config, edition: EditionConfig, issue_dir: Path) -> Issue:
    """Render every output of an issue folder again from its (edited) issue.json."""
    from digest import issuejson, output

    issue = issuejson.load(issue_dir / "issue.json")
    issue = dataclasses.replace(issue, config=config_reference(config, issue_dir))
    output.replace_files(issue_dir, render(config, edition, issue).files())
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
    from digest import cluster, condense, extract

    entries: list[Entry] = []
    for target in targets:
        for entry in ingest.read_inputs(target, fetch_settings, now):
            if title and not entry.title:
                entry = dataclasses.replace(entry, title=title)
            entries.append(entry)
    stories = cluster.cluster([extract.preview(e) for e in entries])
    condensed = condense_stories(
        stories,
        edition.model_copy(update={"max_stories": max(len(stories), 1)}),
        ZoneInfo(edition.timezone),
        condense.get_condenser(edition.condense),
    )
    return list(condensed.briefings), list(condensed.briefly)


# --- delivery ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendReport:
    """What one ``digest send`` of one issue did."""

    edition: str
    issue_id: str
    #: Where the messages went: "SMTP server HOST:PORT" or "outbox PATH".
    where: str
    dry_run: bool
    sent: int
    #: Refused permanently (5xx), each with the server's reply.
    failed: tuple[Outcome, ...]
    #: Still to deliver after the retries; a later run sends them.
    pending: tuple[Outcome, ...]
    #: Subscribers the ledger already had (sent or refused) before this run.
    done_before: int
    #: Subscribers skipped because they unsubscribed.
    suppressed: int
    #: Rows of the subscribers file skipped or merged, each "FILE:LINE: reason".
    problems: tuple[str, ...]

    def summary(self) -> str:
        verb = "written" if self.dry_run else "sent"
        return (
            f"{self.edition} {self.issue_id}: {self.sent} {verb}, {len(self.failed)} refused, "
            f"{len(self.pending)} pending, {self.done_before} done before, {self.suppressed} unsubscribed"
        )

    def pending_error(self) -> str | None:
        """The one-line reason to exit 1, or None when nothing is pending."""
        if not self.pending:
            return None
        return (
            f"{self.where}: {counted(len(self.pending), 'message')} of "
            f"{self.edition} {self.issue_id} still pending ({self.pending[0].detail}); "
            "run digest send again to resume"
        )


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
    now: datetime | None = None,
    deliverer: Deliverer | None = None,
) -> SendReport:
    """Send the issue in ``issue_dir`` to every active subscriber the ledger has no outcome for.

    Each outcome is written to the ledger as soon as the deliverer reports it (not in a dry run,
    which writes the messages to ``issue_dir/outbox/`` instead). One send of an edition at a
    time (deliver/lease.py): while another is in progress this one stops with a DeliveryError
    before it reads the ledger. ``deliverer`` replaces the configured backend (tests use it to
    shorten the retry delays).
    """
    from digest.deliver.lease import send_lease

    # A dry run writes files and records nothing: it needs no lease.
    held: AbstractContextManager[Lease | None] = nullcontext() if dry_run else send_lease(state, edition.name)
    with held as lease:
        return _send_issue(
            config, edition, state, issue_dir, lease, dry_run=dry_run, now=now, deliverer=deliverer
        )


def _send_issue(
    config: Config,
    edition: EditionConfig,
    state: State,
    issue_dir: Path,
    lease: Lease | None,
    *,
    dry_run: bool,
    now: datetime | None,
    deliverer: Deliverer | None,
) -> SendReport:
    from digest import issuejson, unsubscribe
    from digest import subscribers as subscriber_file
    from digest.deliver import Outcome, Outgoing, get_deliverer, returnpath
    from digest.deliver.message import Personal

    delivery = edition.delivery
    if delivery is None:
        raise UsageError(f"{config.path}: edition {edition.name} has no delivery settings")
    issue = issuejson.load(issue_dir / "issue.json")
    roster = subscriber_file.read_subscribers(resolve_path(config, delivery.subscribers))
    for line in subscriber_file.summarised(roster.problems):
        log.warning("%s", line)
    secret = unsubscribe.edition_secret(delivery.unsubscribe, state)
    signer = unsubscribe.TokenSigner(secret)
    return_path = returnpath.envelope_sender(delivery.bounces.return_path, edition.name, secret)
    done = state.ledger.deliveries(edition.name, issue.issue_id)
    suppressed = state.ledger.suppressed(edition.name)
    active = [s for s in roster.subscribers if s.address not in suppressed]
    todo = [s for s in active if s.address not in done]

    def wants_pdf(subscriber: Subscriber) -> bool:
        return delivery.attach_pdf if subscriber.pdf is None else subscriber.pdf

    maker = message_maker(
        config, edition, issue, issue_dir, now or datetime.now(UTC), pdf=any(wants_pdf(s) for s in todo)
    )

    def outgoing(subscriber: Subscriber) -> Outgoing:
        token = signer.token(edition.name, subscriber.address)
        mailto = delivery.unsubscribe.mailto
        personal = Personal(
            address=subscriber.address,
            name=subscriber.name,
            unsubscribe_url=unsubscribe.link(edition.base_url, token),
            unsubscribe_mailto=unsubscribe.mailto(mailto, token) if mailto else "",
            attach_pdf=wants_pdf(subscriber),
        )
        return Outgoing(
            subscriber.address, functools.partial(maker.make, personal), return_path(subscriber.address)
        )

    sent, failed, pending = 0, [], []
    reported: set[str] = set()

    def record(outcome: Outcome) -> None:
        nonlocal sent
        reported.add(outcome.address)
        if outcome.status == "pending":
            pending.append(outcome)
            return
        if not dry_run:
            state.ledger.record_delivery(
                edition.name, issue.issue_id, outcome.address, outcome.status, outcome.detail
            )
        if outcome.status == "sent":
            sent += 1
        else:
            failed.append(outcome)
            log.warning("%s: refused permanently: %s", outcome.address, outcome.detail)

    def messages() -> Iterator[Outgoing]:
        for subscriber in todo:
            # A send that stalled past its lease's expiry hands nothing more out: the send that
            # took the lease over read the ledger afresh and mails the rest.
            if lease is not None and not lease.keep():
                return
            yield outgoing(subscriber)

    backend = deliverer or get_deliverer("files" if dry_run else "smtp", delivery, issue_dir)
    backend.deliver(messages(), record)
    if lease is not None and not lease.held:
        log.error("edition %s: this send's lease was taken over by another send", edition.name)
        for subscriber in todo:
            if subscriber.address not in reported:
                pending.append(
                    Outcome(subscriber.address, "pending", "left to the send that took the lease over")
                )
    return SendReport(
        edition=edition.name,
        issue_id=issue.issue_id,
        where=backend.name,
        dry_run=dry_run,
        sent=sent,
        failed=tuple(failed),
        pending=tuple(pending),
        done_before=len(active) - len(todo),
        suppressed=len(roster.subscribers) - len(active),
        problems=tuple(str(problem) for problem in roster.problems),
    )


def message_maker(
    config: Config, edition: EditionConfig, issue: Issue, issue_dir: Path, now: datetime, *, pdf: bool
) -> MessageMaker:
    """Render and inline the issue's bodies once, with the bare unsubscribe endpoint in place of each link."""
    from digest import unsubscribe
    from digest.deliver.message import MessageMaker, load_dkim
    from digest.render import render_email_html, render_text
    from digest.render.templates import environment

    assert edition.delivery is not None
    delivery = edition.delivery
    env = environment(theme_dir(config, edition))
    endpoint = unsubscribe.endpoint_url(edition.base_url)
    links = dataclasses.replace(assemble.links_for(edition.base_url, issue.issue_id), unsubscribe=endpoint)
    domain = parseaddr(delivery.from_)[1].rpartition("@")[2] or "localhost"
    return MessageMaker(
        subject=issue_subject(issue_dir, issue),
        sender=delivery.from_,
        reply_to=delivery.reply_to,
        list_id=f"{edition.title} <{edition.name}.{domain}>",
        text=render_text(issue, links, env),
        html=render_email_html(issue, links, env, edition.base_url),
        endpoint=endpoint,
        date=now,
        id_prefix=f"{edition.name}.{issue.issue_id}",
        pdf=read_issue_file(issue_dir / "briefing.pdf") if pdf else None,
        pdf_name=f"{edition.name}-{issue.issue_id}.pdf",
        dkim_signer=load_dkim(delivery.dkim, config.folder) if delivery.dkim else None,
    )


def issue_subject(issue_dir: Path, issue: Issue) -> str:
    """The Subject the build gave the issue (in its issue.eml), else the issue's title."""
    from email.parser import BytesHeaderParser
    from email.policy import default as default_policy

    try:
        with (issue_dir / "issue.eml").open("rb") as file:
            subject = BytesHeaderParser(policy=default_policy).parse(file)["Subject"]
    except OSError:
        subject = None
    return str(subject) if subject else issue.title


def read_issue_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise OutputError(f"{path}: cannot read ({err.strerror or err})") from err
