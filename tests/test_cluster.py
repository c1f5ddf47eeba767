"""cluster(): the same story from several feeds becomes one Story."""

from __future__ import annotations

import html
import random
from datetime import UTC, datetime, timedelta

import pytest

from digest.cluster import _candidate_pairs, canonical_url, cluster
from digest.extract import preview
from digest.types import Entry, Preview
from digest.workers import Workers

NOON = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)

FERRY_TEXT = (
    "The harbour ferry between Northpoint and the island of Kell resumed service on Friday after a "
    "three-week suspension caused by storm damage to the landing pier. The operator said the first "
    "crossing left at 6:40 a.m. with 212 passengers and that the full timetable would return next week. "
    "Repairs to the pier cost about 1.2 million euros and were paid by the regional transport fund."
)
FERRY_TEXT_OTHER_FEED = (
    "Ferries are running again between Northpoint and Kell. The first crossing since storms damaged the "
    "landing pier three weeks ago carried 212 passengers on Friday morning, the operator said, adding "
    "that the full timetable returns next week after repairs costing 1.2 million euros."
)
BUDGET_TEXT = (
    "Northpoint's city council approved a budget of 480 million euros for next year on Thursday night, "
    "with new money for school buildings and street lighting, after a six-hour debate in which the "
    "opposition called the spending plans reckless and demanded a freeze on new hiring."
)


def article(
    entry_id: str,
    title: str,
    text: str,
    link: str = "",
    feed: str = "Feed A",
    published: datetime = NOON,
) -> Preview:
    return preview(
        Entry(
            id=entry_id,
            feed=feed,
            feed_url=f"https://{feed.lower().replace(' ', '')}.example/rss",
            title=title,
            link=link or f"https://{feed.lower().replace(' ', '')}.example/{entry_id}",
            published=published,
            dated=True,
            summary_html="",
            content_html=f"<p>{html.escape(text)}</p>",
        )
    )


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://www.Example.org/a/1/?utm_source=x&utm_medium=rss", "//example.org/a/1"),
        ("http://example.org/a/1#comments", "//example.org/a/1"),
        ("https://example.org/a/1?fbclid=abc&ref=rss&gclid=1", "//example.org/a/1"),
        ("https://example.org/a?id=2&page=1", "//example.org/a?id=2&page=1"),
        ("https://example.org/a?page=1&id=2&utm_campaign=z", "//example.org/a?id=2&page=1"),
        ("https://example.org:8443/a/", "//example.org:8443/a"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_same_url_with_tracking_parameters_is_one_story() -> None:
    first = article(
        "a1", "Ferry service resumes", FERRY_TEXT, link="https://news.example/ferry?utm_source=rss"
    )
    second = article(
        "b1", "Kell ferry back", BUDGET_TEXT, feed="Feed B", link="https://www.news.example/ferry/#top"
    )
    stories = cluster([first, second])
    assert len(stories) == 1
    assert stories[0].entry_ids == ("a1", "b1")


def test_same_title_from_two_feeds_is_one_story_led_by_the_fuller_article() -> None:
    short = article("a1", "Northpoint-Kell ferry resumes after storm repairs", FERRY_TEXT_OTHER_FEED)
    full = article("b1", "Northpoint–Kell ferry resumes after storm repairs", FERRY_TEXT, feed="Feed B")
    budget = article("c1", "Northpoint council approves 480m budget", BUDGET_TEXT, feed="Feed C")
    stories = cluster([short, budget, full])
    assert [s.entry_ids for s in stories] == [("b1", "a1"), ("c1",)]
    assert stories[0].id == "b1"
    assert stories[0].lead.feed == "Feed B"


def test_similar_titles_and_texts_join() -> None:
    first = article("a1", "Ferry to Kell resumes after storm damage", FERRY_TEXT)
    second = article("b1", "Kell ferry resumes after storm", FERRY_TEXT_OTHER_FEED, feed="Feed B")
    assert len(cluster([first, second])) == 1


def test_different_stories_stay_apart() -> None:
    ferry = article("a1", "Ferry to Kell resumes after storm damage", FERRY_TEXT)
    budget = article("b1", "Council approves budget after storm of criticism", BUDGET_TEXT, feed="Feed B")
    # Same title, but the texts tell different events.
    other_ferry = article(
        "c1",
        "Ferry to Kell resumes after storm damage",
        "A court in the capital sentenced two men on Wednesday for smuggling cigarettes through the "
        "eastern border crossing, where customs officers found forty thousand packets hidden in a "
        "lorry of frozen fish bound for the central markets of the city last autumn.",
        feed="Feed C",
    )
    stories = cluster([ferry, budget, other_ferry])
    assert [s.entry_ids for s in stories] == [("a1",), ("b1",), ("c1",)]


def test_same_title_days_apart_stays_apart() -> None:
    first = article("a1", "Ferry to Kell resumes after storm damage", FERRY_TEXT)
    later = article(
        "b1",
        "Ferry to Kell resumes after storm damage",
        FERRY_TEXT,
        feed="Feed B",
        published=NOON + timedelta(days=5),
    )
    assert len(cluster([first, later])) == 2


def test_exact_duplicates_are_dropped_and_order_is_kept() -> None:
    ferry = article("a1", "Ferry to Kell resumes", FERRY_TEXT)
    budget = article("b1", "Council approves budget", BUDGET_TEXT)
    stories = cluster([budget, ferry, budget, ferry])
    assert [s.id for s in stories] == ["b1", "a1"]
    assert all(len(s.entries) == 1 for s in stories)


def test_empty_input() -> None:
    assert cluster([]) == ()


def test_two_thousand_articles_cluster_into_their_stories() -> None:
    rng = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = sorted({"".join(rng.choices(alphabet, k=rng.randint(4, 9))) for _ in range(6000)})
    articles: list[Preview] = []
    for number in range(1000):
        title = rng.sample(vocabulary, 6)
        text = rng.choices(vocabulary, k=90)
        when = NOON + timedelta(minutes=number)
        articles.append(article(f"s{number}-a", " ".join(title), " ".join(text), published=when))
        # The other feed's version: one title word and a fifth of the text changed.
        title[rng.randrange(6)] = rng.choice(vocabulary)
        for position in rng.sample(range(90), 18):
            text[position] = rng.choice(vocabulary)
        articles.append(
            article(f"s{number}-b", " ".join(title), " ".join(text), feed="Feed B", published=when)
        )
    rng.shuffle(articles)
    stories = cluster(articles)
    assert len(stories) == 1000
    assert all({i.split("-")[0] for i in s.entry_ids} == {s.id.split("-")[0]} for s in stories)
    # Through worker processes, the titles' pairs made in one and the texts' vectors here: the same.
    with Workers(1) as workers:
        assert workers.start()
        assert cluster(articles, workers.map) == stories


def test_a_one_word_overlap_joins_short_titles_of_copied_texts() -> None:
    # Two and three content words sharing one: Jaccard 1/4, the least any rule accepts. Titles this
    # short share no pair of words, so only the single-word blocks can bring them together.
    short = article("short", "Kell ferry", FERRY_TEXT, feed="Feed A")
    longer = article("longer", "Northpoint harbour ferry", FERRY_TEXT, feed="Feed B")
    stories = cluster([short, longer])
    assert [sorted(s.entry_ids) for s in stories] == [["longer", "short"]]


def test_long_titles_sharing_one_word_are_never_compared() -> None:
    titles = [
        frozenset({"ferry", "kell", "resumes", "service", "storm"}),
        frozenset({"ferry", "budget", "council", "approves", "hiring"}),
        frozenset({"ferry", "kell", "resumes", "pier", "repairs"}),
    ]
    # The first and third share three words (a pair among their rarest); the second shares one
    # word with each, too little for any rule with five-word titles.
    assert list(_candidate_pairs(titles)) == [(0, 2)]


def test_a_headline_pattern_shared_by_many_stories_does_not_block_them_together() -> None:
    # 30 stories of one kind: "<town> spending plan passes <number>"; only the town and the
    # number tell them apart. The pattern's words are not common enough to be left out of
    # blocking (at most 50 titles each), but their pairs, in every title, must not make blocks.
    titles = [frozenset({f"town{n}", "spending", "plan", "passes", f"n{n}"}) for n in range(30)]
    titles.append(frozenset({"town7", "spending", "plan", "passes", "n7", "again"}))
    assert list(_candidate_pairs(titles)) == [(7, 30)]
