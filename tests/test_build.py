"""End to end: `digest build` on the demo edition and on feeds served over loopback HTTP."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import feedparser
import needs
import pytest
from click.testing import CliRunner, Result
from httpserver import LoopbackServer
from pypdf import PdfReader

from digest.cli import main
from digest.resources import init_folder

REPO = Path(__file__).resolve().parents[1]
NOW = "2026-11-24T07:00:00+00:00"
ISSUE_FILES = {"issue.json", "issue.txt", "email.html", "briefing.html", "briefing.pdf", "issue.eml"}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """The demo edition, copied aside and built once for the whole module."""
    root = tmp_path_factory.mktemp("demo")
    init_folder(root)
    result = run("build", "--config", str(root / "feeds.yaml"), "--now", NOW)
    return root, result


def issue_dir(demo: tuple[Path, Result]) -> Path:
    _, result = demo
    assert result.exit_code == 0, result.output
    paths = result.stdout.split()
    assert len(paths) == 1
    return Path(paths[0])


@pytest.mark.slow
def test_demo_build_prints_a_folder_with_all_six_files(demo: tuple[Path, Result]) -> None:
    folder = issue_dir(demo)
    root, _ = demo
    assert folder == root / "out" / "demo" / "2026-11-24"
    assert {p.name for p in folder.iterdir()} == ISSUE_FILES
    assert (folder.parent / "index.html").is_file()
    assert (folder.parent / "feed.xml").is_file()
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_demo_issue_json_follows_the_contract(demo: tuple[Path, Result]) -> None:
    data = json.loads((issue_dir(demo) / "issue.json").read_text("utf-8"))
    assert data["edition"] == "demo"
    assert data["issue_id"] == "2026-11-24"
    assert data["date"] == "2026-11-24"
    assert data["built_at"].startswith("2026-11-24T07:00:00")
    assert 1 <= len(data["stories"]) <= 8
    for story in data["stories"]:
        assert story["headline"]
        assert set(story["dateline"]) == {"date", "place"}
        assert 1 <= len(story["lede"]) <= 4
        assert story["sections"], story["headline"]
        assert all(s["question"].endswith("?") for s in story["sections"])
        assert all(src["url"] and src["feed"] for src in story["sources"])
    assert {f["status"] for f in data["feeds"]} == {"ok"}
    # the story two feeds carry comes first, with both sources
    assert len(data["stories"][0]["sources"]) >= 2
    assert len({s["feed"] for s in data["stories"][0]["sources"]}) >= 2


@pytest.mark.slow
def test_demo_outputs_open_in_real_parsers(demo: tuple[Path, Result]) -> None:
    folder = issue_dir(demo)
    data = json.loads((folder / "issue.json").read_text("utf-8"))
    headlines = [s["headline"] for s in data["stories"]]

    message = email.message_from_bytes((folder / "issue.eml").read_bytes(), policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in message.iter_parts()]  # type: ignore[attr-defined]
    assert parts == ["text/plain", "text/html"]
    assert data["title"] in str(message["Subject"])

    reader = PdfReader(folder / "briefing.pdf")
    assert len(reader.pages) >= 2
    text = " ".join(page.extract_text() for page in reader.pages)
    assert headlines[0].split()[0] in text

    atom = feedparser.parse((folder.parent / "feed.xml").read_bytes())
    assert not atom.bozo, atom.get("bozo_exception")
    assert [e.link for e in atom.entries] == ["http://localhost:8080/demo/2026-11-24/briefing.html"]

    html = (folder / "email.html").read_text("utf-8")
    assert len(html.encode()) < 102_000
    assert all(h.replace("&", "&amp;") in html or h in html for h in headlines)

    text_part = (folder / "issue.txt").read_text("utf-8")
    assert text_part.startswith(f"{data['title']} - 2026-11-24\n")
    assert text_part.count("\n* * *\n") == len(headlines) - 1 + (1 if data["briefly"] else 0)


@pytest.mark.slow
def test_later_builds_repeat_no_entry_and_use_up_what_was_left_over(demo: tuple[Path, Result]) -> None:
    root, _ = demo
    first = json.loads((issue_dir(demo) / "issue.json").read_text("utf-8"))
    used = [s["id"] for story in first["stories"] for s in story["sources"]] + [
        b["id"] for b in first["briefly"]
    ]
    built = 1
    for hour in range(8, 14):  # bounded: the demo holds far fewer than six issues' worth
        again = run(
            "build", "--config", str(root / "feeds.yaml"), "--now", f"2026-11-24T{hour:02}:00:00+00:00"
        )
        assert again.exit_code == 0, again.output
        if not again.stdout:
            assert "nothing new" in again.stderr
            break
        built += 1
        data = json.loads((Path(again.stdout.strip()) / "issue.json").read_text("utf-8"))
        assert data["issue_id"] == f"2026-11-24-{built}"
        ids = [s["id"] for story in data["stories"] for s in story["sources"]] + [
            b["id"] for b in data["briefly"]
        ]
        assert not set(ids) & set(used), "an entry appeared in two issues"
        used += ids
    else:
        pytest.fail("builds never ran out of new entries")
    assert built >= 2, "the stories max_stories left out never came"
    assert len(used) == len(set(used))
    demo_entries = sum(
        len(feedparser.parse((root / "demo" / name).read_bytes()).entries)
        for name in os.listdir(root / "demo")
    )
    assert len(used) == demo_entries, "every demo entry is used exactly once"
    # The archive tells the day's issues apart by the time each was built.
    archive = (root / "out" / "demo" / "index.html").read_text("utf-8")
    headings = re.findall(r'<h2 class="headline"><a [^>]*>([^<]*)</a>', archive)
    assert len(headings) == built and len(set(headings)) == built, headings
    assert "Tuesday, 24 November 2026, 07:00 UTC" in headings
    assert "Tuesday, 24 November 2026, 08:00 UTC" in headings


def feed_xml(title: str, items: list[tuple[str, str, str]]) -> str:
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>Mon, 23 Nov 2026 06:00:00 +0000</pubDate><description>{text}</description></item>"
        for t, link, text in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>{body}</channel></rss>'


LONG = (
    "&lt;p&gt;The council of Marrow Bay voted on Monday to close the old ferry pier after engineers found "
    "cracks in 14 of its 40 pillars, the mayor said. "
    "The pier, built in 1931, carried 3,000 passengers a day. "
    "&lt;/p&gt;&lt;p&gt;&quot;We cannot risk a collapse with people on it,&quot; said Mayor Ines Carvalho. "
    "Repairs could cost 12 million euros and will take at least two years, the council said.&lt;/p&gt;"
    "&lt;p&gt;Ferry operators warned that the closure could cut their income by half. The council plans "
    "a temporary landing stage by March, and has asked the regional government for money. "
    "The pier has long been a symbol of the town, which has relied on the ferry since the 1930s.&lt;/p&gt;"
)


def test_one_failing_source_loses_no_other_story(tmp_path: Path, http_server: LoopbackServer) -> None:
    http_server.route(
        "/good.xml", feed_xml("Good Feed", [("Pier closes", "https://news.invalid/pier", LONG)]).encode()
    )
    http_server.route("/missing.xml", b"gone", status=404)
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "editions:\n"
        "  local:\n"
        "    title: Local\n"
        "    lookback: all\n"
        "    sources:\n"
        f"      - url: {http_server.url('/good.xml')}\n"
        f"      - url: {http_server.url('/missing.xml')}\n",
        "utf-8",
    )
    result = run("build", "--config", str(config), "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "/missing.xml" in result.stderr and "404" in result.stderr
    data = json.loads((Path(result.stdout.strip()) / "issue.json").read_text("utf-8"))
    assert [s["headline"] for s in data["stories"]] == ["Pier closes"]
    statuses = {f["url"].rsplit("/", 1)[1]: (f["status"], f["error"]) for f in data["feeds"]}
    assert statuses["good.xml"] == ("ok", None)
    assert statuses["missing.xml"][0] == "failed" and "404" in statuses["missing.xml"][1]


def test_every_source_failing_exits_1_with_one_line(tmp_path: Path, http_server: LoopbackServer) -> None:
    http_server.route("/not-a-feed", b"<html><body>hello</body></html>", content_type="text/html")
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"editions:\n  x:\n    title: X\n    sources:\n      - url: {http_server.url('/not-a-feed')}\n",
        "utf-8",
    )
    result = run("build", "--config", str(config), "--now", NOW)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "every source failed" in result.stderr
    assert not (tmp_path / "out" / "x").exists() or not any((tmp_path / "out" / "x").iterdir())


def test_missing_config_exits_2_naming_the_file(tmp_path: Path) -> None:
    result = run("build", "--config", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.yaml'}" in result.stderr
    assert "Traceback" not in result.output


def test_check_exits_2_with_file_line_and_key(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "editions:\n  x:\n    title: X\n    timezone: Mars/Olympus\n    sources:\n      - url: a.xml\n"
    )
    result = run("check", "--config", str(config))
    assert result.exit_code == 2
    assert f"{config}:4: editions.x.timezone:" in result.stderr


def test_check_passes_on_the_bundled_config() -> None:
    result = run("check", "--config", str(REPO / "feeds.yaml"))
    assert result.exit_code == 0, result.output


def test_bad_now_is_a_usage_error(tmp_path: Path) -> None:
    result = run("build", "--config", str(REPO / "feeds.yaml"), "--now", "yesterday", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "--now" in result.stderr


SEED = REPO.parent / "shared" / "seed" / "qa-briefing-example.txt"


def test_condense_keeps_the_seed_examples_questions_and_dateline() -> None:
    needs.shared("seed/qa-briefing-example.txt", "`digest condense` on the reference example")
    lines = [line.strip() for line in SEED.read_text("utf-8").splitlines()]
    seed_questions = [lines[i + 1] for i, line in enumerate(lines[:-1]) if line == "- - -"]
    result = run("condense", "--config", str(REPO / "feeds.yaml"), str(SEED))
    assert result.exit_code == 0, result.output
    printed = result.stdout.splitlines()
    assert printed[1].startswith("date 2021-07-12 MOSCOW - ")
    questions = [printed[i + 1] for i, line in enumerate(printed[:-1]) if line == "- - -"]
    assert len(seed_questions) == 6
    assert questions == seed_questions


def test_an_intranet_feed_keeps_its_links(tmp_path: Path, http_server: LoopbackServer) -> None:
    """Links to loopback, private and internal hosts reach the issue as the feed gave them."""
    own = http_server.url("/pier")  # http://127.0.0.1:PORT/pier: loopback, with a port
    others = ["http://10.0.0.1/ferry", "http://intranet.corp/ferry-news"]
    http_server.route("/intranet.xml", feed_xml("Intranet", [("Pier closes", own, LONG)]).encode())
    http_server.route("/wire.xml", feed_xml("Wire", [("Ferry pier shut", others[0], LONG)]).encode())
    http_server.route("/corp.xml", feed_xml("Corp", [("Old pier closed", others[1], LONG)]).encode())
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "editions:\n  local:\n    title: Local\n    lookback: all\n    sources:\n"
        + "".join(f"      - url: {http_server.url(f'/{p}.xml')}\n" for p in ("intranet", "wire", "corp")),
        "utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "digest", "build", "--config", str(config), "--now", NOW],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip())
    data = json.loads((folder / "issue.json").read_text("utf-8"))
    links = {source["url"] for story in data["stories"] for source in story["sources"]}
    assert links == {own, *others}
    assert all(f'href="{link}"' in (folder / "email.html").read_text("utf-8") for link in links)
