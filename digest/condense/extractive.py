"""The default condenser: offline, deterministic, and quoting only the sources.

Every sentence of a briefing made here is a sentence of the story's articles,
verbatim; only the questions are written by the condenser. Method:

1. **Articles with question headings** (``Article.sections``) keep them: the
   questions verbatim and in order (at most six), each with its own paragraphs
   unchanged; the lede is the intro, its first paragraphs up to about 200
   words when it has more than four.
2. **Otherwise** the text is split into sentences (``digest.text``), and
   sentences repeating one already seen (content words mostly shared, across
   all articles of the story) are dropped.
   * The *lede* is taken from the lead article in source order: it opens on
     the first sentence that states news (five words or more, not a question,
     not opening on a dangling pronoun such as "He" or "This"), keeps whole
     source paragraphs (long ones cut into chunks of about 60 words) up to
     about 200 words, 2-4 paragraphs, and leaves enough text for one section.
   * Each remaining sentence is scored for the six kinds of question of
     FORMAT.md by cue words: risk and warnings (*fear*), actions (*response*),
     history and past years (*background*), plans and future years (*next*),
     quotes and a named speaker's words (*say*), stances (*position*). A
     sentence goes to the kind it fits best, so it is used once; a sentence
     opening on a pronoun follows the one before it. Other sources' sentences
     join a kind only on strong cues. A kind with too little material is
     folded back into the leftovers; at most six sections, the smallest go.
   * A question names the actor its answer is about: the capitalised name
     most frequent in the answer (weighted by its frequency in the whole
     story), the quoted speaker for *say*, else the story's main actor.
   * Leftovers make a "What else is known about X?" section only when fewer
     than three sections exist and they are long enough; never padding.
   * Other articles' sentences that no section used, if any, make a final
     "What are others reporting?" section.
3. Answers keep source order (at most about 180 words and six paragraphs);
   only sentences that are neighbours in the source share a paragraph, so
   every paragraph made is a slice of a source paragraph.
   A story of fewer than 60 words, or too few sentences for a lede and one
   section, gives None: it belongs in "Briefly".
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo

from digest.condense import register, source_refs
from digest.config import CondenseConfig
from digest.text import STOPWORDS, content_words, cut_words, split_sentences, word_count, word_set
from digest.types import Article, Briefing, Dateline, Section, Story

MIN_STORY_WORDS = 60
LEDE_MIN_WORDS = 120
LEDE_MAX_WORDS = 200
LEDE_MAX_PARAGRAPHS = 4
#: Share of a short story's words the lede may take, so sections keep material.
LEDE_SHARE = 0.5
#: Source paragraphs longer than this are cut into chunks of about CHUNK_WORDS.
CHUNK_WORDS = 60
#: How many words before an action or stance verb its actor may stand.
ACTOR_REACH = 6
MAX_SECTIONS = 6
SECTION_MAX_WORDS = 180
SECTION_MAX_PARAGRAPHS = 6
#: A kind of question needs this many words of answer (or two sentences) to be asked.
SECTION_MIN_WORDS = 15
#: Leftovers this long may make a general section.
GENERAL_MIN_WORDS = 40
OTHERS_MAX_WORDS = 150
QUESTION_MAX_WORDS = 12
HEADLINE_WORDS = 12
#: Share of content words two sentences share (of the smaller one) to count as a repeat.
REPEAT_OVERLAP = 0.7
#: Words in more sentences than this are not used to find repeats (they would make it quadratic).
REPEAT_INDEX_LIMIT = 200

DANGLING_OPENERS = word_set("he she it they this these those that his her its their him them there")
_ADJECTIVE_ENDINGS = ("ian", "ese", "ish", "ean", "ic")
_NOT_NAMES = word_set(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december i mr mrs ms dr however meanwhile earlier later last
    yesterday today tomorrow after before while when although officials police
    """
)
_NAME_TOKEN = re.compile(r"[A-Z][A-Za-z0-9.'’&-]*[A-Za-z0-9]|[A-Z]")
_PUNCTUATION = "\"'“”‘’(),;:!?"
_POSSESSIVE = re.compile(r"['’]s?$")

KINDS = ("fear", "response", "background", "next", "say", "position")
#: When a sentence fits several kinds equally, the one earlier here wins.
_TIE_ORDER = ("say", "position", "next", "fear", "response", "background")


def _cues(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)


_KIND_CUES: dict[str, re.Pattern[str]] = {
    "fear": _cues(
        r"risks?|risky|warn(?:s|ed|ing|ings)?|threat(?:s|en|ens|ened)?|fears?|feared|dangers?|"
        r"dangerous|concerns?|concerned|worr(?:y|ies|ied)|at stake|crisis|delays?|shortages?|"
        r"disrupt\w*|alarm(?:ed)?|vulnerable|uncertain(?:ty)?|afraid"
    ),
    "response": _cues(
        r"sent|sends?|deploy(?:s|ed)?|announc(?:ed|es)|launch(?:ed|es)|order(?:ed|s)|pledged|promised|"
        r"approved|imposed|set up|evacuat\w*|closed|suspended|responded|introduced|dispatched|"
        r"mobili[sz]ed|distribut(?:ed|es|ing)|handling|measures|allocated|rushed"
    ),
    "background": _cues(
        r"since|for (?:decades|years|months|generations)|ha[sdv]e? long|history|historic(?:al|ally)?|"
        r"previously|decades?|ago|last (?:year|decade|century)|originally|founded|dates back|"
        r"in the past|first built"
    ),
    "next": _cues(
        r"will|won't|plans?|planned|planning|expected|expects?|hopes? to|aims? to|intends? to|"
        r"next (?:week|month|year)|upcoming|scheduled|(?:is|are) set to|later this (?:week|month|year)|"
        r"by the end of|deadline"
    ),
    "position": _cues(
        r"blam(?:e|es|ed|ing)|criticiz\w*|criticis\w*|calls? for|called for|urg(?:e|es|ed)|"
        r"demand(?:s|ed)?|accus\w+|condemn\w*|oppos(?:e|es|ed)|insist\w*|argu(?:e|es|ed)|"
        r"reject\w*|stance|denounc\w+|welcom(?:e|ed|es)"
    ),
}
_WEAK_FEAR = _cues(r"could|might")
_WEAK_NEXT = _cues(r"would")
_QUOTE = re.compile(r"[\"“][^\"”]{12,}[\"”]?")
_ATTRIBUTION = _cues(r"said|says|told|added|according to|stated|noted|explained|wrote|asked|concluded")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_SPEAKER_AFTER = re.compile(r"\b(?:said|says|told|added|wrote|concluded)\s+((?:[A-Z][\w.'’-]*\s?){1,4})")
_SPEAKER_BEFORE = re.compile(r"((?:[A-Z][\w.'’-]*\s){1,4})(?:said|says|told|added|wrote|concluded)\b")


@dataclass(frozen=True)
class _Sentence:
    text: str
    #: (article index in the story, paragraph index, sentence index): the source order.
    order: tuple[int, int, int]
    words: int

    @property
    def article(self) -> int:
        return self.order[0]


@register("extractive")
class ExtractiveCondenser:
    """Builds briefings from the sources' own sentences; needs no network and no model."""

    def __init__(self, config: CondenseConfig) -> None:
        self.config = config

    def condense(self, story: Story, tz: tzinfo) -> Briefing | None:
        lead = story.lead
        if sum(a.word_count for a in story.articles) < MIN_STORY_WORDS:
            return None
        if lead.sections:
            lede = _intro_lede(lead.intro)
            sections = list(lead.sections[:MAX_SECTIONS])
            seen = _Repeats()
            for paragraph in lead.paragraphs:
                for sentence in split_sentences(paragraph):
                    seen.add(sentence)
            others = _distinct_sentences(story, seen, first_article=1)
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


def _intro_lede(intro: Sequence[str]) -> tuple[str, ...]:
    """The intro when it has at most four paragraphs, else its first paragraphs up to about 200 words."""
    if len(intro) <= LEDE_MAX_PARAGRAPHS:
        return tuple(intro)
    kept: list[str] = []
    total = 0
    for paragraph in intro[:LEDE_MAX_PARAGRAPHS]:
        words = word_count(paragraph)
        if len(kept) >= 2 and total + words > LEDE_MAX_WORDS:
            break
        kept.append(paragraph)
        total += words
    return tuple(kept)


# --- sentences -------------------------------------------------------------------------------


class _Repeats:
    """Remembers sentences by their content words and tells whether a new one repeats one of them."""

    def __init__(self) -> None:
        self._words: list[frozenset[str]] = []
        self._index: dict[str, list[int]] = defaultdict(list)

    def add(self, text: str) -> bool:
        """Remember ``text``; False (and nothing remembered) when it repeats a sentence already seen."""
        words = frozenset(content_words(text))
        shared: Counter[int] = Counter()
        for word in words:
            postings = self._index.get(word, [])
            if len(postings) <= REPEAT_INDEX_LIMIT:
                shared.update(postings)
        for other, count in shared.items():
            other_words = self._words[other]
            smaller = min(len(words), len(other_words))
            # Below three words a share means little: only a sentence wholly contained in another repeats it.
            if smaller and count / smaller >= REPEAT_OVERLAP and (smaller >= 3 or count == smaller):
                return False
        number = len(self._words)
        self._words.append(words)
        for word in words:
            self._index[word].append(number)
        return True


def _distinct_sentences(story: Story, seen: _Repeats, first_article: int = 0) -> list[_Sentence]:
    """The sentences of the story's articles from ``first_article`` on, repeats dropped, in source order."""
    sentences: list[_Sentence] = []
    for article_index, article in enumerate(story.articles):
        if article_index < first_article:
            continue
        for paragraph_index, paragraph in enumerate(article.paragraphs):
            for sentence_index, text in enumerate(split_sentences(paragraph)):
                if seen.add(text):
                    order = (article_index, paragraph_index, sentence_index)
                    sentences.append(_Sentence(text, order, word_count(text)))
    return sentences


def _follows(earlier: _Sentence, later: _Sentence) -> bool:
    """Whether ``later`` comes right after ``earlier`` in the same source paragraph."""
    article, paragraph, position = earlier.order
    return later.order == (article, paragraph, position + 1)


def _runs(sentences: Sequence[_Sentence]) -> list[list[_Sentence]]:
    """Sentences (in source order) cut where the source does not run on from one to the next.

    Only neighbours are joined into one paragraph, so each paragraph made is a
    slice of a source paragraph and splits into sentences exactly as the source did.
    """
    runs: list[list[_Sentence]] = []
    for sentence in sentences:
        if runs and _follows(runs[-1][-1], sentence):
            runs[-1].append(sentence)
        else:
            runs.append([sentence])
    return runs


def _chunks(sentences: Sequence[_Sentence]) -> list[list[_Sentence]]:
    """Sentences grouped as their source paragraphs, long paragraphs cut into chunks of ~60 words."""
    chunks: list[list[_Sentence]] = []
    for run in _runs(sentences):
        remaining = _words(run)
        current: list[_Sentence] = []
        for sentence in run:
            # Cut only when both halves stay paragraph-sized.
            if current and _words(current) >= CHUNK_WORDS and remaining >= CHUNK_WORDS // 3:
                chunks.append(current)
                current = []
            current.append(sentence)
            remaining -= sentence.words
        chunks.append(current)
    return chunks


def _words(sentences: Iterable[_Sentence]) -> int:
    return sum(s.words for s in sentences)


def _within(sentences: Sequence[_Sentence], limit: int) -> list[_Sentence]:
    """The first sentences (source order) up to ``limit`` words and six paragraphs; at least one."""
    kept: list[_Sentence] = []
    paragraphs = 0
    for sentence in sentences:
        starts_paragraph = not kept or not _follows(kept[-1], sentence)
        if kept and (
            _words(kept) + sentence.words > limit
            or (starts_paragraph and paragraphs == SECTION_MAX_PARAGRAPHS)
        ):
            break
        paragraphs += starts_paragraph
        kept.append(sentence)
    return kept


def _answer(sentences: Sequence[_Sentence]) -> tuple[str, ...]:
    """Answer paragraphs: sentences in source order, neighbours in the source joined as they were."""
    return tuple(" ".join(s.text for s in run) for run in _runs(sorted(sentences, key=lambda s: s.order)))


# --- the lede --------------------------------------------------------------------------------


def _first_word(text: str) -> str:
    return text.lstrip("\"'“‘(").split(" ", 1)[0].rstrip(",;:").lower()


def _opens_news(sentence: _Sentence) -> bool:
    return (
        sentence.words >= 5
        and not sentence.text.endswith("?")
        and _first_word(sentence.text) not in DANGLING_OPENERS
    )


def _lede(lead_sentences: list[_Sentence], budget: int) -> list[list[_Sentence]]:
    """Lede paragraphs from the lead's sentences: whole chunks in source order, up to ``budget`` words."""
    start = next((i for i, s in enumerate(lead_sentences[:6]) if _opens_news(s)), 0)
    paragraphs: list[list[_Sentence]] = []
    for chunk in _chunks(lead_sentences[start:]):
        if len(paragraphs) == LEDE_MAX_PARAGRAPHS:
            break
        total = sum(_words(p) for p in paragraphs)
        if not paragraphs or total + _words(chunk) <= budget:
            paragraphs.append(chunk)
            continue
        if total < min(LEDE_MIN_WORDS, budget):
            partial = _within(chunk, budget - total)
            if total + _words(partial) <= budget:
                paragraphs.append(partial)
        break
    if len(paragraphs) == 1 and len(paragraphs[0]) >= 2:
        # One long paragraph reads as a wall: split it where the words halve.
        only = paragraphs[0]
        half = _words(only) / 2
        cut = next(i for i in range(1, len(only) + 1) if _words(only[:i]) >= half)
        cut = min(max(cut, 1), len(only) - 1)
        paragraphs = [only[:cut], only[cut:]]
    return paragraphs


# --- the sections ----------------------------------------------------------------------------


def _draft_sections(story: Story) -> tuple[tuple[str, ...], list[Section], list[_Sentence]] | None:
    """Lede, sections and the other sources' unused sentences; None when the story is too short."""
    sentences = _distinct_sentences(story, _Repeats())
    total = _words(sentences)
    if total < MIN_STORY_WORDS or len(sentences) < 2:
        return None
    budget = max(1, min(LEDE_MAX_WORDS, int(total * LEDE_SHARE)))
    lede = _lede([s for s in sentences if s.article == 0], budget)
    in_lede = {s.order for p in lede for s in p}
    rest = [s for s in sentences if s.order not in in_lede]
    if not rest:
        # Leave the section at least the lede's last sentence.
        lede[-1], rest = lede[-1][:-1], [lede[-1][-1]]
        lede = [p for p in lede if p]
        if not lede:
            return None
    drafts, leftovers = _plan(_classify(rest, story.lead.entry.published.year))
    names = _Names(sentences)
    sections = [Section(_question(kind, chosen, names), _answer(chosen)) for kind, chosen in drafts]
    own_leftovers = [s for s in leftovers if s.article == 0]
    if own_leftovers and (not sections or (len(sections) < 3 and _words(own_leftovers) >= GENERAL_MIN_WORDS)):
        chosen = _within(own_leftovers, SECTION_MAX_WORDS)
        sections.append(Section(_question("general", chosen, names), _answer(chosen)))
    others = [s for s in leftovers if s.article > 0]
    if not sections and others:
        # A lead with nothing beyond its lede: the other sources are the only section.
        sections.append(Section("What are others reporting?", _answer(_within(others, OTHERS_MAX_WORDS))))
        others = []
    if not sections:
        return None
    return tuple(" ".join(s.text for s in p) for p in lede), sections, others


def _classify(sentences: Sequence[_Sentence], story_year: int) -> dict[str, list[_Sentence]]:
    """Sentences by the kind of question they answer ("" for none), each in one kind, in source order."""
    by_kind: dict[str, list[_Sentence]] = defaultdict(list)
    kind_of: dict[tuple[int, int, int], str] = {}
    for sentence in sentences:
        article, paragraph, position = sentence.order
        # Other sources' sentences join a kind only on strong cues; the rest is "what others report".
        kind = _best_kind(sentence.text, story_year, min_score=1.0 if article == 0 else 2.0)
        if _first_word(sentence.text) in DANGLING_OPENERS:
            # "It has long been..." continues the sentence before it: keep them in one answer.
            kind = kind_of.get((article, paragraph, position - 1)) or kind
        kind_of[sentence.order] = kind
        by_kind[kind].append(sentence)
    return by_kind


def _plan(by_kind: dict[str, list[_Sentence]]) -> tuple[list[tuple[str, list[_Sentence]]], list[_Sentence]]:
    """The sections worth asking, in FORMAT.md's order, and the sentences left over (in source order)."""
    leftovers = list(by_kind.get("", []))
    drafts: list[tuple[str, list[_Sentence]]] = []
    for kind in KINDS:
        material = by_kind.get(kind, [])
        if _words(material) < SECTION_MIN_WORDS and len(material) < 2:
            leftovers.extend(material)
            continue
        chosen = _within(material, SECTION_MAX_WORDS)
        leftovers.extend(material[len(chosen) :])
        drafts.append((kind, chosen))
    others = [s for s in leftovers if s.article > 0]
    # Facts only other sources report are worth a section of their own: they take the last slot.
    slots = MAX_SECTIONS - 1 if _worth_a_section(others) else MAX_SECTIONS
    while len(drafts) > slots:
        smallest = min(range(len(drafts)), key=lambda i: (_words(drafts[i][1]), -i))
        leftovers.extend(drafts.pop(smallest)[1])
    return drafts, sorted(leftovers, key=lambda s: s.order)


def _worth_a_section(sentences: Sequence[_Sentence]) -> bool:
    return _words(sentences) >= SECTION_MIN_WORDS or len(sentences) >= 2


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
    named_speaker = bool(_SPEAKER_AFTER.search(text) or _SPEAKER_BEFORE.search(text))
    scores["say"] = 2.0 + attributed if _QUOTE.search(text) else attributed * named_speaker
    best = max(_TIE_ORDER, key=lambda kind: (scores[kind], -_TIE_ORDER.index(kind)))
    return best if scores[best] >= min_score else ""


class _Names:
    """The actors of a story (people, places, bodies), counted to find who a question is about.

    A name is a run of capitalised words ("Ada Okafor", "Bank of England"). Each
    of its words counts, so "Valmora" gains from "Valmora Port Authority"; an
    actor is a word that ends some name ("Okafor", "Valmora", "States") and is
    shown in the most frequent name ending with it ("Ada Okafor" or "Okafor",
    "United States"). A word capitalised only because it opens a sentence
    ("Shipping agents said") counts only when the story also writes it first or
    last in a name inside a sentence; a lone capitalised adjective before a
    lower-case word ("Russian forces") is not a name. Where no name is at hand, a
    short subject such as "the port authority" stands in for one.
    """

    def __init__(self, sentences: Sequence[_Sentence]) -> None:
        self._per_sentence: dict[tuple[int, int, int], list[str]] = {}
        self.counts: Counter[str] = Counter()
        self._forms: dict[str, Counter[str]] = defaultdict(Counter)
        self._first_seen: dict[str, int] = {}
        # The ends of names found past each sentence's first word.
        self._inside = frozenset(
            end
            for sentence in sentences
            for name in _names_in(sentence.text.split(" ", 1)[-1] if " " in sentence.text else "")
            for end in (name.split(" ")[0], name.split(" ")[-1])
        )
        for sentence in sentences:
            name_words: list[str] = []
            for name in _names_in(sentence.text, self._inside):
                parts = [w for w in name.split(" ") if w != "of"]
                name_words.extend(parts)
                self._forms[parts[-1]][name] += 1
                for word in parts:
                    self._first_seen.setdefault(word, len(self._first_seen))
            self.counts.update(name_words)
            self._per_sentence[sentence.order] = name_words

    def _show(self, key: str) -> str:
        """The most frequent written form of an actor (a subject phrase shows as itself)."""
        forms = self._forms.get(key)
        return min(forms, key=lambda f: (-forms[f], len(f), f)) if forms else key

    def _pick(self, counted: Counter[str], first_counted_wins: bool = False) -> str:
        """The actor counted most, then most frequent in the story (or first counted), then first seen."""
        # Inner words of names ("Port" of "Valmora Port Authority") are not actors; subject phrases are.
        actors = [k for k in counted if k in self._forms or k not in self.counts]
        if not actors:
            return ""
        unseen = len(self._first_seen)
        order = {k: i for i, k in enumerate(counted)}
        if first_counted_wins:
            best = min(actors, key=lambda k: (-counted[k], order[k]))
        else:
            first_seen = self._first_seen
            best = min(
                actors, key=lambda k: (-counted[k], -self.counts[k], first_seen.get(k, unseen), order[k])
            )
        return self._show(best)

    def main(self, within: Sequence[_Sentence] = ()) -> str:
        """The actor most named in ``within`` (weighted by the whole story), else in the whole story."""
        local: Counter[str] = Counter()
        for sentence in within:
            local.update(self._per_sentence.get(sentence.order, []))
        recurring = Counter({k: n for k, n in local.items() if self.counts[k] >= 2})
        return self._pick(recurring) or self._pick(local) or self._pick(self.counts)

    def subject(self, sentences: Sequence[_Sentence], cue: re.Pattern[str]) -> str:
        """Who acts in ``sentences``: the name or subject just before ``cue`` ("Okafor sent")."""
        subjects: Counter[str] = Counter()
        for sentence in sentences:
            match = cue.search(sentence.text)
            if match:
                subjects.update(self._actor_before(sentence.text[: match.start()]))
        # The first actor in source order usually makes the news the answer opens with.
        return self._pick(subjects, first_counted_wins=True)

    def speaker(self, sentences: Sequence[_Sentence]) -> str:
        """Who is quoted in ``sentences``: the speaker of at least half of the attributed quotes."""
        speakers: Counter[str] = Counter()
        attributed = 0
        # Direct quotes say who speaks for the story; reported speech counts when there are none.
        quoted = [s for s in sentences if _QUOTE.search(s.text)] or sentences
        for sentence in quoted:
            after = _SPEAKER_AFTER.search(sentence.text)
            if after:
                attributed += 1
                names = _names_in(after.group(1))
                speakers.update(n.split(" ")[-1] for n in names[:1])
                continue
            before = _SPEAKER_BEFORE.search(sentence.text)
            if before:
                attributed += 1
                speakers.update(self._actor_before(before.group(1)))
        speaker = self._pick(speakers)
        if not speaker or max(speakers.values()) * 2 < attributed:
            return ""
        return speaker

    def _actor_before(self, text: str) -> list[str]:
        """The actor just before the verb that ends ``text``: a name, else a subject like "the city"."""
        words = text.split(" ")
        # Farther back than a few words, a name is rarely the verb's subject.
        opens_sentence = len(words) <= ACTOR_REACH
        names = _names_in(" ".join(words[-ACTOR_REACH:]), self._inside if opens_sentence else None)
        if names:
            return [names[-1].split(" ")[-1]]
        subject = _SUBJECT.search(text)
        return [subject.group(1).lower()] if subject else []


#: A short subject opening a clause: "The port authority (also) ..."
_SUBJECT = re.compile(r"^[\"“]?((?:The|the) (?:[a-z][\w'’-]* ){0,2}[a-z][\w'’-]*) (?:also |has |had )?$")


def _names_in(text: str, inside: frozenset[str] | None = None) -> list[str]:
    """The capitalised names in ``text``.

    With ``inside`` (the words the story capitalises inside sentences), ``text``
    is a sentence and its first word counts only when it is one of them.
    """
    names: list[str] = []
    run: list[str] = []
    for position, raw in enumerate(text.split(" ")):
        word = _POSSESSIVE.sub("", raw.strip(_PUNCTUATION)).rstrip(".")
        is_name = bool(_NAME_TOKEN.fullmatch(word)) and word.lower() not in _NOT_NAMES
        if position == 0 and inside is not None and word not in inside:
            is_name = False
        if is_name:
            run.append(word)
        elif word == "of" and run:
            # "Bank of England": a connector inside a name.
            run.append(word)
            continue
        ends_phrase = raw[-1:] in ',;:?!"”)' or (raw.endswith(".") and len(word) > 3)
        if not is_name or ends_phrase:
            _close_run(run, names, next_word="" if is_name else word)
            run = []
    _close_run(run, names, next_word="")
    return names


def _close_run(run: list[str], names: list[str], next_word: str) -> None:
    while run and run[-1] == "of":
        run.pop()
    while run and run[0].lower() in STOPWORDS:
        run.pop(0)
    if not run:
        return
    if len(run) == 1 and run[0].lower().endswith(_ADJECTIVE_ENDINGS) and next_word[:1].islower():
        return
    # Long runs are headlines or lists, not names; keep their last words.
    names.append(" ".join(run[-4:]))


_TEMPLATES: dict[str, tuple[str, str]] = {
    "fear": ("What is at stake for {actor}?", "What is at stake?"),
    "response": ("How is {actor} responding?", "What is being done?"),
    "background": ("What is the background for {actor}?", "How did we get here?"),
    "next": ("What happens next for {actor}?", "What happens next?"),
    "say": ("What are people saying about {actor}?", "What are people saying?"),
    "position": ("What is {actor}'s position?", "Who takes which position?"),
    "general": ("What else is known about {actor}?", "What else is known?"),
}


def _question(kind: str, answer: Sequence[_Sentence], names: _Names) -> str:
    """A question of ``kind`` naming the actor of ``answer``; at most 12 words, ending in "?"."""
    speaker = names.speaker(answer) if kind == "say" else ""
    if speaker:
        question = f"What does {speaker} say?"
    else:
        with_actor, without = _TEMPLATES[kind]
        actor = names.main(answer)
        if kind in ("response", "position"):
            actor = names.subject(answer, _KIND_CUES[kind]) or actor
        if kind == "position" and actor.endswith("s"):
            with_actor = "What is {actor}' position?"
        question = with_actor.format(actor=actor) if actor else without
    if len(question.split()) > QUESTION_MAX_WORDS:
        question = _TEMPLATES[kind][1]
    return question
