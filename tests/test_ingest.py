"""Ingest over real loopback HTTP and real parsers: fetching limits, feed shapes, normalising, sanitising."""

from __future__ import annotations

import gzip
import time
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path

import needs
import pytest
from httpserver import LoopbackServer

from digest.config import FetchConfig
from digest.errors import InputError, ParseError
from digest.httpclient import USER_AGENT
from digest.ingest import fetch_sources, parse_feed, read_inputs, sanitize_html
from digest.types import FeedResult, Source
from digest.workers import Workers

NOW = datetime(2026, 3, 14, 7, 0, tzinfo=UTC)
SETTINGS = FetchConfig()
SHARED = Path(__file__).resolve().parents[1].parent / "shared"

RSS2 = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
  <title>Harbour Gazette</title><link>https://gazette.invalid/</link>
  <item>
    <title>Ferry &lt;b&gt;strike&lt;/b&gt; ends</title>
    <link>https://gazette.invalid/news/ferry</link>
    <guid isPermaLink="false">tag:gazette.invalid,2026:ferry</guid>
    <pubDate>Fri, 13 Mar 2026 18:30:00 +0100</pubDate>
    <description>&lt;p&gt;Crews return on &lt;em&gt;Monday&lt;/em&gt;.&lt;/p&gt;</description>
  </item>
  <item>
    <title>Market hall reopens</title>
    <link>/news/market</link>
    <description>Stalls are back.</description>
  </item>
</channel></rss>
"""

RSS1 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://valley.invalid/">
    <title>Valley Notes</title><link>https://valley.invalid/</link><description>d</description>
    <items><rdf:Seq><rdf:li rdf:resource="https://valley.invalid/bridge"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://valley.invalid/bridge">
    <title>Bridge inspection finds cracks</title>
    <link>https://valley.invalid/bridge</link>
    <description>Engineers counted fourteen.</description>
    <dc:date>2026-03-12T09:15:00Z</dc:date>
  </item>
</rdf:RDF>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Orbit Weekly</title><id>urn:orbit</id><updated>2026-03-13T00:00:00Z</updated>
  <link href="https://orbit.invalid/"/>
  <entry>
    <title type="html">&lt;b&gt;A&lt;/b&gt; &amp;amp; B</title>
    <id>urn:orbit:1</id>
    <link href="https://orbit.invalid/a-and-b"/>
    <updated>2026-03-13T10:00:00Z</updated>
    <summary type="text">Short &lt;b&gt;not bold&lt;/b&gt;</summary>
    <content type="text">First line &amp; more
second line</content>
  </entry>
  <entry>
    <title>From the future</title>
    <id>urn:orbit:2</id>
    <updated>2031-01-01T00:00:00Z</updated>
    <content type="html">&lt;p&gt;Later.&lt;/p&gt;</content>
  </entry>
</feed>
"""

HTML_PAGE = b"""<!DOCTYPE html><html><head><title>Lost and found</title></head>
<body><nav>Home | About</nav><h1>Page</h1><p>This is a web page, not a feed.</p></body></html>
"""


def rss_with(*titles: str) -> bytes:
    items = "".join(
        f"<item><title>{t}</title><link>https://x.invalid/{i}</link></item>" for i, t in enumerate(titles)
    )
    return f'<rss version="2.0"><channel><title>Feed</title>{items}</channel></rss>'.encode()


def fetch_one(
    url: str,
    settings: FetchConfig = SETTINGS,
    validators: dict[str, tuple[str | None, str | None]] | None = None,
) -> FeedResult:
    (result,) = fetch_sources([Source(url)], settings, validators or {}, NOW)
    return result


# --- fetching over HTTP --------------------------------------------------------------------------


def test_200_gives_entries_and_sends_user_agent_and_accept(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed.xml", RSS2, content_type="application/rss+xml")
    result = fetch_one(url)
    assert result.status == "ok" and result.error is None
    assert result.name == "Harbour Gazette"
    assert [e.title for e in result.entries] == ["Ferry strike ends", "Market hall reopens"]
    assert all(e.feed == "Harbour Gazette" and e.feed_url == url for e in result.entries)
    (request,) = http_server.requests_to("/feed.xml")
    assert request.headers["user-agent"] == USER_AGENT
    assert "application/rss+xml" in request.headers["accept"]
    assert "if-none-match" not in request.headers


def test_configured_name_wins_over_the_feeds_title(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed.xml", RSS2)
    (result,) = fetch_sources([Source(url, name="The Gazette")], SETTINGS, {}, NOW)
    assert result.name == "The Gazette"
    assert {e.feed for e in result.entries} == {"The Gazette"}


def test_etag_makes_the_second_fetch_conditional_and_not_modified(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed.xml", RSS2, etag='"v7"', last_modified="Sat, 14 Mar 2026 06:00:00 GMT")
    first = fetch_one(url)
    assert (first.status, first.etag, first.last_modified) == ("ok", '"v7"', "Sat, 14 Mar 2026 06:00:00 GMT")
    second = fetch_one(url, validators={url: (first.etag, first.last_modified)})
    assert second.status == "not-modified"
    assert second.entries == ()
    assert (second.etag, second.last_modified) == ('"v7"', "Sat, 14 Mar 2026 06:00:00 GMT")
    conditional = http_server.requests_to("/feed.xml")[1]
    assert conditional.headers["if-none-match"] == '"v7"'
    assert conditional.headers["if-modified-since"] == "Sat, 14 Mar 2026 06:00:00 GMT"


def test_changed_etag_gives_the_feed_again(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed.xml", RSS2, etag='"v8"')
    result = fetch_one(url, validators={url: ('"v7"', None)})
    assert result.status == "ok" and result.etag == '"v8"' and len(result.entries) == 2


def test_404_fails_naming_the_url(http_server: LoopbackServer) -> None:
    url = http_server.url("/missing.xml")
    result = fetch_one(url)
    assert result.status == "failed"
    assert result.error == f"{url}: HTTP 404 Not Found"
    assert result.name == url and result.entries == ()


def test_a_trickling_server_times_out_within_the_deadline(http_server: LoopbackServer) -> None:
    url = http_server.slow("/slow.xml", RSS2, chunk_size=4, interval=0.1)
    started = time.monotonic()
    result = fetch_one(url, FetchConfig(timeout=1))
    elapsed = time.monotonic() - started
    assert result.status == "failed"
    assert result.error == f"{url}: timed out after 1s"
    assert elapsed < 3


def test_a_silent_server_times_out(http_server: LoopbackServer) -> None:
    url = http_server.slow("/silent.xml", b"<" + b" " * 9, chunk_size=5, interval=3)
    started = time.monotonic()
    result = fetch_one(url, FetchConfig(timeout=0.5))
    assert result.error == f"{url}: timed out after 0.5s"
    assert time.monotonic() - started < 2.5


def test_a_body_over_the_cap_fails(http_server: LoopbackServer) -> None:
    url = http_server.large("/big.xml", size=300_000)
    result = fetch_one(url, FetchConfig(max_bytes=100_000))
    assert result.status == "failed"
    assert result.error == f"{url}: larger than 100000 bytes"


def test_the_cap_counts_decompressed_bytes(http_server: LoopbackServer) -> None:
    bomb = gzip.compress(b" " * 2_000_000)
    assert len(bomb) < 10_000
    url = http_server.route("/bomb.xml", bomb, headers={"Content-Encoding": "gzip"})
    result = fetch_one(url, FetchConfig(max_bytes=1_000_000))
    assert result.error == f"{url}: larger than 1000000 bytes"


def test_an_html_page_is_not_a_feed(http_server: LoopbackServer) -> None:
    url = http_server.route("/page", HTML_PAGE, content_type="text/html; charset=utf-8")
    result = fetch_one(url)
    assert result.status == "failed"
    assert result.error == f"{url}: not a feed (HTML page)"


def test_an_empty_body_is_not_a_feed(http_server: LoopbackServer) -> None:
    url = http_server.route("/empty.xml", b"")
    assert fetch_one(url).error == f"{url}: empty body"


def test_redirects_are_followed_up_to_the_limit(http_server: LoopbackServer) -> None:
    http_server.route("/feed.xml", RSS2)
    url = http_server.redirect("/old.xml", "/feed.xml", status=301)
    result = fetch_one(url)
    assert result.status == "ok" and len(result.entries) == 2
    http_server.redirect("/loop-a", "/loop-b")
    http_server.redirect("/loop-b", "/loop-a")
    looping = http_server.url("/loop-a")
    assert fetch_one(looping, FetchConfig(max_redirects=3)).error == f"{looping}: more than 3 redirects"


def test_a_redirect_to_another_scheme_fails(http_server: LoopbackServer) -> None:
    url = http_server.redirect("/ftp", "ftp://files.invalid/feed.xml")
    assert fetch_one(url).error == f"{url}: redirected to a URL that is not http(s)"


def test_a_refused_connection_fails_on_one_line() -> None:
    with LoopbackServer() as server:
        url = server.url("/feed.xml")
    result = fetch_one(url)  # the server is gone: nothing listens on its port
    assert result.status == "failed"
    assert result.error is not None and result.error.startswith(f"{url}: network error")
    assert "\n" not in result.error and "Traceback" not in result.error


def test_one_failing_source_loses_no_other_and_order_is_kept(http_server: LoopbackServer) -> None:
    first = http_server.route("/one.xml", rss_with("One"))
    broken = http_server.route("/broken.xml", b"oops", status=500)
    third = http_server.slow("/three.xml", rss_with("Three"), chunk_size=64, interval=0.05)
    finished: list[str] = []
    results = fetch_sources(
        [Source(first), Source(broken), Source(third)],
        SETTINGS,
        {},
        NOW,
        on_done=lambda r: finished.append(r.source.url),
    )
    assert [r.source.url for r in results] == [first, broken, third]
    assert [r.status for r in results] == ["ok", "failed", "ok"]
    assert results[1].error == f"{broken}: HTTP 500 Internal Server Error"
    assert [e.title for e in results[0].entries + results[2].entries] == ["One", "Three"]
    assert sorted(finished) == sorted([first, broken, third])
    # The slow one finishes last: on_done reports sources as they finish, not in list order.
    assert finished[-1] == third


def test_documents_parsed_by_worker_processes_give_the_results_parsed_here(tmp_path: Path) -> None:
    sources = []
    for number in range(12):
        feed = tmp_path / f"feed{number}.xml"
        feed.write_bytes(rss_with(f"Story {number}") if number != 5 else b"<html>not a feed</html>")
        sources.append(Source(str(feed)))
    here = fetch_sources(sources, SETTINGS, {}, NOW)
    with Workers(1) as workers:
        assert workers.start()
        finished: list[FeedResult] = []
        shared = fetch_sources(sources, SETTINGS, {}, NOW, on_done=finished.append, map=workers.map)
    assert shared == here
    assert sorted(finished, key=lambda r: r.source.url) == sorted(here, key=lambda r: r.source.url)
    assert [r.status for r in shared].count("failed") == 1


def test_no_sources_gives_no_results() -> None:
    assert fetch_sources([], SETTINGS, {}, NOW) == ()


def test_a_local_file_source_is_read_from_disk(tmp_path: Path) -> None:
    feed = tmp_path / "atom.xml"
    feed.write_bytes(ATOM)
    missing = tmp_path / "nope.xml"
    ok, failed = fetch_sources([Source(str(feed)), Source(str(missing))], SETTINGS, {}, NOW)
    assert ok.status == "ok" and ok.name == "Orbit Weekly" and len(ok.entries) == 2
    assert failed.status == "failed" and failed.error == f"{missing}: no such file"


# --- feed shapes and normalising ----------------------------------------------------------------


def test_rss2_entries_are_normalised() -> None:
    source = Source("https://gazette.invalid/feed.xml")
    title, (ferry, market) = parse_feed(RSS2, source, NOW)
    assert title == "Harbour Gazette"
    guid = "tag:gazette.invalid,2026:ferry"
    assert ferry.id == sha256(f"{source.url}\n{guid}".encode()).hexdigest()[:20]
    assert ferry.title == "Ferry strike ends"
    assert ferry.link == "https://gazette.invalid/news/ferry"
    assert ferry.published == datetime(2026, 3, 13, 17, 30, tzinfo=UTC) and ferry.dated
    assert ferry.summary_html == "<p>Crews return on <em>Monday</em>.</p>"
    assert ferry.content_html == ""
    # No guid: the id comes from the link; a relative link is made absolute against the feed's URL.
    assert market.link == "https://gazette.invalid/news/market"
    assert market.id == sha256(f"{source.url}\nhttps://gazette.invalid/news/market".encode()).hexdigest()[:20]


def test_rss1_rdf_is_parsed() -> None:
    title, (entry,) = parse_feed(RSS1, Source("https://valley.invalid/index.rdf"), NOW)
    assert title == "Valley Notes"
    assert entry.title == "Bridge inspection finds cracks"
    assert entry.link == "https://valley.invalid/bridge"
    assert entry.published == datetime(2026, 3, 12, 9, 15, tzinfo=UTC)
    assert entry.summary_html == "Engineers counted fourteen."


def test_atom_html_title_plain_text_content_and_future_date() -> None:
    title, (both, future) = parse_feed(ATOM, Source("https://orbit.invalid/atom.xml", name="Orbit"), NOW)
    assert title == "Orbit Weekly"
    assert both.title == "A & B"
    assert both.feed == "Orbit"
    assert both.published == datetime(2026, 3, 13, 10, 0, tzinfo=UTC)
    # type="text" is text, not markup: escaped, one paragraph per line.
    assert both.summary_html == "<p>Short &lt;b&gt;not bold&lt;/b&gt;</p>"
    assert both.content_html == "<p>First line &amp; more</p><p>second line</p>"
    assert future.published == NOW and future.dated
    assert future.link == ""
    assert future.content_html == "<p>Later.</p>"


def test_the_longest_content_is_kept() -> None:
    feed = b"""<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
    <channel><title>C</title><item><title>t</title><guid isPermaLink="false">g</guid>
    <description>Short.</description>
    <content:encoded><![CDATA[<p>The long version, with <a href="https://c.invalid/x">a link</a>.</p>]]>
    </content:encoded>
    </item></channel></rss>"""
    (entry,) = parse_feed(feed, Source("https://c.invalid/feed"), NOW)[1]
    assert entry.summary_html == "Short."
    assert entry.content_html == (
        '<p>The long version, with <a href="https://c.invalid/x" rel="noopener noreferrer nofollow">'
        "a link</a>.</p>"
    )


def test_an_entry_without_guid_or_link_keeps_its_id_across_parses_and_dates_fall_back_to_now() -> None:
    feed = b"""<rss version="2.0"><channel><title>N</title>
    <item><title>No guid, no link, no date</title><description>Only words.</description></item>
    <item><title>Other</title><description>Other words.</description></item>
    </channel></rss>"""
    source = Source("https://n.invalid/feed")
    (first, other) = parse_feed(feed, source, NOW)[1]
    (again, _) = parse_feed(feed, source, NOW + timedelta(hours=5))[1]
    assert first.id == again.id != other.id
    assert len(first.id) == 20
    assert (first.dated, first.published) == (False, NOW)
    assert again.published == NOW + timedelta(hours=5)
    assert first.link == ""
    # The same entry in another source is another entry.
    assert parse_feed(feed, Source("https://elsewhere.invalid/feed"), NOW)[1][0].id != first.id


def test_a_javascript_link_is_dropped() -> None:
    feed = b"""<rss version="2.0"><channel><title>J</title>
    <item><title>t</title><link>javascript:alert(1)</link><guid isPermaLink="false">j</guid></item>
    </channel></rss>"""
    (entry,) = parse_feed(feed, Source("https://j.invalid/feed"), NOW)[1]
    assert entry.link == ""


def test_a_feed_without_title_is_named_by_its_url() -> None:
    feed = b'<rss version="2.0"><channel><item><title>t</title><guid>tag:1</guid></item></channel></rss>'
    source = Source("https://untitled.invalid/feed")
    title, (entry,) = parse_feed(feed, source, NOW)
    assert title == "" and entry.feed == source.url


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"  \n ", "empty body"),
        (HTML_PAGE, "not a feed (HTML page)"),
        (b"just some words", "not a feed (no RSS, RDF or Atom document found"),
    ],
)
def test_what_is_not_a_feed_raises_parse_error(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed(body, Source("https://bad.invalid/feed"), NOW)
    assert str(caught.value).startswith(f"https://bad.invalid/feed: {reason}")
    assert "\n" not in str(caught.value)


# --- sanitising ---------------------------------------------------------------------------------


def test_sanitizer_strips_scripts_handlers_and_javascript_links() -> None:
    dirty = (
        '<p onclick="steal()">Hello <script>steal()</script><style>p{}</style>'
        '<a href="javascript:steal()">bad</a> <a href="https://ok.invalid/" target="_blank">good</a>'
        '<iframe src="https://ads.invalid/">frame text</iframe></p><form><input name="q">Search</form>'
    )
    assert sanitize_html(dirty) == (
        '<p>Hello <a rel="noopener noreferrer nofollow">bad</a> '
        '<a href="https://ok.invalid/" rel="noopener noreferrer nofollow">good</a></p>'
    )


def test_sanitizer_keeps_allowed_markup() -> None:
    kept = (
        "<h2>Head</h2><blockquote><q>Quote</q> <cite>Someone</cite></blockquote>"
        "<ul><li><strong>x</strong></li></ul>"
        '<figure><img src="https://img.invalid/a.jpg" alt="A" width="640" height="480">'
        "<figcaption>A</figcaption></figure><table><thead><tr><th>k</th></tr></thead><tbody><tr><td>v</td></tr></tbody></table>"
        '<p><a href="mailto:desk@news.invalid" rel="noopener noreferrer nofollow">mail</a> H<sub>2</sub>O'
        '<time datetime="2026-03-14">today</time></p>'
    )
    assert sanitize_html(kept) == kept


def test_sanitizer_drops_tracking_pixels_and_images_without_source() -> None:
    html = (
        '<p>Text<img src="https://t.invalid/p.gif" width="1" height="1">'
        '<img src="https://t.invalid/q.gif" width="1px" height="1px" alt="a&gt;b">'
        '<img src="javascript:x()">'
        '<img src="https://img.invalid/real.jpg" width="100" height="1" alt="thin">'
        '<img src="https://img.invalid/photo.jpg" alt="x"></p>'
    )
    assert sanitize_html(html) == '<p>Text<img src="https://img.invalid/photo.jpg" alt="x"></p>'


# --- digest condense inputs ---------------------------------------------------------------------


def test_read_inputs_text_file_gives_one_undated_entry(tmp_path: Path) -> None:
    text = tmp_path / "note.txt"
    text.write_text("  First paragraph <with> & marks.  \n\n\nSecond one.\n", "utf-8")
    (entry,) = read_inputs(str(text), SETTINGS, NOW)
    assert entry.content_html == "<p>First paragraph &lt;with&gt; &amp; marks.</p><p>Second one.</p>"
    assert (entry.title, entry.link, entry.dated, entry.published) == ("", "", False, NOW)
    assert entry.feed_url == str(text)
    assert read_inputs(str(text), SETTINGS, NOW + timedelta(days=1))[0].id == entry.id


def test_read_inputs_html_file_gives_one_entry_from_its_article(tmp_path: Path) -> None:
    page = tmp_path / "story.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title> Pier  closes </title>"
        '<link rel="canonical" href="https://pier.invalid/story">'
        '<meta property="article:published_time" content="2026-03-13T08:00:00+01:00"></head>'
        "<body><nav>Menu</nav><article><h1>Pier closes</h1><p>Engineers found cracks.</p>"
        "<script>track()</script></article><footer>(c)</footer></body></html>",
        "utf-8",
    )
    (entry,) = read_inputs(str(page), SETTINGS, NOW)
    assert entry.title == "Pier closes"
    assert entry.link == "https://pier.invalid/story"
    assert entry.content_html == "<h1>Pier closes</h1><p>Engineers found cracks.</p>"
    assert entry.published == datetime(2026, 3, 13, 7, 0, tzinfo=UTC) and entry.dated


def test_read_inputs_html_without_article_finds_the_text_without_chrome(tmp_path: Path) -> None:
    page = tmp_path / "page.htm"
    page.write_bytes(HTML_PAGE)
    (entry,) = read_inputs(str(page), SETTINGS, NOW)
    assert entry.title == "Lost and found"
    assert entry.content_html == "<div><h1>Page</h1><p>This is a web page, not a feed.</p></div>"
    assert (entry.dated, entry.published, entry.link) == (False, NOW, "")


def test_read_inputs_feed_file_and_url(tmp_path: Path, http_server: LoopbackServer) -> None:
    feed = tmp_path / "feed"
    feed.write_bytes(RSS1)
    assert [e.title for e in read_inputs(str(feed), SETTINGS, NOW)] == ["Bridge inspection finds cracks"]
    url = http_server.route("/a.xml", RSS2, content_type="text/xml")
    assert len(read_inputs(url, SETTINGS, NOW)) == 2
    page = http_server.route("/article", HTML_PAGE, content_type="text/html")
    (entry,) = read_inputs(page, SETTINGS, NOW)
    assert entry.link == page and entry.title == "Lost and found"


def test_read_inputs_failures_name_the_target(tmp_path: Path, http_server: LoopbackServer) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(InputError, match=f"^{missing}: no such file$"):
        read_inputs(str(missing), SETTINGS, NOW)
    gone = http_server.url("/gone")
    with pytest.raises(InputError, match=f"^{gone}: HTTP 404 Not Found$"):
        read_inputs(gone, SETTINGS, NOW)


def test_read_inputs_on_the_seed_briefing_keeps_every_paragraph() -> None:
    seed = needs.shared("seed/qa-briefing-example.txt", "reading the reference example")
    (entry,) = read_inputs(str(seed), SETTINGS, NOW)
    lines = [line for line in seed.read_text("utf-8").splitlines() if line.strip()]
    assert entry.content_html.count("<p>") == len(lines)
    assert entry.content_html.startswith("<p>date ")  # the leading space of line one is stripped


def test_read_inputs_html_is_utf_8_unless_it_declares_otherwise(tmp_path: Path) -> None:
    plain = tmp_path / "utf8.html"
    plain.write_bytes("<html><body><p>PORT ELLIS — café</p></body></html>".encode())
    assert read_inputs(str(plain), SETTINGS, NOW)[0].content_html == "<p>PORT ELLIS — café</p>"
    latin = tmp_path / "latin.html"
    latin.write_bytes(
        '<?xml version="1.0" encoding="iso-8859-1"?><html><head><meta charset="iso-8859-1"></head>'
        "<body><p>café</p></body></html>".encode("iso-8859-1")
    )
    assert read_inputs(str(latin), SETTINGS, NOW)[0].content_html == "<p>café</p>"
