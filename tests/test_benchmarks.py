"""The benchmark's feed generator and server, the fast feed parser against feedparser, and what a
build that is fast must still do (extract only the stories it reaches; import nothing it does not need).

feedparser is the reference parser (digest/feedparse.py): wherever feedparser-rs is used, the
Entries it leads to must be exactly those feedparser leads to. The documents below cover what
feeds do (RSS 2.0, RSS 1.0, Atom; markup in titles, plain-text constructs, CDATA, entities,
several contents, missing and future dates, missing guids and links, tracking pixels), plus
documents the fast parser must hand to feedparser (relative URLs, xml:base, a declared
charset, ill-formed XML), and the benchmark's own feeds.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from factories import EDITION

from digest import assemble, cluster, condense, extract, feedparse, ingest, pipeline
from digest.types import Article, Entry, Source

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
    # Schedules are digest run's: a config without one checks nothing with APScheduler.
    assert "apscheduler" not in cold_modules | warm_modules
    if feedparse.BACKEND == "feedparser-rs":
        assert "feedparser" not in cold_modules, "the reference parser is for documents that need it"
