"""Entry HTML -> Article: clean plain-text paragraphs, question headings, dateline.

Only the stories an issue reaches are extracted; clustering reads a cheap ``preview`` of every
entry (see the end of this module).

Method:

1. Parse ``content_html`` (else ``summary_html``) with lxml.html and walk it in
   document order. Every block element (``p``, ``div``, ``li``, headings,
   ``blockquote``...) ends the paragraph being built; two ``<br>`` in a row do
   too, a single one is a space. Text is unescaped by the parser, white space
   is collapsed, empty paragraphs are dropped. A "word" longer than
   ``MAX_WORD_CHARS`` (no prose has one; a hostile feed may send 100,000
   letters in a row) is cut to that length and ends in "…", so no later stage
   (the condenser's patterns, the e-mail's size budget, the PDF's line
   breaker) ever meets one. Figures and their captions,
   scripts, tables of contents and the like are skipped, and so are short
   boilerplate lines ("Read more", "The post ... appeared first on ...").
2. A block is a *question heading* when it is an ``h2``-``h4``, or a paragraph
   whose text is wholly bold, and its text ends in ``?``. Other headings are
   dropped (a subhead is not a sentence of the story).
3. The plain-text briefing shape of FORMAT.md (text files arrive as one ``<p>``
   per line) is recognised too: a first paragraph opening with
   ``date YYYY-MM-DD PLACE - `` gives the dateline's date and place and loses
   that prefix; ``- - -`` lines are separators, never paragraphs, and the
   paragraph right after one is a question heading when it ends in ``?``.
4. Otherwise a wire dateline opening the first paragraph (``LAGOS, March 14
   (Wire) -``, ``LAGOS —``, ``PORT ELLIS —``: up to four words in capitals)
   gives the place; it is cut from the paragraph when what follows it starts
   a sentence cleanly. Headings before that paragraph (a page repeating its
   headline in an ``h1``) are passed over, so they do not hide the dateline.
5. Paragraphs before the first question are the intro; each question owns the
   paragraphs up to the next one. Questions with no paragraph under them are
   dropped.

Full text (``with_full_text``, for sources marked ``full_text: true``): an
entry whose own text is under ``FULL_TEXT_MIN_WORDS`` words and that has a link
gets the linked page's readable text instead, when that is longer. The page is
fetched by ``ingest.fetch_page`` (the fetch limits, and never a private address:
the link came from the feed), and its text found by ``ingest.readable_html`` (the
project's one readability extractor, digest/readable.py), which passes it through
the feed sanitiser like any feed HTML. A page that cannot be fetched or read leaves the entry as it was,
with a warning; at most ``MAX_FULL_TEXT_PAGES`` pages are fetched per build.
"""

from __future__ import annotations

import builtins
import dataclasses
import logging
import re
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from html import unescape

# lxml ships no type stubs (lxml-stubs is not a dependency); one ignore covers the package.
import lxml.html  # type: ignore[import-untyped]
from lxml import etree

from digest.config import FetchConfig
from digest.errors import SourceError
from digest.ingest import fetch_page, readable_html
from digest.text import WIRE_DATELINE, content_words, normalize_space, word_count, word_set
from digest.types import Article, Candidate, Entry, Map, Preview, Section, Story

logger = logging.getLogger(__name__)

#: An entry of a full_text source with fewer words than this gets its linked page's text.
FULL_TEXT_MIN_WORDS = 150
#: Pages fetched per build at most (the newest entries first), so a long feed cannot make a run crawl.
MAX_FULL_TEXT_PAGES = 50
#: Pages fetched at once.
FULL_TEXT_PARALLEL = 8

_BLOCK_TAGS = word_set(
    """
    address article aside blockquote body center dd details div dl dt fieldset footer form h1 h2 h3 h4
    h5 h6 header hr html li main nav ol p pre section summary table tbody td tfoot th thead tr ul
    """
)
_SKIPPED_TAGS = word_set("figure figcaption script style noscript template iframe object svg button")
_QUESTION_HEADINGS = frozenset({"h2", "h3", "h4"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BOLD_TAGS = frozenset({"b", "strong"})

SEPARATOR = "- - -"
_SEED_DATELINE = re.compile(
    r"^\s*date\s+(\d{4})-(\d{2})-(\d{2})\s+(?:([A-Z][A-Z0-9.'’&-]*(?:[ ,]+[A-Z][A-Z0-9.'’&-]*)*)\s+)?-\s+"
)
_BOILERPLATE = re.compile(
    r"^(?:read more|continue reading|read the full (?:story|article)|click here|advertisement|"
    r"share this|share on|sign up|subscribe|related:|see also|follow us|image:|photo:|"
    r"the post .* appeared first on)\b",
    re.IGNORECASE,
)
_BOILERPLATE_MAX_WORDS = 15
#: Longer runs of non-space characters are cut: long enough for any URL worth reading.
MAX_WORD_CHARS = 300
_LONG_WORD = re.compile(rf"\S{{{MAX_WORD_CHARS + 1},}}")


@dataclass(frozen=True)
class _Block:
    text: str
    is_question: bool = False
    is_other_heading: bool = False


def extract(entry: Entry) -> Article:
    """The readable text of ``entry``: intro paragraphs, question sections, dateline place and date."""
    html = entry.content_html.strip() or entry.summary_html.strip()
    blocks = _blocks(html) if html else []
    blocks = [b for b in blocks if b.is_question or b.is_other_heading or not _is_boilerplate(b.text)]
    place, dateline_date, blocks = _dateline(blocks)
    intro, sections = _sections(_mark_separated_questions(blocks))
    words = sum(word_count(p) for p in intro) + sum(word_count(p) for s in sections for p in s.answer)
    return Article(
        entry=entry,
        intro=intro,
        sections=sections,
        place=place,
        dateline_date=dateline_date,
        word_count=words,
    )


def _blocks(html: str) -> list[_Block]:
    """The paragraphs and headings of an HTML fragment, in reading order."""
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return []
    builder = _BlockBuilder()
    builder.walk(root)
    builder.flush()
    return builder.blocks


class _BlockBuilder:
    """Accumulates inline text and cuts it into blocks at block boundaries."""

    def __init__(self) -> None:
        self.blocks: list[_Block] = []
        self._parts: list[str] = []
        self._pending_break = False

    def flush(self, kind: str = "") -> None:
        if not self._parts:  # a block's start, or two blocks in a row: half of all calls
            self._pending_break = False
            return
        text = _clip_long_words(normalize_space("".join(self._parts)))
        self._parts = []
        self._pending_break = False
        if not text or text == "\u200b":
            return
        is_heading = kind in _HEADINGS
        is_question = text.endswith("?") and (kind in _QUESTION_HEADINGS or kind == "bold")
        self.blocks.append(
            _Block(text=text, is_question=is_question, is_other_heading=is_heading and not is_question)
        )

    def add(self, text: str | None) -> None:
        if text:
            if text.strip():
                self._pending_break = False
            self._parts.append(text)

    def walk(self, element: etree._Element) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        tag = tag.lower()
        if tag in _SKIPPED_TAGS or not tag:
            # Comments and processing instructions have no text, but their tail is still content.
            self.add(element.tail)
            return
        if tag == "br":
            if self._pending_break:
                self.flush()
            else:
                self._pending_break = True
                self._parts.append(" ")
            self.add(element.tail)
            return
        if tag in _BLOCK_TAGS:
            self.flush()
            self.add(element.text)
            for child in element:
                self.walk(child)
            self.flush(_block_kind(element, tag))
        else:
            self.add(element.text)
            for child in element:
                self.walk(child)
        self.add(element.tail)


def _block_kind(element: etree._Element, tag: str) -> str:
    """``tag``, or ``"bold"`` for a paragraph whose whole text sits inside <b>/<strong>."""
    # Most paragraphs hold no <b> at all: finding that out is cheap, collecting their text is not.
    has_bold = next(element.iter(*_BOLD_TAGS), None) is not None
    if (
        has_bold
        and tag in ("p", "div")
        and normalize_space(element.text_content())
        and not _text_outside_bold(element)
    ):
        return "bold"
    return tag


def _text_outside_bold(element: etree._Element) -> str:
    """The visible text of ``element`` that is not inside a <b> or <strong>."""
    parts = [element.text or ""]
    for child in element:
        tag = child.tag.lower() if isinstance(child.tag, str) else ""
        # Comments (no string tag) show nothing but their tail.
        if tag and tag not in _BOLD_TAGS:
            parts.append(_text_outside_bold(child))
        parts.append(child.tail or "")
    return normalize_space("".join(parts))


def _clip_long_words(text: str) -> str:
    if len(text) <= MAX_WORD_CHARS:
        return text  # nearly every paragraph: too short to hold a word that long
    return _LONG_WORD.sub(lambda m: m.group(0)[:MAX_WORD_CHARS] + "…", text)


def _is_boilerplate(text: str) -> bool:
    # The anchored pattern fails at once on nearly every paragraph; counting words does not.
    return bool(_BOILERPLATE.match(text)) and word_count(text) <= _BOILERPLATE_MAX_WORDS


def _dateline(blocks: list[_Block]) -> tuple[str, date | None, list[_Block]]:
    """The place and date of the text's own dateline, and the blocks with it removed.

    The dateline opens the first paragraph; headings before it (a page's own headline) are passed over.
    """
    at = next((i for i, block in enumerate(blocks) if not block.is_other_heading), len(blocks))
    if at == len(blocks) or blocks[at].is_question:
        return "", None, blocks
    place, found, rest = _paragraph_dateline(blocks[at].text)
    if place or found or rest != blocks[at].text:
        return place, found, [*blocks[:at], *([_Block(rest)] if rest else []), *blocks[at + 1 :]]
    return "", None, blocks


def _paragraph_dateline(first: str) -> tuple[str, date | None, str]:
    """The place and date of a dateline opening ``first``, and what remains of the paragraph."""
    seed = _SEED_DATELINE.match(first)
    if seed:
        year, month, day, place = seed.groups()
        try:
            found: date | None = date(int(year), int(month), int(day))
        except ValueError:
            found = None
        return (place or "").strip(" ,"), found, first[seed.end() :].strip()
    wire = WIRE_DATELINE.match(first)
    if wire and 2 <= len(wire.group(1)) <= 30 and any(c.isalpha() for c in wire.group(1)):
        rest = first[wire.end() :]
        written = _written_date(wire.group("day"), wire.group("month"), wire.group("year"))
        if rest[:1].isupper() or rest[:1].isdigit() or rest[:1] in "\"“'‘":
            return wire.group(1), written, rest
        return wire.group(1), written, first
    return "", None, first


def _written_date(day: str | None, month: str | None, year: str | None) -> date | None:
    """The date of a dateline's "2 December 2026", or None when there is none or it is no date."""
    if day is None or month is None or year is None:
        return None
    try:
        return datetime.strptime(f"{day} {month} {year}", "%d %B %Y").date()
    except ValueError:
        return None


def _mark_separated_questions(blocks: list[_Block]) -> list[_Block]:
    """Drop ``- - -`` separators, making the paragraph after each a question when it ends in '?'."""
    marked: list[_Block] = []
    after_separator = False
    for block in blocks:
        if block.text == SEPARATOR:
            after_separator = True
            continue
        if after_separator and block.text.endswith("?") and not block.is_other_heading:
            block = _Block(block.text, is_question=True)
        after_separator = False
        marked.append(block)
    return marked


def _sections(blocks: list[_Block]) -> tuple[tuple[str, ...], tuple[Section, ...]]:
    intro: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for block in blocks:
        if block.is_question:
            sections.append((block.text, []))
        elif block.is_other_heading:
            continue
        elif sections:
            sections[-1][1].append(block.text)
        else:
            intro.append(block.text)
    return tuple(intro), tuple(Section(q, tuple(answer)) for q, answer in sections if answer)


# --- full text of the linked page ------------------------------------------------------------------------


def with_full_text(
    entries: Sequence[Entry], full_text_feeds: Collection[str], settings: FetchConfig
) -> tuple[Entry, ...]:
    """``entries``, those of ``full_text_feeds`` (source URLs) that are short given their page's text."""
    own_words = {e.id: extract(e).word_count for e in entries if e.feed_url in full_text_feeds and e.link}
    wanted = [e for e in entries if own_words.get(e.id, FULL_TEXT_MIN_WORDS) < FULL_TEXT_MIN_WORDS]
    wanted = sorted(wanted, key=lambda e: e.published, reverse=True)[:MAX_FULL_TEXT_PAGES]
    if not wanted:
        return tuple(entries)
    with ThreadPoolExecutor(min(FULL_TEXT_PARALLEL, len(wanted)), thread_name_prefix="digest-page") as pool:
        texts = pool.map(lambda e: _page_text(e, settings), wanted)
        pages = dict(zip((e.id for e in wanted), texts, strict=True))
    return tuple(_completed(e, pages.get(e.id, ""), own_words.get(e.id, 0)) for e in entries)


def _page_text(entry: Entry, settings: FetchConfig) -> str:
    """The readable HTML of the entry's linked page; "" (and a warning) when it cannot be had."""
    try:
        return readable_html(fetch_page(entry.link, settings))
    except SourceError as err:
        logger.warning("full text of %s: %s", entry.title or entry.link, err)
        return ""


def _completed(entry: Entry, page_html: str, own_words: int) -> Entry:
    """The entry with the page's text as its content, when the page says more."""
    if not page_html or sum(word_count(b.text) for b in _blocks(page_html)) <= own_words:
        return entry
    return dataclasses.replace(entry, content_html=page_html)


# --- previews: what clustering reads, without extracting ----------------------------------------
#
# A build of 10,000 new entries publishes a dozen stories. Extraction (lxml and a walk of every
# block, about 0.2 ms an entry) is kept for the articles of the stories an issue reaches; the
# clustering of all of them reads a preview: the text with the markup stripped by one regular
# expression (the HTML has passed the sanitiser, so tags are well formed and scripts are gone),
# the content words of its opening, and its length.

#: Content words of an entry's opening that clustering compares (the lede carries the news).
OPENING_WORDS = 100
#: Characters of text read for them first; a text that needs more is read on, twice as far.
_OPENING_CHARS = 1200
_TAG = re.compile(r"<[^>]*>")


def preview(entry: Entry) -> Preview:
    """The opening's content words and the text's length, without extracting ``entry``.

    The length counts the characters between the tags, as written: a measure of size for
    choosing a story's lead, not a count to show anyone.
    """
    html = entry.content_html.strip() or entry.summary_html.strip()
    # Each tag becomes a space, so the words of two blocks do not run together.
    text, tags = _TAG.subn(" ", html)
    length = len(text) - tags
    reach = _OPENING_CHARS
    while True:
        # Cut at a space, so no word is read half; entities are decoded before words are taken.
        chunk = unescape(text if reach >= len(text) else text[:reach].rpartition(" ")[0]).lstrip()
        # Without a wire dateline, as extraction cuts it: a town's name is not what a story says.
        dateline = WIRE_DATELINE.match(chunk)
        opening = content_words(chunk[dateline.end() :] if dateline else chunk)
        if len(opening) >= OPENING_WORDS or reach >= len(text):
            return Preview(entry=entry, opening=tuple(opening[:OPENING_WORDS]), length=length)
        reach *= 2


def story(candidate: Candidate) -> Story:
    """The candidate's entries extracted, the lead still first."""
    return Story(id=candidate.id, articles=tuple(extract(entry) for entry in candidate.entries))


def preview_all(entries: Sequence[Entry], map: Map = builtins.map) -> list[Preview]:
    """``preview`` of every entry, in order, through ``map``; what comes back of each is only
    what was read of it (the map may run in other processes)."""
    return [Preview(entry, *read) for entry, read in zip(entries, map(_preview_read, entries), strict=True)]


def _preview_read(entry: Entry) -> tuple[tuple[str, ...], int]:
    previewed = preview(entry)
    return previewed.opening, previewed.length
