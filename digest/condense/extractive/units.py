"""Units: the sentences a briefing is made of, and the runs of them that must not part.

A *unit* is one sentence (``digest.text.split_sentences``), or a few
neighbouring sentences of one paragraph that must stay together:

* A quotation is tracked across sentences until it closes, in straight or
  curly, double or single marks (a single mark opens a quote only at a word's
  start and closes it only at a word's end, so "Greece's" and "don't" are
  apostrophes), and a sentence that starts while a quote is open joins the one
  before it, up to ``QUOTE_MAX_WORDS``: a multi-sentence quote stays whole.
* A quote attributed only by "he said", or an unattributed quote after a
  quote, joins the sentence before it (its speaker was named there).
* A sentence opening on a pronoun pointing back ("It", "They") or "One of them"
  joins the one it points to while the unit stays under ``UNIT_MAX_WORDS``.

Units repeating one already seen (content words mostly shared, across all
articles of a story) are dropped, so a fact is told once per briefing.

A unit can *open* a lede or an answer when it has five words or more, is not a
question, and does not start on what needs the text before it: a pronoun
pointing back, a discourse connective ("But", "However", "Meanwhile") or a
closing quotation mark.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from digest.text import content_words, split_sentences, word_count, word_set
from digest.types import Story

#: A sentence opening on a pronoun joins the one before it only while the unit stays this short.
UNIT_MAX_WORDS = 90
#: The lede takes a longer quotation sentence by sentence (each after the one before it).
LEDE_QUOTE_WORDS = 0
#: A quote left open joins the following sentences while the unit stays this short.
QUOTE_MAX_WORDS = 100
#: Lede paragraphs longer than this are cut into chunks of about CHUNK_WORDS.
CHUNK_WORDS = 60
#: Share of content words two units share (of the smaller one) to count as a repeat; the sections
#: are held to a stricter share, since a reader meets their sentences after the lede's.
REPEAT_OVERLAP = 0.7
SECTION_REPEAT_OVERLAP = 0.5
#: Share of an other outlet's content words new to the briefing for its unit to be worth telling.
NEWS_SHARE = 0.4
#: A figure as written: "3,000", "9.2", "1987".
FIGURE = re.compile(r"\d(?:[\d,.]*\d)?")
#: Words in more units than this are not used to find repeats (they would make it quadratic).
REPEAT_INDEX_LIMIT = 200
SECTION_MAX_PARAGRAPHS = 6

#: Openers pointing back at the sentence before ("It has long been ...").
DANGLING_OPENERS = word_set("he she it they this these those that his her its their him them there")
#: Openers that continue an argument made before them.
CONNECTIVES = word_set(
    """
    but however and so yet also meanwhile nevertheless nonetheless still instead moreover furthermore
    therefore thus besides hence otherwise then plus or nor likewise similarly indeed
    """
)
_CONNECTIVE_PHRASES = re.compile(
    r"^(?:as a result|in addition|on the other hand|even so|at the same time|by contrast|in contrast|"
    r"that said|despite this|after that|in turn|for (?:his|her|their|its) part|not only that)\b",
    re.IGNORECASE,
)
OPENING_QUOTES = "\"“‘'"
_CLOSING_QUOTES = "\"”’'"
PART_OF_BEFORE = re.compile(
    r"(?:one|some|many|most|both|all|none|each|two|three|several|neither) of (?:them|those|these)\b"
    # "One took place outside the embassy": "One" standing for something named before.
    r"|One (?:was|is|has|had|took|takes|came|comes|went|goes|showed|shows|said|says|included|includes)\b",
    re.IGNORECASE,
)
_ATTRIBUTION_VERBS = r"said|says|told|added|stated|noted|explained|wrote|asked|concluded|insisted|argued"
ATTRIBUTION = re.compile(rf"\b(?:{_ATTRIBUTION_VERBS}|according to)\b", re.IGNORECASE)
#: "She said": a quote whose speaker was named in the sentence before.
PRONOUN_SAID = re.compile(
    rf"(?:^|[,\"”’']\s)(?:he|she|they|we|I)\s+(?:also\s+|later\s+)?(?:{_ATTRIBUTION_VERBS})\b", re.IGNORECASE
)
#: Quotation marks: a single mark counts only at a word's start (opening) or end (closing).
_QUOTE_MARK = re.compile(
    r"(?P<double>[\"“”])"
    r"|(?P<open>(?:^|(?<=[\s(\[:—–-]))['‘](?=[\w…])(?!\d0s))"
    r"|(?P<close>(?<=[\w.,!?…])['’](?=$|[\s,.;:!?)\]—–-]))"
)


@dataclass(frozen=True)
class Unit:
    """One sentence, or neighbouring sentences of one paragraph that must stay together."""

    #: The sentences, verbatim.
    parts: tuple[str, ...]
    #: (article index in the story, paragraph index, first sentence index): the source order.
    order: tuple[int, int, int]
    #: The index of the last sentence in its paragraph.
    end: int
    words: int
    #: A piece of a quotation the lede may take apart (``finer``): it needs the piece before it.
    continues: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.parts)

    @property
    def article(self) -> int:
        return self.order[0]


class Repeats:
    """Remembers texts by their content words and tells whether a new one repeats one of them."""

    def __init__(self, overlap: float = REPEAT_OVERLAP) -> None:
        self._overlap = overlap
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
            if smaller and count / smaller >= self._overlap and (smaller >= 3 or count == smaller):
                return False
        number = len(self._words)
        self._words.append(words)
        for word in words:
            self._index[word].append(number)
        return True


def telling_news(units: Sequence[Unit], told: Iterable[str]) -> list[Unit]:
    """The units of which at least NEWS_SHARE of the content words appear in none of ``told``.

    Another outlet's version of a story opens by retelling it, each sentence mixing facts the
    briefing already gave in several of its own: no single told text overlaps it enough for
    Repeats, but together they hold most of it, and the reader would meet the story twice.
    """
    known: set[str] = set()
    known_figures: set[str] = set()
    for text in told:
        known.update(content_words(text))
        known_figures.update(FIGURE.findall(text))
    kept = []
    for unit in units:
        words = set(content_words(unit.text))
        # Word tokens cut figures up ("3,000" leaves "000", told by any other thousand), so
        # each figure as written counts as one more word, new unless given before.
        figures = set(FIGURE.findall(unit.text))
        new = len(words - known) + len(figures - known_figures)
        if words and new >= NEWS_SHARE * (len(words) + len(figures)):
            kept.append(unit)
    return kept


def _has_quote(text: str) -> bool:
    return '"' in text or "“" in text or "”" in text or "‘" in text or "’ " in text


def _joins_previous(sentence: str, unit_parts: Sequence[str], pronouns: bool = True) -> bool:
    """Whether ``sentence`` must stay with the sentences before it in its paragraph.

    With ``pronouns`` False, only quotes bind: a sentence pointing back may stand apart.
    """
    before = " ".join(unit_parts)
    # A quotation still open: the sentence is part of it.
    if quote_open_after(before) and word_count(before + " " + sentence) <= QUOTE_MAX_WORDS:
        return True
    opens_quote = sentence[:1] in OPENING_QUOTES
    # '"...," he said': the speaker was named before.
    if opens_quote and PRONOUN_SAID.search(sentence):
        return True
    # A quote that runs on with no attribution of its own belongs to the quote before it.
    if opens_quote and _has_quote(before) and not ATTRIBUTION.search(sentence):
        return True
    if not pronouns:
        return False
    # "It has long been ...", "One of them ..." and "But ..." need the sentence before them.
    needs_before = first_word(sentence) in DANGLING_OPENERS or misleading_opener(sentence)
    return needs_before and word_count(before + " " + sentence) <= UNIT_MAX_WORDS


def paragraph_units(paragraph: str, article: int, number: int) -> list[Unit]:
    units: list[Unit] = []
    parts: list[str] = []
    first = 0
    sentences = split_sentences(paragraph)
    for index, sentence in enumerate(sentences):
        if parts and not _joins_previous(sentence, parts):
            units.append(Unit(tuple(parts), (article, number, first), index - 1, word_count(" ".join(parts))))
            parts, first = [], index
        parts.append(sentence)
    if parts:
        units.append(
            Unit(tuple(parts), (article, number, first), len(sentences) - 1, word_count(" ".join(parts)))
        )
    return units


def finer(unit: Unit) -> list[Unit]:
    """``unit`` cut into the pieces the lede may pick: where only a sentence pointing back held it
    together, and within a quotation longer than ``LEDE_QUOTE_WORDS`` (its later pieces ``continues``,
    so they are taken only after the piece before them)."""
    article, paragraph, first = unit.order
    pieces: list[list[str]] = []
    continued: list[bool] = []
    for part in unit.parts:
        if pieces and _joins_previous(part, pieces[-1], pronouns=False):
            if word_count(" ".join([*pieces[-1], part])) <= LEDE_QUOTE_WORDS:
                pieces[-1].append(part)
                continue
            continued.append(True)
        else:
            continued.append(False)
        pieces.append([part])
    finer: list[Unit] = []
    for piece, continues in zip(pieces, continued, strict=True):
        words = word_count(" ".join(piece))
        finer.append(
            Unit(tuple(piece), (article, paragraph, first), first + len(piece) - 1, words, continues)
        )
        first += len(piece)
    return finer


def sentence_places(unit: Unit) -> set[tuple[int, int, int]]:
    """Where each sentence of ``unit`` stands: (article, paragraph, sentence index)."""
    article, paragraph, first = unit.order
    return {(article, paragraph, index) for index in range(first, unit.end + 1)}


def distinct_units(story: Story, seen: Repeats, first_article: int = 0) -> list[Unit]:
    """The units of the story's articles from ``first_article`` on, repeats dropped, in source order."""
    units: list[Unit] = []
    for article_index, article in enumerate(story.articles):
        if article_index < first_article:
            continue
        quoting = False
        for paragraph_index, paragraph in enumerate(article.paragraphs):
            found = paragraph_units(paragraph, article_index, paragraph_index)
            if quoting and found and paragraph[:1] not in OPENING_QUOTES:
                # The paragraph before left a quotation open and this one does not reopen it: its first
                # sentence is still the speaker's, and means nothing without them.
                found[0] = replace(found[0], continues=True)
            quoting = quote_open_after(paragraph)
            units += [u for u in found if seen.add(u.text)]
    return units


def follows(earlier: Unit, later: Unit) -> bool:
    """Whether ``later`` comes right after ``earlier`` in the same source paragraph."""
    article, paragraph, _ = earlier.order
    return later.order == (article, paragraph, earlier.end + 1)


def runs(units: Sequence[Unit]) -> list[list[Unit]]:
    """Units (in source order) cut where the source does not run on from one to the next.

    Only neighbours are joined into one paragraph, so each paragraph made is a
    slice of a source paragraph and splits into sentences exactly as the source did.
    """
    runs: list[list[Unit]] = []
    for unit in units:
        if runs and follows(runs[-1][-1], unit):
            runs[-1].append(unit)
        else:
            runs.append([unit])
    return runs


def chunked(units: Sequence[Unit]) -> list[list[Unit]]:
    """``units`` (one paragraph's) cut into chunks of about CHUNK_WORDS words; short ones stay whole."""
    chunks: list[list[Unit]] = []
    remaining = total_words(units)
    current: list[Unit] = []
    for unit in units:
        # Cut only when both halves stay paragraph-sized.
        if current and total_words(current) >= CHUNK_WORDS and remaining >= CHUNK_WORDS // 3:
            chunks.append(current)
            current = []
        current.append(unit)
        remaining -= unit.words
    chunks.append(current)
    return chunks


def total_words(units: Iterable[Unit]) -> int:
    return sum(u.words for u in units)


def within(units: Sequence[Unit], limit: int) -> list[Unit]:
    """The first units (source order) up to ``limit`` words and six paragraphs; at least one."""
    kept: list[Unit] = []
    paragraphs = 0
    for unit in units:
        starts_paragraph = not kept or not follows(kept[-1], unit)
        if kept and (
            total_words(kept) + unit.words > limit
            or (starts_paragraph and paragraphs == SECTION_MAX_PARAGRAPHS)
        ):
            break
        paragraphs += starts_paragraph
        kept.append(unit)
    return kept


def first_word(text: str) -> str:
    return text.lstrip(OPENING_QUOTES + "(").split(" ", 1)[0].rstrip(",;:").lower()


def misleading_opener(text: str) -> bool:
    """Whether ``text`` starts on what needs the text before it: a pronoun pointing back, a discourse
    connective or a closing quotation mark (or a lower-case word, the tail of something)."""
    stripped = text.lstrip()
    if not stripped:
        return False
    if stripped[0] in _CLOSING_QUOTES and (len(stripped) == 1 or stripped[1] in " ,.;:!?"):
        return True
    if stripped[0].islower():
        return True
    word = first_word(stripped)
    return (
        word in DANGLING_OPENERS - {"there"}
        or word in CONNECTIVES
        or bool(_CONNECTIVE_PHRASES.match(stripped))
        or bool(PART_OF_BEFORE.match(stripped))
    )


def opens_news(unit: Unit) -> bool:
    """Whether ``unit`` can open a lede or an answer: five words or more, no question, nothing it needs
    from before it."""
    return (
        unit.words >= 5
        and not unit.text.endswith("?")
        and first_word(unit.text) not in DANGLING_OPENERS
        and not misleading_opener(unit.text)
    )


def points_back(unit: Unit) -> bool:
    """Whether ``unit`` needs the text before it: it opens on "It", "They" or "One of them", or
    continues a quotation."""
    return (
        unit.continues or first_word(unit.text) in DANGLING_OPENERS or bool(PART_OF_BEFORE.match(unit.text))
    )


def quote_open_after(text: str, open_before: bool = False) -> bool:
    """Whether a quotation is left open after ``text`` (``open_before``: one was open before it).

    One level only: a mark opening while a quote is open continues it (news writes a quote running
    over paragraphs that way), and a closing mark closes it.
    """
    is_open = open_before
    for mark in _QUOTE_MARK.finditer(text):
        double = mark.group("double")
        if double == '"':
            # A straight mark opens before a word ('said: "Not') and closes after one; only where it
            # says neither (between two spaces) does it toggle.
            before = text[mark.start() - 1] if mark.start() > 0 else " "
            after = text[mark.end()] if mark.end() < len(text) else " "
            opens = before.isspace() or before in "([—–-"
            closes = after.isspace() or after in ",.;:!?)]—–-"
            is_open = (not is_open) if opens == closes else opens
        elif double == "“" or mark.group("open"):
            is_open = True
        else:
            is_open = False
    return is_open


def quoted_tokens(tokens: Sequence[str]) -> list[bool]:
    """For each token of a sentence split on spaces, whether it stands inside a quotation."""
    inside: list[bool] = []
    is_open = False
    for token in tokens:
        inside.append(is_open or token[:1] in OPENING_QUOTES)
        is_open = quote_open_after(token, is_open)
    return inside


def unquoted(sentence: str) -> str:
    """``sentence`` without the words it quotes: what the writer says, not the speaker."""
    tokens = sentence.split(" ")
    return " ".join(t for t, inside in zip(tokens, quoted_tokens(tokens), strict=True) if not inside)
