"""Rendering: the text shape of FORMAT.md, an e-mail fit for mail clients, a safe and
reproducible PDF, a well-formed MIME message, and the edition's archive and Atom feed."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import re
import warnings
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import feedparser
import jinja2
import lxml.html  # type: ignore[import-untyped]
import needs
import pytest
from factories import BASE_URL, EDITION, make_briefing, make_issue, make_links, make_long_issue, pdf_renderer

import digest.render.issue
from digest.errors import RenderError
from digest.render import (
    EMAIL_HTML_BUDGET,
    EMAIL_HTML_LIMIT,
    environment,
    render_archive,
    render_briefings_text,
    render_email_html,
    render_issue,
    render_text,
)
from digest.render.inline import inline_css
from digest.render.mime import build_message
from digest.render.templates import DEFAULT_TEMPLATES
from digest.types import BrieflyItem, Issue, Rendered, Section

HOSTILE = "<script>x</script> {{ 7*7 }} & Co"


@pytest.fixture(scope="module")
def env() -> jinja2.Environment:
    return environment()


@pytest.fixture(scope="module")
def rendered(env: jinja2.Environment) -> Rendered:
    return render_issue(make_issue(), EDITION, make_links(), env, pdf_renderer())


# -- issue.txt ---------------------------------------------------------------


def test_issue_txt_of_a_small_issue_is_exactly_the_digest_shape(env: jinja2.Environment) -> None:
    briefing = replace(
        make_briefing(2),
        lede=("First lede paragraph.", "Second\nlede paragraph."),
        sections=(Section("What now?", ("An answer.",)),),
    )
    issue = make_issue(stories=(briefing,), briefly=())
    assert render_text(issue, make_links(unsubscribe="https://u.example/x"), env) == (
        "Morning Briefing - 2026-03-14\n"
        "\n"
        "Regional council approves a four-year plan for cycle lanes\n"
        "date 2026-03-14 - First lede paragraph.\n"
        "Second lede paragraph.\n"
        "- - -\n"
        "What now?\n"
        "An answer.\n"
        "Sources: Example Wire https://news.example.org/cycle-lane/2 ; Example Daily https://daily.example.net/a/2\n"
        "\n"
        "--\n"
        "You receive Morning Briefing because you subscribed to it.\n"
        f"Read this issue on the web: {BASE_URL}2026-03-14/briefing.html\n"
        f"All issues: {BASE_URL}index.html\n"
        "Unsubscribe: https://u.example/x\n"
    )


def test_issue_txt_follows_format_md_line_by_line(rendered: Rendered) -> None:
    issue = make_issue()
    text = rendered.issue_txt.decode("utf-8")
    head, rest = text.split("\n\n", 1)
    assert head == "Morning Briefing - 2026-03-14"
    body, footer = rest.split("\n\n--\n")
    blocks = body.split("\n\n* * *\n\n")
    assert len(blocks) == len(issue.stories) + 1  # the stories, then Briefly

    for block, briefing in zip(blocks, issue.stories, strict=False):
        lines = block.split("\n")
        assert lines[0] == briefing.headline
        place = f" {briefing.dateline.place}" if briefing.dateline.place else ""
        assert lines[1] == f"date 2026-03-14{place} - {briefing.lede[0]}"
        assert lines[2 : 1 + len(briefing.lede)] == list(briefing.lede[1:])
        separators = [n for n, line in enumerate(lines) if line == "- - -"]
        assert len(separators) == len(briefing.sections)
        for n, section in zip(separators, briefing.sections, strict=True):
            assert lines[n + 1] == section.question
            assert lines[n + 2 : n + 2 + len(section.answer)] == list(section.answer)
        assert lines[-1] == "Sources: " + " ; ".join(f"{s.feed} {s.url}" for s in briefing.sources)

    assert blocks[-1].split("\n") == [
        "Briefly",
        "Library extends weekend hours - The central library will open on Sundays from May. "
        "https://news.example.org/library",
        "Harbour crane back in service - Repairs finished two weeks early.",
    ]
    assert f"{BASE_URL}2026-03-14/briefing.html" in footer
    assert "To unsubscribe, reply to this e-mail." in footer
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_briefings_text_has_no_issue_header_or_footer(env: jinja2.Environment) -> None:
    briefings = [make_briefing(1), make_briefing(3)]
    text = render_briefings_text(briefings, env)
    parts = text.split("\n\n* * *\n\n")
    assert len(parts) == 2
    assert parts[0].startswith(f"{briefings[0].headline}\ndate 2026-03-14 LAGOS - ")
    assert parts[1].startswith(f"{briefings[1].headline}\ndate 2026-03-14 OSLO - ")
    assert parts[1].endswith("https://daily.example.net/a/3\n")
    assert "Morning Briefing" not in text and "\n--\n" not in text
    # The per-briefing part is shared with issue.txt: the same lines in both.
    issue_text = render_text(make_issue(stories=tuple(briefings), briefly=()), make_links(), env)
    assert parts[0] in issue_text and parts[1].rstrip("\n") in issue_text


# -- email.html --------------------------------------------------------------


def test_email_html_is_ready_for_mail_clients(rendered: Rendered) -> None:
    html = rendered.email_html.decode("utf-8")
    assert len(rendered.email_html) < EMAIL_HTML_LIMIT
    tree = lxml.html.fromstring(html)
    assert tree.get("lang") == "en"
    assert not tree.xpath("//link") and "@import" not in html
    styles = tree.xpath("//style")
    assert len(styles) == 1 and "@media (max-width: 620px)" in styles[0].text
    assert "prefers-color-scheme: dark" in styles[0].text and "[data-ogsc]" in styles[0].text
    # Rules of the inlined block now live in style attributes.
    story = tree.xpath("//td[contains(@class, 'story')]")[0]
    assert "font-family" in story.get("style", "")
    assert all("font-size" in p.get("style", "") for p in tree.xpath("//td[contains(@class, 'story')]//p"))
    assert "<!--[if mso]>" in html


def _preheader(html: str) -> str:
    body = lxml.html.fromstring(html).body
    first = next(iter(body))
    assert "display:none" in first.get("style", "").replace(" ", "")
    # Invisible padding after the text keeps clients from filling the preview with the body.
    return str(first.text_content()).split("\u2007")[0]


def test_email_preheader_is_the_first_element_of_the_body(rendered: Rendered) -> None:
    assert _preheader(rendered.email_html.decode("utf-8")) == make_issue().stories[0].lede[0]


def test_email_preheader_is_truncated(env: jinja2.Environment) -> None:
    long_lede = "A sentence about the harbour works. " * 20
    issue = make_issue(stories=(make_briefing(1, lede=(long_lede, "Second.")),))
    preheader = _preheader(render_email_html(issue, make_links(), env, BASE_URL))
    assert preheader.endswith("…") and len(preheader) <= 140
    assert long_lede.startswith(preheader[:-1].rstrip())


def test_email_links_are_absolute(rendered: Rendered) -> None:
    tree = lxml.html.fromstring(rendered.email_html.decode("utf-8"))
    hrefs = [a.get("href") for a in tree.xpath("//a")]
    assert f"{BASE_URL}2026-03-14/briefing.html" in hrefs and f"{BASE_URL}2026-03-14/briefing.pdf" in hrefs
    # Every link is absolute but the contents' links to stories inside the message, each to a story there.
    inside = [h for h in hrefs if h.startswith("#")]
    assert inside == [f"#story-{n}" for n in range(1, len(make_issue().stories) + 1)]
    assert all(tree.xpath(f'//*[@id="{h[1:]}"]') for h in inside)
    outside = [h for h in hrefs if not h.startswith("#")]
    assert outside and all(re.match(r"^(https?://|mailto:)", h) for h in outside), hrefs


def test_email_shows_every_story_and_briefly(rendered: Rendered) -> None:
    text = lxml.html.fromstring(rendered.email_html.decode("utf-8")).text_content()
    issue = make_issue()
    for briefing in issue.stories:
        assert briefing.headline in text
        assert all(s.question in text for s in briefing.sections)
    assert "Briefly" in text and "Harbour crane back in service" in text
    assert "To unsubscribe, reply to this e-mail." in text


def test_markup_in_feed_text_is_shown_not_run(env: jinja2.Environment) -> None:
    issue = make_issue(stories=(make_briefing(1, headline=HOSTILE),))
    result = render_issue(issue, EDITION, make_links(), env, pdf_renderer())
    for html in (result.email_html.decode(), result.briefing_html.decode()):
        assert "<script>" not in html
        assert "&lt;script&gt;x&lt;/script&gt; {{ 7*7 }} &amp; Co" in html
    # Plain text is not HTML: it keeps the characters as they are.
    assert HOSTILE in result.issue_txt.decode()
    assert "49" not in result.issue_txt.decode()
    subject = email.message_from_bytes(result.issue_eml, policy=email.policy.default)["Subject"]
    assert subject == f"Morning Briefing - 2026-03-14: {HOSTILE}"


def test_links_from_feeds_that_are_not_web_urls_stay_text(env: jinja2.Environment) -> None:
    briefing = make_briefing(1)
    bad = replace(briefing.sources[0], url="javascript:alert(1)")
    issue = make_issue(stories=(replace(briefing, sources=(bad,)),))
    html = render_email_html(issue, make_links(), env, BASE_URL)
    assert "javascript:" not in html


# -- briefing.html and the PDF -------------------------------------------------


def test_briefing_html_is_a_standalone_page(rendered: Rendered) -> None:
    tree = lxml.html.fromstring(rendered.briefing_html.decode("utf-8"))
    assert tree.get("lang") == "en"
    assert tree.findtext(".//title") == "Morning Briefing - 2026-03-14"
    stories = [a.get("href") for a in tree.xpath("//nav/ol/li/a")]
    assert stories == ["#story-1", "#story-2", "#story-3", "#briefly"]
    assert len(tree.xpath("//article[@class='story']//h3")) == 6
    # The contents name every question too, each pointing at its heading.
    questions = tree.xpath("//nav//ol[@class='toc-questions']//a")
    assert [a.get("href") for a in questions][:2] == ["#story-1-q1", "#story-1-q2"]
    assert all(tree.get_element_by_id(a.get("href")[1:]).tag == "h3" for a in questions)
    assert "counter(pages)" in rendered.briefing_html.decode()


# -- issue.eml -----------------------------------------------------------------


def test_eml_is_multipart_alternative_text_then_html(rendered: Rendered) -> None:
    message = email.message_from_bytes(rendered.issue_eml, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert parts[0].get_content().replace("\r\n", "\n") == rendered.issue_txt.decode()
    assert parts[1].get_content().replace("\r\n", "\n") == rendered.email_html.decode()
    assert message["Subject"] == "Morning Briefing - 2026-03-14: " + make_issue().stories[0].headline
    assert message["Message-ID"] == "<digest.morning.2026-03-14@localhost>"
    assert b"\r\n" in rendered.issue_eml and b"\n" not in rendered.issue_eml.replace(b"\r\n", b"")


def test_eml_lines_stay_under_998_bytes(env: jinja2.Environment) -> None:
    huge = "A paragraph that never ends, " * 400
    issue = make_issue(stories=(make_briefing(1, lede=(huge, "Short."), headline="Ünïcode headline"),))
    raw = render_issue(issue, EDITION, make_links(), env, pdf_renderer()).issue_eml
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert huge.strip() in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "subject",
    [
        "The Demo Briefing - 2026-11-24: Saltmarsh tram line opens six months late",
        "Die Übersicht, 24. November 2026: Getreideexporte nach dreiwöchiger Blockade wieder aufgenommen",
        "Short",
    ],
)
def test_the_subject_starts_on_the_header_line(subject: str) -> None:
    message = small_message(subject)
    for raw in (message.as_bytes(), bytes(message), message.as_string().encode()):
        head = raw.split(b"\n\n")[0].split(b"\r\n\r\n")[0]
        assert re.search(rb"^Subject: \S", head, re.MULTILINE), head
        assert not re.search(rb"^[A-Za-z-]+:\r?\n", head, re.MULTILINE), head
        assert email.message_from_bytes(raw, policy=email.policy.default)["Subject"] == subject


def small_message(subject: str, headers: dict[str, str] | None = None) -> EmailMessage:
    return build_message(
        subject=subject,
        sender="Digest <digest@example.org>",
        to="reader@example.org",
        text="hi\n",
        html="<p>hi</p>\n",
        date=datetime(2026, 3, 14, 7, 0, tzinfo=UTC),
        message_id_domain="example.org",
        headers=headers or {},
    )


def test_header_values_cannot_inject_headers() -> None:
    message = small_message("Breaking\r\nBcc: victim@example.org", {"X-Feed": "one\nX-Evil: two"})
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert parsed["Subject"] == "Breaking Bcc: victim@example.org"
    assert parsed["Message-ID"].endswith("@example.org>")
    assert parsed["Date"] == "Sat, 14 Mar 2026 07:00:00 +0000"


# -- index.html and feed.xml ------------------------------------------------------


def _issues() -> list[Issue]:
    first = make_issue()
    second = make_issue(
        issue_id="2026-03-15",
        built_at=first.built_at + timedelta(days=1),
        stories=(make_briefing(3),),
        briefly=(),
    )
    return [first, second]


def test_atom_feed_is_valid_with_one_entry_per_issue(env: jinja2.Environment) -> None:
    _, feed_xml = render_archive(_issues(), EDITION, env)
    feed = feedparser.parse(feed_xml)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Morning Briefing"
    links = [e.link for e in feed.entries]
    assert links == [f"{BASE_URL}2026-03-15/briefing.html", f"{BASE_URL}2026-03-14/briefing.html"]
    assert feed.entries[0].updated == "2026-03-15T07:00:00+01:00"
    assert "Glacier survey finds faster melt" in feed.entries[0].summary
    assert len({e.id for e in feed.entries}) == 2 and all(e.id.startswith("urn:uuid:") for e in feed.entries)
    # Ids are stable: another build of the archive (with more issues) keeps them.
    _, again = render_archive([*_issues(), make_issue(issue_id="2026-03-16")], EDITION, env)
    assert {e.id for e in feed.entries} < {e.id for e in feedparser.parse(again).entries}


def test_archive_index_lists_issues_newest_first(env: jinja2.Environment) -> None:
    index_html, _ = render_archive(_issues(), EDITION, env)
    tree = lxml.html.fromstring(index_html.decode("utf-8"))
    links = [a.get("href") for a in tree.xpath("//h2/a")]
    assert links == ["2026-03-15/briefing.html", "2026-03-14/briefing.html"]
    assert "Ferry operators add night crossings as bridge closes for repairs" in tree.text_content()
    assert tree.xpath("//link[@type='application/atom+xml']/@href") == ["feed.xml"]


def test_empty_archive_renders(env: jinja2.Environment) -> None:
    index_html, feed_xml = render_archive([], EDITION, env)
    assert b"No issues yet" in index_html
    assert feedparser.parse(feed_xml).bozo == 0


# -- themes ------------------------------------------------------------------------


def test_theme_overrides_templates_one_by_one(tmp_path: Path) -> None:
    (tmp_path / "_briefing.txt").write_text("THEMED {{ briefing.headline }}\n")
    env = environment(tmp_path)
    text = render_text(make_issue(briefly=()), make_links(), env)
    assert "THEMED Ferry operators" in text
    assert text.startswith("Morning Briefing - 2026-03-14\n")  # issue.txt itself still the default


def test_missing_theme_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="theme folder not found"):
        environment(tmp_path / "nope")


def test_template_mistakes_are_render_errors(tmp_path: Path) -> None:
    (tmp_path / "issue.txt").write_text("{{ issue.no_such_field }}\n")
    (tmp_path / "briefings.txt").write_text("{% for %}\n")
    env = environment(tmp_path)
    with pytest.raises(RenderError, match=r"issue\.txt"):
        render_text(make_issue(), make_links(), env)
    with pytest.raises(RenderError, match=r"briefings\.txt:1"):
        render_briefings_text([make_briefing()], env)


def test_seed_example_reads_as_one_briefing_shape(env: jinja2.Environment) -> None:
    """The rendered shape matches the reference example's markers (read at run time, never copied)."""
    seed = needs.shared("seed/qa-briefing-example.txt", "the briefing shape against the reference example")
    example = seed.read_text(encoding="utf-8").strip().split("\n")
    rendered = render_briefings_text([make_briefing(1)], env).strip().split("\n")
    assert re.match(r"date \d{4}-\d{2}-\d{2} [A-Z]+ - ", example[0]) and re.match(
        r"date \d{4}-\d{2}-\d{2} [A-Z]+ - ", rendered[1]
    )
    for lines in (example, rendered):
        separators = [n for n, line in enumerate(lines) if line == "- - -"]
        assert separators and all(lines[n + 1].endswith("?") for n in separators)


# -- the e-mail against Gmail's clipping, premailer, themes ---------------------------


def test_a_40_story_issue_keeps_every_headline_and_lede_under_the_limit(env: jinja2.Environment) -> None:
    issue = make_long_issue(40)
    links = make_links(unsubscribe="https://briefing.example.org/u/token")
    html = render_email_html(issue, links, env, BASE_URL)
    assert len(html.encode("utf-8")) < EMAIL_HTML_BUDGET < EMAIL_HTML_LIMIT
    tree = lxml.html.fromstring(html)
    text = " ".join(tree.text_content().split())
    for briefing in issue.stories:
        assert briefing.headline in text
        assert all(paragraph in text for paragraph in briefing.lede)
    # The first stories are whole; the rest give way to a link to their place in the web copy.
    whole = sum(1 for b in issue.stories if b.sections[-1].question in text)
    more = tree.xpath("//p[contains(@class, 'more')]/a[starts-with(., 'Read the full briefing')]")
    assert 0 < whole < 40 and len(more) == 40 - whole
    assert [a.get("href") for a in more][-1] == f"{BASE_URL}2026-03-14/briefing.html#story-40"
    assert issue.stories[whole - 1].sections[-1].question in text
    assert issue.stories[whole].sections[0].question not in text
    # The Briefly items went first: a link to them in the web copy stands in their place.
    assert all(item.headline not in text for item in issue.briefly)
    assert tree.xpath("//a[starts-with(., 'More in brief')]/@href") == [
        f"{BASE_URL}2026-03-14/briefing.html#briefly"
    ]
    # What the template marked for the cut leaves no trace, and the footer is still there.
    assert "data-" not in html.replace("data-ogsc", "")
    assert tree.xpath("//a[text()='Unsubscribe']/@href") == ["https://briefing.example.org/u/token"]


def test_a_short_issue_is_whole_with_no_read_more_links(rendered: Rendered) -> None:
    html = rendered.email_html.decode("utf-8")
    assert "Read the full briefing" not in html and "data-full" not in html
    assert "in the full briefing" not in html and "More in brief" not in html
    assert not rendered.report and json.loads(rendered.issue_json)["report"] == []


def _many_briefly(count: int) -> tuple[BrieflyItem, ...]:
    return tuple(
        BrieflyItem(
            headline=f"Archive notice {n}: the {n}th item of a busy feed",
            summary="A short entry with a few words in it, too short for a briefing.",
            url=f"https://old.example.org/{n}",
            feed="Archive Desk",
            entry_id=f"old-{n}",
        )
        for n in range(1, count + 1)
    )


def test_thousands_of_briefly_items_and_40_long_stories_fit(env: jinja2.Environment) -> None:
    issue = replace(make_long_issue(40), briefly=_many_briefly(5000))
    html = render_email_html(issue, make_links(), env, BASE_URL)
    assert len(html.encode("utf-8")) < EMAIL_HTML_BUDGET
    text = " ".join(lxml.html.fromstring(html).text_content().split())
    # Briefly items go before any story is shortened; every lede is still there.
    assert "Archive notice 1:" not in text and "More in brief in the full briefing" in text
    assert all(b.headline in text and b.lede[0] in text for b in issue.stories)


def test_a_few_briefly_items_go_before_any_story_is_shortened(env: jinja2.Environment) -> None:
    # 8 long stories (about 9 KB each) fit whole; 400 Briefly items (about 300 bytes each) do not.
    issue = replace(make_long_issue(8), briefly=_many_briefly(400))
    html = render_email_html(issue, make_links(), env, BASE_URL)
    assert len(html.encode("utf-8")) < EMAIL_HTML_BUDGET
    text = " ".join(lxml.html.fromstring(html).text_content().split())
    assert all(s.question in text for b in issue.stories for s in b.sections)
    kept = [item for item in issue.briefly if f"{item.headline} " in text]
    assert 0 < len(kept) < 400 and kept == list(issue.briefly[: len(kept)])
    assert "More in brief in the full briefing" in text


def test_stories_too_long_even_cut_short_are_left_out_with_a_link(env: jinja2.Environment) -> None:
    # Each lede is about 9 KB: at most 10 of 30 fit, even cut to their lede.
    long_ledes = tuple(
        replace(b, lede=(f"Lede of story {n}. " + "Words of a very long lede. " * 330,))
        for n, b in enumerate(make_long_issue(30).stories, 1)
    )
    html = render_email_html(make_issue(stories=long_ledes, briefly=()), make_links(), env, BASE_URL)
    assert len(html.encode("utf-8")) < EMAIL_HTML_BUDGET
    tree = lxml.html.fromstring(html)
    shown = [n for n in range(1, 31) if tree.xpath(f"//*[@id='story-{n}']")]
    assert shown == list(range(1, len(shown) + 1)) and 0 < len(shown) < 30
    # The contents lists the stories shown; one line links to the first story left out.
    assert len(tree.xpath("//p[@class='contents-item']/a")) == len(shown)
    more = tree.xpath("//a[contains(., 'in the full briefing')]")
    left_out = 30 - len(shown)
    assert [a.text_content() for a in more] == [f"{left_out} more stories in the full briefing →"]
    assert more[0].get("href") == f"{BASE_URL}2026-03-14/briefing.html#story-{len(shown) + 1}"


def test_what_the_email_left_out_is_in_the_run_report_once(env: jinja2.Environment) -> None:
    issue = replace(make_long_issue(14), briefly=_many_briefly(30), report=("a note of the build",))
    rendered = render_issue(issue, EDITION, make_links(), env, pdf_renderer())
    assert len(rendered.email_html) < EMAIL_HTML_BUDGET
    report = json.loads(rendered.issue_json)["report"]
    assert report == list(rendered.report) and report[0] == "a note of the build"
    assert report[1:] == [
        "email.html: cut to fit under 100,000 bytes: 30 of 30 Briefly items left out, "
        f"{14 - _whole(rendered)} of 14 stories cut to their lede (the full briefing has them)"
    ]
    # issue.json and the text keep everything: only the e-mail is cut.
    assert len(json.loads(rendered.issue_json)["briefly"]) == 30
    assert "Archive notice 30:" in rendered.issue_txt.decode("utf-8")
    # Rendered again from its issue.json, the report says it once, not twice.
    again = render_issue(replace(issue, report=rendered.report), EDITION, make_links(), env, pdf_renderer())
    assert again.report == rendered.report


def _whole(rendered: Rendered) -> int:
    """How many stories of a rendered e-mail are whole (have no "Read the full briefing" link)."""
    html = rendered.email_html.decode("utf-8")
    return len(re.findall(r'<td class="story" id="story-', html)) - html.count("Read the full briefing")


def test_premailer_runs_once_per_issue_quietly(
    env: jinja2.Environment, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []
    real_inline = inline_css

    def counting_inline(html: str, base_url: str) -> str:
        calls.append(base_url)
        return real_inline(html, base_url)

    monkeypatch.setattr(digest.render.issue, "inline_css", counting_inline)
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        render_email_html(make_long_issue(40), make_links(), env, BASE_URL)
    assert calls == [BASE_URL]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_relative_links_of_a_theme_are_made_absolute(tmp_path: Path) -> None:
    template = (DEFAULT_TEMPLATES / "email.html").read_text("utf-8")
    themed = template.replace(
        '<td class="masthead">',
        '<td class="masthead"><a href="index.html"><img src="logo.png" width="120"></a>',
    )
    (tmp_path / "email.html").write_text(themed, "utf-8")
    html = render_email_html(make_issue(), make_links(), environment(tmp_path), BASE_URL)
    tree = lxml.html.fromstring(html)
    assert f"{BASE_URL}index.html" in tree.xpath("//a/@href")
    images = tree.xpath("//img")
    assert len(images) == 1 and images[0].get("src") == f"{BASE_URL}logo.png"
    # A theme's image without alt gets an empty one: decorative, never a file name read out.
    assert images[0].get("alt") == ""


def test_email_is_built_for_mail_clients(rendered: Rendered) -> None:
    html = rendered.email_html.decode("utf-8")
    tree = lxml.html.fromstring(html)
    container = tree.xpath("//table[contains(@class, 'container')]")[0]
    assert "max-width:600px" in container.get("style", "").replace(" ", "")
    assert '<!--[if mso]><table role="presentation" align="center" width="600"' in html
    for banned in ("display:flex", "display:grid", "position:absolute", "position:fixed"):
        assert banned not in html.replace(" ", "")
    assert all(t.get("role") == "presentation" for t in tree.xpath("//table"))
    assert "-apple-system" in html and "Segoe UI" in html
    assert tree.xpath("//a[text()='View in browser']/@href") == [f"{BASE_URL}2026-03-14/briefing.html"]
    assert tree.xpath("//td[contains(@class, 'topbar')]/a[text()='PDF']/@href") == [
        f"{BASE_URL}2026-03-14/briefing.pdf"
    ]


def test_unsubscribe_link_reaches_both_footers(env: jinja2.Environment) -> None:
    links = make_links(unsubscribe="https://briefing.example.org/u/abc")
    html = render_email_html(make_issue(), links, env, BASE_URL)
    text = render_text(make_issue(), links, env)
    assert 'href="https://briefing.example.org/u/abc"' in html
    assert "Unsubscribe: https://briefing.example.org/u/abc\n" in text
    assert "reply to this e-mail" not in html and "reply to this e-mail" not in text
