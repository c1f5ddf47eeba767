"""issue.json: the contract's fields, a lossless round trip, and errors that say where."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from factories import make_briefing, make_issue

from digest import issuejson
from digest.errors import InputError


def test_round_trip_is_lossless() -> None:
    issue = make_issue()
    assert issuejson.from_dict(issuejson.to_dict(issue), "x") == issue
    assert issuejson.from_dict(json.loads(issuejson.dumps(issue)), "x") == issue


def test_fields_are_the_contracts() -> None:
    data = issuejson.to_dict(make_issue())
    fields = ["edition", "issue_id", "title", "date", "built_at", "stories", "briefly", "feeds", "report"]
    fields.append("config")  # not the contract's: where `digest render` finds the config
    fields.append("subject")  # nor this: the Subject the build rendered, which `digest send` uses
    assert list(data) == fields
    assert data["date"] == "2026-03-14"
    assert data["built_at"] == "2026-03-14T07:00:00+01:00"
    story = data["stories"][0]
    assert list(story) == ["headline", "dateline", "lede", "sections", "sources"]
    assert story["dateline"] == {"date": "2026-03-14", "place": "LAGOS"}
    assert list(story["sections"][0]) == ["question", "answer"]
    assert story["sources"][0] == {
        "title": "Ferry operators add night crossings as bridge closes for repairs (wire)",
        "url": "https://news.example.org/ferry/1",
        "feed": "Example Wire",
        "published": "2026-03-14T06:30:00+00:00",
        "id": "wire-1",
    }
    assert list(data["briefly"][0]) == ["headline", "summary", "url", "feed", "id"]
    assert data["feeds"][1] == {
        "name": "Example Daily",
        "url": "https://daily.example.net/rss",
        "status": "failed",
        "error": "https://daily.example.net/rss: HTTP 503",
        "entries": 0,
    }


def test_published_is_written_in_utc() -> None:
    issue = make_issue()
    source = issue.stories[0].sources[0]
    local = replace(source, published=source.published.astimezone(issue.built_at.tzinfo))
    briefing = replace(issue.stories[0], sources=(local,))
    assert issuejson.briefing_to_dict(briefing)["sources"][0]["published"] == "2026-03-14T06:30:00+00:00"


def test_dumps_is_utf8_indented_with_a_trailing_newline() -> None:
    issue = make_issue(title="Frühstück – Ausgabe")
    raw = issuejson.dumps(issue)
    assert raw.endswith(b"}\n")
    assert "Frühstück – Ausgabe".encode() in raw
    assert b'\n  "edition": "morning",' in raw


def test_briefing_to_dict_is_a_story_of_the_issue() -> None:
    issue = make_issue()
    assert issuejson.briefing_to_dict(issue.stories[1]) == issuejson.to_dict(issue)["stories"][1]


def test_hand_edited_file_without_ids_or_optional_lists_loads() -> None:
    data = issuejson.to_dict(make_issue())
    for source in data["stories"][0]["sources"]:
        del source["id"]
    del data["briefly"], data["feeds"]
    issue = issuejson.from_dict(data, "issue.json")
    assert issue.stories[0].sources[0].entry_id == ""
    assert issue.briefly == () and issue.feeds == ()


def _broken(change: Any) -> str:
    data = issuejson.to_dict(make_issue())
    change(data)
    with pytest.raises(InputError) as caught:
        issuejson.from_dict(data, "out/morning/2026-03-14/issue.json")
    return str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["stories"][2].pop("headline"), "stories[2].headline: missing"),
        (lambda d: d.pop("title"), "title: missing"),
        (lambda d: d["stories"][0]["lede"].append(3), "stories[0].lede[2]: expected a string, got a number"),
        (
            lambda d: d["stories"][1]["sections"][0].update(answer="x"),
            "stories[1].sections[0].answer: expected a list, got a string",
        ),
        (
            lambda d: d["stories"][0]["dateline"].update(date="14/03/2026"),
            "stories[0].dateline.date: not an ISO date: '14/03/2026'",
        ),
        (
            lambda d: d["stories"][0]["sources"][1].update(published="2026-03-14T06:30:00"),
            "stories[0].sources[1].published: no UTC offset",
        ),
        (
            lambda d: d["feeds"][0].update(status="broken"),
            "feeds[0].status: expected one of ok, failed, not-modified",
        ),
        (lambda d: d["feeds"][0].update(entries=True), "feeds[0].entries: expected a number, got true/false"),
        (lambda d: d.update(stories={}), "stories: expected a list, got an object"),
        (lambda d: d["stories"].__setitem__(0, "x"), "stories[0]: not an object"),
        (lambda d: d["feeds"][0].update(error=404), "feeds[0].error: expected a string, got a number"),
        (lambda d: d.update(built_at=20260314), "built_at: expected a string, got a number"),
        (lambda d: d["briefly"][0].update(id=None), "briefly[0].id: expected a string, got null"),
    ],
)
def test_errors_name_the_file_and_the_path(change: Any, message: str) -> None:
    text = _broken(change)
    assert text.startswith(f"out/morning/2026-03-14/issue.json: {message}")
    assert "\n" not in text


def test_load_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "issue.json"
    issue = make_issue(stories=(make_briefing(2),))
    path.write_bytes(issuejson.dumps(issue))
    assert issuejson.load(path) == issue


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object, got a list"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_load_names_a_broken_file(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "issue.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=problem) as caught:
        issuejson.load(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_load_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read") as caught:
        issuejson.load(tmp_path / "nope" / "issue.json")
    assert str(tmp_path / "nope" / "issue.json") in str(caught.value)
