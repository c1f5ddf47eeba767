"""Entries are kept until published, and a build that fails leaves the state store as it was.

Real builds against loopback feed servers that answer 304 to a matching conditional GET:

- a capped issue's left-over stories come out in the next issues although every feed answers
  304, and once they are all out the next build has nothing new;
- a build killed (SIGKILL, a real process) after fetching, while it fetches an article's page,
  commits nothing: the next build fetches the feeds whole again and publishes the same news;
- a build whose issue folder cannot be written exits 1 and commits nothing; once the folder
  can be written, the next build publishes;
- a state database made before the store kept entries opens and builds.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from httpserver import LoopbackServer
from sqlalchemy import create_engine, inspect

from digest.cli import main
from digest.errors import StateError
from digest.state import BuildRecord, IssueRecord, State
from digest.state.db import metadata
from digest.types import Entry, FeedResult, Source

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
import feeds  # noqa: E402  (benchmarks/ is not a package)

NOW = "2026-11-24T07:00:00+00:00"
CLOCK = datetime.fromisoformat(NOW)


def build(config: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        main, ["build", "--config", str(config), "--now", NOW, *extra], catch_exceptions=False
    )


def issue_ids(result: Result) -> set[str]:
    """The entry ids the build's issue used (its stories' sources and its Briefly items)."""
    assert result.exit_code == 0, result.output
    data = json.loads((Path(result.stdout.strip()) / "issue.json").read_text("utf-8"))
    ids = {source["id"] for story in data["stories"] for source in story["sources"]}
    return ids | {item["id"] for item in data.get("briefly", [])}


def write_config(
    folder: Path, urls: list[str], *, max_stories: int, extra: str = "", source_extra: str = ""
) -> Path:
    config = folder / "feeds.yaml"
    sources = "".join(f"      - url: {url}\n{source_extra}" for url in urls)
    config.write_text(
        f"{extra}editions:\n  capped:\n    title: Capped\n    lookback: all\n"
        f"    max_stories: {max_stories}\n    sources:\n{sources}",
        "utf-8",
    )
    return config


def test_left_over_stories_come_out_while_every_feed_answers_304(tmp_path: Path) -> None:
    with feeds.FeedServer(feeds.documents(4, 3, now=CLOCK)) as server:
        config = write_config(tmp_path, server.urls(), max_stories=3)
        first = build(config)
        published = issue_ids(first)
        assert server.requests == 4 and server.not_modified == 0
        # A window that admits none of them (--since) leaves them kept for a later build.
        assert "nothing new" in build(config, "--since", NOW).stderr
        issues = 1
        while True:
            before = server.requests
            later = build(config)
            assert server.requests - before == 4
            assert server.not_modified == server.requests - 4, "every later fetch is answered 304"
            if not later.stdout.strip():
                break
            ids = issue_ids(later)
            assert ids and not ids & published, "no entry in two issues"
            published |= ids
            issues += 1
            assert issues < 12, "each build publishes something"
        assert later.exit_code == 0 and "nothing new" in later.stderr
    assert issues >= 2, "what the first issue had no room for came out in later ones"
    assert len(published) == 4 * 3, "every entry came out in some issue"


@pytest.fixture
def short_entries_with_pages(http_server: LoopbackServer) -> LoopbackServer:
    """Two feeds (ETag: 304 when unchanged) whose entries are short, so the build fetches their
    linked pages (full text); every page answers slowly, a byte every half second."""
    for number in range(2):
        item = (
            f"<item><title>Story {number}</title><link>{http_server.url(f'/page/{number}')}</link>"
            f"<guid>story-{number}</guid><pubDate>Mon, 23 Nov 2026 06:00:00 +0000</pubDate>"
            f"<description>A short summary of story {number}.</description></item>"
        )
        channel = f"<channel><title>Feed {number}</title>{item}</channel>"
        body = f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'
        http_server.route(
            f"/feed/{number}.xml", body.encode(), content_type="application/rss+xml", etag=f'"f{number}"'
        )
        http_server.slow(f"/page/{number}", b"<html><body><p>slow</p></body></html>", interval=0.5)
    return http_server


PAGES = (
    "<html><body><article><h1>Pier closes</h1>"
    "<p>The council of Marrow Bay voted on Monday to close the old ferry pier after engineers found "
    "cracks in 14 of its 40 pillars, the mayor said. The pier, built in 1931, carried 3,000 passengers "
    "a day.</p><p>&quot;We cannot risk a collapse with people on it,&quot; said Mayor Ines Carvalho. "
    "Repairs could cost 12 million euros and will take at least two years, the council said.</p>"
    "<p>Ferry operators warned that the closure could cut their income by half. The council plans a "
    "temporary landing stage by March, and has asked the regional government for money.</p>"
    "</article></body></html>",
    "<html><body><article><h1>Library reopens</h1>"
    "<p>The city library of Halden reopened on Saturday after a two-year renovation that cost 8 million "
    "kroner, the culture department said. About 2,000 visitors came on the first day.</p>"
    "<p>&quot;People queued in the rain before we opened the doors,&quot; said librarian Tove Aas. The "
    "building now has a children's floor, a workshop with 3D printers and longer opening hours.</p>"
    "<p>The library had closed in 2024 after water damaged its roof and part of its archive of local "
    "newspapers, most of which has since been restored and scanned.</p>"
    "</article></body></html>",
)


def test_a_build_killed_after_fetching_commits_nothing(
    tmp_path: Path, short_entries_with_pages: LoopbackServer
) -> None:
    server = short_entries_with_pages
    urls = [server.url(f"/feed/{n}.xml") for n in range(2)]
    config = write_config(
        tmp_path,
        urls,
        max_stories=5,
        extra="fetch:\n  allow_private_addresses: true\n",
        source_extra="        full_text: true\n",
    )
    # A process group of its own, so that the kill reaches the build's children too.
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "build", "--config", str(config), "--now", NOW],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        # The feeds are fetched and parsed; the build is fetching the entries' pages.
        while not server.requests_to("/page/0") and not server.requests_to("/page/1"):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the build never fetched a page"
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert not (tmp_path / "out" / "capped").exists() or not any((tmp_path / "out" / "capped").glob("2*"))

    for number, page in enumerate(PAGES):
        server.route(f"/page/{number}", page.encode(), content_type="text/html")
    again = build(config)
    assert again.exit_code == 0, again.output
    for number in range(2):
        # No validators were kept: the feeds were asked for whole again.
        assert [r.headers.get("if-none-match") for r in server.requests_to(f"/feed/{number}.xml")] == [
            None,
            None,
        ]
    data = json.loads((Path(again.stdout.strip()) / "issue.json").read_text("utf-8"))
    titles = {s["headline"] for s in data["stories"]} | {i["headline"] for i in data.get("briefly", [])}
    assert titles == {"Story 0", "Story 1"}


def test_a_build_that_cannot_write_its_issue_exits_1_and_the_next_one_publishes(tmp_path: Path) -> None:
    with feeds.FeedServer(feeds.documents(2, 2, now=CLOCK)) as server:
        config = write_config(tmp_path, server.urls(), max_stories=10)
        # A file where the edition's folder goes: the issue folder cannot be made (even by root,
        # who writes into read-only folders).
        blocker = tmp_path / "out" / "capped"
        blocker.parent.mkdir()
        blocker.write_text("in the way", "utf-8")
        failed = build(config)
        assert failed.exit_code == 1
        assert "capped" in failed.stderr and "cannot" in failed.stderr
        blocker.unlink()

        fixed = build(config)
        assert server.not_modified == 0, "the failed build kept no validators"
        assert len(issue_ids(fixed)) == 2 * 2
        assert "nothing new" in build(config).stderr
        assert server.not_modified == 2


def entry(entry_id: str) -> Entry:
    return Entry(
        id=entry_id,
        feed="Feed",
        feed_url="https://feed.example/rss",
        title=f"Title {entry_id}",
        link=f"https://feed.example/{entry_id}",
        published=CLOCK,
        dated=True,
        summary_html="<p>Summary “quoted” ünïcode</p>",
        content_html="",
    )


def test_a_database_made_before_entries_were_kept_opens_and_commits(store_url: str, tmp_path: Path) -> None:
    url = store_url
    engine = create_engine(url)
    # The schema as it was: every table but the kept entries.
    metadata.create_all(engine, tables=[t for t in metadata.sorted_tables if t.name != "kept_entries"])
    engine.dispose()
    with State(url) as state:
        state.record_issue(
            IssueRecord("e", "2026-11-23", CLOCK, CLOCK, str(tmp_path / "out" / "e" / "2026-11-23"), 1),
            ["old"],
        )
        assert state.entries.kept_entries("e") == ()
        ok = FeedResult(Source("https://feed.example/rss"), "Feed", "ok", etag='"v2"')
        state.commit_build(
            BuildRecord(
                "e", CLOCK, results=(ok,), first_seen={"a": CLOCK, "b": CLOCK}, kept=(entry("a"), entry("b"))
            )
        )
        assert state.entries.kept_entries("e") == (entry("a"), entry("b"))
        assert state.fetch.validators(["https://feed.example/rss"]) == {
            "https://feed.example/rss": ('"v2"', None)
        }
    assert "kept_entries" in inspect(create_engine(url)).get_table_names()


def test_a_build_commit_that_fails_writes_nothing_of_it(store_url: str) -> None:
    with State(store_url) as state:
        state.commit_build(BuildRecord("e", CLOCK, kept=(entry("a"),)))
        record = IssueRecord("e", "2026-11-24", CLOCK, CLOCK, "out/e/2026-11-24", 1)
        state.record_issue(record, ["used"])
        ok = FeedResult(Source("https://feed.example/rss"), "Feed", "ok", etag='"v3"')
        with pytest.raises(StateError):
            # The issue id is taken: nothing of the build is committed.
            state.commit_build(
                BuildRecord(
                    "e", CLOCK, results=(ok,), first_seen={"b": CLOCK}, kept=(), issue=record, used=("b",)
                )
            )
        assert state.fetch.validators(["https://feed.example/rss"]) == {}
        assert state.entries.seen_before(["b"]) == {}
        assert state.entries.kept_entries("e") == (entry("a"),)
        assert state.issues.last_issue("e") is not None and state.entries.used_entries("e") == {"used"}


def test_kept_entries_are_replaced_where_they_changed_and_unread_ones_stay(store_url: str) -> None:
    with State(store_url) as state:
        state.commit_build(BuildRecord("e", CLOCK, kept=(entry("a"), entry("b"), entry("c"))))
        assert set(state.entries.kept("e")) == {"a", "b", "c"} and state.entries.kept("e")["a"] == CLOCK
        changed = dataclasses.replace(entry("b"), title="Corrected")
        # Read a and b; b changed, c was left unread (outside an explicit window) and stays.
        state.commit_build(
            BuildRecord(
                "e",
                CLOCK,
                kept=(entry("a"), changed),
                kept_before=(entry("a"), entry("b")),
                kept_unread=("c",),
            )
        )
        assert sorted(state.entries.kept_entries("e"), key=lambda e: e.id) == [
            entry("a"),
            changed,
            entry("c"),
        ]
        assert state.entries.kept_entries("e", ["b"]) == (changed,)
        # Nothing kept: the edition's set is empty; another edition's is its own.
        state.commit_build(BuildRecord("other", CLOCK, kept=(entry("a"),)))
        state.commit_build(BuildRecord("e", CLOCK))
        assert state.entries.kept("e") == {} and state.entries.kept_entries("other") == (entry("a"),)
