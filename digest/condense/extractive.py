"""The default condenser: offline, deterministic, and quoting only the sources.

Every sentence of a briefing made here is a sentence of the story's articles,
verbatim; only the questions are written by the condenser. Method:

1. **Articles with question headings** (``Article.sections``) keep them: the
   questions verbatim and in order (at most six), each with its own paragraphs
   unchanged; the lede is the intro, its first paragraphs up to about 200
   words when it has more than four. When the article opens on a question
   (no intro), the lede is taken from that first answer's paragraphs; the
   question keeps what remains, or goes when nothing remains.
2. **Otherwise** the text is cut into *units*: a sentence (``digest.text``),
   or a few neighbouring sentences of one paragraph that must not part. A
   quoted run stays with its attribution (a quote attributed only by "he
   said", or an unattributed quote after a quote, joins the sentence before
   it), and a sentence opening on a dangling pronoun ("It", "They") or on
   "One of them" joins the one it points back to.
   Units repeating one already seen (content words mostly shared, across all
   articles of the story) are dropped.
   * The *lede* is drawn from the lead article, in single sentences (a
     quote still with its attribution), and keeps source order. It opens on
     the first sentence that states news (five words or more, not a
     question, not opening on a dangling pronoun) and runs on with the
     following ones while under 55% of the target (150 words, at most half
     the story), six at most. Then, until the target is reached (never past
     200 words), it adds the sentence of highest *worth*: 0.7 x centrality
     (PageRank over the TF-IDF cosine graph of the lead's first 80
     sentences, divided by the highest) + 0.2 x the share of the headline's
     content words it holds + 1.0 / (1 + position / 3), less 0.6 x its
     highest cosine with a sentence the lede already holds (no saying
     things twice). A sentence pointing back ("It", "They") is taken only
     after the one it points to, and one pointing back at a lede sentence
     follows it into the lede when it fits, else leaves the briefing. Lede
     sentences of one source paragraph share a lede paragraph (cut at about
     60 words); the neighbouring paragraphs shortest together are merged
     until at most four remain (a sentence that would make that impossible
     is passed over). The weights were tuned on ``benchmarks/condense.py``.
     Lede sentences are not used again in sections.
   * Each remaining unit is scored for the six kinds of question of FORMAT.md
     by cue words: history and past years (*background*), quotes and a named
     speaker's words (*say*), actions (*response*), stances (*position*),
     risks and warnings (*fear*), plans and future years (*next*). A unit
     goes to the kind it fits best, so it is used once. Other sources' units
     join a kind only on strong cues. A kind with too little material is
     folded back into the leftovers; at most six sections, the smallest go.
   * Leftovers of the lead make a "What else ...?" section whenever at least
     80 words remain and a slot is free (two at most, placed before "What
     happens next?", which closes a briefing); other articles' units that no
     section used make a final "What are others reporting?" section.
3. **Questions** name the story's real actors (the *cast*), or fall back to a
   generic but correct wording ("What happens next?") rather than a wrong name:
   * Names are runs of capitalised words. Not names: a word capitalised only
     because it opens a sentence (it must also be capitalised mid-sentence
     and never written in lower case), days and months, demonyms ("Marengan
     aid group": a word ending -an/-ese/-ish/-ic that precedes lower-case
     nouns and never a verb), the dateline's place, and places that do not
     act (streets, quays, stations, rivers, lakes: "Harbour Street"). A
     title ("Mayor", "Dr.") stays in front of the name it belongs to; a later
     "Vasquez" is shown as the first full "Mayor Helen Vasquez".
   * Actors are the speakers of quotes and "X said" clauses, and the subjects
     of action and stance verbs, taken only when they form a clean noun
     phrase at a clause boundary: a name of 1-4 words, "the" and 1-3 words
     ending in a noun that can act ("the transport department"), a possessive
     ("the city's audit office"), or a group ("officials", "health workers").
   * The story's *main subject* is the headline's subject (its words before
     the first verb: "Council" gives "the council", "Kestrel moon lander"
     gives "the Kestrel moon lander"; a headline word in -s that the text uses
     as a noun is no verb) when the text refers to it ("the ... council") or
     names it, else the actor named most often (three times or more) that
     speaks or acts somewhere. It acts (a body, a role, a person named as a
     speaker or subject) or is a thing the story is about, which is never
     asked to respond, speak or take a position.
   * Each question is built from its kind and the actor of its answer: the
     speaker for *say* (the one of most quotes, or both of two), the subject
     of the cue verb for *response*, *position* and *fear*, else the main
     subject when the answer names it (an acting one for *response* and
     *position*; only a thing has a "background"), else a generic wording. Verbs agree with groups ("What
     do officials fear?"). Questions are at most 12 words, end in "?", and
     are never repeated.
4. Answers keep source order (at most about 180 words and six paragraphs);
   only units that are neighbours in the source share a paragraph, so every
   paragraph made is a slice of a source paragraph. The one exception: an
   answer opens on its first paragraph that could open news (five words or
   more, no pronoun pointing back, not a question), and the others follow in
   source order.
   A story of fewer than 60 words, or too few sentences for a lede and one
   section, gives None: it belongs in "Briefly".
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from pathlib import Path

from digest.condense import register, source_refs
from digest.config import CondenseConfig
from digest.text import (
    ABBREVIATIONS,
    STOPWORDS,
    content_words,
    cut_words,
    pagerank,
    similarity_graph,
    split_sentences,
    tfidf_vectors,
    word_count,
    word_set,
)
from digest.types import Article, Briefing, Dateline, Section, Story

MIN_STORY_WORDS = 60
LEDE_MIN_WORDS = 120
LEDE_MAX_WORDS = 200
LEDE_MAX_PARAGRAPHS = 4
#: Share of a short story's words the lede may take, so sections keep material.
LEDE_SHARE = 0.5
#: Lede paragraphs longer than this are cut into chunks of about CHUNK_WORDS.
CHUNK_WORDS = 60
#: The lede's length in words (less when the story is short), and its opening: the first sentences
#: while they stay under this share of it, at most this many. Tuned on benchmarks/condense.py.
LEDE_TARGET_WORDS = 150
LEDE_OPENING_SHARE = 0.55
LEDE_OPENING_UNITS = 6
#: How a sentence's worth to the lede is weighed (see the module docstring).
CENTRALITY_WEIGHT = 0.7
HEADLINE_WEIGHT = 0.2
POSITION_WEIGHT = 1.0
#: The position (in sentences) at which the position bonus has halved.
POSITION_SCALE = 3
#: How much a sentence's likeness to what the lede already says (its highest cosine) takes off its worth.
REDUNDANCY_WEIGHT = 0.6
#: Only the first units of the lead are ranked, so the graph stays small.
GRAPH_MAX_UNITS = 80
#: A sentence opening on a pronoun joins the one before it only while the unit stays this short.
UNIT_MAX_WORDS = 90
MAX_SECTIONS = 6
SECTION_MAX_WORDS = 180
SECTION_MAX_PARAGRAPHS = 6
#: A kind of question needs this many words of answer (or two units) to be asked.
SECTION_MIN_WORDS = 15
#: Leftovers this long make a "What else ...?" section; at most this many such sections.
GENERAL_MIN_WORDS = 80
MAX_GENERAL_SECTIONS = 2
OTHERS_MAX_WORDS = 150
QUESTION_MAX_WORDS = 12
HEADLINE_WORDS = 12
#: Share of content words two units share (of the smaller one) to count as a repeat.
REPEAT_OVERLAP = 0.7
#: Words in more units than this are not used to find repeats (they would make it quadratic).
REPEAT_INDEX_LIMIT = 200

DANGLING_OPENERS = word_set("he she it they this these those that his her its their him them there")

KINDS = ("background", "response", "say", "position", "fear", "next")
#: When a unit fits several kinds equally, the one earlier here wins.
_TIE_ORDER = ("say", "position", "next", "fear", "response", "background")


def _cues(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)


_KIND_CUES: dict[str, re.Pattern[str]] = {
    "fear": _cues(
        r"risks?|risky|warn(?:s|ed|ing|ings)?|threat(?:s|en|ens|ened)?|fears?|feared|dangers?|"
        r"dangerous|concerns?|concerned|worr(?:y|ies|ied|ying)|at stake|crisis|delays?|shortages?|"
        r"disrupt\w*|alarm(?:ed|ing)?|vulnerable|uncertain(?:ty)?|afraid|damag(?:e|ed|ing)|harm(?:ful)?|"
        r"losses|struggl(?:e|es|ed|ing)|pressure|trouble|collaps(?:e|ed)|fragile|jeopardi[sz]e|"
        r"could lose|cost (?:jobs|lives)|death toll|shortfall|slump(?:ed)?|slowdown|default"
    ),
    "response": _cues(
        r"sent|sends?|deploy(?:s|ed)?|announc(?:ed|es)|launch(?:ed|es)|order(?:ed|s)|pledged|promised|"
        r"approved|imposed|set up|evacuat\w*|closed|suspended|responded|introduced|dispatched|"
        r"mobili[sz]ed|distribut(?:ed|es|ing)|handling|measures|allocated|rushed|agreed|decided|"
        r"voted|moved to|stepped up|hired|invested|offered|tightened|banned|restricted|cancell?ed|"
        r"postponed|replaced|installed|arrested|charged|fined|sued|appealed|requested|signed|"
        r"investigat(?:e|es|ed|ing|ion)|inquiry|probe|stepp(?:ed|ing) in|took action|"
        r"(?:has|have) (?:begun|started)|began|tested|repaired|inspect(?:ed|ions?)|vaccinated|treated|"
        r"chartered|asked (?:the|for)|called in|brought in|set aside|refund(?:s|ed)?|flown out"
    ),
    "background": _cues(
        r"since|for (?:decades|years|months|generations)|ha[sdv]e? long|history|historic(?:al|ally)?|"
        r"previously|decades?|ago|last (?:year|decade|century)|originally|founded|dates back|"
        r"in the past|first built|used to|had been|was born|began in|started in|earlier this year|"
        r"at the time"
    ),
    "next": _cues(
        r"will|won't|plans?|planned|planning|expected|expects?|hopes? to|aims? to|intends? to|"
        r"next (?:week|month|year|season|step)|upcoming|scheduled|(?:is|are) set to|"
        r"later this (?:week|month|year)|by the end of|deadline|(?:is|are) due|due to (?:be|start|open)|"
        r"forecasts?|predict(?:s|ed)?|outlook|coming (?:weeks|months|years|days)|in future|"
        r"propos(?:e|es|ed|al)|going to|soon"
    ),
    "position": _cues(
        r"blam(?:e|es|ed|ing)|criticiz\w*|criticis\w*|calls? (?:for|on)|called (?:for|on)|urg(?:e|es|ed)|"
        r"demand(?:s|ed)?|accus\w+|condemn\w*|oppos(?:e|es|ed)|insist\w*|argu(?:e|es|ed)|"
        r"reject\w*|stance|denounc\w+|welcom(?:e|ed|es)|back(?:s|ed)|supports?|supported|defend(?:s|ed)|"
        r"den(?:y|ies|ied)|dismiss(?:es|ed)|believes?|in favour of|disagree[sd]?|prais(?:e|es|ed)|"
        r"slamm?(?:s|ed)|attack(?:s|ed)|question(?:s|ed)|challeng(?:e|es|ed)|complain(?:s|ed)?|"
        r"protest(?:s|ed)?|object(?:s|ed)|maintain(?:s|ed)"
    ),
}
_WEAK_FEAR = _cues(r"could|might")
_WEAK_NEXT = _cues(r"would|may")
_QUOTE = re.compile(r"[\"“][^\"”]{12,}[\"”]?")
_ATTRIBUTION_VERBS = r"said|says|told|added|stated|noted|explained|wrote|asked|concluded|insisted|argued"
_ATTRIBUTION = _cues(rf"{_ATTRIBUTION_VERBS}|according to")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
#: What a speaker does in "..., said X" and "X said ...".
_SAID_AFTER = re.compile(
    r"\b(?:said|says|added|stated|noted|explained|wrote|concluded|insisted|argued)\s+(.{1,120})"
)
_SAID_BEFORE = re.compile(rf"\b(?:has |had |also )?(?:{_ATTRIBUTION_VERBS})\b")
#: "She said": a quote whose speaker was named in the sentence before.
_PRONOUN_SAID = re.compile(
    rf"(?:^|[,\"”’]\s)(?:he|she|they|we|I)\s+(?:also\s+|later\s+)?(?:{_ATTRIBUTION_VERBS})\b", re.IGNORECASE
)
_OPENING_QUOTES = "\"“‘'"
_PART_OF_BEFORE = re.compile(
    r"(?:one|some|many|most|both|all|none|each|two|three|several|neither) of (?:them|those|these)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Unit:
    """One sentence, or neighbouring sentences of one paragraph that must stay together."""

    #: The sentences, verbatim.
    parts: tuple[str, ...]
    #: (article index in the story, paragraph index, first sentence index): the source order.
    order: tuple[int, int, int]
    #: The index of the last sentence in its paragraph.
    end: int
    words: int

    @property
    def text(self) -> str:
        return " ".join(self.parts)

    @property
    def article(self) -> int:
        return self.order[0]


@register("extractive")
class ExtractiveCondenser:
    """Builds briefings from the sources' own sentences; needs no network and no model."""

    only_computes = True

    def __init__(self, config: CondenseConfig, cache_dir: Path | None = None) -> None:
        # Nothing here is costly enough to cache; cache_dir is part of every backend's signature.
        self.config = config

    def notes(self) -> tuple[str, ...]:
        return ()

    def condense(self, story: Story, tz: tzinfo) -> Briefing | None:
        lead = story.lead
        if sum(a.word_count for a in story.articles) < MIN_STORY_WORDS:
            return None
        lede, sections = _keep_headings(lead)
        if sections:
            seen = _Repeats()
            for paragraph in lead.paragraphs:
                for sentence in split_sentences(paragraph):
                    seen.add(sentence)
            others = _distinct_units(story, seen, first_article=1)
        else:
            drafted = _draft_sections(story)
            if drafted is None:
                return None
            lede, sections, others = drafted
        if others and len(sections) < MAX_SECTIONS:
            sections.append(Section("What are others reporting?", _answer(_within(others, OTHERS_MAX_WORDS))))
        return Briefing(
            headline=_headline(lead),
            dateline=_dateline(story, tz),
            lede=lede,
            sections=tuple(sections),
            sources=source_refs(story),
        )


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


def _keep_headings(lead: Article) -> tuple[tuple[str, ...], list[Section]]:
    """The lede and the article's own sections, headings verbatim and in order (none when it has none).

    An article opening on a question has no intro: its first answer paragraphs become the lede, and the
    question keeps what is left of its answer, or goes when nothing is.
    """
    sections = list(lead.sections[:MAX_SECTIONS])
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


# --- units -----------------------------------------------------------------------------------


class _Repeats:
    """Remembers texts by their content words and tells whether a new one repeats one of them."""

    def __init__(self) -> None:
        self._words: list[frozenset[str]] = []
        self._index: dict[str, list[int]] = defaultdict(list)

    def add(self, text: str) -> bool:
        """Remember ``text``; False (and nothing remembered) when it repeats a text already seen."""
        words = frozenset(content_words(text))
        shared: Counter[int] = Counter()
        for word in words:
            postings = self._index.get(word, [])
            if len(postings) <= REPEAT_INDEX_LIMIT:
                shared.update(postings)
        for other, count in shared.items():
            other_words = self._words[other]
            smaller = min(len(words), len(other_words))
            # Below three words a share means little: only a text wholly contained in another repeats it.
            if smaller and count / smaller >= REPEAT_OVERLAP and (smaller >= 3 or count == smaller):
                return False
        number = len(self._words)
        self._words.append(words)
        for word in words:
            self._index[word].append(number)
        return True


def _has_quote(text: str) -> bool:
    return '"' in text or "“" in text or "”" in text


def _joins_previous(sentence: str, unit_parts: Sequence[str], pronouns: bool = True) -> bool:
    """Whether ``sentence`` must stay with the sentences before it in its paragraph.

    With ``pronouns`` False, only quotes bind: a sentence pointing back may stand apart.
    """
    before = " ".join(unit_parts)
    opens_quote = sentence[:1] in _OPENING_QUOTES
    # '"...," he said': the speaker was named before.
    if opens_quote and _PRONOUN_SAID.search(sentence):
        return True
    # A quote that runs on with no attribution of its own belongs to the quote before it.
    if opens_quote and _has_quote(before) and not _ATTRIBUTION.search(sentence):
        return True
    if not pronouns:
        return False
    # "It has long been ..." and "One of them ..." point back to the sentence before them.
    points_back = _first_word(sentence) in DANGLING_OPENERS or bool(_PART_OF_BEFORE.match(sentence))
    return points_back and word_count(before + " " + sentence) <= UNIT_MAX_WORDS


def _paragraph_units(paragraph: str, article: int, number: int) -> list[_Unit]:
    units: list[_Unit] = []
    parts: list[str] = []
    first = 0
    sentences = split_sentences(paragraph)
    for index, sentence in enumerate(sentences):
        if parts and not _joins_previous(sentence, parts):
            units.append(
                _Unit(tuple(parts), (article, number, first), index - 1, word_count(" ".join(parts)))
            )
            parts, first = [], index
        parts.append(sentence)
    if parts:
        units.append(
            _Unit(tuple(parts), (article, number, first), len(sentences) - 1, word_count(" ".join(parts)))
        )
    return units


def _finer(unit: _Unit) -> list[_Unit]:
    """``unit`` cut where only a sentence pointing back held it together; quotes stay with their speakers."""
    article, paragraph, first = unit.order
    pieces: list[list[str]] = []
    for part in unit.parts:
        if pieces and _joins_previous(part, pieces[-1], pronouns=False):
            pieces[-1].append(part)
        else:
            pieces.append([part])
    finer: list[_Unit] = []
    for piece in pieces:
        finer.append(
            _Unit(
                tuple(piece), (article, paragraph, first), first + len(piece) - 1, word_count(" ".join(piece))
            )
        )
        first += len(piece)
    return finer


def _sentence_places(unit: _Unit) -> set[tuple[int, int, int]]:
    """Where each sentence of ``unit`` stands: (article, paragraph, sentence index)."""
    article, paragraph, first = unit.order
    return {(article, paragraph, index) for index in range(first, unit.end + 1)}


def _distinct_units(story: Story, seen: _Repeats, first_article: int = 0) -> list[_Unit]:
    """The units of the story's articles from ``first_article`` on, repeats dropped, in source order."""
    units: list[_Unit] = []
    for article_index, article in enumerate(story.articles):
        if article_index < first_article:
            continue
        for paragraph_index, paragraph in enumerate(article.paragraphs):
            units += [
                u for u in _paragraph_units(paragraph, article_index, paragraph_index) if seen.add(u.text)
            ]
    return units


def _follows(earlier: _Unit, later: _Unit) -> bool:
    """Whether ``later`` comes right after ``earlier`` in the same source paragraph."""
    article, paragraph, _ = earlier.order
    return later.order == (article, paragraph, earlier.end + 1)


def _runs(units: Sequence[_Unit]) -> list[list[_Unit]]:
    """Units (in source order) cut where the source does not run on from one to the next.

    Only neighbours are joined into one paragraph, so each paragraph made is a
    slice of a source paragraph and splits into sentences exactly as the source did.
    """
    runs: list[list[_Unit]] = []
    for unit in units:
        if runs and _follows(runs[-1][-1], unit):
            runs[-1].append(unit)
        else:
            runs.append([unit])
    return runs


def _chunked(units: Sequence[_Unit]) -> list[list[_Unit]]:
    """``units`` (one paragraph's) cut into chunks of about CHUNK_WORDS words; short ones stay whole."""
    chunks: list[list[_Unit]] = []
    remaining = _words(units)
    current: list[_Unit] = []
    for unit in units:
        # Cut only when both halves stay paragraph-sized.
        if current and _words(current) >= CHUNK_WORDS and remaining >= CHUNK_WORDS // 3:
            chunks.append(current)
            current = []
        current.append(unit)
        remaining -= unit.words
    chunks.append(current)
    return chunks


def _words(units: Iterable[_Unit]) -> int:
    return sum(u.words for u in units)


def _within(units: Sequence[_Unit], limit: int) -> list[_Unit]:
    """The first units (source order) up to ``limit`` words and six paragraphs; at least one."""
    kept: list[_Unit] = []
    paragraphs = 0
    for unit in units:
        starts_paragraph = not kept or not _follows(kept[-1], unit)
        if kept and (
            _words(kept) + unit.words > limit or (starts_paragraph and paragraphs == SECTION_MAX_PARAGRAPHS)
        ):
            break
        paragraphs += starts_paragraph
        kept.append(unit)
    return kept


def _answer(units: Sequence[_Unit]) -> tuple[str, ...]:
    """Answer paragraphs: units in source order, neighbours in the source joined as they were;
    the first paragraph that can open an answer goes first."""
    runs = _runs(sorted(units, key=lambda u: u.order))
    # Under a question, a fragment such as "Construction began in 2022." reads as the answer
    # when it comes first; a paragraph that opens as news does not need what the reader lacks.
    opening = next((index for index, run in enumerate(runs) if _opens_news(run[0])), 0)
    ordered = [runs[opening], *runs[:opening], *runs[opening + 1 :]]
    return tuple(" ".join(u.text for u in run) for run in ordered)


# --- the lede --------------------------------------------------------------------------------


def _first_word(text: str) -> str:
    return text.lstrip(_OPENING_QUOTES + "(").split(" ", 1)[0].rstrip(",;:").lower()


def _opens_news(unit: _Unit) -> bool:
    return unit.words >= 5 and not unit.text.endswith("?") and _first_word(unit.text) not in DANGLING_OPENERS


def _points_back(unit: _Unit) -> bool:
    """Whether ``unit`` opens on words that need the text before it ("It", "They", "One of them")."""
    return _first_word(unit.text) in DANGLING_OPENERS or bool(_PART_OF_BEFORE.match(unit.text))


def _lede(lead_units: Sequence[_Unit], headline: str, budget: int) -> list[list[_Unit]]:
    """Lede paragraphs: the opening units, then the best-scored ones up to the target length, in source order.

    The target is LEDE_TARGET_WORDS (less for a short story: ``budget``), never more than ``budget``.
    """
    start = next((i for i, u in enumerate(lead_units[:6]) if _opens_news(u)), 0)
    pool = list(lead_units[start : start + GRAPH_MAX_UNITS])
    target = min(LEDE_TARGET_WORDS, budget)
    taken = [0]
    for index in range(1, min(LEDE_OPENING_UNITS, len(pool))):
        total = sum(pool[i].words for i in taken)
        if total >= LEDE_OPENING_SHARE * target or total + pool[index].words > budget:
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
            if _points_back(unit) and index - 1 not in taken:
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
        if index in taken or index - 1 not in taken or not _points_back(unit) or total + unit.words > budget:
            continue
        tried = _lede_layout([pool[i] for i in (*taken, index)])
        if tried is not None:
            taken.append(index)
            layout = tried
    return layout


def _lede_scores(
    pool: Sequence[_Unit], headline: str, similarity: Sequence[Mapping[int, float]]
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


def _lede_layout(units: Sequence[_Unit]) -> list[list[_Unit]] | None:
    """The lede's units (any order) as 1-4 paragraphs, or None when they cannot be laid out in four.

    Units of one source paragraph share a lede paragraph (cut into chunks of about 60 words); then the
    two neighbouring paragraphs shortest together are merged until four remain. Units are only ever
    joined where the joined text splits into exactly their sentences again, so every sentence of the
    lede stays a source sentence. One paragraph of several units is split where its words halve.
    """
    groups: list[list[_Unit]] = []
    for unit in sorted(units, key=lambda u: u.order):
        last = groups[-1] if groups else None
        if last is not None and last[-1].order[:2] == unit.order[:2] and _joinable(last[-1], unit):
            last.append(unit)
        else:
            groups.append([unit])
    paragraphs = [chunk for group in groups for chunk in _chunked(group)]
    while len(paragraphs) > LEDE_MAX_PARAGRAPHS:
        pairs = [i for i in range(len(paragraphs) - 1) if _joinable(paragraphs[i][-1], paragraphs[i + 1][0])]
        if not pairs:
            return None
        at = min(pairs, key=lambda i: (_words(paragraphs[i]) + _words(paragraphs[i + 1]), i))
        paragraphs[at : at + 2] = [paragraphs[at] + paragraphs[at + 1]]
    if len(paragraphs) == 1 and len(paragraphs[0]) >= 2:
        # One long paragraph reads as a wall.
        only = paragraphs[0]
        half = _words(only) / 2
        cut = next(i for i in range(1, len(only) + 1) if _words(only[:i]) >= half)
        cut = min(max(cut, 1), len(only) - 1)
        paragraphs = [only[:cut], only[cut:]]
    return paragraphs


def _joinable(first: _Unit, second: _Unit) -> bool:
    """Whether ``first`` and ``second`` joined by a space split into exactly their own sentences."""
    return split_sentences(f"{first.text} {second.text}") == [*first.parts, *second.parts]


# --- the sections ----------------------------------------------------------------------------


def _draft_sections(story: Story) -> tuple[tuple[str, ...], list[Section], list[_Unit]] | None:
    """Lede, sections and the other sources' unused units; None when the story is too short."""
    units = _distinct_units(story, _Repeats())
    total = _words(units)
    if total < MIN_STORY_WORDS or len(units) < 2:
        return None
    budget = max(1, min(LEDE_MAX_WORDS, int(total * LEDE_SHARE)))
    # The lede picks single sentences; a sentence pointing back is taken only after the one it points to.
    finer = [f for u in units if u.article == 0 for f in _finer(u)]
    lede = _lede(finer, story.lead.entry.title, budget)
    in_lede = {place for p in lede for u in p for place in _sentence_places(u)}
    # What is left of a unit the lede cut would open on a dangling pronoun: it goes too.
    rest = [u for u in units if not _sentence_places(u) & in_lede]
    if not rest:
        # Leave the section at least the lede's last unit.
        lede[-1], rest = lede[-1][:-1], [lede[-1][-1]]
        lede = [p for p in lede if p]
        if not lede:
            return None
    drafts, leftovers = _plan(_classify(rest, story.lead.entry.published.year))
    cast = _Cast(units, story.lead.entry.title, story.lead.place)
    own_leftovers = [u for u in leftovers if u.article == 0]
    others = [u for u in leftovers if u.article > 0]
    generals: list[tuple[str, list[_Unit]]] = []
    # Unused text of the lead makes up to two "What else?" sections, while slots are free.
    while own_leftovers and len(generals) < MAX_GENERAL_SECTIONS:
        free_slots = MAX_SECTIONS - len(drafts) - len(generals) - (1 if others else 0)
        # A lead with nothing beyond its lede gets one whatever its length; otherwise it must be worth it.
        if (drafts or generals) and (free_slots <= 0 or _words(own_leftovers) < GENERAL_MIN_WORDS):
            break
        general = _within(own_leftovers, SECTION_MAX_WORDS)
        generals.append(("general", general))
        own_leftovers = own_leftovers[len(general) :]
    # "What else?" reads best before "What happens next?", which closes a briefing.
    at = len(drafts) - 1 if drafts and drafts[-1][0] == "next" else len(drafts)
    drafts[at:at] = generals
    if not drafts and others:
        # A lead with nothing beyond its lede: the other sources are the only section.
        drafts.append(("others", _within(others, OTHERS_MAX_WORDS)))
        others = []
    if not drafts:
        return None
    sections: list[Section] = []
    asked: set[str] = set()
    for kind, chosen in drafts:
        question = "What are others reporting?" if kind == "others" else _question(kind, chosen, cast, asked)
        asked.add(question)
        sections.append(Section(question, _answer(chosen)))
    return tuple(" ".join(u.text for u in p) for p in lede), sections, others


def _classify(units: Sequence[_Unit], story_year: int) -> dict[str, list[_Unit]]:
    """Units by the kind of question they answer ("" for none), each in one kind, in source order."""
    by_kind: dict[str, list[_Unit]] = defaultdict(list)
    previous_kind: dict[int, str] = {}
    for unit in units:
        # Other sources' units join a kind only on strong cues; the rest is "what others report".
        kind = _best_kind(unit.text, story_year, min_score=1.0 if unit.article == 0 else 2.0)
        if unit.order[2] == 0 and _first_word(unit.text) in DANGLING_OPENERS:
            # A paragraph opening on "It" or "They" continues the one before it.
            kind = previous_kind.get(unit.article) or kind
        previous_kind[unit.article] = kind
        by_kind[kind].append(unit)
    return by_kind


def _plan(by_kind: dict[str, list[_Unit]]) -> tuple[list[tuple[str, list[_Unit]]], list[_Unit]]:
    """The sections worth asking, in reading order, and the units left over (in source order)."""
    leftovers = list(by_kind.get("", []))
    drafts: list[tuple[str, list[_Unit]]] = []
    for kind in KINDS:
        material = by_kind.get(kind, [])
        if _words(material) < SECTION_MIN_WORDS and len(material) < 2:
            leftovers.extend(material)
            continue
        chosen = _within(material, SECTION_MAX_WORDS)
        leftovers.extend(material[len(chosen) :])
        drafts.append((kind, chosen))
    others = [u for u in leftovers if u.article > 0]
    # Facts only other sources report are worth a section of their own: they take the last slot.
    slots = MAX_SECTIONS - 1 if _worth_a_section(others) else MAX_SECTIONS
    while len(drafts) > slots:
        smallest = min(range(len(drafts)), key=lambda i: (_words(drafts[i][1]), -i))
        leftovers.extend(drafts.pop(smallest)[1])
    return drafts, sorted(leftovers, key=lambda u: u.order)


def _worth_a_section(units: Sequence[_Unit]) -> bool:
    return _words(units) >= SECTION_MIN_WORDS or len(units) >= 2


def _best_kind(text: str, story_year: int, min_score: float = 1.0) -> str:
    """The kind of question ``text`` answers best, or "" when no kind scores ``min_score``."""
    scores: dict[str, float] = {kind: float(len(cue.findall(text))) for kind, cue in _KIND_CUES.items()}
    # Hedges and reported speech hint at a kind but do not make one alone.
    scores["fear"] += 0.5 * len(_WEAK_FEAR.findall(text))
    scores["next"] += 0.5 * len(_WEAK_NEXT.findall(text))
    for year in _YEAR.findall(text):
        if int(year) < story_year:
            scores["background"] += 1
        elif int(year) > story_year:
            scores["next"] += 1
    # "What does X say?" wants direct quotes most; a named speaker's reported words will do.
    attributed = 1.0 if _ATTRIBUTION.search(text) else 0.0
    # \w{0,40}, not \w+: on a 100,000-letter "word" an unbounded run backtracks from every
    # capital, quadratic time (minutes); no name is longer.
    named_speaker = bool(
        re.search(rf"\b(?:{_ATTRIBUTION_VERBS})\s+[A-Z]|[A-Z]\w{{0,40}}\s+(?:{_ATTRIBUTION_VERBS})\b", text)
    )
    scores["say"] = 2.0 + attributed if _QUOTE.search(text) else attributed * named_speaker
    best = max(_TIE_ORDER, key=lambda kind: (scores[kind], -_TIE_ORDER.index(kind)))
    return best if scores[best] >= min_score else ""


# --- the cast: who a question can name ---------------------------------------------------------

#: Lower-case nouns for bodies and roles that act, speak and take positions ("the agency").
ACTOR_NOUNS = word_set(
    """
    agency council government ministry department mayor president minister company firm bank union party
    court committee commission authority utility operator city state board regulator association group
    spokesman spokeswoman spokesperson director chief team governor prosecutor judge club manager coach
    chairman chairwoman chair executive owner administration office army military navy airline carrier
    insurer charity organisation organization federation league parliament senate congress cabinet premier
    chancellor leader opposition institute university school hospital service trust fund corporation
    developer contractor landlord network broadcaster police watchdog inquiry panel secretary ambassador
    embassy county province region prime king queen prince campaign manufacturer producer retailer
    """
)
#: Plural nouns for groups that act ("officials", "health workers").
GROUP_NOUNS = word_set(
    """
    officials police authorities analysts economists residents engineers scientists researchers critics
    campaigners experts doctors nurses teachers workers farmers landlords tenants shopkeepers unions
    investors traders lawmakers legislators ministers leaders negotiators protesters activists voters fans
    players parents students patients passengers airlines banks companies firms regulators inspectors
    firefighters rescuers volunteers officers troops soldiers prosecutors judges opponents supporters
    diplomats governments members staff executives developers producers manufacturers retailers
    consumers customers drivers pilots owners businesses opposition governors mayors councillors
    """
)
#: Capitalised words ending an organisation's name: it is shown with "the" ("the Labor Department").
ORG_HEADS = word_set(
    """
    agency department ministry council commission association society institute university service office
    authority union fund board committee corporation party bank trust foundation federation league
    organisation organization alliance court coalition observatory company group network centre center
    """
)
#: A name ending in one of these (or opening on one of the openers) is a place, which does not act.
PLACE_ENDS = word_set(
    """
    street st road rd avenue ave lane square boulevard blvd quay station walk way drive bridge river lake
    bay hills valley island islands highway motorway airport harbour harbor town city village district
    terminal park shelf coast beach canal
    """
)
PLACE_OPENERS = word_set("lake mount mt river cape port fort gulf")
#: Titles kept in front of a person's name ("Mayor Helen Vasquez").
TITLES = word_set(
    """
    mayor president governor dr prof professor sen senator gov minister chancellor judge king queen prince
    princess pope general gen captain capt sir lord lady dame councillor secretary chief deputy inspector
    sheriff coach rev mr mrs ms prime foreign finance health transport interior defence defense justice
    commissioner ambassador director sergeant sgt colonel col lieutenant lt detective
    """
)
_NOT_NAMES = word_set(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december i however meanwhile earlier later last yesterday today
    tomorrow after before while when although officials police according
    """
)
#: Words that follow a name used as a name (a verb, an auxiliary), never a demonym.
_VERBISH = word_set(
    """
    is was are were has have had said says will would could can may might must did does should told added
    also has wants warned
    """
)
_DEMONYM_ENDS = ("an", "ese", "ish", "ic", "ch", "i")
_NAME_TOKEN = re.compile(r"[A-Z][\w.'’&-]*")
_EDGE_PUNCTUATION = "\"'“”‘’(),;:!?[]…"
_POSSESSIVE = re.compile(r"['’]s?$")
_CLAUSE_OPENERS = word_set(
    "and but that while as after when because so where although though if then whom who"
)
_AUXILIARIES = word_set(
    "has have had also is are was were will would could did does do not then now already quickly swiftly "
    "since today yesterday later still both"
)
_SUBJECT_PRONOUNS = word_set("it they he she")
_CONTRACTION = re.compile(r"['’](?:ve|ll|m|d|re|t)$")
#: Words before a noun: a headline word after one of these in the text is no verb.
_NOUN_MARKERS = r"(?:the|a|an|its|their|his|her|our|of|and|more|many|some|these|those|new|\d[\d,.]*)"
_HEADLINE_VERBS = word_set(
    """
    set hit cut put held won lost found made took taken given gave shut seen saw told sent left quit struck
    beaten hurt led paid sold sought kept met ran rose fell fallen grew grown drew drawn began begun broke
    broken bought brought built caught chose fought flew froze got heard hid knew laid lent let lit meant
    overtook read rode rang sank sat slid sped spent split spread stood stole stuck swept swore threw thrown
    tore underwent upheld wrote written is are was were be to face faces eye vows vow
    """
)


@dataclass(frozen=True)
class _Actor:
    """Who or what a question names."""

    #: As shown in a question: "Mayor Helen Vasquez", "the agency", "officials", "the Kestrel moon lander".
    text: str
    plural: bool = False
    #: False for a thing the story is about: it is never asked to respond, speak or take a position.
    acts: bool = True


@dataclass(frozen=True)
class _Name:
    """A name found in a sentence: its words, the title in front, and whether it is a place."""

    words: tuple[str, ...]
    title: tuple[str, ...]
    place: bool

    @property
    def key(self) -> str:
        """What later mentions share: a person's surname, an organisation's whole name."""
        return " ".join(self.words) if self.words[-1].lower() in ORG_HEADS else self.words[-1]

    @property
    def shown(self) -> str:
        text = " ".join((*self.title, *self.words))
        if not self.title and self.words[-1].lower() in ORG_HEADS and len(self.words) >= 2:
            return "the " + text
        return text


def _bare(raw: str) -> str:
    """A token without its surrounding punctuation, possessive or sentence-final period."""
    word = _POSSESSIVE.sub("", raw.strip(_EDGE_PUNCTUATION))
    if word.endswith(".") and word[:-1].lower() not in ABBREVIATIONS:
        word = word.rstrip(".")
    return word


def _sentence_starts(tokens: Sequence[str]) -> set[int]:
    """Token positions that open a sentence or a quoted sentence (their capital says nothing)."""
    starts = {0}
    for index, raw in enumerate(tokens):
        if raw[:1] in '"“‘(' or (index and tokens[index - 1].endswith(":")):
            starts.add(index)
    return starts


class _Cast:
    """The actors of a story: names, speakers and subjects, and the story's main subject."""

    def __init__(self, units: Sequence[_Unit], headline: str, place: str) -> None:
        sentences = [part for unit in units for part in unit.parts]
        self._text = " ".join(sentences)
        self._lower_text = self._text.lower()
        #: How often each word is written in lower case, and capitalised past a sentence's start.
        self._lower: Counter[str] = Counter()
        self._mid_caps: Counter[str] = Counter()
        #: Words that stand alone as a name mid-sentence ("in Greece", not only "Almera Water").
        self._mid_alone: set[str] = set()
        followers: dict[str, list[str]] = defaultdict(list)
        for sentence in sentences:
            tokens = sentence.split(" ")
            starts = _sentence_starts(tokens)
            capitals = [_bare(raw)[:1].isupper() for raw in tokens]
            for index, raw in enumerate(tokens):
                word = _bare(raw)
                if not word:
                    continue
                if word.islower():
                    self._lower[word] += 1
                elif word[:1].isupper() and index not in starts:
                    self._mid_caps[word] += 1
                    if not capitals[index - 1] and not (index + 1 < len(tokens) and capitals[index + 1]):
                        self._mid_alone.add(word)
                if word[:1].isupper() and index + 1 < len(tokens) and raw == raw.rstrip(_EDGE_PUNCTUATION):
                    possessive = bool(_POSSESSIVE.search(raw.strip(_EDGE_PUNCTUATION)))
                    followers[word].append("'s" if possessive else _bare(tokens[index + 1]))
        self._demonyms = frozenset(w for w, after in followers.items() if _is_demonym(w, after))
        # "The Conservatives are ...": a name in -s that takes a plural verb names a group.
        self._plural_names = frozenset(
            w
            for w, after in followers.items()
            if w.endswith("s")
            and sum(a in ("are", "were", "have") for a in after)
            > sum(a in ("is", "was", "has") for a in after)
        )
        self._place_words = frozenset(place.split())
        self.counts: Counter[str] = Counter()
        self._forms: dict[str, _Name] = {}
        for sentence in sentences:
            for name in self.names(sentence):
                if not name.place:
                    self.counts[name.key] += 1
                    self._remember(name)
        self._acting: set[str] = set()
        for sentence in sentences:
            for actor in (self._speaker(sentence), *self._subjects(sentence, _KIND_CUES["response"])):
                if actor is not None:
                    self._acting.add(actor.text)
        self.main = self._headline_subject(headline) or self._most_named()

    # names

    def names(self, sentence: str) -> list[_Name]:
        """The names in ``sentence``, in order."""
        tokens = sentence.split(" ")
        starts = _sentence_starts(tokens)
        found: list[_Name] = []
        run: list[tuple[int, str, str]] = []
        for index, raw in enumerate(tokens):
            word = _bare(raw)
            is_name = (
                bool(_NAME_TOKEN.match(word))
                and word.lower() not in _NOT_NAMES
                and not _CONTRACTION.search(word)
            )
            if is_name or (word == "of" and run):
                run.append((index, word, raw))
            # A name ends at a word that is not one, or at punctuation closing a phrase or a sentence.
            closes = raw[-1:] in ',;:?!"”)' or (raw.endswith(".") and not word.endswith("."))
            if (not is_name and word != "of") or closes:
                found += self._clean(run, starts)
                run = []
        found += self._clean(run, starts)
        return found

    def _clean(self, run: list[tuple[int, str, str]], starts: set[int]) -> list[_Name]:
        """The name a run of capitalised words makes, if any."""
        while run and run[-1][1] == "of":
            run.pop()
        # A capital at a sentence's start proves nothing: the word must be capitalised mid-sentence too.
        if run and run[0][0] in starts and not _is_title(run[0][1]):
            first = run[0][1]
            alone = len(run) == 1
            if (
                first.lower() in STOPWORDS
                or first.lower() in self._lower
                or first not in (self._mid_alone if alone else self._mid_caps)
            ):
                run = run[1:]
        while run and (run[0][1] == "of" or run[0][1].lower() in STOPWORDS):
            run = run[1:]
        title: list[str] = []
        # "Health Ministry" is a body; in "UK Foreign Secretary Jack Straw" the person is "Jack Straw",
        # with the title "Foreign Secretary" (what comes before a title only qualifies it).
        if run and run[-1][1].lower() not in ORG_HEADS:
            at = next((i for i, item in enumerate(run[:-1]) if _is_title(item[1])), len(run))
            end = at
            while end < len(run) - 1 and _is_title(run[end][1]):
                end += 1
            title = [raw.strip(_EDGE_PUNCTUATION) for _, _, raw in run[at:end]]
            run = run[end:] if title else run
        words = tuple(word for _, word, _ in run)
        if not words or len(words) > 4:
            return []
        if all(w in self._place_words for w in words) or (len(words) == 1 and words[0] in self._demonyms):
            return []
        last, opener = words[-1].lower(), words[0].lower()
        place = last in PLACE_ENDS or (opener in PLACE_OPENERS and last not in ORG_HEADS)
        return [_Name(words, tuple(title), place)]

    def _remember(self, name: _Name) -> None:
        """Keep the fullest form of each actor: the first mention with the most words."""
        known = self._forms.get(name.key)
        if known is None or len(name.words) + len(name.title) > len(known.words) + len(known.title):
            self._forms[name.key] = name

    def _as_actor(self, name: _Name) -> _Actor | None:
        """A name as an actor in its fullest form ("the SEC" when the text says so); None for a place."""
        if name.place:
            return None
        full = self._forms.get(name.key, name)
        text = full.shown
        # "the SEC", but not "the Kestrel" of "the Kestrel lander".
        if not text.startswith("the ") and re.search(rf"\b[Tt]he {re.escape(text)}\b(?! [a-z])", self._text):
            text = "the " + text
        return _Actor(text, plural=full.words[-1] in self._plural_names)

    def _known_actor(self, name: _Name) -> _Actor | None:
        """``name`` as a speaker or subject: a one-word name must recur ("Holm"), else it may be a title's
        last word ("the singer of Because the Night told ...")."""
        if len(name.words) == 1 and not name.title and self.counts[name.key] < 2:
            return None
        return self._as_actor(name)

    # speakers and subjects

    def _speaker(self, sentence: str) -> _Actor | None:
        """Who speaks in ``sentence``: "..., said X", "..., X said", "X told ..."; None for "she said"."""
        after = _SAID_AFTER.search(sentence)
        if after:
            actor = self._phrase_after(after.group(1))
            if actor is not None:
                return actor
        for match in _SAID_BEFORE.finditer(sentence):
            actor = self._phrase_before(sentence[: match.start()])
            if actor is not None:
                return actor
        return None

    def _phrase_after(self, text: str) -> _Actor | None:
        """The speaker named right after "said": "Mayor Helen Vasquez", "councillor Amira Haddad"."""
        tokens = text.split(" ")
        # Lower-case role words may come before the name: "said deputy minister Karin Holm".
        skip = 0
        while skip < min(3, len(tokens)) and tokens[skip].isalpha() and tokens[skip].islower():
            if tokens[skip] in STOPWORDS:
                break
            skip += 1
        if skip < len(tokens) and tokens[skip][:1].isupper():
            names = self.names("x " + " ".join(tokens[skip:]))
            if names and " ".join(tokens[skip:]).startswith((*names[0].title, *names[0].words)[0]):
                return self._known_actor(names[0])
            return None
        if tokens[0] in ("the", "The"):
            clause = re.split(r"[,.;:]", text, maxsplit=1)[0]
            return _role_phrase(clause.split(" ")[:5])
        return None

    def _phrase_before(self, text: str) -> _Actor | None:
        """The clean noun phrase ending ``text`` (which a verb follows), at a clause boundary."""
        tokens = text.rstrip().split(" ")
        # "the agency said it had ordered": the actor is the one that said.
        while tokens and tokens[-1].lower() in _AUXILIARIES:
            tokens.pop()
        if (
            len(tokens) >= 2
            and tokens[-1].lower() in _SUBJECT_PRONOUNS
            and _bare(tokens[-2]) in ("said", "says", "added", "announced")
        ):
            tokens = tokens[:-2]
            while tokens and tokens[-1].lower() in _AUXILIARIES:
                tokens.pop()
        if tokens and tokens[-1].endswith(","):
            tokens = _before_appositive(tokens)
        if not tokens or not tokens[-1] or tokens[-1][-1:] in ",;:":
            return None
        # The longest clean phrase ending here, whose first word opens a clause.
        for size in range(min(5, len(tokens)), 0, -1):
            phrase, before = tokens[-size:], tokens[:-size]
            if any(raw[-1:] in ",;:" for raw in phrase[:-1]) or not _opens_clause(before, phrase):
                continue
            actor = self._noun_phrase(phrase, at_start=not before)
            if actor is not None:
                return actor
        return None

    def _noun_phrase(self, phrase: list[str], at_start: bool) -> _Actor | None:
        """``phrase`` as an actor when it is a name, "the" + a role, a possessive role, or a group."""
        if phrase[-1][:1].isupper():
            if phrase[0] in ("the", "The"):
                phrase = phrase[1:]
                at_start = False
            sentence = ("" if at_start else "x ") + " ".join(phrase)
            names = self.names(sentence)
            if (
                len(names) == 1
                and " ".join(phrase)
                .strip(_EDGE_PUNCTUATION)
                .startswith((*names[0].title, *names[0].words)[0])
                and _bare(phrase[-1]) == names[0].words[-1]
            ):
                return self._known_actor(names[0])
            return None
        role = _role_phrase(phrase)
        if role is not None:
            return role
        return self._group(phrase, at_start)

    def _group(self, phrase: list[str], at_start: bool) -> _Actor | None:
        """A group: "officials", "health workers", "Keldaran officials" (a plural noun, one modifier)."""
        head = _bare(phrase[-1])
        if head not in GROUP_NOUNS or len(phrase) > 2:
            return None
        if len(phrase) == 1:
            return _Actor(head, plural=True)
        modifier = _bare(phrase[0])
        if modifier.lower() in STOPWORDS or modifier.lower() in _VERBISH or not modifier.isalpha():
            return None
        if (
            modifier[:1].isupper()
            and at_start
            and modifier not in self._demonyms
            and modifier not in self._mid_caps
        ):
            modifier = modifier.lower()
        return _Actor(f"{modifier} {head}", plural=True)

    def _subjects(self, sentence: str, cue: re.Pattern[str]) -> list[_Actor | None]:
        """The actor before each cue verb of ``sentence`` (None where there is no clean one)."""
        return [self._phrase_before(sentence[: m.start()]) for m in cue.finditer(sentence)]

    def speakers(self, units: Sequence[_Unit]) -> list[_Actor]:
        """The speaker of each attributed unit of ``units``, in order (quotes, else reported speech)."""
        quoted = [u for u in units if _QUOTE.search(u.text)] or list(units)
        found: list[_Actor] = []
        for unit in quoted:
            actor = next((a for a in map(self._speaker, unit.parts) if a is not None), None)
            if actor is None and len(unit.parts) > 1 and _PRONOUN_SAID.search(unit.text):
                # 'Brandt blamed the government. "...," he said.': "he" is the one named first.
                named = [n for n in self.names(unit.parts[0]) if not n.place]
                actor = self._as_actor(named[0]) if named else None
            if actor is not None:
                found.append(actor)
        return found

    def subject(self, units: Sequence[_Unit], cue: re.Pattern[str]) -> _Actor | None:
        """The first actor in source order that does what ``cue`` finds ("the agency ordered")."""
        for unit in units:
            for part in unit.parts:
                actor = next((a for a in self._subjects(part, cue) if a is not None), None)
                if actor is not None:
                    return actor
        return None

    # the main subject

    def _headline_subject(self, headline: str) -> _Actor | None:
        """The headline's words before its first verb, when they form a short noun phrase the text uses."""
        tokens = [t.strip(_EDGE_PUNCTUATION) for t in headline.split()]
        if not tokens or not tokens[0] or tokens[0].lower() in STOPWORDS:
            return None
        verb_at = next((i for i in range(1, len(tokens)) if self._is_headline_verb(tokens[i])), 0)
        subject = tokens[:verb_at]
        if not subject or any(not t or (t.lower() in STOPWORDS and t != "and") for t in subject):
            return None
        capitalised = [t[:1].isupper() for t in subject]
        if len(subject) > 2 and capitalised[-1] and capitalised[-2] and not all(capitalised):
            # "Carry On star Patsy Rowlands dies": the person named at the end.
            lower_at = max(i for i, cap in enumerate(capitalised) if not cap)
            subject = subject[lower_at + 1 :]
        elif _POSSESSIVE.search(subject[-1]):
            return None
        # A headline capitalises its first word whatever it is: keep the capital only for a name.
        first = _bare(subject[0])
        if self._lower[first.lower()] >= max(1, self._mid_caps[first]):
            subject = [subject[0].lower(), *subject[1:]]
        if all(t[:1].isupper() or t == "and" for t in subject):
            return self._named_subject(subject)
        head = subject[-1]
        # A thing the text itself calls "the ... line" ("the new tram line"), or names ("Kestrel").
        definite = re.search(rf"\bthe (?:[\w'’-]+ ){{0,3}}{re.escape(head.lower())}\b", self._lower_text)
        named = any(t[:1].isupper() and self._mid_caps[_bare(t)] for t in subject)
        if len(subject) > 3 or not (definite or (named and self._lower[head.lower()])):
            return None
        # "Tarvonia's central bank" and "officials" as they are; "the singer's film", "the council".
        named_owner = _POSSESSIVE.search(subject[0]) is not None and subject[0][:1].isupper()
        plural = head in GROUP_NOUNS
        text = " ".join(subject) if named_owner or plural else "the " + " ".join(subject)
        return _Actor(text, plural=plural, acts=head in ACTOR_NOUNS or plural)

    def _named_subject(self, words: Sequence[str]) -> _Actor | None:
        """A headline subject made of names ("Clarke", "Keldara and Norvasse"), when the text names them."""
        if len(words) > 4:
            return None
        names = [n for n in self.names("x " + " ".join(words)) if not n.place]
        if not names or any(self.counts[n.key] == 0 for n in names):
            return None
        if len(names) > 1:
            return _Actor(" ".join(words), plural=True)
        actor = self._as_actor(names[0])
        if actor is None:
            return None
        return _Actor(actor.text, acts=actor.text in self._acting or names[0].words[-1].lower() in ORG_HEADS)

    def _most_named(self) -> _Actor | None:
        """The actor named most often (three times at least) that speaks or acts somewhere, or None."""
        for key, count in self.counts.most_common():
            if count < 3:
                break
            actor = self._as_actor(self._forms[key])
            if actor is not None and actor.text in self._acting:
                return actor
        return None

    def _is_headline_verb(self, token: str) -> bool:
        """Whether a headline word past the first is a verb: "backs", "delayed", "to", "set".

        A word ending in -s that the text uses as a noun ("the fraudsters", "its profits") is not one.
        """
        if not token.islower():
            return False
        if token in _HEADLINE_VERBS:
            return True
        if token.endswith("ed") and len(token) > 4:
            return True
        plural_or_verb = token.endswith("s") and not token.endswith(("ss", "us", "is", "'s", "’s"))
        return (
            plural_or_verb
            and len(token) > 3
            and not re.search(rf"\b{_NOUN_MARKERS} {re.escape(token)}\b", self._lower_text)
        )


def _is_title(word: str) -> bool:
    return word.lower().rstrip(".") in TITLES


def _before_appositive(tokens: list[str]) -> list[str]:
    """The words before an appositive ending ``tokens``.

    "Karin Holm, who attended the opening," -> "Karin Holm".
    """
    for start in range(len(tokens) - 2, max(-1, len(tokens) - 14), -1):
        if tokens[start].endswith(","):
            opener = tokens[start + 1].lower()
            if opener in _APPOSITIVE_OPENERS:
                return [*tokens[:start], tokens[start][:-1]]
            return []
    return []


_APPOSITIVE_OPENERS = word_set("who which whose a an the its his her their one")


def _opens_clause(before: Sequence[str], phrase: Sequence[str]) -> bool:
    """Whether ``phrase`` (which ``before`` precedes) starts a clause, so it can be a verb's subject.

    Role words may stand between a clause's start and a name: "Deputy transport minister Karin Holm".
    """
    if phrase[0][:1].isupper():
        rest = list(before)
        for _ in range(3):
            if (
                rest
                and rest[-1].isalpha()
                and (
                    rest[-1].lower() in TITLES
                    or rest[-1].lower() in ACTOR_NOUNS
                    or (rest[-1].islower() and rest[-1] not in STOPWORDS)
                )
            ):
                rest.pop()
        before = rest
    if not before:
        return True
    return before[-1][-1:] in ',;:"”' or before[-1].lower() in _CLAUSE_OPENERS


def _is_demonym(word: str, followers: Sequence[str]) -> bool:
    """Whether ``word`` is only ever an adjective of origin ("Marengan aid group", never "Marengan said")."""
    if not word.endswith(_DEMONYM_ENDS) or not word.isalpha():
        return False
    before_lower = [w for w in followers if w.islower() and w not in _VERBISH and w not in STOPWORDS]
    used_as_name = any(w == "'s" or w.lower() in _VERBISH for w in followers)
    return bool(before_lower) and not used_as_name


def _role_phrase(tokens: Sequence[str]) -> _Actor | None:
    """A role: "the agency", "the city council", "the city's audit office", "Tarvonia's central bank"."""
    words = [_bare(t) if i == len(tokens) - 1 else t.strip(_EDGE_PUNCTUATION) for i, t in enumerate(tokens)]
    if not words:
        return None
    # The role word ends the phrase; the words before it must be modifiers, never verbs.
    if words[-1] not in ACTOR_NOUNS:
        if words and words[-1] in GROUP_NOUNS and words[0] in ("the", "The") and len(words) <= 3:
            return _Actor(" ".join(["the", *words[1:]]), plural=True)
        return None
    middle = words[1:-1]
    if len(middle) > 2 or any(w.lower() in _VERBISH or w.lower() in STOPWORDS for w in middle):
        return None
    if words[0] in ("the", "The"):
        if any(not re.fullmatch(r"[a-z][\w-]*(?:['’]s)?", w) for w in middle):
            return None
        return _Actor(" ".join(["the", *words[1:]]))
    if _POSSESSIVE.search(words[0]) and words[0][:1].isupper() and len(words) <= 4:
        return _Actor(" ".join(words))
    return None


# --- questions -------------------------------------------------------------------------------


def _question(kind: str, answer: Sequence[_Unit], cast: _Cast, asked: set[str]) -> str:
    """A question of ``kind`` naming the actor of ``answer``: at most 12 words, ending in "?", new."""
    if kind == "general" and any(q.startswith("What else") for q in asked):
        # A second "What else?" must not read as the first one again.
        return _GENERIC_SPARE[kind]
    for question in _candidates(kind, answer, cast):
        if len(question.split()) <= QUESTION_MAX_WORDS and question not in asked:
            return question
    return _GENERIC_SPARE[kind]


def _candidates(kind: str, answer: Sequence[_Unit], cast: _Cast) -> Iterable[str]:
    """Questions of ``kind``, the most specific first."""
    # The main subject is named only where the answer is about it: the reader sees it there again.
    main = cast.main if cast.main is not None and _mentioned(cast.main, answer) else None
    acting_main = main if main is not None and main.acts else None
    if kind == "say":
        speakers = cast.speakers(answer)
        ranked = Counter(speakers).most_common()
        if ranked and ranked[0][1] * 2 > len(speakers):
            yield _do(ranked[0][0], "say")
        elif len(ranked) == 2:
            yield f"What do {ranked[0][0].text} and {ranked[1][0].text} say?"
        if main is not None and len(ranked) > 2:
            yield f"What are people saying about {main.text}?"
        yield "What are people saying?"
    elif kind == "response":
        actor = cast.subject(answer, _KIND_CUES["response"]) or acting_main
        if actor is not None:
            yield f"How {'are' if actor.plural else 'is'} {actor.text} responding?"
        yield "What is being done?"
    elif kind == "position":
        actor = cast.subject(answer, _KIND_CUES["position"]) or acting_main
        if actor is not None:
            if actor.plural:
                yield f"Where do {actor.text} stand?"
            elif actor.text.endswith("s"):
                # "Lib Dems" or "John Williams": this wording needs no guess at the number.
                yield f"What is the position of {actor.text}?"
            else:
                yield f"What is {actor.text}'s position?"
        yield "Where do the sides stand?"
    elif kind == "fear":
        actor = cast.subject(answer, _FEAR_VERBS)
        if actor is not None:
            yield _do(actor, "fear")
        if main is not None:
            yield f"What is at stake for {main.text}?"
        yield "What is at stake?"
    elif kind == "background":
        # Only a thing has a background worth the name; "the background to the council" reads oddly.
        if main is not None and not main.acts and main.text.startswith("the "):
            yield f"What is the background to {main.text}?"
        yield "How did we get here?"
    elif kind == "next":
        if main is not None:
            yield f"What happens next for {main.text}?"
        yield "What happens next?"
    else:
        if main is not None:
            yield f"What else is known about {main.text}?"
        yield "What else is known?"


def _mentioned(actor: _Actor, answer: Sequence[_Unit]) -> bool:
    """Whether ``answer`` names ``actor``: by its last word ("pier") or a name in it ("Kestrel")."""
    named = {w for w in actor.text.split() if w[:1].isupper() and not _is_title(w)}
    wanted = set(content_words(" ".join(named))) | set(content_words(actor.text)[-1:])
    return bool(wanted & {w for u in answer for w in content_words(u.text)})


def _do(actor: _Actor, verb: str) -> str:
    return f"What {'do' if actor.plural else 'does'} {actor.text} {verb}?"


#: Verbs whose subject fears something ("Inspectors have warned ...").
_FEAR_VERBS = _cues(r"warn(?:s|ed)?|fears?|feared|worr(?:y|ies|ied)|(?:is|are) concerned")
#: When every candidate was asked already (two sections of one kind cannot happen, but stay safe).
_GENERIC_SPARE = {
    "say": "Who else is speaking?",
    "response": "What else is being done?",
    "position": "Who argues what?",
    "fear": "What could go wrong?",
    "background": "What led up to this?",
    "next": "What comes next?",
    "general": "What else should readers know?",
}
