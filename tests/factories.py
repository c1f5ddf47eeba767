"""Invented issues and briefings for tests (no text from real articles).

``make_briefing(n)`` gives a distinct briefing for each ``n``; ``make_issue()``
an issue of three briefings and two Briefly items. Every field can be
overridden by keyword.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from digest.config import EditionConfig, SourceConfig
from digest.types import (
    Briefing,
    BrieflyItem,
    Dateline,
    FeedStatus,
    Issue,
    Links,
    Section,
    SourceRef,
)
from digest.workers import PdfRenderer

#: The edition the rendering tests render for, and where it is published.
BASE_URL = "https://briefing.example.org/morning/"
EDITION = EditionConfig(
    name="morning",
    title="Morning Briefing",
    base_url=BASE_URL,
    sources=(SourceConfig(url="https://x.org/f"),),
)

BERLIN_WINTER = timezone(timedelta(hours=1))

_PLACES = ("LAGOS", "", "OSLO")
_TOPICS = (
    ("Ferry operators add night crossings as bridge closes for repairs", "ferry"),
    ("Regional council approves a four-year plan for cycle lanes", "cycle lane"),
    ("Glacier survey finds faster melt on the northern slopes", "glacier"),
)


def make_briefing(n: int = 1, **overrides: Any) -> Briefing:
    """A briefing about an invented event; ``n`` (1-3, then cycling) picks the topic and place."""
    headline, topic = _TOPICS[(n - 1) % len(_TOPICS)]
    place = _PLACES[(n - 1) % len(_PLACES)]
    briefing = Briefing(
        headline=headline,
        dateline=Dateline(date=date(2026, 3, 14), place=place),
        lede=(
            f"Officials announced on Friday that the {topic} project will go ahead, "
            f"with a budget of {n * 12} million euros and work starting in April.",
            f"About {n * 300} residents attended the public hearing, the organisers said.",
        ),
        sections=(
            Section(
                question=f"Why does the {topic} plan matter now?",
                answer=(
                    f"Because the old arrangements run out in {2026 + n}, the planning office said.",
                    f'"We have waited long enough," said Mara Lind, who chairs the {topic} committee.',
                ),
            ),
            Section(
                question="What happens next?",
                answer=(f"A first report on the {topic} work is expected in June.",),
            ),
        ),
        sources=(
            SourceRef(
                title=f"{headline} (wire)",
                url=f"https://news.example.org/{topic.replace(' ', '-')}/{n}",
                feed="Example Wire",
                published=datetime(2026, 3, 14, 6, 30, tzinfo=UTC),
                entry_id=f"wire-{n}",
            ),
            SourceRef(
                title=f"More on the {topic}",
                url=f"https://daily.example.net/a/{n}",
                feed="Example Daily",
                published=datetime(2026, 3, 13, 22, 5, tzinfo=UTC),
                entry_id=f"daily-{n}",
            ),
        ),
    )
    return replace(briefing, **overrides)


def make_issue(**overrides: Any) -> Issue:
    """An issue of three briefings and two Briefly items, built in a UTC+1 edition."""
    issue = Issue(
        edition="morning",
        issue_id="2026-03-14",
        title="Morning Briefing",
        date=date(2026, 3, 14),
        built_at=datetime(2026, 3, 14, 7, 0, tzinfo=BERLIN_WINTER),
        stories=tuple(make_briefing(n) for n in (1, 2, 3)),
        briefly=(
            BrieflyItem(
                headline="Library extends weekend hours",
                summary="The central library will open on Sundays from May.",
                url="https://news.example.org/library",
                feed="Example Wire",
                entry_id="wire-9",
            ),
            BrieflyItem(
                headline="Harbour crane back in service",
                summary="Repairs finished two weeks early.",
                url="",
                feed="Example Daily",
                entry_id="daily-9",
            ),
        ),
        feeds=(
            FeedStatus(
                name="Example Wire", url="https://news.example.org/feed", status="ok", error=None, entries=4
            ),
            FeedStatus(
                name="Example Daily",
                url="https://daily.example.net/rss",
                status="failed",
                error="https://daily.example.net/rss: HTTP 503",
                entries=0,
            ),
        ),
    )
    return replace(issue, **overrides)


def make_links(
    issue_id: str = "2026-03-14",
    base_url: str = "https://briefing.example.org/morning/",
    unsubscribe: str = "",
) -> Links:
    return Links(
        web=f"{base_url}{issue_id}/briefing.html",
        pdf=f"{base_url}{issue_id}/briefing.pdf",
        archive=f"{base_url}index.html",
        unsubscribe=unsubscribe,
    )


def make_long_briefing(n: int) -> Briefing:
    """A full-length briefing (a 3-paragraph lede of ~180 words, six sections of ~120 words)."""
    words: tuple[str, ...] = ("the", "ministry", "said", "its", "figures", "for", "the", "region")
    words += ("showed", "a", "steady", "change", "over", "the", "year")

    def paragraph(seed: int, length: int) -> str:
        return " ".join(words[(seed + i) % len(words)] for i in range(length)).capitalize() + "."

    return make_briefing(
        n,
        headline=f"Story {n}: {_TOPICS[(n - 1) % len(_TOPICS)][0]}",
        lede=tuple(f"Lede {n}.{k}: " + paragraph(n + k, 58) for k in range(1, 4)),
        sections=tuple(
            Section(f"Question {n}.{k}: what does it change?", tuple(paragraph(k + i, 40) for i in range(3)))
            for k in range(1, 7)
        ),
    )


def make_long_issue(count: int = 40) -> Issue:
    """An issue of ``count`` full-length briefings: too long for one e-mail."""
    return make_issue(stories=tuple(make_long_briefing(n) for n in range(1, count + 1)))


@functools.cache
def pdf_renderer() -> PdfRenderer:
    """One PDF renderer for the test run: its process dies with the run."""
    return PdfRenderer().__enter__()
