"""Sections by topic: the lead article's text after the lede, cut where its subject changes.

Method:

1. **How many**: about one section per ``SECTION_TARGET_WORDS`` words of what
   the lede left, at least three for an article over ``LONG_ARTICLE_WORDS``
   words (when it has the sentences), at most the free slots (six in all).
2. **Where to cut** (in the manner of TextTiling): each gap between two units
   gets a *cohesion*, the cosine between the TF-IDF vectors of the
   ``WINDOW`` units before it and the ``WINDOW`` after it, plus
   ``SAME_ACTOR_BONUS`` when the units on both sides name the same person or
   body, less ``BREAK_BONUS`` where the source starts a new paragraph (or the
   lede took the text between). A gap before a unit that needs the one before
   it (a pronoun pointing back, "But", a closing quote) is never cut. The gaps
   of least cohesion are cut first, skipping any cut that would leave a section
   under ``SECTION_MIN_WORDS`` words, so a short leftover stays with its
   nearest neighbour instead of vanishing.
3. **Questions and openers**: each section gets its question and the unit that
   answers it first from ``questions.frame``. A section that can only be given
   a question naming nothing of the story joins the section before it (or
   after it) and the pair is framed again.
4. **Answers**: the opener first, then the rest of the section in source order
   (units that follow each other in the source share a paragraph, so every
   paragraph is a slice of a source paragraph), cut at about ``SECTION_MAX_WORDS``
   words and six paragraphs: the units after the opener come before those
   before it.

Other articles' units that no section used make a last section, "What does
<outlet> add?" (or "What are others reporting?" for several outlets), of those
that tell something the lede and the sections above did not (``telling_news``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import pairwise

from digest.condense.extractive.cast import Cast
from digest.condense.extractive.questions import Framed, Topics, frame
from digest.condense.extractive.units import (
    Unit,
    follows,
    misleading_opener,
    points_back,
    runs,
    telling_news,
    total_words,
    within,
)
from digest.text import content_words, tfidf_vectors
from digest.types import Section, Story

MAX_SECTIONS = 6
SECTION_MAX_WORDS = 180
#: Words of material per section when deciding how many sections to make.
SECTION_TARGET_WORDS = 90
#: A cut that leaves a section shorter than this is not made.
SECTION_MIN_WORDS = 40
#: Articles longer than this get at least LONG_ARTICLE_SECTIONS sections when their text allows.
LONG_ARTICLE_WORDS = 400
LONG_ARTICLE_SECTIONS = 3
#: Units each side of a gap compared for cohesion.
WINDOW = 2
SAME_ACTOR_BONUS = 0.15
BREAK_BONUS = 0.1
OTHERS_MAX_WORDS = 150


def draft_sections(
    own: Sequence[Unit],
    others: Sequence[Unit],
    story: Story,
    cast: Cast,
    asked: set[str],
    lede: Sequence[str] = (),
) -> list[Section]:
    """The sections of a story's briefing: the lead's remaining units by topic, then other outlets'."""
    slots = MAX_SECTIONS - (1 if others else 0)
    segments = segment(own, slots, story.lead.word_count, cast)
    framed = _framed(segments, story, cast, asked)
    sections = [
        Section(f.question, answer_paragraphs(f.opener, segment))
        for f, segment in zip(framed, segments, strict=True)
    ]
    told = [*lede, *(paragraph for section in sections for paragraph in section.answer)]
    if others and (last := others_section(others, story, told)) is not None:
        sections.append(last)
    return sections


def others_section(others: Sequence[Unit], story: Story, told: Sequence[str]) -> Section | None:
    """What only the other outlets of a story tell, under a question naming the outlet when it is
    one; None when they only retell what ``told`` (the briefing so far) says."""
    others = telling_news(others, told)
    if not others:
        return None
    feeds = sorted({story.articles[u.article].entry.feed for u in others} - {""})
    question = f"What does {feeds[0]} add?" if len(feeds) == 1 else "What are others reporting?"
    if len(question.split()) > 12:
        question = "What are others reporting?"
    return Section(question, answer_paragraphs(others[0], within(others, OTHERS_MAX_WORDS)))


def _framed(segments: list[list[Unit]], story: Story, cast: Cast, asked: set[str]) -> list[Framed]:
    """Each segment's question; a segment that names nothing of the story joins a neighbour."""
    year = story.lead.entry.published.year
    while True:
        topics = Topics.of(segments, story.lead.entry.title)
        taken = set(asked)
        framed: list[Framed] = []
        for number, section in enumerate(segments):
            found = frame(section, number, topics, cast, year, taken)
            taken.add(found.question)
            framed.append(found)
        vague = next((i for i, f in enumerate(framed) if f.specificity == 0), None)
        if vague is None or len(segments) == 1:
            asked |= taken
            return framed
        into = vague - 1 if vague > 0 else 1
        low, high = sorted((vague, into))
        segments[low : high + 1] = [segments[low] + segments[high]]


def segment(units: Sequence[Unit], slots: int, article_words: int, cast: Cast) -> list[list[Unit]]:
    """``units`` (source order) cut into at most ``slots`` runs where the topic or the actor changes."""
    if not units:
        return []
    total = total_words(units)
    wanted = round(total / SECTION_TARGET_WORDS)
    if article_words > LONG_ARTICLE_WORDS:
        wanted = max(wanted, LONG_ARTICLE_SECTIONS)
    wanted = max(1, min(wanted, slots, len(units)))
    smallest = min(SECTION_MIN_WORDS, total // (2 * wanted))
    vectors = tfidf_vectors([content_words(u.text) for u in units])
    names = [_names(u, cast) for u in units]
    gaps: list[tuple[float, int]] = []
    for at in range(1, len(units)):
        if misleading_opener(units[at].text) or points_back(units[at]):
            continue
        cohesion = _cosine(_summed(vectors[max(0, at - WINDOW) : at]), _summed(vectors[at : at + WINDOW]))
        if names[at] & names[at - 1]:
            cohesion += SAME_ACTOR_BONUS
        if not follows(units[at - 1], units[at]):
            cohesion -= BREAK_BONUS
        gaps.append((cohesion, at))
    cuts: list[int] = []
    for _, at in sorted(gaps):
        if len(cuts) == wanted - 1:
            break
        trial = sorted([*cuts, at])
        bounds = [0, *trial, len(units)]
        if all(total_words(units[start:end]) >= smallest for start, end in pairwise(bounds)):
            cuts = trial
    bounds = [0, *cuts, len(units)]
    return [list(units[start:end]) for start, end in pairwise(bounds)]


def _names(unit: Unit, cast: Cast) -> set[str]:
    return {name.key for part in unit.parts for name in cast.names(part) if not name.place}


def _summed(vectors: Sequence[Mapping[str, float]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for vector in vectors:
        for word, weight in vector.items():
            total[word] = total.get(word, 0.0) + weight
    return total


def _cosine(first: Mapping[str, float], second: Mapping[str, float]) -> float:
    dot = sum(weight * second.get(word, 0.0) for word, weight in first.items())
    norms = math.sqrt(sum(w * w for w in first.values())) * math.sqrt(sum(w * w for w in second.values()))
    return dot / norms if norms else 0.0


def answer_paragraphs(opener: Unit, section: Sequence[Unit]) -> tuple[str, ...]:
    """Answer paragraphs: ``opener`` first, then the section in source order, cut to size."""
    after = [u for u in section if u.order > opener.order]
    before = [u for u in section if u.order < opener.order]
    kept = within([opener, *after, *before], SECTION_MAX_WORDS)
    rest = sorted((u for u in kept if u is not opener), key=lambda u: u.order)
    ordered = [run for run in runs([opener, *(u for u in rest if u.order > opener.order)])]
    ordered += runs([u for u in rest if u.order < opener.order])
    return tuple(" ".join(u.text for u in run) for run in ordered)
