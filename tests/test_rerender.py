"""`digest render ISSUE_DIR`: an editor edits issue.json, renders, and every file follows.

Real parts only: a feeds.yaml on disk, an issue folder written by the
renderer, the JSON edited as an editor would, and the command line.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
from pathlib import Path

import feedparser
import lxml.html  # type: ignore[import-untyped]
from click.testing import CliRunner
from factories import make_issue, make_links, pdf_renderer
from pypdf import PdfReader

from digest.cli import main
from digest.config import EditionConfig, SourceConfig
from digest.output import write_issue
from digest.render import environment, render_issue

BASE_URL = "https://briefing.example.org/morning/"
CONFIG = f"""\
editions:
  morning:
    title: Morning Briefing
    base_url: {BASE_URL}
    theme: theme
    sources:
      - url: feed.xml
"""
NEW_QUESTION = "Who pays for the night ferries?"


def _issue_folder(tmp_path: Path) -> Path:
    (tmp_path / "feeds.yaml").write_text(CONFIG, "utf-8")
    (tmp_path / "feed.xml").write_text("<rss/>", "utf-8")
    theme = tmp_path / "theme"
    theme.mkdir()
    # The theme overrides one file; every other template is the default one.
    (theme / "subject.txt").write_text("EDITED {{ issue.stories[0].headline }}\n", "utf-8")
    edition = EditionConfig(
        name="morning", title="Morning Briefing", base_url=BASE_URL, sources=(SourceConfig(url="feed.xml"),)
    )
    rendered = render_issue(make_issue(), edition, make_links(), environment(), pdf_renderer())
    return write_issue(tmp_path / "out" / "morning", "2026-03-14", rendered)


def test_an_edited_issue_json_renders_every_file_again(tmp_path: Path) -> None:
    folder = _issue_folder(tmp_path)
    before = {name: (folder / name).read_bytes() for name in ("issue.txt", "email.html", "briefing.pdf")}
    first, cut, third = make_issue().stories
    data = json.loads((folder / "issue.json").read_text("utf-8"))
    # The editor rewords a question, cuts the second story and puts the third first.
    data["stories"][0]["sections"][0]["question"] = NEW_QUESTION
    data["stories"] = [data["stories"][2], data["stories"][0]]
    (folder / "issue.json").write_text(json.dumps(data, indent=2), "utf-8")

    result = CliRunner().invoke(main, ["render", "--config", str(tmp_path / "feeds.yaml"), str(folder)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(folder)

    text = (folder / "issue.txt").read_text("utf-8")
    assert text.index(third.headline) < text.index(first.headline)
    assert NEW_QUESTION in text and first.sections[0].question not in text and cut.headline not in text

    html = lxml.html.fromstring((folder / "email.html").read_bytes())
    assert [h.text_content() for h in html.xpath("//h2")][:2] == [third.headline, first.headline]
    assert NEW_QUESTION in html.text_content() and cut.headline not in html.text_content()

    page = lxml.html.fromstring((folder / "briefing.html").read_bytes())
    assert [h.text_content() for h in page.xpath("//article//h2")] == [third.headline, first.headline]

    reader = PdfReader(io.BytesIO((folder / "briefing.pdf").read_bytes()))
    bookmarks = [item.title for item in reader.outline if not isinstance(item, list)]
    assert bookmarks == [third.headline, first.headline, "Briefly"]
    assert NEW_QUESTION in " ".join(" ".join(p.extract_text().split()) for p in reader.pages)

    message = email.message_from_bytes((folder / "issue.eml").read_bytes(), policy=email.policy.default)
    assert message["Subject"] == f"EDITED {third.headline}"  # the theme's subject template
    assert NEW_QUESTION in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    for name, old in before.items():
        assert (folder / name).read_bytes() != old, name
    # The archive follows the edit too.
    index = (tmp_path / "out" / "morning" / "index.html").read_text("utf-8")
    assert third.headline in index and cut.headline not in index
    feed = feedparser.parse((tmp_path / "out" / "morning" / "feed.xml").read_bytes())
    assert feed.bozo == 0 and cut.headline not in feed.entries[0].summary
