"""extract(): entry HTML -> paragraphs, question headings, dateline."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path

import needs
import pytest

from digest.extract import extract
from digest.extract import preview as extract_preview
from digest.text import content_words
from digest.types import Entry, Preview

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEED = SHARED / "seed" / "qa-briefing-example.txt"


def make_entry(content_html: str = "", summary_html: str = "", title: str = "A title") -> Entry:
    return Entry(
        id="urn:test:1",
        feed="Test Feed",
        feed_url="https://feeds.example.org/test.rss",
        title=title,
        link="https://example.org/a/1",
        published=datetime(2026, 3, 14, 7, 0, tzinfo=UTC),
        dated=True,
        summary_html=summary_html,
        content_html=content_html,
    )


def lines_as_html(text: str) -> str:
    """What ingest does with a text file: one <p> per non-blank line, stripped and escaped."""
    return "".join(f"<p>{html.escape(line.strip())}</p>" for line in text.splitlines() if line.strip())


def test_paragraphs_are_cleaned() -> None:
    article = extract(
        make_entry(
            "<div>First   line &amp; more<br>same paragraph<br><br>Second paragraph</div>"
            "<p>  </p><ul><li>A list item</li></ul>"
            "<figure><img src='x.jpg'><figcaption>A caption nobody needs</figcaption></figure>"
            "<p>Read more</p><p>The post Budget talks appeared first on Example News.</p>"
            "<p>Tail <!-- a comment --> text</p>"
        )
    )
    assert article.intro == (
        "First line & more same paragraph",
        "Second paragraph",
        "A list item",
        "Tail text",
    )
    assert article.sections == ()
    assert article.word_count == 12  # "&" is not a word


def test_summary_is_used_when_there_is_no_content() -> None:
    article = extract(make_entry(summary_html="<p>Only a summary here.</p>"))
    assert article.intro == ("Only a summary here.",)


def test_empty_entry_gives_an_empty_article() -> None:
    article = extract(make_entry())
    assert (article.intro, article.sections, article.word_count) == ((), (), 0)


def test_heading_and_bold_questions_make_sections() -> None:
    article = extract(
        make_entry(
            "<p>The council met on Monday.</p><p>It voted twice.</p>"
            "<h2>What did it decide?</h2><p>To close the bridge.</p><p>For a month.</p>"
            "<h3>Background</h3><p>The bridge is old.</p>"
            "<p><b>Who objected?</b></p><p>Shop owners.</p>"
            "<p><strong>Why <em>now</em>?</strong></p><p>Cracks were found.</p>"
            "<h4>What next?</h4><p>Repairs start in May.</p>"
            "<p><b>Note:</b> not a question?</p>"
        )
    )
    assert article.intro == ("The council met on Monday.", "It voted twice.")
    assert [s.question for s in article.sections] == [
        "What did it decide?",
        "Who objected?",
        "Why now?",
        "What next?",
    ]
    # A non-question subhead is dropped; its text stays with the section before it.
    assert article.sections[0].answer == ("To close the bridge.", "For a month.", "The bridge is old.")
    # Partly bold text is a paragraph, not a heading.
    assert article.sections[3].answer == ("Repairs start in May.", "Note: not a question?")


def test_question_without_answer_is_dropped() -> None:
    article = extract(make_entry("<p>Intro.</p><h2>Empty?</h2><h2>Full?</h2><p>Answer.</p>"))
    assert [s.question for s in article.sections] == ["Full?"]


def test_plain_text_briefing_shape() -> None:
    text = """
 date 2026-03-14 NEW HAVEN - The city opened its third ferry line on Saturday.
Ridership doubled in a week.
- - -
Who pays for it?
The state and the city share the cost.
- - -
What comes next?
A fourth line in 2027.
"""
    article = extract(make_entry(lines_as_html(text)))
    assert article.place == "NEW HAVEN"
    assert article.dateline_date == date(2026, 3, 14)
    assert article.intro == (
        "The city opened its third ferry line on Saturday.",
        "Ridership doubled in a week.",
    )
    assert [(s.question, s.answer) for s in article.sections] == [
        ("Who pays for it?", ("The state and the city share the cost.",)),
        ("What comes next?", ("A fourth line in 2027.",)),
    ]
    assert all("- - -" not in p for p in article.paragraphs)


def test_plain_text_dateline_without_place() -> None:
    article = extract(make_entry(lines_as_html("date 2026-03-14 - Ferries run again.\n- - -\nWhy?\nWind.")))
    assert (article.place, article.dateline_date) == ("", date(2026, 3, 14))
    assert article.intro == ("Ferries run again.",)
    assert article.sections[0].question == "Why?"


def test_question_line_without_separator_is_a_paragraph() -> None:
    article = extract(make_entry(lines_as_html("Is it over?\nNobody knows.")))
    assert article.intro == ("Is it over?", "Nobody knows.")
    assert article.sections == ()


@pytest.mark.parametrize(
    ("first", "place", "lede"),
    [
        ("LAGOS, March 14 (Wire) - The port reopened.", "LAGOS", "The port reopened."),
        ("LAGOS — The port reopened.", "LAGOS", "The port reopened."),
        ("PORT ELLIS — The bridge reopened.", "PORT ELLIS", "The bridge reopened."),
        ("SAINT-OMBRE DU LAC — Engines failed.", "SAINT-OMBRE DU LAC", "Engines failed."),
        ("PORT HARCOURT, Nigeria (AP) — Oil prices rose.", "PORT HARCOURT", "Oil prices rose."),
        ('LAGOS - "We are open," the port said.', "LAGOS", '"We are open," the port said.'),
        ("LAGOS - after a week, the port reopened.", "LAGOS", "LAGOS - after a week, the port reopened."),
        ("Lagos - The port reopened.", "", "Lagos - The port reopened."),
    ],
)
def test_wire_dateline(first: str, place: str, lede: str) -> None:
    article = extract(make_entry(f"<p>{html.escape(first)}</p><p>More text.</p>"))
    assert article.place == place
    assert article.intro[0] == lede
    assert article.dateline_date is None


def test_the_seed_example() -> None:
    needs.shared("seed/qa-briefing-example.txt", "extracting the reference example")
    text = SEED.read_text(encoding="utf-8")
    article = extract(make_entry(lines_as_html(text)))
    question_lines = [
        line.strip() for before, line in pairwise(text.splitlines()) if before.strip() == "- - -"
    ]
    assert len(article.sections) == 6
    assert [s.question for s in article.sections] == question_lines
    assert article.place == "MOSCOW"
    assert article.dateline_date == date(2021, 7, 12)
    assert len(article.intro) == 4
    assert not article.intro[0].startswith(("date", " "))
    assert article.word_count > 800


def test_a_page_headline_does_not_hide_the_dateline() -> None:
    article = extract(
        make_entry(
            "<h1>Bridge reopens</h1><p>PORT ELLIS — The bridge reopened on Tuesday.</p><p>More text.</p>"
        )
    )
    assert article.place == "PORT ELLIS"
    assert article.intro == ("The bridge reopened on Tuesday.", "More text.")


def test_a_question_first_is_not_a_dateline() -> None:
    article = extract(make_entry("<h2>What now?</h2><p>LAGOS — The port reopened.</p>"))
    assert article.place == ""
    assert article.sections[0].answer == ("LAGOS — The port reopened.",)


# --- previews: what clustering reads ---------------------------------------------------------


def test_a_preview_reads_the_text_without_its_markup() -> None:
    entry = make_entry(
        "<p>Ferries to <em>Kell</em> resume&nbsp;today.</p><p>The pier&#8217;s repairs cost &pound;1m.</p>"
    )
    preview = extract_preview(entry)
    assert preview.entry is entry
    # Block ends are spaces; entities are decoded; stop words and one-letter tokens are dropped.
    assert preview.opening == ("ferries", "kell", "resume", "today", "pier’s", "repairs", "cost", "1m")
    # The length counts what lies between the tags, as written.
    assert preview.length == len("Ferries to Kell resume&nbsp;today.The pier&#8217;s repairs cost &pound;1m.")
    assert extract_preview(make_entry(summary_html="<p>A harbour summary.</p>")).opening == (
        "harbour",
        "summary",
    )
    assert extract_preview(make_entry()) == Preview(make_entry(), (), 0)


def test_a_preview_opening_is_the_first_hundred_content_words_however_long_the_text() -> None:
    words = [f"word{n}" for n in range(3000)]
    entry = make_entry("".join(f"<p>{' '.join(words[i : i + 60])}</p>" for i in range(0, 3000, 60)))
    assert extract_preview(entry).opening == tuple(words[:100])
    # A text whose first 1,500 characters hold few content words is read further.
    sparse = make_entry("<p>" + "the of and " * 200 + " ".join(words[:150]) + "</p>")
    assert extract_preview(sparse).opening == tuple(words[:100])


def test_a_preview_agrees_with_the_extracted_text_of_a_plain_article() -> None:
    # A wire dateline is left out of both: a town's name is not what the story says.
    text = "<p>PORT ELLIS — The harbour reopened on Tuesday.</p>" + "".join(
        f"<p>Paragraph {n} tells of ferries, piers and the storm of {2000 + n}.</p>" for n in range(30)
    )
    entry = make_entry(text)
    article = extract(entry)
    extracted = [w for p in article.paragraphs for w in content_words(p)][:100]
    assert extract_preview(entry).opening == tuple(extracted)
