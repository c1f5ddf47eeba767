"""The bundled demo edition: feeds.yaml loads, and the sample feeds in demo/ are
well-formed and carry what the demo promises (enough long articles, Q&A-shaped
entries, short "Briefly" entries, one story told by two feeds, odd cases)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import pytest

from digest import resources
from digest.config import load_config

REPO = Path(__file__).resolve().parents[1]
FEEDS = ("demo/world.xml", "demo/science.atom", "demo/city.xml", "demo/wire.rdf")
TAG = re.compile(r"<[^>]+>")
QUESTION_HEADING = re.compile(r"<h3>[^<]*\?</h3>|<p><strong>[^<]*\?</strong></p>")


def _entries() -> list[tuple[str, feedparser.FeedParserDict]]:
    found: list[tuple[str, feedparser.FeedParserDict]] = []
    for name in FEEDS:
        parsed = feedparser.parse((resources.demo().parent / name).read_bytes())
        found.extend((name, entry) for entry in parsed.entries)
    return found


def _body(entry: feedparser.FeedParserDict) -> str:
    contents = entry.get("content") or []
    return str(contents[0].value) if contents else str(entry.get("summary", ""))


def _words(html: str) -> int:
    return len(TAG.sub(" ", html).split())


def test_demo_edition_config_loads() -> None:
    config = load_config(REPO / "feeds.yaml")
    demo = config.editions["demo"]
    assert demo.lookback is None  # "all"
    assert demo.condense.backend == "extractive"
    assert [Path(source.url).name for source in demo.sources] == [Path(name).name for name in FEEDS]
    assert all(Path(source.url).is_file() for source in demo.sources)


@pytest.mark.parametrize("name", FEEDS)
def test_feed_is_well_formed(name: str) -> None:
    ElementTree.parse(resources.demo().parent / name)
    parsed = feedparser.parse((resources.demo().parent / name).read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.entries


def test_articles_are_long_enough_and_some_are_briefly_sized() -> None:
    counts = [_words(_body(entry)) for _, entry in _entries()]
    long_ones = [c for c in counts if c >= 350]
    assert len(counts) >= 15
    assert len(long_ones) >= 10
    assert all(c <= 900 for c in counts)
    assert sum(1 for c in counts if c < 50) >= 3


def test_some_entries_already_carry_questions() -> None:
    bodies = [_body(entry) for _, entry in _entries()]
    assert sum(1 for body in bodies if len(QUESTION_HEADING.findall(body)) >= 3) >= 3
    assert any("<p><strong>" in body and "?</strong></p>" in body for body in bodies)


def test_one_story_is_told_by_two_feeds() -> None:
    tram = [(name, e) for name, e in _entries() if e.title.startswith("Saltmarsh tram line opens")]
    assert {name for name, _ in tram} == {"demo/city.xml", "demo/wire.rdf"}
    assert len({entry.link for _, entry in tram}) == 2


def test_odd_cases_are_present() -> None:
    entries = [entry for _, entry in _entries()]
    assert any("guid" not in entry and "id" not in entry for entry in entries)
    assert any(not entry.get("published") and not entry.get("updated") for entry in entries)
    assert any("<em>" in entry.title or "&" in entry.title for entry in entries)
    assert any(re.search(r"[éüøØ]", _body(entry)) for entry in entries)


def test_dates_are_before_the_demo_cut_off() -> None:
    cut_off = datetime(2026, 11, 24, tzinfo=UTC)
    for name, entry in _entries():
        stamp = entry.get("published") or entry.get("updated")
        if not stamp:
            continue
        when = (
            parsedate_to_datetime(stamp)
            if name.endswith(".xml")
            else datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        )
        assert datetime(2026, 11, 1, tzinfo=UTC) <= when < cut_off, (name, entry.title)
        assert entry.link.startswith("https://demo.digest.invalid/")
