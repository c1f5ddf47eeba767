"""Hostile input, stage by stage (fast): the fetch guard, full text, XML entities, the sanitiser,
control characters, long words and header injection. The whole corpus in one build is
tests/test_hostile.py."""

from __future__ import annotations

import email
import email.policy
import ipaddress
import logging
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from factories import make_briefing, make_issue
from httpserver import LoopbackServer

from digest.condense import get_condenser
from digest.config import CondenseConfig, FetchConfig
from digest.errors import FetchError, ParseError
from digest.extract import MAX_WORD_CHARS, extract, with_full_text
from digest.fetchguard import is_public
from digest.httpclient import client as http_client
from digest.ingest import fetch_page, parse_feed, readable_html, sanitize_html
from digest.render.mime import build_message
from digest.render.templates import environment
from digest.types import Entry, Source, Story

sys.path.insert(0, str(Path(__file__).resolve().parent / "hostile"))
from cases import BILLION_LAUGHS, FORBIDDEN_MARKUP, LOCAL_FILE_PAYLOADS, XSS_PAYLOADS, item, rss
from good import story_paragraphs

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
SOURCE = Source(url="/feeds/hostile.xml")
LOOPBACK_REFUSED = "not a public internet address"


def _entry(**overrides: object) -> Entry:
    fields: dict[str, object] = {
        "id": "e1", "feed": "Teasers", "feed_url": "https://teasers.example.org/rss", "title": "Park keepers",
        "link": "", "published": NOW - timedelta(hours=1), "dated": True,
        "summary_html": "<p>Short teaser.</p>", "content_html": "",
    }  # fmt: skip
    fields.update(overrides)
    return Entry(**fields)  # type: ignore[arg-type]


def _article_page(paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        "<html><head><title>Park</title><script>alert(1)</script></head><body>"
        "<nav><p>Home</p><p>News</p><p>Sport</p></nav>"
        f"<div class='story'>{body}<p><img src=x onerror=alert(1)></p></div>"
        "<footer><p>Copyright and a long footer line that is not the story at all.</p></footer></body></html>"
    ).encode()


# --- the fetch guard --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True), ("2606:4700::6810:85e5", True), ("127.0.0.1", False), ("10.1.2.3", False),
        ("172.16.0.1", False), ("192.168.1.1", False), ("169.254.169.254", False), ("100.64.0.1", False),
        ("0.0.0.0", False), ("224.0.0.251", False), ("239.255.255.250", False), ("255.255.255.255", False),
        ("::1", False), ("fe80::1", False), ("fc00::1", False), ("ff02::1", False),
        ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False), ("::ffff:93.184.215.14", True),
    ],
)  # fmt: skip
def test_only_public_unicast_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


def test_a_content_url_never_reaches_loopback_by_default(http_server: LoopbackServer) -> None:
    url = http_server.route("/secret", b"intranet", content_type="text/plain")
    hop = http_server.redirect("/hop", "/secret")
    with http_client(FetchConfig(), "*/*", content=True) as client:
        for target in (url, hop, url.replace("127.0.0.1", "localhost")):
            with pytest.raises(httpx.ConnectError, match=LOOPBACK_REFUSED):
                client.get(target)
    assert http_server.requests == []


def test_allow_private_addresses_lets_content_urls_reach_loopback(http_server: LoopbackServer) -> None:
    http_server.route("/secret", b"intranet", content_type="text/plain")
    hop = http_server.redirect("/hop", "/secret")
    with http_client(FetchConfig(allow_private_addresses=True), "*/*", content=True) as client:
        assert client.get(hop).text == "intranet"


def test_fetch_page_names_the_refused_url(http_server: LoopbackServer) -> None:
    url = http_server.route("/article.html", b"<p>x</p>", content_type="text/html")
    with pytest.raises(FetchError, match=LOOPBACK_REFUSED) as caught:
        fetch_page(url, FetchConfig())
    assert str(caught.value).startswith(url)


def test_fetch_page_keeps_the_size_cap(http_server: LoopbackServer) -> None:
    url = http_server.large("/big.html", 2_000_000, content_type="text/html")
    with pytest.raises(FetchError, match="larger than 100000 bytes"):
        fetch_page(url, FetchConfig(allow_private_addresses=True, max_bytes=100_000))


# --- full text --------------------------------------------------------------------------------------------


def test_readable_html_takes_the_story_and_sanitises_it() -> None:
    page = _article_page(story_paragraphs("park")).decode()
    html = readable_html(page)
    assert "Why does the park plan matter?" in html
    assert "Home" not in html and "Copyright" not in html
    assert "<script" not in html and "onerror" not in html


def test_readable_html_joins_a_story_split_by_an_advertisement() -> None:
    first, second = story_paragraphs("park")[:2], story_paragraphs("park")[2:]
    page = (
        "<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav><div class='story'>"
        f"<div class='block'>{''.join(f'<p>{p}</p>' for p in first)}</div>"
        "<div class='ad'><p>Advertisement</p></div>"
        f"<div class='block'>{''.join(f'<p>{p}</p>' for p in second)}</div></div>"
        "<div class='comments'><p>First! This comment is not the story.</p></div></body></html>"
    )
    html = readable_html(page)
    for paragraph in (first[0], second[-1]):
        assert paragraph[:40] in html
    assert "Home" not in html and "not the story" not in html


def test_readable_html_of_a_page_without_text_is_empty() -> None:
    assert readable_html("") == ""
    assert "<" not in readable_html("<html><head><title>x</title></head></html>")


def test_a_short_entry_of_a_full_text_source_gets_its_page(http_server: LoopbackServer) -> None:
    link = http_server.route("/park.html", _article_page(story_paragraphs("park")), content_type="text/html")
    short = _entry(link=link)
    other_feed = _entry(id="e2", feed_url="https://other.example.org/rss", link=link)
    settings = FetchConfig(allow_private_addresses=True)
    completed, untouched = with_full_text([short, other_feed], {short.feed_url}, settings)
    assert "Why does the park plan matter?" in completed.content_html
    assert extract(completed).word_count > 100
    assert untouched == other_feed
    assert len(http_server.requests_to("/park.html")) == 1


def test_a_full_text_link_to_loopback_is_refused_and_the_entry_kept(
    http_server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    link = http_server.route("/park.html", _article_page(story_paragraphs("park")), content_type="text/html")
    short = _entry(link=link)
    with caplog.at_level(logging.WARNING, logger="digest.extract"):
        assert with_full_text([short], {short.feed_url}, FetchConfig()) == (short,)
    assert LOOPBACK_REFUSED in caplog.text and link in caplog.text
    assert http_server.requests == []


# --- parsing ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE rss [<!ENTITY xxe PUBLIC "-//x//EN" "http://127.0.0.1:9/x.dtd">]>',
        '<!DOCTYPE rss [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>',
        BILLION_LAUGHS,
        '<!DOCTYPE rss [<!ENTITY a "x"><!ENTITY b "<b>&a;&a;</b>">]>',
        '<!DOCTYPE rss [<!ENTITY long "' + "y" * 5000 + '">]>',
    ],
    ids=["system", "public", "parameter", "billion-laughs", "nested-behind-markup", "long-value"],
)
def test_documents_declaring_dangerous_entities_are_refused(prolog: str) -> None:
    data = rss(item("Entry", "<p>text</p>", "e"), prolog=prolog)
    started = time.monotonic()
    with pytest.raises(ParseError, match="XML entity"):
        parse_feed(data, SOURCE, NOW)
    assert time.monotonic() - started < 1


def test_harmless_entities_and_an_external_dtd_reference_are_read() -> None:
    prolog = (
        '<!DOCTYPE rss SYSTEM "http://127.0.0.1:9/rss.dtd" [<!ENTITY nbsp "&#160;">'
        '<!ENTITY co "Acme SYSTEM Works">]>'
    )
    _, entries = parse_feed(rss(item("Made by &co;", "<p>x</p>", "e"), prolog=prolog), SOURCE, NOW)
    assert [e.title for e in entries] == ["Made by Acme SYSTEM Works"]


def test_a_lone_surrogate_fails_the_source_with_a_parse_error() -> None:
    with pytest.raises(ParseError, match=r"^/feeds/hostile\.xml: not a feed"):
        parse_feed(rss(item("Broken &#xD800; entry", "<p>x</p>", "e")), SOURCE, NOW)


def test_control_characters_never_leave_ingest() -> None:
    headline = "Park &#x1b;]0;owned&#x7; keepers &#x1b;[2J"
    body = "<p>Text \x1b[31m red &#x1b;]8;;http://x\x07 link &amp;#x1b; escaped</p>"
    _, entries = parse_feed(rss(item(headline, body, "e")), SOURCE, NOW)
    (entry,) = entries
    for text in (entry.title, entry.summary_html):
        assert not any((ord(c) < 32 and c not in "\t\n\r") or 0x7F <= ord(c) <= 0x9F for c in text), repr(
            text
        )
    assert entry.title.startswith("Park ]0;owned keepers")


# --- HTML -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", XSS_PAYLOADS + LOCAL_FILE_PAYLOADS)
def test_the_sanitiser_lets_no_payload_through(payload: str) -> None:
    cleaned = sanitize_html(f"<p>before</p>{payload}<p>after</p>").lower()
    for forbidden in (*FORBIDDEN_MARKUP, "style=", "<style", "<link", "<meta", "<svg", "<math"):
        assert forbidden not in cleaned, (payload, cleaned)
    assert "before" in cleaned and "after" in cleaned


# --- sizes ------------------------------------------------------------------------------------------------


def test_a_100000_character_word_is_clipped_and_condensed_quickly() -> None:
    paragraphs = story_paragraphs("market")
    html = "".join(f"<p>{p}</p>" for p in paragraphs[:2]) + "<p>" + "A" * 100_000 + "</p>"
    html += "".join(f"<p>{p}</p>" for p in paragraphs[2:])
    article = extract(_entry(summary_html=html, link="https://x.example.org/1"))
    assert max(len(w) for p in article.paragraphs for w in p.split()) == MAX_WORD_CHARS + 1
    started = time.monotonic()
    # Straight to the condenser, clipping bypassed: its patterns must not backtrack for minutes.
    raw = replace(article, intro=(*article.intro, "B" * 100_000))
    get_condenser(CondenseConfig()).condense(Story(id="e1", articles=(raw,)), UTC)
    assert time.monotonic() - started < 5


# --- headers ----------------------------------------------------------------------------------------------


def test_a_headline_cannot_add_a_header_to_the_email() -> None:
    headline = "Ferry\r\nBcc: victim@example.org\r\nX-Injected: yes\n\nbody"
    issue = make_issue(stories=(make_briefing(1, headline=headline), make_briefing(2)))
    env = environment()
    title = env.get_template("title.txt").render(issue=issue).strip()
    subject = env.get_template("subject.txt").render(issue=issue, title=title)
    message = build_message(
        subject=subject, sender="a@example.org", to="b@example.org", text="t", html="<p>h</p>",
        date=NOW, message_id_domain="example.org",
    )  # fmt: skip
    parsed = email.message_from_bytes(bytes(message), policy=email.policy.default)
    assert {name.lower() for name in parsed} == {
        "subject", "from", "to", "date", "message-id", "mime-version", "content-type",
    }  # fmt: skip
    assert "X-Injected: yes" in str(parsed["Subject"])
