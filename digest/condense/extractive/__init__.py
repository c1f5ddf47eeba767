"""The default condenser: offline, deterministic, and quoting only the sources.

Every sentence of a briefing made here is a sentence of the story's articles,
verbatim but for page furniture; only the questions are written by the
condenser. The method, one module a step (each module's docstring has the
details):

1. ``clean``: captions, photo credits, "Scroll down for video", "Read more",
   share and sign-up lines, and caption runs fused into sentences go before
   anything is scored.
2. ``units``: the text is cut into units, a sentence or a few neighbouring
   sentences that must not part (a quotation until it closes, with its
   attribution; a sentence pointing back with the one it points to). Repeats
   across the story's articles are dropped, so a fact is told once.
3. ``lede``: articles with question headings keep them verbatim (at most six)
   and their intro as the lede. Otherwise the lede is the lead article's
   opening news and its most central sentences, 120-200 words in source order.
4. ``sections``: what the lede left of the lead article is cut where its topic
   or actor changes, into 3-6 sections for a long article; other outlets'
   units make a last section.
5. ``questions`` (with ``cast``, who can be named, ``cues``, what a sentence
   does, and ``wordings``, the form a question takes): each section's question
   names its actor, what it does and its topic, built from the sentence its
   answer opens on.

A story of fewer than 60 words, or too few sentences for a lede and one
section, gives None: it belongs in "Briefly".
"""

from __future__ import annotations

import dataclasses
from datetime import date, tzinfo
from pathlib import Path

from digest.condense import register, source_refs
from digest.condense.extractive.cast import Cast
from digest.condense.extractive.clean import clean_paragraphs
from digest.condense.extractive.lede import (
    LEDE_MAX_WORDS,
    LEDE_SHARE,
    MAX_HEADED_SECTIONS,
    keep_headings,
    lede_units,
)
from digest.condense.extractive.sections import draft_sections, others_section
from digest.condense.extractive.units import (
    SECTION_REPEAT_OVERLAP,
    Repeats,
    distinct_units,
    finer,
    sentence_places,
    total_words,
)
from digest.config import CondenseConfig
from digest.text import cut_words, split_sentences, word_count
from digest.types import Article, Briefing, Dateline, Section, Story

MIN_STORY_WORDS = 60
HEADLINE_WORDS = 12


@register("extractive")
class ExtractiveCondenser:
    """Builds briefings from the sources' own sentences; needs no network and no model."""

    def __init__(self, config: CondenseConfig, cache_dir: Path | None = None) -> None:
        # Nothing here is costly enough to cache; cache_dir is part of every backend's signature.
        self.config = config

    def notes(self) -> tuple[str, ...]:
        return ()

    def condense(self, story: Story, tz: tzinfo) -> Briefing | None:
        if sum(a.word_count for a in story.articles) < MIN_STORY_WORDS:
            return None
        story = Story(story.id, tuple(_cleaned(a) for a in story.articles))
        lead = story.lead
        lede, sections = keep_headings(lead)
        if sections:
            seen = Repeats()
            for paragraph in lead.paragraphs:
                for sentence in split_sentences(paragraph):
                    seen.add(sentence)
            others = distinct_units(story, seen, first_article=1)
            last = others_section(others, story, lead.paragraphs) if others else None
            if last is not None and len(sections) < MAX_HEADED_SECTIONS:
                sections.append(last)
        else:
            drafted = _draft(story)
            if drafted is None:
                return None
            lede, sections = drafted
        return Briefing(
            headline=_headline(lead),
            dateline=_dateline(story, tz),
            lede=lede,
            sections=tuple(sections),
            sources=source_refs(story),
        )


def _cleaned(article: Article) -> Article:
    """``article`` without page furniture (``clean``); its headings stay as they are."""
    intro = tuple(clean_paragraphs(article.intro))
    sections = tuple(
        Section(s.question, answer) for s in article.sections if (answer := tuple(clean_paragraphs(s.answer)))
    )
    if intro == article.intro and sections == article.sections:
        return article
    words = sum(word_count(p) for p in intro) + sum(word_count(p) for s in sections for p in s.answer)
    return dataclasses.replace(article, intro=intro, sections=sections, word_count=words)


def _draft(story: Story) -> tuple[tuple[str, ...], list[Section]] | None:
    """Lede and sections of a story without headings; None when it is too short for both."""
    units = distinct_units(story, Repeats())
    total = total_words(units)
    if total < MIN_STORY_WORDS or len(units) < 2:
        return None
    budget = max(1, min(LEDE_MAX_WORDS, int(total * LEDE_SHARE)))
    # The lede picks single sentences; a sentence pointing back is taken only after the one it points to.
    pieces = [f for u in units if u.article == 0 for f in finer(u)]
    lede = lede_units(pieces, story.lead.entry.title, budget)
    in_lede = {place for p in lede for u in p for place in sentence_places(u)}
    # What is left of a unit the lede cut would open on a dangling pronoun: it goes too.
    rest = [u for u in units if not sentence_places(u) & in_lede]
    if not rest:
        # Leave the section at least the lede's last unit.
        lede[-1], rest = lede[-1][:-1], [lede[-1][-1]]
        lede = [p for p in lede if p]
        if not lede:
            return None
    told = Repeats(SECTION_REPEAT_OVERLAP)
    for paragraph in lede:
        for unit in paragraph:
            told.add(unit.text)
    rest = [u for u in rest if told.add(u.text)] or rest
    cast = Cast(units, story.lead.entry.title, story.lead.place)
    own = [u for u in rest if u.article == 0]
    others = [u for u in rest if u.article > 0]
    lede_paragraphs = tuple(" ".join(u.text for u in p) for p in lede)
    sections = draft_sections(own, others, story, cast, set(), lede_paragraphs)
    if not sections:
        return None
    return lede_paragraphs, sections


def _headline(lead: Article) -> str:
    title = lead.entry.title.strip()
    if title:
        return title
    for paragraph in lead.paragraphs:
        for sentence in split_sentences(paragraph):
            return cut_words(sentence.rstrip("."), HEADLINE_WORDS)
    return ""


def _dateline(story: Story, tz: tzinfo) -> Dateline:
    lead = story.lead
    when: date = lead.entry.published.astimezone(tz).date()
    if not lead.entry.dated and lead.dateline_date is not None:
        when = lead.dateline_date
    place = next((a.place for a in story.articles if a.place), "")
    return Dateline(date=when, place=place)
