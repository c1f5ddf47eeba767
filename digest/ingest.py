"""Sources -> FeedResults of Entries: fetch (bounded, concurrent, conditional) and parse with feedparser.

Fetching. ``fetch_sources`` downloads every source over one shared client (digest/httpclient.py:
the User-Agent, a feed-preferring Accept header, the size cap, redirect and time limits), in
threads, at most a few requests to one host at a time, and parses the documents that have arrived
through the ``map`` it is given, as one lot, while the threads go on (parsing is CPU work: threads
would only take turns at it, at a cost; processes share it). One client serves every source, so
a host's connections are kept alive from one feed to the next. Each request sends If-None-Match /
If-Modified-Since from the previous fetch's validators; a 304 becomes ``not-modified``.

Every failure of one source becomes ``FeedResult(status="failed", error="<url>: <reason>")``, one
line, no traceback; the other sources go on. Local paths are read from disk under the same cap.

Parsing. feedparser reads RSS 0.9x/2.0, RSS 1.0 (RDF) and Atom (or feedparser-rs, its API
at 25 times the speed, on the documents where it agrees: see feedparse.py). A body with no
entries and no recognised feed version is not a feed (an HTML page, an error page, an empty
body): ParseError.
Each entry is normalised into an ``Entry``:

- id: the first 20 hex digits of sha256("<source url>\\n<key>"), the key being the guid, else
  the link, else the title and the summary's text; the same entry gets the same id every run;
- title: plain text (tags stripped, entities decoded, white space collapsed);
- link: made absolute against the feed's URL (or, for a local file, the feed's own link); kept
  only when http(s); a user name and password in it are removed (digest/urls.py), as they are
  from every URL in the title, summary and content;
- published: published, else updated (feedparser gives both as UTC); undated entries get
  ``now`` and ``dated=False``; dates in the future are clamped to ``now``;
- summary and content (the longest content value): sanitised by ``sanitize_html``; plain-text
  values are escaped, one ``<p>`` per non-blank line, never trusted as HTML.

Sanitising. ``sanitize_html`` keeps an allow-list of tags and attributes (nh3, i.e. ammonia),
drops the content of scripts, styles, frames, forms and the like, allows only absolute http(s)
and mailto URLs (with no user name or password: its attribute filter removes them), marks links
``rel="noopener noreferrer nofollow"``, then removes images without a
source or with a width or height of 0 or 1 pixel (tracking pixels). Control characters (C0 but
tab, LF and CR; DEL; C1) are removed from every text and HTML value (``without_controls``): on
a terminal they are escape sequences, in a mail header a CR LF starts a header of its own.

Hostile XML. A document declaring an external (SYSTEM/PUBLIC) or parameter entity, an entity
whose value uses other entities, or a long one (a billion laughs, a quadratic blow-up) is
refused before any parser sees it (``ParseError``); an external DTD or an xml-stylesheet is
never fetched (feedparser's parsers load nothing). A parser's exception (a lone surrogate such
as ``&#xD800;``) is a ``ParseError`` too: the source fails, the run goes on.

``read_inputs`` serves ``digest condense``: a file or URL is sniffed (its first element, then
its Content-Type, then its suffix) as a feed, an HTML page or plain text. A page's text is found by
``readable_html`` (digest/readable.py, then the sanitiser), as for a full-text source's linked pages.
"""

from __future__ import annotations

import builtins
import calendar
import html
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from hashlib import sha256
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import httpx
import nh3

from digest import httpclient
from digest.config import FetchConfig
from digest.errors import FetchError, InputError, ParseError, SourceError
from digest.httpclient import Body, Validators
from digest.readable import main_html
from digest.text import WIRE_DATELINE, normalize_space, word_count
from digest.types import Entry, FeedResult, Map, Source
from digest.urls import without_credentials

logger = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
#: Characters of hex digest kept for an entry id.
ENTRY_ID_LENGTH = 20

ALLOWED_TAGS = {
    "p", "br", "h1", "h2", "h3", "h4", "h5", "h6", "b", "strong", "i", "em", "u", "a", "ul", "ol", "li",
    "blockquote", "q", "cite", "figure", "figcaption", "img", "table", "tr", "td", "th", "thead", "tbody",
    "pre", "code", "span", "div", "sub", "sup", "hr", "time",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt", "width", "height"}, "time": {"datetime"}}
#: Tags dropped together with everything inside them (not merely unwrapped).
DROPPED_WITH_CONTENT = {
    "script", "style", "iframe", "frame", "frameset", "noscript", "template", "object", "embed", "applet",
    "form", "button", "select", "textarea", "svg", "math",
}  # fmt: skip


def _no_credentials(element: str, attribute: str, value: str) -> str:
    return without_credentials(value) if attribute in ("href", "src") else value


_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags=DROPPED_WITH_CONTENT,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer nofollow",
    # No href or src publishes a password (digest/urls.py).
    attribute_filter=_no_credentials,
    strip_comments=True,
    # A relative URL left unresolved (feedparser resolves them against a remote feed's URL) would
    # resolve against whatever reads the HTML next: "/etc/passwd" against a file: base.
    url_relative="deny",
)
# nh3's output is normalised: every attribute value in double quotes with '"' and '>' escaped,
# so these patterns cannot be fooled by markup inside a value.
_IMG_TAG = re.compile(r"<img\b[^>]*>")
#: "# Title", "## Why now?": a Markdown heading in a plain-text source.
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
#: A plain text's first line is its headline when it is at most this long (and not a sentence).
TEXT_HEADLINE_MAX_WORDS = 20
_LINE_ENDS = (".", "!", "?", ":", '"', "”", "’", "'")
#: A line alone between blank lines that ends in "?" is a question heading when at most this long.
QUESTION_LINE_MAX_WORDS = 15
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ATTRIBUTE = re.compile(r'([a-z-]+)="([^"]*)"')
_PIXEL_SIZE = re.compile(r"^\s*[01](?:\.0*)?\s*(?:px)?\s*$")
_FIRST_ELEMENT = re.compile(rb"<([A-Za-z][A-Za-z0-9:._-]*)")
_BLOCK_TAGS = {"p", "br", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_FEED_ROOTS = {"rss", "feed", "rdf:rdf", "rdf"}
#: An entity declaration up to the end of its quoted value (which may hold ">"), or of its external id.
_ENTITY_DECLARATION = re.compile(rb"""<!ENTITY\s+(?:%\s*)?[^\s>]+\s*(?:"[^"]*"|'[^']*'|[^>]*)""")
#: A parameter entity ("% name"), an external one (SYSTEM/PUBLIC), or one whose value uses other
#: entities (character references such as "&#160;" are harmless).
_UNSAFE_ENTITY = re.compile(rb"^<!ENTITY\s+(?:%|[^\s>]+\s+(?:SYSTEM|PUBLIC)\b)|&(?!#)")
#: Longer values are refused too: a long value used many times blows up quadratically.
_MAX_ENTITY_DECLARATION = 300
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"

InputKind = Literal["feed", "html", "text"]


# --- fetching ------------------------------------------------------------------------------------


def fetch_sources(
    sources: Sequence[Source],
    settings: FetchConfig,
    validators: Mapping[str, Validators],
    now: datetime,
    on_done: Callable[[FeedResult], None] | None = None,
    map: Map = builtins.map,
) -> tuple[FeedResult, ...]:
    """Fetch and parse every source concurrently; results in the order of ``sources``.

    Never raises for one source's failure: it gives ``FeedResult(status="failed")`` with a
    one-line error naming the URL or path. ``validators`` maps a source URL to the (etag,
    last_modified) of its previous fetch; a 304 gives ``status="not-modified"``, no entries and
    those same validators. Documents are parsed through ``map``, in lots of those that have
    arrived; ``on_done`` is called (in the calling thread) once per source as it is parsed.
    """
    if not sources:
        return ()
    results: dict[int, FeedResult] = {}
    with httpclient.client(settings, FEED_ACCEPT, content=False) as client:
        # The threads only download. The documents that have arrived are parsed as one lot while
        # the threads go on, and the next lot is what arrived meanwhile: parsing is CPU work, which
        # threads of one process would only take turns at (sixteen of them doubled its cost).
        lots = httpclient.batches_by_host(
            [source.url for source in sources],
            lambda index: _download(client, sources[index], settings, validators.get(sources[index].url)),
        )
        for lot in lots:
            bodies = [(index, body) for index, body in lot if isinstance(body, Body)]
            parsed = map(_parsed, [(sources[index], body, now) for index, body in bodies])
            done = dict(zip([index for index, _ in bodies], parsed, strict=True))
            for index, fetched in lot:
                results[index] = fetched if isinstance(fetched, FeedResult) else done[index]
                if on_done is not None:
                    on_done(results[index])
    return tuple(results[index] for index in range(len(sources)))


def _download(
    client: httpx.Client, source: Source, settings: FetchConfig, previous: Validators | None
) -> Body | FeedResult:
    """One source's document; a FeedResult instead when it is not modified or cannot be had."""
    try:
        if not source.is_remote:
            return _read_file(source.url, settings)
        body = httpclient.get(client, source.url, settings, previous or (None, None))
    except Exception as err:
        return _failed(source, err)
    if body is None:
        etag, last_modified = previous or (None, None)
        return FeedResult(
            source, source.name or source.url, "not-modified", etag=etag, last_modified=last_modified
        )
    return body


def _parsed(download: tuple[Source, Body, datetime]) -> FeedResult:
    """The FeedResult of one downloaded source; a failed one when it is not a feed."""
    source, body, now = download
    try:
        title, entries = parse_feed(body.data, source, now, body.content_type)
    except Exception as err:
        return _failed(source, err)
    return FeedResult(
        source,
        source.name or title or source.url,
        "ok",
        entries=entries,
        etag=body.etag,
        last_modified=body.last_modified,
    )


def _failed(source: Source, err: Exception) -> FeedResult:
    """Every failure of one source becomes a failed result; the other sources go on."""
    if isinstance(err, SourceError):
        return FeedResult(source, source.name or source.url, "failed", error=str(err))
    # A bug or a library surprise must not cost the other sources; --verbose shows the traceback.
    logger.debug("fetching %s failed unexpectedly", source.url, exc_info=err)
    reason = normalize_space(f"unexpected error ({type(err).__name__}: {err})")
    return FeedResult(source, source.name or source.url, "failed", error=f"{source.url}: {reason}")


def _read_file(path: str, settings: FetchConfig) -> Body:
    """A local feed or input file, under the same size cap as a download. Raises FetchError."""
    file = Path(path)
    try:
        if file.stat().st_size > settings.max_bytes:
            raise FetchError(path, f"larger than {settings.max_bytes} bytes")
        return Body(file.read_bytes())
    except FileNotFoundError as err:
        raise FetchError(path, "no such file") from err
    except IsADirectoryError as err:
        raise FetchError(path, "is a folder, not a file") from err
    except PermissionError as err:
        raise FetchError(path, "permission denied") from err
    except OSError as err:
        raise FetchError(path, normalize_space(err.strerror or str(err))) from err


def fetch_page(url: str, settings: FetchConfig) -> str:
    """An HTML page linked from feed content, decoded, within the fetch limits. Raises FetchError.

    The URL came from a feed, so it goes through ``fetchguard``: never to a private address
    unless ``settings.allow_private_addresses``.
    """
    with httpclient.client(settings, PAGE_ACCEPT, content=True) as client:
        body = httpclient.get_document(client, url, settings)
    # lxml refuses text that still carries an XML encoding declaration (an XHTML page).
    return _XML_DECLARATION.sub("", _decode(body, "html"), count=1)


# --- parsing -------------------------------------------------------------------------------------


def parse_feed(
    data: bytes, source: Source, now: datetime, content_type: str | None = None
) -> tuple[str, tuple[Entry, ...]]:
    """Parse a feed's bytes -> (the feed's title, its entries normalised).

    Raises ParseError(source.url, reason) when the body is empty, is not a feed (an HTML page,
    anything with neither entries nor a feed version) or feedparser fails on it.
    """
    if not data.strip():
        raise ParseError(source.url, "empty body")
    _refuse_entity_tricks(data, source.url)
    # Content-Location is feedparser's base for relative URLs in the feed's content.
    headers = {"content-location": source.url} if source.is_remote else {}
    if content_type:
        headers["content-type"] = content_type
    # Imported on first use, like lxml below: a build whose every source answers 304 parses nothing.
    from digest import feedparse

    try:
        parsed = feedparse.parse(data, headers)
    except Exception as err:
        raise ParseError(source.url, normalize_space(f"not a feed ({type(err).__name__}: {err})")) from err
    if not parsed.entries and not parsed.get("version"):
        raise ParseError(source.url, _not_a_feed_reason(data, content_type, parsed))
    feed_title = _plain_text(parsed.feed.get("title", ""))
    feed_name = source.name or feed_title or without_credentials(source.url)
    # A local file has no URL of its own: its relative links point into the site it describes.
    base = source.url if source.is_remote else parsed.feed.get("link", "")
    utc_now = now.astimezone(UTC)
    entries = tuple(_entry(raw, source, feed_name, base, utc_now) for raw in parsed.entries)
    return feed_title, entries


def _refuse_entity_tricks(data: bytes, url: str) -> None:
    """ParseError when the document declares entities that load something or expand a lot.

    feedparser's parsers neither load external entities nor DTDs, and expat stops a billion
    laughs after a while; refusing such documents outright keeps that true whatever parser
    reads the feed, and costs honest feeds nothing: they declare no such entities. The whole
    document is searched, not only the DTD: finding where a hostile DTD ends is a parser's job.
    """
    if b"<!ENTITY" not in data:  # XML keywords are case-sensitive; most feeds stop here
        return
    for declaration in _ENTITY_DECLARATION.findall(data):
        if len(declaration) > _MAX_ENTITY_DECLARATION or _UNSAFE_ENTITY.search(declaration):
            raise ParseError(url, "declares an external, recursive or long XML entity (refused)")


def _not_a_feed_reason(data: bytes, content_type: str | None, parsed: Any) -> str:
    if _sniff(data, content_type, "") == "html":
        return "not a feed (HTML page)"
    problem = parsed.get("bozo_exception")
    detail = f": {normalize_space(str(problem))[:120]}" if problem else ""
    return f"not a feed (no RSS, RDF or Atom document found{detail})"


def _entry(raw: Any, source: Source, feed_name: str, base: str, now: datetime) -> Entry:
    title = _detail_text(raw.get("title_detail"), raw.get("title", ""))
    link = _absolute_http(raw.get("link", ""), base)
    summary_html = _detail_html(raw.get("summary_detail"), raw.get("summary", ""))
    contents = [c for c in raw.get("content", []) if c.get("value")]
    longest = max(contents, key=lambda c: len(c["value"]), default=None)
    content_html = _detail_html(longest, longest["value"]) if longest else ""
    published, dated = _published(raw, now)
    return Entry(
        id=_entry_id(
            source.url, raw.get("id") or raw.get("link") or _text_key(title, summary_html or content_html)
        ),
        feed=feed_name,
        feed_url=source.url,
        title=title,
        link=link,
        published=published,
        dated=dated,
        summary_html=summary_html,
        content_html=content_html,
    )


def _entry_id(source_url: str, key: str) -> str:
    return sha256(f"{source_url}\n{key}".encode()).hexdigest()[:ENTRY_ID_LENGTH]


def _text_key(title: str, body_html: str) -> str:
    """What identifies an entry that has neither guid nor link: its title and text."""
    return f"{title}\n{_plain_text(body_html)}"


def _published(raw: Any, now: datetime) -> tuple[datetime, bool]:
    """(published, dated): feedparser's UTC struct_time, clamped to now; now when there is none."""
    stamp = raw.get("published_parsed") or raw.get("updated_parsed")
    if stamp is None:
        return now, False
    try:
        published = datetime.fromtimestamp(calendar.timegm(stamp), UTC)
    except (OverflowError, ValueError, OSError):
        return now, False
    return min(published, now), True


def _is_plain(detail: Any) -> bool:
    return bool(detail) and detail.get("type") == "text/plain"


def _detail_text(detail: Any, value: str) -> str:
    """A feedparser text construct as plain text."""
    if _is_plain(detail):
        return without_credentials(normalize_space(without_controls(value)))
    return _plain_text(value)


def _detail_html(detail: Any, value: str) -> str:
    """A feedparser text construct as sanitised HTML."""
    if not value:
        return ""
    return text_to_html(value) if _is_plain(detail) else sanitize_html(value)


def _absolute_http(link: str, base: str) -> str:
    link = link.strip()
    if link.startswith(("https://", "http://")):
        # Nearly every link is absolute already; joining one took a third of normalising an entry.
        return without_credentials(link)
    absolute = urljoin(base, link) if link else ""
    return without_credentials(absolute) if urlsplit(absolute).scheme in ("http", "https") else ""


# --- text and HTML -------------------------------------------------------------------------------


def sanitize_html(html: str) -> str:
    """Allow-list sanitiser: only harmless markup survives (see the module docstring)."""
    # After cleaning: nh3 decodes character references, so "&#x1b;" becomes a control character.
    # The attribute filter took credentials out of href and src; these are URLs written in the text.
    return without_credentials(without_controls(_IMG_TAG.sub(_keep_image, _CLEANER.clean(html)))).strip()


def readable_html(page: str) -> str:
    """The main text of a web page (digest/readable.py), sanitised; "" when it has none."""
    return sanitize_html(main_html(page))


def _keep_image(match: re.Match[str]) -> str:
    attributes = dict(_ATTRIBUTE.findall(match.group(0)))
    if not attributes.get("src"):
        return ""
    if any(_PIXEL_SIZE.match(attributes.get(side, "")) for side in ("width", "height")):
        return ""
    return match.group(0)


def text_to_html(text: str) -> str:
    """Plain text or Markdown -> HTML: one escaped ``<p>`` per non-blank line, headings kept.

    ``# Title`` becomes an ``<h1>``, ``## Question?`` an ``<h2>`` (``###`` an ``<h3>``), and a bare
    line that is only a short question (set off by blank lines) an ``<h2>`` too: the same article as
    HTML would have them as headings, and extraction keeps question headings verbatim.
    """
    lines = [line.strip() for line in without_controls(text).splitlines()]
    blocks: list[str] = []
    for index, line in enumerate(lines):
        if not line:
            continue
        heading = _MARKDOWN_HEADING.match(line)
        if heading:
            level = min(len(heading.group(1)), 3)
            blocks.append(f"<h{level}>{html.escape(heading.group(2), quote=False)}</h{level}>")
        elif _is_question_line(lines, index):
            blocks.append(f"<h2>{html.escape(line, quote=False)}</h2>")
        else:
            blocks.append(f"<p>{html.escape(line, quote=False)}</p>")
    return without_credentials("".join(blocks))


def text_headline(text: str) -> tuple[str, str]:
    """A plain text's own headline and the text without it.

    The headline is a first line (``# Title`` in Markdown) set off by a blank line, short, and
    not a sentence: no full stop at its end, no question. Otherwise the headline is "".
    """
    lines = without_controls(text).lstrip("\ufeff").strip("\n").splitlines()
    if len(lines) < 3 or lines[1].strip():
        return "", text
    first = lines[0].strip()
    heading = _MARKDOWN_HEADING.match(first)
    if heading and len(heading.group(1)) == 1:
        return heading.group(2).strip(), "\n".join(lines[1:])
    if heading or not first or first.endswith((".", "?", "!", ":", '"', "”")):
        return "", text
    if word_count(first) > TEXT_HEADLINE_MAX_WORDS or WIRE_DATELINE.match(first):
        return "", text
    return first, "\n".join(lines[1:])


def _is_question_line(lines: Sequence[str], index: int) -> bool:
    """Whether ``lines[index]`` is a question standing alone: a heading of the text's own."""
    line = lines[index]
    if not line.endswith("?") or line[:1] in "\"“‘'-" or word_count(line) > QUESTION_LINE_MAX_WORDS:
        return False
    before = lines[index - 1] if index > 0 else ""
    after = lines[index + 1] if index + 1 < len(lines) else ""
    # A hard-wrapped paragraph's last line may end in "?" too: it follows a line mid-sentence.
    return index > 0 and (not before or before.endswith(_LINE_ENDS)) and (not after or after[:1].isupper())


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _plain_text(markup: str) -> str:
    """HTML -> one line of text: tags stripped, entities decoded, white space collapsed."""
    if "<" not in markup and "&" not in markup:
        return without_credentials(normalize_space(without_controls(markup)))
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    return without_credentials(normalize_space(without_controls("".join(collector.parts))))


def without_controls(text: str) -> str:
    """``text`` without control characters (C0 but tab, LF and CR; DEL; C1).

    No news text needs them, and on a terminal or in a mail header they are commands: an
    escape sequence retitles a window, a CR LF starts a header of its own.
    """
    return _CONTROL_CHARACTERS.sub("", text)


# --- digest condense inputs ----------------------------------------------------------------------


def read_inputs(target: str, settings: FetchConfig, now: datetime) -> tuple[Entry, ...]:
    """A file or URL given to ``digest condense`` -> its entries.

    A feed gives one Entry per entry; an HTML page one Entry (title from <title>, else <h1>;
    content its main text, from ``readable_html``); plain text one Entry, title "", one paragraph
    per non-blank line, ``dated=False``, ``published=now``. Raises InputError naming the target.
    """
    source = Source(url=target)
    utc_now = now.astimezone(UTC)
    try:
        if source.is_remote:
            # The operator named this target, as a source: it is fetched wherever it points.
            with httpclient.client(settings, FEED_ACCEPT, content=False) as client:
                body = httpclient.get_document(client, target, settings)
        else:
            body = _read_file(target, settings)
        kind = _sniff(body.data, body.content_type, target)
        if kind == "feed":
            entries = parse_feed(body.data, source, utc_now, body.content_type)[1]
            if not entries:
                raise InputError(f"{target}: the feed has no entries")
            return entries
        if kind == "html":
            return (_html_entry(body, source, utc_now),)
        return (_text_entry(body, source, utc_now),)
    except SourceError as err:
        raise InputError(str(err)) from err


def _sniff(data: bytes, content_type: str | None, target: str) -> InputKind:
    """What a document is: by its first element, else its media type, else its name's suffix."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        first = _FIRST_ELEMENT.search(head)
        if first is not None:
            return "feed" if first.group(1).decode("ascii").lower() in _FEED_ROOTS else "html"
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if "html" in media_type:
        return "html"
    if any(word in media_type for word in ("xml", "rss", "atom", "rdf")):
        return "feed"
    if not media_type or media_type == "application/octet-stream":
        suffix = Path(urlsplit(target).path).suffix.lower()
        if suffix in (".html", ".htm", ".xhtml"):
            return "html"
        if suffix in (".xml", ".rss", ".atom", ".rdf"):
            return "feed"
    return "text"


def _html_entry(body: Body, source: Source, now: datetime) -> Entry:
    import lxml.html  # type: ignore[import-untyped]  # lxml ships no stubs; this covers the package
    from lxml import etree

    # Decoded here, not by libxml2, which takes a page without <meta charset> for Latin-1.
    # lxml refuses text that still carries an XML encoding declaration: drop it.
    page = _XML_DECLARATION.sub("", _decode(body, "html"), count=1)
    try:
        document = lxml.html.document_fromstring(page)
    except (etree.ParserError, ValueError) as err:
        raise InputError(normalize_space(f"{source.url}: not readable as HTML ({err})")) from err
    title = normalize_space(document.findtext(".//title") or "")
    if not title:
        heading = document.find(".//h1")
        title = normalize_space(heading.text_content()) if heading is not None else ""
    content = readable_html(page)
    canonical = _first_attribute(document, ".//link[@rel='canonical']/@href")
    page_url = without_credentials(source.url) if source.is_remote else ""
    link = _absolute_http(canonical, page_url) or page_url
    published, dated = _page_published(document, now)
    return Entry(
        id=_entry_id(source.url, link or _text_key(title, content)),
        feed=_first_attribute(document, ".//meta[@property='og:site_name']/@content") or _input_name(source),
        feed_url=source.url,
        title=title,
        link=link,
        published=published,
        dated=dated,
        summary_html="",
        content_html=content,
    )


def _first_attribute(document: Any, xpath: str) -> str:
    values = document.xpath(xpath)
    return normalize_space(str(values[0])) if values else ""


def _page_published(document: Any, now: datetime) -> tuple[datetime, bool]:
    """The page's own date (article:published_time, else the first <time datetime>), clamped."""
    for xpath in (".//meta[@property='article:published_time']/@content", ".//time/@datetime"):
        stamp = _first_attribute(document, xpath)
        if not stamp:
            continue
        try:
            published = datetime.fromisoformat(stamp)
        except ValueError:
            continue
        if published.tzinfo is None:
            published = published.replace(tzinfo=UTC)
        return min(published.astimezone(UTC), now), True
    return now, False


def _text_entry(body: Body, source: Source, now: datetime) -> Entry:
    title, text = text_headline(_decode(body, "text"))
    content = text_to_html(text)
    link = without_credentials(source.url) if source.is_remote else ""
    return Entry(
        id=_entry_id(source.url, link or _text_key("", content)),
        feed=_input_name(source),
        feed_url=source.url,
        title=title,
        link=link,
        published=now,
        dated=False,
        summary_html="",
        content_html=content,
    )


def _decode(body: Body, kind: InputKind) -> str:
    """Bytes -> text: the charset the server declared, else the page's <meta>, else UTF-8."""
    charset = _charset(body.content_type)
    if charset is None and kind == "html":
        declared = _META_CHARSET.search(body.data[:4096])
        charset = declared.group(1).decode("ascii") if declared else None
    try:
        return body.data.decode(charset or "utf-8-sig")
    except (UnicodeDecodeError, LookupError):
        # Most text that is not UTF-8 is Windows-1252; a stray byte must not stop the condenser.
        return body.data.decode("cp1252", errors="replace")


def _charset(content_type: str | None) -> str | None:
    for parameter in (content_type or "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return None


def _input_name(source: Source) -> str:
    """A short name for an input: the host of a URL, the file name of a path."""
    if source.is_remote:
        return urlsplit(source.url).hostname or without_credentials(source.url)
    return Path(source.url).name


__all__ = [
    "fetch_sources",
    "parse_feed",
    "read_inputs",
    "readable_html",
    "sanitize_html",
    "text_headline",
    "text_to_html",
    "without_controls",
]
