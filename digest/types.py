"""The values that flow between the pipeline's stages.

Every type is a frozen dataclass holding tuples, never lists, so a stage
cannot change what an earlier stage produced. Datetimes are aware and in UTC;
dates (``datetime.date``) are already in the edition's time zone.

::

    Source --ingest--> FeedResult(Entry...) --extract.preview--> Preview --cluster--> Candidate
    --assemble.rank--> Candidate... --extract.story--> Story --condense--> Briefing | BrieflyItem
    --assemble--> Issue --render--> Rendered

A stage that has much to do is also handed a ``Map``: builtins.map's signature, which the
pipeline's caller may run on several processes (digest/workers.py). What a stage maps must be
a module-level function of picklable values, and it must not rely on running in this process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol, TypeVar

FeedStatusName = Literal["ok", "failed", "not-modified"]

_In = TypeVar("_In")
_Out = TypeVar("_Out")


class Map(Protocol):
    """``function`` of each item, in order, as builtins.map (which is one) gives them."""

    def __call__(self, function: Callable[[_In], _Out], items: Iterable[_In], /) -> Iterator[_Out]: ...


@dataclass(frozen=True)
class Source:
    """One configured feed of an edition."""

    #: An http(s) URL, or an absolute filesystem path (config resolves relative ones).
    url: str
    #: The name the operator gave; None means "use the feed's own title".
    name: str | None = None
    #: Fetch the linked page when the entry's own text is short.
    full_text: bool = False

    @property
    def is_remote(self) -> bool:
        return self.url.startswith(("http://", "https://"))


@dataclass(frozen=True)
class Entry:
    """What a feed said about one item, normalised."""

    #: Stable across fetches: derived from the guid, else the link, else title and text.
    id: str
    #: The source's name (configured, else the feed's title, else its URL).
    feed: str
    #: The source's URL or path, as configured.
    feed_url: str
    #: Plain text, no markup.
    title: str
    #: Absolute http(s) link to the article, or "" when the feed gave none.
    link: str
    #: When it was published, aware UTC; never in the future (clamped to "now").
    published: datetime
    #: False when the feed gave no date, so ``published`` is a stand-in (first seen).
    dated: bool
    #: Sanitised HTML of the entry's summary ("" when none).
    summary_html: str
    #: Sanitised HTML of the entry's full content ("" when none).
    content_html: str


@dataclass(frozen=True)
class FeedResult:
    """The outcome of fetching and parsing one source."""

    source: Source
    #: The name to show: configured name, else the feed's title, else the URL.
    name: str
    status: FeedStatusName
    #: One line saying what went wrong, naming the URL or path; None when ok.
    error: str | None = None
    entries: tuple[Entry, ...] = ()
    #: HTTP validators to keep for the next conditional GET.
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Section:
    """A question and the paragraphs that answer it."""

    question: str
    answer: tuple[str, ...]


@dataclass(frozen=True)
class Preview:
    """What clustering reads of an entry, without extracting its text (extract.preview)."""

    entry: Entry
    #: The content words (text.content_words) of the text's opening, at most 100.
    opening: tuple[str, ...]
    #: Characters of text, markup left out: a story's lead is its longest article.
    length: int


@dataclass(frozen=True)
class Candidate:
    """A story before extraction: the entries that tell one event, the lead first.

    Candidates are ranked; only those the issue reaches are extracted into Stories.
    """

    entries: tuple[Entry, ...]

    @property
    def id(self) -> str:
        return self.entries[0].id

    @property
    def lead(self) -> Entry:
        return self.entries[0]

    @property
    def headline(self) -> str:
        return self.lead.title

    @property
    def published(self) -> datetime:
        """The most recent publication among its entries."""
        return max(e.published for e in self.entries)

    @property
    def entry_ids(self) -> tuple[str, ...]:
        return tuple(e.id for e in self.entries)


@dataclass(frozen=True)
class Article:
    """The readable text of one entry."""

    entry: Entry
    #: Plain-text paragraphs before the first question heading (all of them when there is none).
    intro: tuple[str, ...]
    #: Question headings already in the article, in order, with the paragraphs under each.
    sections: tuple[Section, ...]
    #: The place of the text's own dateline, in capitals ("" when it has none).
    place: str
    #: The date of the text's own dateline ("date 2021-07-12 MOSCOW - "), if it has one.
    dateline_date: date | None
    word_count: int

    @property
    def paragraphs(self) -> tuple[str, ...]:
        """Every paragraph of text, headings excluded, in reading order."""
        return self.intro + tuple(p for s in self.sections for p in s.answer)


@dataclass(frozen=True)
class Story:
    """The articles that tell one event, from one or several sources."""

    #: Stable: the id of the lead article's entry.
    id: str
    #: The lead article first (the longest text, then the earliest), then the others.
    articles: tuple[Article, ...]

    @property
    def lead(self) -> Article:
        return self.articles[0]

    @property
    def headline(self) -> str:
        return self.lead.entry.title

    @property
    def published(self) -> datetime:
        """The most recent publication among its articles."""
        return max(a.entry.published for a in self.articles)

    @property
    def entry_ids(self) -> tuple[str, ...]:
        return tuple(a.entry.id for a in self.articles)


@dataclass(frozen=True)
class Dateline:
    date: date
    #: In capitals; "" when unknown.
    place: str = ""


@dataclass(frozen=True)
class SourceRef:
    """A source cited under a briefing."""

    title: str
    url: str
    #: The source's (feed's) name.
    feed: str
    published: datetime
    #: The entry it came from; "" when unknown (an issue.json edited by hand).
    entry_id: str = ""


@dataclass(frozen=True)
class Briefing:
    """One story condensed into the Q&A briefing format."""

    headline: str
    dateline: Dateline
    #: 2-4 paragraphs, about 120-200 words.
    lede: tuple[str, ...]
    #: At least one section.
    sections: tuple[Section, ...]
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True)
class BrieflyItem:
    """An entry too short for a briefing: a headline, one sentence, a link."""

    headline: str
    summary: str
    url: str
    feed: str
    entry_id: str = ""


@dataclass(frozen=True)
class Skipped:
    """A story the run went on without: its extraction or condensing failed."""

    #: The lead entry's title.
    headline: str
    #: The lead entry's id (the story's id).
    story_id: str
    #: The lead entry's link, "" when it has none.
    url: str
    #: One line: the error's type and message.
    reason: str

    def __str__(self) -> str:
        where = f", {self.url}" if self.url else ""
        return f"story {self.headline!r} (entry {self.story_id}{where}) skipped: {self.reason}"


@dataclass(frozen=True)
class FeedStatus:
    """How one source fared in a build, as recorded in issue.json."""

    name: str
    url: str
    status: FeedStatusName
    error: str | None
    entries: int


@dataclass(frozen=True)
class Issue:
    """One build of an edition."""

    edition: str
    #: Unique within the edition: "2026-03-14", then "2026-03-14-2".
    issue_id: str
    title: str
    #: The issue's date in the edition's time zone.
    date: date
    #: Aware; in the edition's time zone.
    built_at: datetime
    stories: tuple[Briefing, ...]
    briefly: tuple[BrieflyItem, ...] = ()
    feeds: tuple[FeedStatus, ...] = ()
    #: What went wrong without stopping the build (a model's answer rejected, and why), one line each.
    report: tuple[str, ...] = ()
    #: The config file the issue was built (or last rendered) with, relative to the issue's
    #: folder when it can be ("../../feeds.yaml"), so ``digest render`` finds it from anywhere;
    #: "" when unknown.
    config: str = ""
    #: The e-mail's Subject, as the build's render gave it (subject.txt); "" in an issue.json
    #: written before issues kept it, where the title stands in (``mail_subject``).
    subject: str = ""

    @property
    def mail_subject(self) -> str:
        return self.subject or self.title

    @property
    def entry_ids(self) -> tuple[str, ...]:
        """Every entry this issue used (its stories' sources and its briefly items)."""
        ids = [s.entry_id for b in self.stories for s in b.sources]
        ids += [b.entry_id for b in self.briefly]
        return tuple(i for i in ids if i)


@dataclass(frozen=True)
class Links:
    """Absolute links an issue's renderings point to (built from the edition's base_url)."""

    #: The web copy: ``<base_url><issue_id>/briefing.html``.
    web: str
    #: The PDF: ``<base_url><issue_id>/briefing.pdf``.
    pdf: str
    #: The archive: ``<base_url>index.html``.
    archive: str
    #: Where a reader unsubscribes: for an edition with delivery, the bare endpoint
    #: ``<base_url>unsubscribe``, which each subscriber's message turns into their own link;
    #: "" for an edition without.
    unsubscribe: str = ""


@dataclass(frozen=True)
class Rendered:
    """Every file of an issue folder, ready to write."""

    issue_json: bytes
    issue_txt: bytes
    email_html: bytes
    briefing_html: bytes
    briefing_pdf: bytes
    issue_eml: bytes
    #: The issue's run report as issue.json has it: the build's lines, then what rendering cut.
    report: tuple[str, ...] = ()

    def files(self) -> dict[str, bytes]:
        """File name in the issue folder -> content."""
        return {
            "issue.json": self.issue_json,
            "issue.txt": self.issue_txt,
            "email.html": self.email_html,
            "briefing.html": self.briefing_html,
            "briefing.pdf": self.briefing_pdf,
            "issue.eml": self.issue_eml,
        }
