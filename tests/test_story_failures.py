"""One story's failure costs that story, never the issue.

A condenser that raises CondenseError on one story and an unexpected error on another, in a real
``digest build`` over a loopback feed server: the build exits 0 with the other stories, and each
skipped story is named on stderr and in issue.json's report.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import pytest
from click.testing import CliRunner
from httpserver import LoopbackServer

sys.path.insert(0, str(Path(__file__).resolve().parent / "hostile"))
from good import GOOD_HEADLINES, good_rss, unicode_atom

from digest import cluster, condense, extract, ingest
from digest.cli import main
from digest.condense import register
from digest.condense.fake import FakeCondenser, plain_briefing
from digest.config import CondenseConfig
from digest.errors import CondenseError
from digest.types import Briefing, BrieflyItem, Candidate, Skipped, Source, Story
from digest.workers import Workers

NOW = "2026-11-23T07:00:00+00:00"
REFUSED = GOOD_HEADLINES[0]  # the harbour story: a CondenseError
BROKEN = GOOD_HEADLINES[1]  # the orchards story: a bug in the backend


def flaky(story: Story, tz: tzinfo) -> Briefing | None:
    """A plain briefing, except for two stories."""
    if story.headline == REFUSED:
        raise CondenseError("the model refused this story")
    if story.headline == BROKEN:
        raise KeyError("sections")
    return plain_briefing(story, tz)


@register("flaky")
class FlakyCondenser(FakeCondenser):
    """The fake condenser, failing on two stories, as a backend a config can name."""

    def __init__(self, config: CondenseConfig, cache_dir: Path | None = None) -> None:
        super().__init__(flaky)


def test_a_build_skips_the_stories_that_fail_and_names_them(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        good = server.route("/good.xml", good_rss(), content_type="application/rss+xml")
        languages = server.route("/languages.atom", unicode_atom(), content_type="application/atom+xml")
        (tmp_path / "feeds.yaml").write_text(
            "state_dir: .digest\n"
            "editions:\n"
            "  desk:\n"
            "    title: Desk Briefing\n"
            "    lookback: 7d\n"
            "    condense: {backend: flaky}\n"
            f"    sources:\n      - url: {good}\n      - url: {languages}\n",
            encoding="utf-8",
        )
        result = CliRunner().invoke(main, ["build", "--config", str(tmp_path / "feeds.yaml"), "--now", NOW])
    assert result.exit_code == 0, result.output
    issue = json.loads((Path(result.stdout.split()[0]) / "issue.json").read_text("utf-8"))
    headlines = [s["headline"] for s in issue["stories"]]
    assert REFUSED not in headlines and BROKEN not in headlines
    assert set(GOOD_HEADLINES) - {REFUSED, BROKEN} <= set(headlines)
    refused = [line for line in issue["report"] if REFUSED in line]
    broken = [line for line in issue["report"] if BROKEN in line]
    assert len(refused) == 1 and refused[0].endswith("skipped: the model refused this story")
    assert len(broken) == 1 and broken[0].endswith("skipped: KeyError: 'sections'")
    assert "https://good.example.org/rss/0" in refused[0]
    for line in (*refused, *broken):
        assert line in result.stderr


def _candidates() -> list[Candidate]:
    now = datetime.now(UTC)
    _, entries = ingest.parse_feed(good_rss(), Source(url="https://good.example.org/rss"), now)
    _, more = ingest.parse_feed(unicode_atom(), Source(url="https://good.example.org/atom"), now)
    return list(cluster.cluster(extract.preview_all([*entries, *more])))


@pytest.mark.parametrize("processes", [0, 1])
def test_condensing_goes_on_past_a_failing_story_here_and_with_workers(processes: int) -> None:
    candidates = _candidates()
    condenser = FakeCondenser(flaky)
    with Workers(processes) as workers:
        outcomes = condense.condense_candidates(candidates, condenser, UTC, workers.map)
    assert [o.headline for o in outcomes] == [c.headline for c in candidates]
    skipped = {o.headline: o.reason for o in outcomes if isinstance(o, Skipped)}
    assert skipped == {REFUSED: "the model refused this story", BROKEN: "KeyError: 'sections'"}
    assert all(isinstance(o, Briefing | BrieflyItem) for o in outcomes if o.headline not in skipped)
    # Every story was asked about once, in order: none was lost on the way to a worker and back.
    assert [story.headline for story in condenser.stories] == [c.headline for c in candidates]


def test_short_stories_beyond_max_briefly_wait_for_the_next_issue() -> None:
    from factories import EDITION

    from digest import pipeline

    candidates = _candidates()
    briefed = {c.headline for c in candidates[:2]}

    def two_briefings(story: Story, tz: tzinfo) -> Briefing | None:
        # Every other story is "too short": the condenser gives no briefing, so it is a Briefly line.
        return plain_briefing(story, tz) if story.headline in briefed else None

    edition = EDITION.model_copy(update={"max_stories": len(candidates), "max_briefly": 1})
    condensed = pipeline.condense_stories(candidates, edition, UTC, FakeCondenser(two_briefings))
    assert {b.headline for b in condensed.briefings} == briefed
    assert [i.headline for i in condensed.briefly] == [candidates[2].headline]
    # Every story is accounted for once: published, or left over in rank order for the next issue.
    assert [c.headline for c in condensed.left_over] == [c.headline for c in candidates[3:]]
    assert len(candidates) > 3
