"""The lede: the news itself, from the lead article's own sentences.

*Articles with question headings* keep their intro as the lede (its first
paragraphs up to about 200 words when it has more than four); an article
opening on a question takes its lede from that first answer's paragraphs, and
the question keeps what remains, or goes when nothing remains.

*Otherwise* the lede is drawn from the lead article, in single sentences (a
quote still with its attribution), and keeps source order. It opens on the
first sentence that can open news (``units.opens_news``: five words or more,
not a question, not opening on a pronoun pointing back, a connective or a
closing quote) and runs on with the following ones while under 55% of the
target (150 words, at most half the story; 65% for an article of more than 35
sentences, whose opening packs more of the news), six at most. Then, until the target
is reached (never past 200 words), it adds the sentence of highest *worth*:
0.7 x centrality (PageRank over the TF-IDF cosine graph of the lead's first 80
sentences, divided by the highest) + 0.2 x the share of the headline's content
words it holds + 1.0 / (1 + position / 4), less 0.6 x its highest cosine with
a sentence the lede already holds (no saying things twice). A sentence pointing
back ("It", "They") or opening on a connective ("But", "However", "And") is
taken only after the one it leans on, and one pointing
back at a lede sentence follows it into the lede when it fits, else leaves the
briefing. Lede sentences of one source paragraph share a lede paragraph (cut at
about 60 words); the neighbouring paragraphs shortest together are merged until
at most four remain (a sentence that would make that impossible is passed
over). The weights were tuned on ``benchmarks/condense.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from digest.condense.extractive.units import (
    Unit,
    chunked,
    misleading_opener,
    opens_news,
    points_back,
    total_words,
)
from digest.text import content_words, pagerank, similarity_graph, split_sentences, tfidf_vectors, word_count
from digest.types import Article, Section

LEDE_MAX_WORDS = 200
LEDE_MAX_PARAGRAPHS = 4
#: Share of a short story's words the lede may take, so sections keep material.
LEDE_SHARE = 0.5
#: The lede's length in words (less when the story is short), and its opening: the first sentences
#: while they stay under this share of it, at most this many. Tuned on benchmarks/condense.py.
LEDE_TARGET_WORDS = 150
LEDE_OPENING_SHARE = 0.55
LEDE_OPENING_UNITS = 6
#: A long article (more sentences than this) packs more of its news into its opening: it takes a larger share.
LONG_ARTICLE_UNITS = 35
LONG_OPENING_SHARE = 0.65
#: How a sentence's worth to the lede is weighed (see the module docstring).
CENTRALITY_WEIGHT = 0.7
HEADLINE_WEIGHT = 0.2
POSITION_WEIGHT = 1.0
#: The position (in sentences) at which the position bonus has halved.
POSITION_SCALE = 4
#: How much a sentence's likeness to what the lede already says (its highest cosine) takes off its worth.
REDUNDANCY_WEIGHT = 0.6
#: Only the first units of the lead are ranked, so the graph stays small.
GRAPH_MAX_UNITS = 80
#: Article headings kept at most (FORMAT.md's sections).
MAX_HEADED_SECTIONS = 6


def keep_headings(lead: Article) -> tuple[tuple[str, ...], list[Section]]:
    """The lede and the article's own sections, headings verbatim and in order (none when it has none).

    An article opening on a question has no intro: its first answer paragraphs become the lede, and the
    question keeps what is left of its answer, or goes when nothing is.
    """
    sections = list(lead.sections[:MAX_HEADED_SECTIONS])
    if not sections:
        return (), []
    if lead.intro:
        return _opening_paragraphs(lead.intro, keep_all_up_to=LEDE_MAX_PARAGRAPHS), sections
    first = sections[0]
    lede = _opening_paragraphs(first.answer, keep_all_up_to=0)
    rest = first.answer[len(lede) :]
    sections[0:1] = [Section(first.question, rest)] if rest else []
    return lede, sections


def _opening_paragraphs(paragraphs: Sequence[str], keep_all_up_to: int) -> tuple[str, ...]:
    """All ``paragraphs`` when there are at most ``keep_all_up_to``, else the first up to about 200 words.

    At least one paragraph and at most four; a second one is taken even past 200 words.
    """
    if len(paragraphs) <= keep_all_up_to:
        return tuple(paragraphs)
    kept: list[str] = []
    total = 0
    for paragraph in paragraphs[:LEDE_MAX_PARAGRAPHS]:
        words = word_count(paragraph)
        if kept and (total + words > LEDE_MAX_WORDS and (len(kept) >= 2 or keep_all_up_to == 0)):
            break
        kept.append(paragraph)
        total += words
    return tuple(kept)


def lede_units(lead_units: Sequence[Unit], headline: str, budget: int) -> list[list[Unit]]:
    """Lede paragraphs: the opening units, then the best-scored ones up to the target length, in source order.

    The target is LEDE_TARGET_WORDS (less for a short story: ``budget``), never more than ``budget``.
    """
    start = next((i for i, u in enumerate(lead_units[:6]) if opens_news(u)), 0)
    pool = list(lead_units[start : start + GRAPH_MAX_UNITS])
    target = min(LEDE_TARGET_WORDS, budget)
    taken = [0]
    opening_share = LEDE_OPENING_SHARE if len(lead_units) <= LONG_ARTICLE_UNITS else LONG_OPENING_SHARE
    for index in range(1, min(LEDE_OPENING_UNITS, len(pool))):
        total = sum(pool[i].words for i in taken)
        if total >= opening_share * target or total + pool[index].words > budget:
            break
        taken.append(index)
    # At most four units, so at most four paragraphs: a layout always exists.
    layout = _lede_layout([pool[i] for i in taken]) or [[pool[i] for i in taken]]
    similarity = similarity_graph(tfidf_vectors([content_words(u.text) for u in pool]))
    scores = _lede_scores(pool, headline, similarity)
    refused: set[int] = set()
    while (total := sum(pool[i].words for i in taken)) < target:
        best: tuple[float, int] | None = None
        for index, unit in enumerate(pool):
            if index in taken or index in refused or total + unit.words > budget:
                continue
            if misleading_opener(unit.text) and index - 1 not in taken:
                # "But the council refused": a connective answers the sentence before it, as a
                # pronoun points at one; away from it, it answers whatever the lede says instead.
                continue
            # A unit saying again what the lede says is worth less (the lede has no room for it).
            repeated = max((similarity[index].get(i, 0.0) for i in taken), default=0.0)
            value = scores[index] - REDUNDANCY_WEIGHT * repeated
            if best is None or value > best[0]:
                best = (value, index)
        if best is None:
            break
        tried = _lede_layout([pool[i] for i in (*taken, best[1])])
        if tried is None:
            refused.add(best[1])
            continue
        taken.append(best[1])
        layout = tried
    # A sentence pointing back at one the lede took would point at nothing elsewhere: it joins when it fits.
    for index in range(1, len(pool)):
        unit = pool[index]
        total = sum(pool[i].words for i in taken)
        if index in taken or index - 1 not in taken or not points_back(unit) or total + unit.words > budget:
            continue
        tried = _lede_layout([pool[i] for i in (*taken, index)])
        if tried is not None:
            taken.append(index)
            layout = tried
    return layout


def _lede_scores(
    pool: Sequence[Unit], headline: str, similarity: Sequence[Mapping[int, float]]
) -> list[float]:
    """Each unit's worth to the lede: its centrality, its share of the headline, and how early it comes."""
    central = pagerank(similarity)
    top = max(central, default=0.0) or 1.0
    headline_words = set(content_words(headline))
    scores: list[float] = []
    for position, unit in enumerate(pool):
        shared = len(headline_words & set(content_words(unit.text)))
        overlap = shared / len(headline_words) if headline_words else 0.0
        scores.append(
            CENTRALITY_WEIGHT * central[position] / top
            + HEADLINE_WEIGHT * overlap
            + POSITION_WEIGHT / (1 + position / POSITION_SCALE)
        )
    return scores


def _lede_layout(units: Sequence[Unit]) -> list[list[Unit]] | None:
    """The lede's units (any order) as 1-4 paragraphs, or None when they cannot be laid out in four.

    Units of one source paragraph share a lede paragraph (cut into chunks of about 60 words); then the
    two neighbouring paragraphs shortest together are merged until four remain. Units are only ever
    joined where the joined text splits into exactly their sentences again, so every sentence of the
    lede stays a source sentence. One paragraph of several units is split where its words halve.
    """
    groups: list[list[Unit]] = []
    for unit in sorted(units, key=lambda u: u.order):
        last = groups[-1] if groups else None
        if last is not None and last[-1].order[:2] == unit.order[:2] and _joinable(last[-1], unit):
            last.append(unit)
        else:
            groups.append([unit])
    paragraphs = [chunk for group in groups for chunk in chunked(group)]
    while len(paragraphs) > LEDE_MAX_PARAGRAPHS:
        pairs = [i for i in range(len(paragraphs) - 1) if _joinable(paragraphs[i][-1], paragraphs[i + 1][0])]
        if not pairs:
            return None
        at = min(pairs, key=lambda i: (total_words(paragraphs[i]) + total_words(paragraphs[i + 1]), i))
        paragraphs[at : at + 2] = [paragraphs[at] + paragraphs[at + 1]]
    if len(paragraphs) == 1 and len(paragraphs[0]) >= 2:
        # One long paragraph reads as a wall.
        only = paragraphs[0]
        half = total_words(only) / 2
        cut = next(i for i in range(1, len(only) + 1) if total_words(only[:i]) >= half)
        cut = min(max(cut, 1), len(only) - 1)
        paragraphs = [only[:cut], only[cut:]]
    return paragraphs


def _joinable(first: Unit, second: Unit) -> bool:
    """Whether ``first`` and ``second`` joined by a space split into exactly their own sentences."""
    return split_sentences(f"{first.text} {second.text}") == [*first.parts, *second.parts]
