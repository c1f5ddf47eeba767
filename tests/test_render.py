"""Rendering: the text shape of FORMAT.md, an e-mail fit for mail clients, a safe and
reproducible PDF, a well-formed MIME message, and the edition's archive and Atom feed."""

from __future__ import annotations

import email
import email.policy
import io
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import jinja2
import lxml.html  # type: ignore[import-untyped]
import pytest
from factories import make_briefing, make_issue, make_links
from pypdf import PdfReader

from digest.config import EditionConfig, SourceConfig
from digest.errors import RenderError
from digest.render import (
    EMAIL_HTML_LIMIT,
    environment,
    render_archive,
    render_briefings_text,
    render_email_html,
    render_issue,
    render_text,
)
from digest.render.mime import build_message
from digest.render.pdf import SafeFetcher, render_pdf
from digest.render.templates import DEFAULT_TEMPLATES
from digest.types import Issue, Rendered, Section

BASE_URL = "https://briefing.example.org/morning/"
EDITION = EditionConfig(
    name="morning", title="Morning Briefing", base_url=BASE_URL, sources=(SourceConfig(url="https://x.org/f"),)
)
HOSTILE = "<script>x</script> {{ 7*7 }} & Co"


@pytest.fixture(scope="module")
def env() -> jinja2.Environment:
    return environment()


@pytest.fixture(scope="module")
def rendered(env: jinja2.Environment) -> Rendered:
    return render_issue(make_issue(), EDITION, make_links(), env)


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
    headline = tree.xpath("//h2")[0]
    assert "font-family" in headline.get("style", "")
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
    assert hrefs and all(re.match(r"^(https?://|mailto:)", h) for h in hrefs), hrefs


def test_email_shows_every_story_and_briefly(rendered: Rendered) -> None:
    text = lxml.html.fromstring(rendered.email_html.decode("utf-8")).text_content()
    issue = make_issue()
    for briefing in issue.stories:
        assert briefing.headline in text
        assert all(s.question in text for s in briefing.sections)
    assert "Briefly" in text and "Harbour crane back in service" in text
    assert "To unsubscribe, reply to this e-mail." in text


def test_long_issue_is_cut_to_stay_under_gmails_limit(env: jinja2.Environment) -> None:
    long_answer = tuple(f"Paragraph {i} " + "word " * 120 for i in range(6))
    stories = tuple(
        replace(make_briefing(n), sections=tuple(Section(f"Question {k}?", long_answer) for k in range(5)))
        for n in range(1, 13)
    )
    html = render_email_html(make_issue(stories=stories), make_links(), env, BASE_URL)
    assert len(html.encode("utf-8")) < EMAIL_HTML_LIMIT
    cut = html.count("Read the whole briefing")
    assert 0 < cut < 12
    # The first stories are whole, the rest link to their place in the web copy.
    assert html.count("Question 4?") == 12 - cut
    assert f"{BASE_URL}2026-03-14/briefing.html#story-12" in html


def test_markup_in_feed_text_is_shown_not_run(env: jinja2.Environment) -> None:
    issue = make_issue(stories=(make_briefing(1, headline=HOSTILE),))
    result = render_issue(issue, EDITION, make_links(), env)
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
    assert [a.get("href") for a in tree.xpath("//nav//a")] == ["#story-1", "#story-2", "#story-3", "#briefly"]
    assert len(tree.xpath("//article[@class='story']//h3")) == 6
    assert "counter(pages)" in rendered.briefing_html.decode()


def _pdf_text(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_pdf_has_pages_title_and_headlines(rendered: Rendered) -> None:
    reader, text = _pdf_text(rendered.briefing_pdf)
    # The cover with its contents, one page per story (each starts a page), then Briefly.
    assert len(reader.pages) == 5
    assert reader.metadata is not None and reader.metadata.title == "Morning Briefing - 2026-03-14"
    assert reader.metadata.creation_date == datetime(2026, 3, 14, 6, 0, tzinfo=UTC)
    for briefing in make_issue().stories:
        assert briefing.headline in text
    assert "Page 1 of 5" in text and "Page 5 of 5" in text


def test_same_issue_gives_the_same_pdf_bytes(rendered: Rendered, env: jinja2.Environment) -> None:
    again = render_issue(make_issue(), EDITION, make_links(), env)
    assert again.briefing_pdf == rendered.briefing_pdf
    assert again.issue_eml == rendered.issue_eml


def test_safe_fetcher_serves_only_template_files(tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "logo.svg").write_text("<svg/>")
    (theme / "escape.css").symlink_to("/etc/passwd")
    fetcher = SafeFetcher([theme, DEFAULT_TEMPLATES])
    assert fetcher.resolve((theme / "logo.svg").as_uri()) == (theme / "logo.svg").resolve()
    # Missing in the theme: the default theme's file of the same name, as the template loader does.
    assert fetcher.resolve((theme / "briefing.css").as_uri()) == DEFAULT_TEMPLATES / "briefing.css"
    assert fetcher.fetch((theme / "logo.svg").as_uri()).read() == b"<svg/>"
    refused = [
        "file:///etc/passwd",
        (theme / "escape.css").as_uri(),
        theme.as_uri() + "/../../../../etc/passwd",
        "file:///dev/zero",
        "file://otherhost" + (theme / "logo.svg").as_posix(),
        "http://127.0.0.1:9/style.css",
        "https://example.org/x.png",
        "data:text/css,body{}",
    ]
    for url in refused:
        with pytest.raises(ValueError, match=re.escape(url[:20])):
            fetcher.resolve(url)


def test_pdf_renders_without_forbidden_resources(tmp_path: Path) -> None:
    html = (
        '<html><head><link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
        '<link rel="stylesheet" href="file:///etc/passwd"></head>'
        '<body><p>Alone on the page</p><img src="file:///dev/zero"></body></html>'
    )
    created = datetime(2026, 3, 14, 7, 0, tzinfo=UTC)
    _, text = _pdf_text(render_pdf(html, tmp_path, created, "Lonely"))
    assert "Alone on the page" in text


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
    raw = render_issue(issue, EDITION, make_links(), env).issue_eml
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert huge.strip() in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_header_values_cannot_inject_headers() -> None:
    message = build_message(
        subject="Breaking\r\nBcc: victim@example.org",
        sender="Digest <digest@example.org>",
        to="reader@example.org",
        text="hi\n",
        html="<p>hi</p>\n",
        date=datetime(2026, 3, 14, 7, 0, tzinfo=UTC),
        message_id_domain="example.org",
        headers={"X-Feed": "one\nX-Evil: two"},
    )
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
    seed = Path(__file__).resolve().parents[1].parent / "shared" / "seed" / "qa-briefing-example.txt"
    if not seed.is_file():
        pytest.skip(f"reference example not found at {seed}: shared/ is not beside the repository")
    example = seed.read_text(encoding="utf-8").strip().split("\n")
    rendered = render_briefings_text([make_briefing(1)], env).strip().split("\n")
    assert re.match(r"date \d{4}-\d{2}-\d{2} [A-Z]+ - ", example[0]) and re.match(
        r"date \d{4}-\d{2}-\d{2} [A-Z]+ - ", rendered[1]
    )
    for lines in (example, rendered):
        separators = [n for n, line in enumerate(lines) if line == "- - -"]
        assert separators and all(lines[n + 1].endswith("?") for n in separators)


def test_pdf_title_comes_from_the_title_template(env: jinja2.Environment) -> None:
    issue: Issue = make_issue(title="Evening\nEdition")
    result = render_issue(issue, EDITION, make_links(), env)
    reader = PdfReader(io.BytesIO(result.briefing_pdf))
    assert reader.metadata is not None and reader.metadata.title == "Evening Edition - 2026-03-14"
