"""The benchmark's feed generator and server, and the fast feed parser against feedparser.

feedparser is the reference parser (digest/feedparse.py): wherever feedparser-rs is used, the
Entries it leads to must be exactly those feedparser leads to. The documents below cover what
feeds do (RSS 2.0, RSS 1.0, Atom; markup in titles, plain-text constructs, CDATA, entities,
several contents, missing and future dates, missing guids and links, tracking pixels), plus
documents the fast parser must hand to feedparser (relative URLs, xml:base, a declared
charset, ill-formed XML), and the benchmark's own feeds.
"""

from __future__ import annotations

import ast
import gc
import io
import os
import pickle
import subprocess
import sys
import threading
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import EDITION

from digest import assemble, cluster, condense, extract, feedparse, ingest, parallel, pipeline
from digest.config import FetchConfig
from digest.errors import RenderError
from digest.progress import ProgressEvent
from digest.render import pdf, pdfworker
from digest.render.pdf import PdfInfo, pdf_in_background, render_pdf
from digest.types import Article, Entry, FeedResult, Source

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
import feeds  # noqa: E402  (benchmarks/ is not a package)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SOURCE = Source(url="https://feeds.example/news/feed.xml")

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Harbour &amp; Hills <![CDATA[Gazette]]></title><link>https://gazette.example/</link>
<item><title>Ferry &lt;b&gt;back&lt;/b&gt; on &#8220;time&#8221;</title>
  <link>https://gazette.example/ferry?utm_source=rss</link>
  <guid isPermaLink="false">ferry-1</guid>
  <pubDate>Thu, 19 Nov 2026 08:30:00 +0100</pubDate>
  <description>The ferry &lt;em&gt;ran&lt;/em&gt; again.</description>
  <content:encoded><![CDATA[<p>The ferry ran again.</p>
  <img src="https://t.example/p.gif" width="1" height="1">
  <p>Crews <a href="https://gazette.example/crews">worked</a> overnight.<script>alert(1)</script></p>]]>
  </content:encoded></item>
<item><title>No date, no guid</title><link>https://gazette.example/undated</link>
  <description>Plain words &amp; more.</description></item>
<item><title>From the future</title><guid>https://gazette.example/future</guid>
  <pubDate>Mon, 01 Jan 2035 00:00:00 GMT</pubDate><description>Soon.</description></item>
<item><description>Neither title, guid nor link.</description></item>
</channel></rss>"""

RDF = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://wire.example/"><title>Wire</title><link>https://wire.example/</link>
<description>Wire</description></channel>
<item rdf:about="https://wire.example/1"><title>Grid upgrade</title><link>https://wire.example/1</link>
<dc:date>2026-11-18T10:00:00Z</dc:date><description>The grid was upgraded.</description></item>
</rdf:RDF>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">Science &lt;Desk&gt;</title>
<link href="https://science.example/"/><id>urn:science</id><updated>2026-11-19T00:00:00Z</updated>
<entry><title type="html">&lt;i&gt;Seagrass&lt;/i&gt; survey</title><id>urn:science:1</id>
  <link href="https://science.example/seagrass"/><updated>2026-11-19T09:00:00+02:00</updated>
  <summary type="text">a &lt; b, and lines
  two</summary>
  <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Meadows <b>store</b> carbon.</p></div>
  </content>
</entry>
<entry><title>Short and long</title><id>urn:science:2</id><published>2026-11-18T09:00:00Z</published>
  <content type="html">&lt;p&gt;Short.&lt;/p&gt;</content>
  <content type="html">&lt;p&gt;The longer of the two contents.&lt;/p&gt;</content></entry>
</feed>"""

RELATIVE = RSS.replace(b"https://gazette.example/crews", b"/crews").replace(
    b"<link>https://gazette.example/undated", b"<link>undated"
)
XML_BASE = ATOM.replace(b"<feed ", b'<feed xml:base="https://science.example/a/" ')
PERMALINK_GUID = RSS.replace(b"<guid>https://gazette.example/future</guid>", b"<guid>future-1</guid>")
# An intranet's feeds: links to private, loopback, link-local and port-qualified addresses, to
# localhost and to names under internal top-level domains, which feedparser-rs empties (and
# feedparser keeps). One item has only a permalink guid (its link comes from it), one only a
# link (its id does), one a link in its content, one a public host with a port.
INTRANET_HOSTS = (
    "10.0.0.1",
    "172.16.0.5",
    "192.168.1.20:8443",
    "127.0.0.1:8080",
    "[::1]",
    "169.254.10.1",
    "localhost",
    "localhost:3000",
    "intranet.corp",
    "wiki.internal",
    "nas.local",
    "intranet",
    "news.example.org:8080",
)
INTRANET_RSS = (
    b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Intranet News</title><link>http://intranet.corp/news/</link>"""
    + b"".join(
        b"<item><title>Notice %d about the canteen</title><link>http://%s/notice/%d</link>"
        b"<guid isPermaLink='false'>notice-%d</guid><pubDate>Thu, 19 Nov 2026 08:%02d:00 GMT</pubDate>"
        b"<description>Notice %d.</description></item>" % (n, host.encode(), n, n, n, n)
        for n, host in enumerate(INTRANET_HOSTS)
    )
    + b"""<item><title>Guid only</title><guid>http://10.0.0.1/guid-only</guid>
  <description>Its link is its guid.</description></item>
<item><title>Link only</title><link>http://127.0.0.1:8080/link-only</link>
  <description>Its id is its link.</description></item>
<item><title>A link inside</title><guid isPermaLink="false">inside</guid>
  <description>See &lt;a href="http://wiki.internal:8080/page"&gt;the wiki&lt;/a&gt;.</description></item>
</channel></rss>"""
)
INTRANET_ATOM = (
    b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Intranet</title><link href="http://localhost:8080/"/>
<id>urn:intranet</id><updated>2026-11-19T00:00:00Z</updated>"""
    + b"".join(
        b"<entry><title>Entry %d</title><id>urn:intranet:%d</id><updated>2026-11-19T09:%02d:00Z</updated>"
        b'<link href="http://%s/entry/%d"/><link rel="enclosure" href="http://%s/a.mp3" type="audio/mpeg"/>'
        b"<summary>Entry %d.</summary></entry>" % (n, n, n, host.encode(), n, host.encode(), n)
        for n, host in enumerate(INTRANET_HOSTS)
    )
    + b"</feed>"
)
ILL_FORMED = RSS.replace(b"</channel>", b"<item><title>Broken &nbsp; entity</title></item></channel>")

DOCUMENTS = {
    "rss": (RSS, None),
    "rdf": (RDF, None),
    "atom": (ATOM, None),
    "relative urls": (RELATIVE, None),
    "xml:base": (XML_BASE, None),
    "relative permalink guid": (PERMALINK_GUID, None),
    "ill-formed": (ILL_FORMED, None),
    "latin-1 charset header": (RSS.replace(b' encoding="utf-8"', b""), "text/xml; charset=iso-8859-1"),
    "benchmark feed": (feeds.documents(2, 3, now=NOW)[1].body, "application/rss+xml"),
    "intranet rss": (INTRANET_RSS, "application/rss+xml"),
    "intranet atom": (INTRANET_ATOM, "application/atom+xml"),
}


def parsed_with(
    backend: str, data: bytes, content_type: str | None, monkeypatch: pytest.MonkeyPatch
) -> object:
    monkeypatch.setattr(feedparse, "BACKEND", backend)
    return ingest.parse_feed(data, SOURCE, NOW, content_type)


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_feedparser_rs_gives_the_same_entries_as_feedparser(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if feedparse.fast_parser is None:
        pytest.skip("feedparser-rs is not installed: digest uses feedparser alone")
    data, content_type = DOCUMENTS[name]
    reference = parsed_with("feedparser", data, content_type, monkeypatch)
    assert reference[1], "every test document has entries"
    assert parsed_with("feedparser-rs", data, content_type, monkeypatch) == reference


def test_documents_the_fast_parser_differs_on_go_to_feedparser() -> None:
    for name in ("relative urls", "xml:base", "relative permalink guid", "latin-1 charset header"):
        data, content_type = DOCUMENTS[name]
        assert feedparse.needs_reference(data, content_type), name
    # The equivalence above means something only if the fast parser reads these itself.
    for name in ("rss", "rdf", "atom", "benchmark feed"):
        data, content_type = DOCUMENTS[name]
        assert not feedparse.needs_reference(data, content_type), name
        if feedparse.fast_parser is not None:
            parsed = feedparse.fast_parser.parse(data)
            assert parsed.get("version") and not parsed.get("bozo"), name


@pytest.mark.parametrize("name", ["intranet rss", "intranet atom"])
def test_links_to_private_and_internal_hosts_are_kept(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data, content_type = DOCUMENTS[name]
    entries = parsed_with(feedparse.BACKEND, data, content_type, monkeypatch)[1]
    links = {entry.link for entry in entries}
    for n, host in enumerate(INTRANET_HOSTS):
        path = "notice" if name == "intranet rss" else "entry"
        assert f"http://{host}/{path}/{n}" in links, host
    if name == "intranet rss":
        assert {"http://10.0.0.1/guid-only", "http://127.0.0.1:8080/link-only"} <= links
        inside = next(entry for entry in entries if entry.title == "A link inside")
        assert 'href="http://wiki.internal:8080/page"' in inside.summary_html


def test_only_documents_with_emptied_links_leave_the_fast_parser() -> None:
    if feedparse.BACKEND != "feedparser-rs":
        pytest.skip("feedparser-rs is not installed or turned off: digest uses feedparser alone")
    for name in ("intranet rss", "intranet atom"):
        data, content_type = DOCUMENTS[name]
        assert not feedparse.needs_reference(data, content_type), name
        # The fast parser's result has the emptied links, so feedparser gives the result instead.
        assert feedparse.has_emptied_link(feedparse.fast_parser.parse(data)), name
        assert type(feedparse.parse(data, {})).__module__.startswith("feedparser."), name
    for name in ("rss", "rdf", "atom", "benchmark feed"):
        data, _ = DOCUMENTS[name]
        assert type(feedparse.parse(data, {})).__module__.startswith("feedparser_rs"), name


def test_a_quoted_absolute_url_is_not_taken_for_a_relative_one() -> None:
    assert not feedparse.needs_reference(
        b'<a href="https://x.example/">, &lt;img src=&quot;http://y/&quot;&gt;'
    )
    assert feedparse.needs_reference(b"&lt;a href=&quot;/local&quot;&gt;")
    assert feedparse.needs_reference(b"<img src = 'pic.png'>")


def test_the_generator_writes_full_length_distinct_stories_some_in_several_feeds() -> None:
    corpus = feeds.make_corpus(6, 5, now=NOW)
    items = [item for feed in corpus for item in feed]
    assert [len(feed) for feed in corpus] == [5] * 6
    for item in items:
        words = sum(len(p.split()) for p in item.paragraphs)
        assert feeds.WORDS_MIN <= words <= feeds.WORDS_MAX + 60, item.title  # the last paragraph may overrun
        assert NOW - timedelta(days=1) <= item.published <= NOW
        assert len(set(item.paragraphs)) == len(item.paragraphs)
    stories = {item.guid.split(":")[1] for item in items}
    assert len(stories) < len(items), "some stories are told by more than one feed"
    assert len({item.title for item in items}) > len(stories) // 2
    assert feeds.make_corpus(6, 5, now=NOW) == corpus, "the same corpus on every run"


def test_the_feeds_parse_with_every_entry() -> None:
    for document in feeds.documents(3, 4, now=NOW):
        title, entries = ingest.parse_feed(document.body, SOURCE, NOW, "application/rss+xml")
        assert title.startswith("Bench News")
        assert len(entries) == document.items == 4
        assert all(e.dated and e.content_html.count("<p>") >= 3 for e in entries)


def test_the_server_honours_etag_and_last_modified() -> None:
    served = feeds.documents(2, 2, now=NOW)
    with feeds.FeedServer(served) as server, httpx.Client() as client:
        first = client.get(server.urls()[0])
        assert first.status_code == 200 and first.content == served[0].body
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        assert client.get(server.urls()[0], headers={"If-None-Match": etag}).status_code == 304
        assert client.get(server.urls()[0], headers={"If-Modified-Since": modified}).status_code == 304
        assert client.get(server.urls()[0], headers={"If-None-Match": '"other"'}).status_code == 200
        assert client.get(server.base_url + "/nothing.xml").status_code == 404
        assert (server.requests, server.not_modified) == (5, 2)


@pytest.mark.slow
def test_the_benchmark_runs_at_a_small_size(tmp_path: Path) -> None:
    """What CI runs so the benchmark keeps working; it prints figures and asserts none of them."""
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "build.py"), "--size", "3x2", "--no-rss2email"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "| 3 x 2 " in done.stdout and "cold wall time" in done.stdout
    assert "1 issue" in done.stdout and "/ no issue" in done.stdout
    assert "answered 3 of digest's warm requests with 304" in done.stdout


# --- what makes builds fast must not change what they build ------------------------------------------


def test_only_the_stories_an_issue_reaches_are_extracted(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = [
        entry
        for number, document in enumerate(feeds.documents(8, 3, now=NOW))
        for entry in ingest.parse_feed(
            document.body, Source(f"https://feeds.example/{number}.xml"), NOW, "application/rss+xml"
        )[1]
    ]
    candidates = assemble.rank(cluster.cluster([extract.preview(e) for e in entries]))
    extracted: list[str] = []
    extract_one = extract.extract

    def counted(entry: Entry) -> Article:
        extracted.append(entry.id)
        return extract_one(entry)

    monkeypatch.setattr(extract, "extract", counted)
    condenser = condense.get_condenser(EDITION.condense)
    condensed = pipeline.condense_stories(
        candidates, EDITION.model_copy(update={"max_stories": 2}), UTC, condenser
    )
    briefings, briefly, left_over = condensed.briefings, condensed.briefly, condensed.left_over
    reached = candidates[: len(candidates) - len(left_over)]
    assert len(briefings) == 2 and len(left_over) > 10
    assert extracted == [entry_id for c in reached for entry_id in c.entry_ids]
    assert [b.sources[0].entry_id for b in briefings] == [
        c.id for c in reached if c.id not in {item.entry_id for item in briefly}
    ]


def benchmark_entries(feed_count: int, entries: int) -> list[Entry]:
    return [
        entry
        for number, document in enumerate(feeds.documents(feed_count, entries, now=NOW))
        for entry in ingest.parse_feed(
            document.body, Source(f"https://feeds.example/{number}.xml"), NOW, "application/rss+xml"
        )[1]
    ]


@pytest.fixture
def helpers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Forked helpers allowed whatever threads this test process runs (a feed server's, those
    other tests left), each one counted; a test asserts its stage really used one."""
    forked: list[int] = []
    forked_helper = parallel.forked_helper

    def counted(*args: Any, **kwargs: Any) -> Any:
        forked.append(1)
        return forked_helper(*args, **kwargs)

    monkeypatch.setattr(parallel, "available", lambda: True)
    monkeypatch.setattr(parallel, "forked_helper", counted)
    return forked


def _dying_in_the_helper(*args: Any) -> Any:
    """A stage's share of work that only its forked helper does: the helper dies doing it."""
    if os.getpid() != _PARENT:
        os._exit(1)
    raise AssertionError("only the helper works on a range")


@pytest.mark.parametrize("helper_dies", [False, True])
def test_previews_shared_with_a_helper_process_are_the_same(
    monkeypatch: pytest.MonkeyPatch, helpers: list[int], helper_dies: bool
) -> None:
    entries = benchmark_entries(5, 3)
    monkeypatch.setattr(extract, "PARALLEL_MIN_ENTRIES", 1)
    if helper_dies:
        monkeypatch.setattr(extract, "_preview_range", _dying_in_the_helper)
    assert extract.preview_all(entries) == [extract.preview(entry) for entry in entries]
    assert helpers == [1]


@pytest.mark.parametrize("helper_dies", [None, "_helper_statistics", "_helper_similarities"])
def test_texts_compared_with_a_helper_process_cluster_the_same(
    monkeypatch: pytest.MonkeyPatch, helpers: list[int], helper_dies: str | None
) -> None:
    previews = [extract.preview(entry) for entry in benchmark_entries(30, 4)]
    compared: list[int] = []
    similarities = cluster._TfIdf.similarities

    def counted(texts: Any, pairs: Any) -> list[float]:
        compared.append(len(pairs))
        return similarities(texts, pairs)

    monkeypatch.setattr(cluster._TfIdf, "similarities", counted)
    alone = cluster.cluster(previews)
    assert helpers == [], "below the thresholds no helper is forked"
    (pairs,) = compared
    compared.clear()
    monkeypatch.setattr(cluster, "PARALLEL_MIN_ARTICLES", 1)
    monkeypatch.setattr(cluster, "PARALLEL_MIN_PAIRS", 1)
    if helper_dies:
        monkeypatch.setattr(cluster, helper_dies, _dying_in_the_helper)
    shared = cluster.cluster(previews)
    assert [c.entry_ids for c in shared] == [c.entry_ids for c in alone]
    assert len(alone) < len(previews) and pairs > 10, "some stories are told by several feeds"
    assert helpers == [1]
    ours = int(pairs * cluster.SHARE_HERE)
    # This process compares its share; all of the pairs when the helper died before comparing
    # (counting the words), and the rest after its share when it died comparing.
    assert (
        compared
        == {
            None: [ours],
            "_helper_statistics": [pairs],
            "_helper_similarities": [ours, pairs - ours],
        }[helper_dies]
    )


@pytest.mark.parametrize("helper_dies", [False, True])
def test_stories_condensed_with_a_helper_process_are_the_same(
    monkeypatch: pytest.MonkeyPatch, helpers: list[int], helper_dies: bool
) -> None:
    candidates = assemble.rank(cluster.cluster([extract.preview(e) for e in benchmark_entries(8, 3)]))[:7]
    condenser = condense.get_condenser(EDITION.condense)
    alone = [condense._condensed(candidate, condenser, UTC) for candidate in candidates]
    condensed_here: list[str] = []
    condensed = condense._condensed

    def counted(candidate: Any, *args: Any) -> Any:
        condensed_here.append(candidate.id)
        return condensed(candidate, *args)

    monkeypatch.setattr(condense, "_condensed", counted)
    if helper_dies:
        monkeypatch.setattr(condense, "_condense_inherited", _dying_in_the_helper)
    assert len(candidates) >= condense.PARALLEL_MIN_STORIES
    assert condense.condense_candidates(candidates, condenser, UTC) == alone
    expected_here = candidates if helper_dies else candidates[0::2]
    assert sorted(condensed_here) == sorted(c.id for c in expected_here)
    assert helpers == [1]


def test_a_backend_that_does_more_than_compute_condenses_every_story_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Connected:
        only_computes = False

        def __init__(self) -> None:
            self.inner = condense.get_condenser(EDITION.condense)

        def condense(self, story: Any, tz: Any) -> Any:
            return self.inner.condense(story, tz)

        def notes(self) -> tuple[str, ...]:
            return ()

    def no_helper(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no helper for a backend with a connection")

    monkeypatch.setattr(parallel, "shared", no_helper)
    candidates = assemble.rank(cluster.cluster([extract.preview(e) for e in benchmark_entries(8, 3)]))[:5]
    outcomes = condense.condense_candidates(candidates, Connected(), UTC)
    assert [o.headline for o in outcomes] == [c.headline for c in candidates]


def fetch_served(count: int) -> tuple[tuple[FeedResult, ...], list[str], list[str]]:
    """``fetch_sources`` of ``count`` benchmark feeds: (results, the URLs in order, on_done's URLs)."""
    with feeds.FeedServer(feeds.documents(count, 2, now=NOW)) as server:
        urls = server.urls()
        reported: list[str] = []
        results = ingest.fetch_sources(
            [Source(url) for url in urls],
            FetchConfig(),
            {},
            NOW,
            on_done=lambda r: reported.append(r.source.url),
        )
    return results, urls, reported


def test_fetching_shared_with_a_helper_process_gives_the_same_results(
    monkeypatch: pytest.MonkeyPatch, helpers: list[int]
) -> None:
    count = ingest.PARALLEL_MIN_SOURCES + 3  # an odd number: the halves differ in size
    shared, urls, reported = fetch_served(count)
    assert helpers == [1]
    assert [r.source.url for r in shared] == urls
    assert sorted(reported) == sorted(urls)
    assert all(r.status == "ok" and len(r.entries) == 2 for r in shared)
    monkeypatch.setattr(ingest, "PARALLEL_MIN_SOURCES", 10**6)
    alone, _, _ = fetch_served(count)
    # The server's ports differ between the two runs, so compare what does not name the URL.
    assert [[(e.title, e.published, e.content_html) for e in r.entries] for r in shared] == [
        [(e.title, e.published, e.content_html) for e in r.entries] for r in alone
    ]


_PARENT = os.getpid()
_FETCH_HERE = ingest._fetch_here


def dying_in_the_helper(*args: Any, **kwargs: Any) -> tuple[FeedResult, ...]:
    """ingest._fetch_here, but a forked helper running it dies (module level: it goes pickled)."""
    if os.getpid() != _PARENT:
        os._exit(1)  # as if killed: the pool breaks
    return _FETCH_HERE(*args, **kwargs)


def test_a_helper_that_dies_costs_no_source(monkeypatch: pytest.MonkeyPatch, helpers: list[int]) -> None:
    monkeypatch.setattr(ingest, "_fetch_here", dying_in_the_helper)
    results, urls, reported = fetch_served(ingest.PARALLEL_MIN_SOURCES)
    assert helpers == [1]
    assert [r.source.url for r in results] == urls
    assert all(r.status == "ok" and r.entries for r in results)
    assert sorted(reported) == sorted(urls)


def test_no_helper_is_forked_while_another_thread_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("forked beside another thread")

    monkeypatch.setattr(parallel, "forked_helper", no_fork)
    monkeypatch.setattr(extract, "PARALLEL_MIN_ENTRIES", 1)
    entries = benchmark_entries(3, 2)
    release = threading.Event()
    other = threading.Thread(target=release.wait, args=(10,))
    other.start()
    try:
        assert not parallel.available()
        # A stage asked to share its work does it alone instead.
        assert extract.preview_all(entries) == [extract.preview(entry) for entry in entries]
    finally:
        release.set()
        other.join(10)


def test_the_progress_bar_starts_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from digest import cli

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    threads = threading.active_count()
    view = cli.ProgressView("terminal")
    view(ProgressEvent("fetching", "morning", 0, 3))
    view(ProgressEvent("fetched", "morning", 1, 3, detail="World"))
    assert threading.active_count() == threads, "a monitor thread would keep helpers from forking"
    view.close()
    assert "morning: fetching 3 sources" in terminal.getvalue()


def test_the_pdf_renderer_starts_when_a_web_source_sends_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[bool] = []
    monkeypatch.setattr(pdf, "start_worker", lambda: started.append(True))
    (document,) = feeds.documents(1, 2, now=NOW)
    entries = ingest.parse_feed(document.body, SOURCE, NOW, "application/rss+xml")[1]
    seen: list[FeedResult] = []
    on_done = pipeline.starting_pdf_worker_on_news(seen.append)
    not_modified = FeedResult(SOURCE, "News", "not-modified")
    local = FeedResult(Source("demo/feed.xml"), "Demo", "ok", entries=entries)
    on_done(not_modified)
    on_done(local)
    assert not started, "a 304 or a local file is no sign of news"
    news = FeedResult(SOURCE, "News", "ok", entries=entries)
    on_done(news)
    assert started == [True]
    assert seen == [not_modified, local, news]


def test_the_pdf_renderer_starts_with_the_fetch_when_a_web_source_has_no_validators(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from digest.config import load_config
    from digest.state import State, state_url

    started: list[str] = []
    monkeypatch.setattr(pdf, "start_worker", lambda: started.append("renderer"))
    with feeds.FeedServer(feeds.documents(2, 2, now=NOW)) as server:
        sources = "".join(f"      - url: {url}\n" for url in server.urls())
        config_path = tmp_path / "feeds.yaml"
        config_path.write_text(f"editions:\n  bench:\n    title: Bench\n    sources:\n{sources}", "utf-8")
        config = load_config(config_path)
        edition = config.editions["bench"]
        with State(state_url(config)) as state:
            seen: list[str] = []

            def on_feed(result: FeedResult) -> None:
                seen.append(f"{result.status} with {len(started)} started")

            results = pipeline.fetch(config, edition, state, NOW, on_feed)
            # Started before the first source was done: it had no validators.
            assert started == ["renderer"] and seen == ["ok with 1 started"] * 2
            started.clear()
            # What a finished build commits.
            state.fetch.save_validators(results)
            pipeline.fetch(config, edition, state, NOW, on_feed)
    assert server.not_modified == 2
    assert started == [], "every source answered 304: nothing to render, no renderer"


def test_a_renderer_that_cannot_start_is_an_error_naming_the_pdf(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def no_process(*args: Any, **kwargs: Any) -> Any:
        raise OSError(24, "Too many open files")

    pdf._stop_worker()
    monkeypatch.setattr(pdf.subprocess, "Popen", no_process)
    pdf.start_worker()  # starting early fails quietly...
    info = PdfInfo(title="Unstartable", author="Bench", created=NOW)
    # ...and the render says why, naming the PDF.
    with pytest.raises(RenderError, match=r"briefing\.pdf: Unstartable: the PDF renderer could not start \("):
        render_pdf("<p>x</p>", tmp_path, info)


def test_starting_the_pdf_renderer_imports_no_rendering_library() -> None:
    code = "import sys, digest.render.pdf; print(' '.join(sorted(sys.modules)))"
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    modules = set(imported.stdout.split())
    assert "digest.render.pdf" in modules, imported.stderr
    assert not {"digest.render.issue", "digest.config", "jinja2", "lxml", "weasyprint"} & modules


def test_no_cyclic_collection_inside_a_build_and_as_before_after() -> None:
    assert gc.isenabled()
    inside = threading.Event()
    leave = threading.Event()

    def another_build() -> None:
        with pipeline.cyclic_gc_paused():
            inside.set()
            leave.wait(5)

    other = threading.Thread(target=another_build)
    with pipeline.cyclic_gc_paused():
        assert not gc.isenabled()
        other.start()
        assert inside.wait(5)
    assert not gc.isenabled(), "the other build is still running"
    leave.set()
    other.join(5)
    assert gc.isenabled()
    gc.disable()
    try:
        with pipeline.cyclic_gc_paused():
            pass
        assert not gc.isenabled(), "a caller's choice stays as it was"
    finally:
        gc.enable()


#: The program as installed, with an exit handler of its own and the arguments given.
PROGRAM_WITH_EXIT_HANDLER = """
import atexit, sys
from digest.cli import run
atexit.register(lambda: print("exit handler ran", flush=True))
sys.argv = ["digest", *sys.argv[1:]]
run()
print("never printed: run() does not return")
"""


@pytest.mark.parametrize(
    ("arguments", "status", "printed"),
    [(["--version"], 0, "digest, version"), (["build", "--config", "missing.yaml"], 2, "no such file")],
)
def test_the_quick_exit_keeps_status_output_and_exit_handlers(
    tmp_path: Path, arguments: list[str], status: int, printed: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM_WITH_EXIT_HANDLER, *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == status, done.stderr
    assert printed in done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("exit handler ran")
    assert "never printed" not in done.stdout


def test_under_a_profiler_the_program_exits_normally_so_the_profile_is_written(tmp_path: Path) -> None:
    profile = tmp_path / "version.prof"
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "digest", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "digest, version" in done.stdout
    assert profile.stat().st_size > 0


def test_a_pdf_abandoned_half_way_leaves_a_renderer_that_works(tmp_path: Path) -> None:
    info = PdfInfo(title="Background", author="Bench", created=NOW)
    with pdf_in_background("<p>Never collected</p>", tmp_path, info):
        pass  # an error here (a template failing after the PDF started) leaves without the result
    with pdf_in_background("<p>Collected in the background</p>", tmp_path, info) as pending:
        pdf = pending.result()
    assert pdf.startswith(b"%PDF-")
    assert render_pdf("<p>And in the foreground</p>", tmp_path, info).startswith(b"%PDF-")


#: A PDF renderer child whose job reports what the real one would see while it renders: its
#: niceness, whether the cyclic collector runs, and whether the previous job's cycle was freed.
RECORDING_RENDERER = """
import gc, os, weakref
import digest.render.pdfwrite as pdfwrite
from digest.render.pdfworker import serve
left_by_the_last_job = []

def attempt(job):
    freed = all(ref() is None for ref in left_by_the_last_job)
    cycle = [job.html]
    cycle.append(cycle)
    holder = type("Holder", (), {})()
    holder.cycle = cycle
    holder.itself = holder
    left_by_the_last_job[:] = [weakref.ref(holder)]
    del holder, cycle
    return "ok", repr((os.nice(0), gc.isenabled(), freed)).encode(), []

pdfwrite.attempt = attempt
serve()
"""


def test_the_renderer_child_runs_niced_without_cyclic_collection_and_frees_each_job(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", RECORDING_RENDERER], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert child.stdin is not None and child.stdout is not None
    job = pdf.Job("<p>x</p>", (tmp_path,), PdfInfo(title="T", author="A", created=NOW), False, 30.0)
    answers = []
    try:
        for _ in range(2):
            message = pickle.dumps(job)
            child.stdin.write(pdf.FRAME.pack(len(message)) + message)
            child.stdin.flush()
            (length,) = pdf.FRAME.unpack(child.stdout.read(pdf.FRAME.size))
            outcome, payload, _ = pickle.loads(child.stdout.read(length))
            assert outcome == "ok"
            answers.append(ast.literal_eval(payload.decode()))
    finally:
        child.stdin.close()
        child.wait(10)
    ours = os.nice(0)
    niceness = min(ours + pdfworker.NICENESS, 19)
    assert answers[0][:2] == (niceness, False)
    assert answers[1] == (niceness, False, True), "the first job's garbage was collected after it"


def test_pdf_streams_are_compressed_at_the_quicker_level(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    from digest.render import pdfwrite

    levels: list[int] = []
    compressobj = zlib.compressobj

    def recorded(level: int = -1) -> Any:
        levels.append(level)
        return compressobj(level)

    monkeypatch.setattr(zlib, "compressobj", recorded)
    info = PdfInfo(title="Levels", author="Bench", created=NOW)
    html = "<p>" + "Streams compressed at level six still read back. " * 200 + "</p>"
    written = pdfwrite.write(pdf.Job(html, (tmp_path,), info, False, 30.0))
    assert levels and set(levels) == {pdfwrite.STREAM_COMPRESSION} and pdfwrite.STREAM_COMPRESSION < 9
    text = PdfReader(io.BytesIO(written)).pages[0].extract_text()
    assert "still read back" in text


#: Printed by the child below: every module a build with nothing new imported.
WARM_BUILD = """
import sys
from digest.cli import main
main(sys.argv[1:], standalone_mode=False)
print(" ".join(sorted(sys.modules)))
"""


def test_a_build_with_nothing_new_imports_no_later_stage(tmp_path: Path) -> None:
    served = feeds.documents(3, 2, now=NOW)
    with feeds.FeedServer(served) as server:
        config = tmp_path / "feeds.yaml"
        sources = "".join(f"      - url: {url}\n" for url in server.urls())
        config.write_text(
            f"editions:\n  bench:\n    title: Bench\n    lookback: all\n    sources:\n{sources}"
        )
        command = [sys.executable, "-c", WARM_BUILD, "build", "--config", str(config)]
        cold = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert cold.returncode == 0, cold.stderr
        warm = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert warm.returncode == 0, warm.stderr
        assert server.not_modified == 3
    cold_modules = set(cold.stdout.split())
    warm_modules = set(warm.stdout.split())
    later = {"digest.extract", "digest.cluster", "digest.condense", "digest.render", "digest.render.pdf"}
    later |= {"jinja2", "premailer", "weasyprint", "lxml"}
    assert later - {"weasyprint"} <= cold_modules, "the cold build is what makes the check meaningful"
    assert not (later | {"feedparser"}) & warm_modules
    if feedparse.BACKEND == "feedparser-rs":
        assert "feedparser" not in cold_modules, "the reference parser is for documents that need it"
