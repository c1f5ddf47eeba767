"""briefing.pdf: the archival PDF, checked with pypdf and poppler (pdfinfo, pdffonts).

Pages, outline, contents with page numbers, running header and footer,
metadata and the PDF/A identification, fonts embedded for many scripts,
reproducible bytes, and the safe, time-limited renderer: what it fetches
(theme files; http(s) images only where allowed) and what it refuses.
"""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import needs
import pytest
from factories import EDITION, make_briefing, make_issue, make_links, pdf_renderer
from httpserver import LoopbackServer
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import Destination

from digest.errors import RenderError
from digest.render import environment, pdf, render_issue
from digest.render.pdf import PDF_VARIANT, PdfInfo, SafeFetcher
from digest.render.templates import DEFAULT_TEMPLATES
from digest.types import Rendered
from digest.workers import PdfRenderer

INFO = PdfInfo(title="Test", author="Tests", created=datetime(2026, 3, 14, 7, 0, tzinfo=UTC))


def render_pdf(html: str, base_dir: Path, info: PdfInfo, **options: Any) -> bytes:
    return pdf_renderer().render(pdf.job(html, base_dir, info, **options))


def poppler(tool: str, pdf: bytes, tmp_path: Path, *options: str, out: tuple[str, ...] = ()) -> str:
    """The output of a poppler tool on ``pdf``; skips (loudly) when poppler-utils is absent."""
    found = needs.program(tool, "poppler-utils", "the PDF as poppler reads it")
    path = tmp_path / "briefing.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [found, *options, str(path), *out], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def page_texts(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    """(level, title, 1-based page) of every bookmark, in order."""
    found: list[tuple[int, str, int]] = []

    def walk(items: Sequence[object], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            elif isinstance(item, Destination):
                found.append((level, str(item.title), (reader.get_destination_page_number(item) or 0) + 1))

    walk(reader.outline, 1)
    return found


@pytest.fixture(scope="module")
def env() -> jinja2.Environment:
    return environment()


@pytest.fixture(scope="module")
def rendered(env: jinja2.Environment) -> Rendered:
    return render_issue(make_issue(), EDITION, make_links(), env, pdf_renderer())


# -- the document ------------------------------------------------------------------


def test_cover_contents_and_first_story_share_the_first_page_and_later_stories_start_theirs(
    rendered: Rendered,
) -> None:
    pages = page_texts(rendered.briefing_pdf)
    issue = make_issue()
    assert "Morning Briefing" in pages[0] and "ISSUE 2026-03-14" in pages[0]
    assert "Saturday, 14 March 2026" in pages[0]
    assert pages[0].index("Saturday, 14 March 2026") < pages[0].index("IN THIS ISSUE")
    # The first story follows the contents on their page (no page left mostly blank) ...
    first = issue.stories[0]
    assert pages[0].rindex(first.headline) > pages[0].index(issue.stories[-1].headline)
    assert first.lede[0][:40] in pages[0]
    assert re.search(re.escape(first.headline) + r"[ .]*1 ", pages[0])
    # ... and each later story, and Briefly, starts a page, which the contents name.
    for briefing in issue.stories[1:]:
        (number,) = [n for n, text in enumerate(pages, start=1) if text.startswith(briefing.headline)]
        assert re.search(re.escape(briefing.headline) + r"[ .]*" + str(number), pages[0])
        # The contents give each story with its page number, and its questions below it (the
        # bookmarks, not the contents, give the questions' pages).
    for briefing in issue.stories:
        for section in briefing.sections:
            assert section.question in pages[0]
            assert not re.search(re.escape(section.question) + r" *\.{3}", pages[0])
    assert pages[-1].startswith("Briefly")
    assert re.search(rf"Briefly[ .]*{len(pages)}", pages[0])
    assert "Harbour crane back in service" in pages[-1]


def test_a_contents_longer_than_the_first_page_is_followed_by_the_first_story(
    env: jinja2.Environment,
) -> None:
    base = make_issue()
    stories = tuple(
        dataclasses.replace(
            base.stories[i % len(base.stories)], headline=f"Story number {i + 1} of the long issue"
        )
        for i in range(16)
    )
    pdf = render_issue(
        dataclasses.replace(base, stories=stories), EDITION, make_links(), env, pdf_renderer()
    ).briefing_pdf
    pages = page_texts(pdf)
    # The contents run onto page 2; the first story starts right after them, not on page 3.
    assert "Story number 16 of the long issue" in pages[1]
    assert "Story number 1 of the long issue" not in pages[1].split("Story number 16 of the long issue")[0]
    after_contents = pages[1].split("Briefly")[1]
    assert "Story number 1 of the long issue" in after_contents
    assert base.stories[0].lede[0][:40] in after_contents
    assert pages[2].startswith("Story number 2 of the long issue")


def test_running_header_and_footer(rendered: Rendered) -> None:
    pages = page_texts(rendered.briefing_pdf)
    assert "page 1 of" not in pages[0] and "Morning Briefing — Issue" not in pages[0]
    for number, text in enumerate(pages[1:], start=2):
        assert f"page {number} of {len(pages)}" in text
        assert "Morning Briefing — Issue 2026-03-14" in text
    # The header names the story the page is about.
    headline = make_issue().stories[1].headline
    (number,) = [n for n, text in enumerate(pages, start=1) if text.startswith(headline)]
    assert (
        f"Morning Briefing — Issue 2026-03-14 {headline} page {number} of {len(pages)}" in pages[number - 1]
    )


def test_every_story_is_a_bookmark_with_its_questions_below(rendered: Rendered) -> None:
    reader = PdfReader(io.BytesIO(rendered.briefing_pdf))
    pages = page_texts(rendered.briefing_pdf)
    # Page 1's contents name every heading: there, only what follows them counts.
    pages[0] = re.split(r"Briefly[ .]*\d+", pages[0], maxsplit=1)[1]

    def page_of(text: str, start: int = 1) -> int:
        return next(number for number, page in enumerate(pages, start=1) if number >= start and text in page)

    expected: list[tuple[int, str, int]] = []
    for briefing in make_issue().stories:
        story = page_of(briefing.headline)
        expected.append((1, briefing.headline, story))
        expected += [(2, section.question, page_of(section.question, story)) for section in briefing.sections]
    expected.append((1, "Briefly", len(pages)))
    assert expected[0][2] == 1 and expected[-1][2] > expected[-2][2]
    assert outline(reader) == expected


def test_sources_are_listed_under_each_story_with_links(rendered: Rendered) -> None:
    reader = PdfReader(io.BytesIO(rendered.briefing_pdf))
    for briefing in make_issue().stories:
        # The page that prints the story's sources (the first story's may follow it onto page 2).
        page = next(
            p for p in reader.pages[1:] if briefing.sources[0].url in " ".join(p.extract_text().split())
        )
        uris = {
            annotation.get_object()["/A"].get("/URI")
            for annotation in page.get("/Annots", [])
            if "/A" in annotation.get_object()
        }
        text = " ".join(page.extract_text().split())
        for source in briefing.sources:
            assert source.url in uris
            assert source.url in text  # printed too: paper has no links


def test_metadata_and_pdfa_identification(rendered: Rendered, tmp_path: Path) -> None:
    reader = PdfReader(io.BytesIO(rendered.briefing_pdf))
    assert reader.metadata is not None
    assert reader.metadata.title == "Morning Briefing - 2026-03-14"
    assert reader.metadata.author == "Morning Briefing"
    assert reader.metadata.creation_date == datetime(2026, 3, 14, 6, 0, tzinfo=UTC)
    assert str(reader.root_object["/Lang"]) == "en"
    xmp = reader.xmp_metadata
    assert xmp is not None
    packet = xmp.stream.get_data().decode("utf-8")
    assert 'pdfaid:part="3"' in packet and 'pdfaid:conformance="A"' in packet
    assert "<xmp:CreateDate>2026-03-14T07:00:00+01:00</xmp:CreateDate>" in packet
    assert PDF_VARIANT == "pdf/a-3a"
    info = poppler("pdfinfo", rendered.briefing_pdf, tmp_path)
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
    assert re.search(r"^Pages:\s+5$", info, re.M)
    assert re.search(r"^Author:\s+Morning Briefing$", info, re.M)


def test_all_fonts_are_embedded(rendered: Rendered, tmp_path: Path) -> None:
    rows = poppler("pdffonts", rendered.briefing_pdf, tmp_path).splitlines()[2:]
    assert rows
    for row in rows:
        # name type encoding emb sub uni object ID: "emb" is the fifth column from the end.
        assert row.split()[-5] == "yes", row


def test_same_issue_gives_the_same_bytes(rendered: Rendered, env: jinja2.Environment) -> None:
    again = render_issue(make_issue(), EDITION, make_links(), env, pdf_renderer())
    assert again.briefing_pdf == rendered.briefing_pdf


# Accented Latin, Cyrillic, Greek, CJK, Arabic, Hebrew, emoji: the font that should carry each.
SCRIPTS = {
    "Crème brûlée à Zürich": "DejaVu",
    "Москва объявила": "DejaVu",
    "Αθήνα ανακοίνωσε": "DejaVu",
    "東京都が発表": "CJK",
    "أعلنت القاهرة": "Arabic",
    "ירושלים הודיעה": "Hebrew",
    "Harbour 🚢 party": "Emoji",
}


#: The Debian package that brings each script's font (the README's apt line names them all).
FONT_PACKAGES = {
    "DejaVu": "fonts-dejavu-core",
    "CJK": "fonts-noto-cjk",
    "Arabic": "fonts-noto-core",
    "Hebrew": "fonts-noto-core",
    "Emoji": "fonts-noto-color-emoji",
}


def test_many_scripts_get_embedded_fonts_with_their_glyphs(env: jinja2.Environment, tmp_path: Path) -> None:
    # A missing script's glyphs become .notdef boxes, and then pypdf misreads every font's text:
    # nothing here can be checked without all of them.
    needs.fonts(FONT_PACKAGES)
    stories = tuple(make_briefing(1, headline=headline) for headline in SCRIPTS)
    pdf = render_issue(
        make_issue(stories=stories, briefly=()), EDITION, make_links(), env, pdf_renderer()
    ).briefing_pdf
    rows = poppler("pdffonts", pdf, tmp_path).splitlines()[2:]
    names = " ".join(row.split()[0] for row in rows)
    assert all(row.split()[-5] == "yes" for row in rows)
    for headline, part in SCRIPTS.items():
        assert part.replace("Emoji", "Color-Emoji") in names, (headline, names)
    text = " ".join(page_texts(pdf))
    for headline, part in SCRIPTS.items():
        # Arabic and Hebrew come out of text extraction in visual order; the letters are there all the same.
        if part not in ("Arabic", "Hebrew", "Emoji"):
            assert headline in text


# -- a theme -----------------------------------------------------------------------


def test_theme_overrides_files_one_by_one_in_the_pdf(tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    theme.mkdir()
    image = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(image, "PNG")
    (theme / "logo.png").write_bytes(image.getvalue())
    page = (DEFAULT_TEMPLATES / "briefing.html").read_text("utf-8")
    (theme / "briefing.html").write_text(
        page.replace('<header class="cover">', '<header class="cover"><img src="logo.png" alt="Logo">'),
        "utf-8",
    )
    result = render_issue(make_issue(), EDITION, make_links(), environment(theme), pdf_renderer())
    # The theme's page (with its image), the default stylesheet (running footer) behind it.
    assert b'<img src="logo.png" alt="Logo">' in result.briefing_html
    reader = PdfReader(io.BytesIO(result.briefing_pdf))
    assert len(reader.pages[0].images) == 1
    assert "page 2 of 5" in page_texts(result.briefing_pdf)[1]


# -- the safe renderer --------------------------------------------------------------


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
            fetcher.fetch(url)


def _png() -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (30, 30), (20, 120, 200)).save(image, "PNG")
    return image.getvalue()


def test_http_images_only_where_the_edition_allows(http_server: LoopbackServer, tmp_path: Path) -> None:
    picture = http_server.route("/picture.png", _png(), content_type="image/png")
    page = http_server.route("/page.css", b"body { color: red }", content_type="text/css")
    html = f'<p>With a picture</p><img src="{picture}" alt="x"><link rel="stylesheet" href="{page}">'
    without = PdfReader(io.BytesIO(render_pdf(html, tmp_path, INFO)))
    assert len(without.pages[0].images) == 0
    assert http_server.requests == []
    allowed = PdfReader(io.BytesIO(render_pdf(html, tmp_path, INFO, images=True)))
    assert len(allowed.pages[0].images) == 1
    # Fetched, but a stylesheet is not an image: refused all the same.
    with pytest.raises(ValueError, match="not an image"):
        SafeFetcher([tmp_path], images=True).fetch(page)


def test_forbidden_resources_and_attachments_are_left_out(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("attached?")
    html = (
        '<html><head><link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
        '<link rel="stylesheet" href="file:///etc/passwd">'
        '<link rel="attachment" href="notes.txt"></head>'
        '<body><p>Alone on the page</p><img src="file:///dev/zero" alt="">'
        '<a rel="attachment" href="notes.txt">notes</a></body></html>'
    )
    pdf = render_pdf(html, tmp_path, INFO)
    assert "Alone on the page" in page_texts(pdf)[0]
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.attachments == {}
    assert b"attached?" not in pdf and b"/EmbeddedFile" not in pdf


def test_a_render_over_its_time_limit_is_stopped(tmp_path: Path) -> None:
    long_html = "<html><body>" + "<table>" + "<tr><td>cell</td></tr>" * 20000 + "</table></body></html>"
    with PdfRenderer() as renderer:
        with pytest.raises(RenderError, match=r"briefing\.pdf: Test: took longer than 0\.2 s"):
            renderer.render(pdf.job(long_html, tmp_path, INFO, time_limit=0.2))
        # The renderer goes on with the next PDF.
        fine = renderer.render(pdf.job("<p>Fine again</p>", tmp_path, INFO))
    assert "Fine again" in page_texts(fine)[0]
