"""Briefings -> Issue: the order of stories, the edition's limits, the issue id.

Method:

* Stories are ranked by how many sources carry them (a story several feeds
  report matters more), then by recency (newest first), then by headline so
  the order is deterministic.
* The pipeline extracts and condenses stories in that order until
  ``max_stories`` briefings are made; stories too short for a briefing go to
  "Briefly"; what is left over waits for the next issue.
* The issue id is the issue's date in the edition's time zone, with ``-2``,
  ``-3`` ... for further issues on the same day.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime

from digest.types import Briefing, BrieflyItem, Candidate, FeedResult, FeedStatus, Issue, Links
from digest.urls import without_credentials


def rank(stories: Sequence[Candidate]) -> tuple[Candidate, ...]:
    """More sources first, then more recent, then by headline."""
    return tuple(
        sorted(stories, key=lambda s: (-len(s.entries), -s.published.timestamp(), s.headline.casefold()))
    )


def next_issue_id(day: date, taken: Collection[str]) -> str:
    """The first free id of the day: ``2026-03-14``, then ``2026-03-14-2`` ..."""
    base = day.isoformat()
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def feed_statuses(results: Sequence[FeedResult]) -> tuple[FeedStatus, ...]:
    """How each source fared, as the issue publishes it: a source URL's password is left out."""
    return tuple(
        FeedStatus(
            name=without_credentials(r.name),
            url=without_credentials(r.source.url),
            status=r.status,
            error=without_credentials(r.error) if r.error else r.error,
            entries=len(r.entries),
        )
        for r in results
    )


def assemble(
    *,
    edition: str,
    title: str,
    issue_id: str,
    built_at: datetime,
    briefings: Sequence[Briefing],
    briefly: Sequence[BrieflyItem],
    results: Sequence[FeedResult],
    report: Sequence[str] = (),
) -> Issue:
    """The issue as data. ``built_at`` is aware and already in the edition's time zone."""
    return Issue(
        edition=edition,
        issue_id=issue_id,
        title=title,
        date=built_at.date(),
        built_at=built_at,
        stories=tuple(briefings),
        briefly=tuple(briefly),
        feeds=feed_statuses(results),
        report=tuple(report),
    )


def links_for(base_url: str, issue_id: str, *, unsubscribe: str = "") -> Links:
    """Absolute links to an issue's web copy, PDF and the archive under the edition's base_url."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    return Links(
        web=f"{base}{issue_id}/briefing.html",
        pdf=f"{base}{issue_id}/briefing.pdf",
        archive=f"{base}index.html",
        unsubscribe=unsubscribe,
    )
