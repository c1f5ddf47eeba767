"""Plain-text helpers shared by extract, cluster and the condensers (and ``counted``, for messages).

Sentences are found by a small rule-based splitter rather than a trained
model, so it is fast, offline and deterministic:

1. A candidate boundary is ``.``, ``!`` or ``?`` (or an ellipsis), optionally
   followed by closing quotes or brackets, then white space, then something
   that can open a sentence: a capital, a digit or an opening quote/bracket.
   A lower-case next word (``"...," she said.``, ``?" he asked``) never opens a
   sentence, and ``3.5`` has no white space, so neither splits.
2. The boundary is rejected after a known abbreviation (``Mr.``, ``Dr.``,
   ``Jan.``, ``Inc.``), after a single initial (``J. K. Rowling``), and after a
   dotted acronym (``U.S.``, ``a.m.``) unless the next word is one that usually
   opens a sentence (``The``, ``He``, ``But``...).
3. Pieces whose quotation marks are left open are joined with the following
   pieces until the quote closes, so a multi-sentence quote stays whole with
   its attribution.

Every sentence returned is a verbatim slice of the (white-space normalised)
input, which lets condensers promise that their output quotes the source.

Centrality (``centrality``) is TextRank's: texts are TF-IDF vectors of their
content words (smoothed idf, ``log((1 + n) / (1 + df)) + 1``, unit length),
joined by edges weighted with their cosine, and ranked by PageRank (damping
0.85) on that weighted graph. The graph is built through an inverted index
of words, so only texts that share a word are ever compared. ``TfIdf`` is the one
TF-IDF of the package: clustering compares its texts with it too.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

WORD = re.compile(r"[0-9A-Za-zÀ-ÖØ-öø-ÿ]+(?:[-'’.][0-9A-Za-zÀ-ÖØ-öø-ÿ]+)*")

_BOUNDARY = re.compile(r"""(?:\.{3}|…|[.!?])["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9À-Ö])""")
_LAST_TOKEN = re.compile(r"(\S+)$")


def counted(count: int, noun: str, plural: str = "") -> str:
    """``1 edition``, ``2 editions``, ``0 stories`` (``plural`` where adding "s" will not do)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


#: A wire dateline opening a text: "LAGOS, March 14 (Wire) - ", "DUSHANBE, Tajikistan — ",
#: "RIVERMOUTH, 2 December 2026 - ": the place in capitals (group 1), the written date if any.
WIRE_DATELINE = re.compile(
    r"^([A-Z][A-Z.'’-]*(?: [A-Z][A-Z.'’-]*){0,3})"  # the place, in capitals
    r"(?:,(?: [A-Z][a-z]+\.?){1,3})?"  # ", Nigeria" or ", March"
    r"(?: \d{1,2})?"  # the day of a ", March 14"
    r"(?:,? (?P<day>\d{1,2}) (?P<month>[A-Z][a-z]+) (?P<year>\d{4}))?"  # ", 2 December 2026"
    r"(?: ?\([^()]{1,40}\))?"  # "(Reuters)"
    r" ?[-—–]{1,2} "
)


def word_set(text: str) -> frozenset[str]:
    """The white-space separated words of ``text``: word lists written as one readable string."""
    return frozenset(text.split())


ABBREVIATIONS = word_set(
    """
    mr mrs ms mx dr prof st sen rep gov gen lt col maj sgt capt cmdr adm cpl pvt rev fr hon pres supt
    insp det jr sr inc ltd co corp bros plc llc dept univ est approx vs etc cf al fig no nos vol ch pp
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
    mt ft ave blvd rd hwy
    """
)

#: Words that usually open a sentence: after a dotted acronym they signal a real boundary.
SENTENCE_STARTERS = word_set(
    """
    the a an he she it they we i you this that these those there his her its their our my
    but and so yet or however meanwhile in on at for after before when while as if though
    although since still also some many most no one two three officials police
    """
)

STOPWORDS = word_set(
    """
    a about above after again against all also am an and any are aren as at be because been before
    being below between both but by can cannot could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just let me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them themselves
    then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves
    said says say told according new news mr mrs ms dr one two us s t
    """
)


def normalize_space(text: str) -> str:
    """Collapse every run of white space (non-breaking included) to one space; strip the ends."""
    # str.split() splits on exactly what ``\s`` matches, at a fraction of a regex's cost.
    return " ".join(text.split())


def words(text: str) -> list[str]:
    """The words of ``text`` as written (numbers count as words; punctuation does not)."""
    return WORD.findall(text)


def word_count(text: str) -> int:
    return len(WORD.findall(text))


def cut_words(text: str, limit: int) -> str:
    """``text`` when it has at most ``limit`` words, else its first ``limit`` words and an ellipsis."""
    tokens = text.split(" ")
    if len(tokens) <= limit:
        return text
    # Cut on spaces so punctuation stays attached, then drop what would dangle before the ellipsis.
    return " ".join(tokens[:limit]).rstrip(",;:-–—") + "…"


def content_words(text: str) -> list[str]:
    """Lower-cased words that carry meaning: stop words and one-letter tokens dropped.

    Hyphenated compounds count as their parts, so "Lagos-Abuja" and "Lagos–Abuja" agree.
    """
    terms: list[str] = []
    known = _TERMS_OF_TOKEN
    for token in WORD.findall(text):
        parts = known.get(token)
        if parts is None:
            parts = tuple(p for p in token.lower().split("-") if len(p) > 1 and p not in STOPWORDS)
            if len(known) >= _TERMS_CACHE_SIZE:
                known.clear()
            known[token] = parts
        terms += parts
    return terms


#: Each token's terms, once worked out: news text repeats its words, and clustering 10,000
#: articles reads two million tokens (issue 8). Cleared when full, so a long run stays bounded.
_TERMS_OF_TOKEN: dict[str, tuple[str, ...]] = {}
_TERMS_CACHE_SIZE = 200_000


def _is_false_boundary(before: str, next_word: str) -> bool:
    """Whether the period ending ``before`` belongs to an abbreviation rather than ending a sentence."""
    match = _LAST_TOKEN.search(before)
    if not match:
        return False
    token = match.group(1).lstrip("\"'“‘([")
    if not token.endswith("."):
        return False
    bare = token[:-1]
    if bare.lower() in ABBREVIATIONS:
        return True
    # A single initial, as in "J. K. Rowling" or "George W. Bush".
    if len(bare) == 1 and bare.isalpha() and bare.isupper():
        return True
    # Dotted acronyms ("U.S.", "a.m.") end sentences only before a typical sentence opener.
    if "." in bare and all(len(part) <= 2 for part in bare.split(".")):
        return next_word.lower().strip("\"'“‘([") not in SENTENCE_STARTERS
    return False


def _open_quote(text: str) -> bool:
    """Whether ``text`` leaves a quotation open (unpaired straight quotes or more “ than ”)."""
    return text.count('"') % 2 == 1 or text.count("“") > text.count("”")


def split_sentences(paragraph: str) -> list[str]:
    """The sentences of one paragraph, each a verbatim slice of its normalised text."""
    text = normalize_space(paragraph)
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        rest = text[end:].lstrip()
        next_word = rest.split(" ", 1)[0] if rest else ""
        if (
            match.group(0).startswith(".")
            and not match.group(0).startswith("...")
            and _is_false_boundary(text[start : match.start() + 1], next_word)
        ):
            continue
        pieces.append(text[start:end].strip())
        start = end
    if start < len(text):
        pieces.append(text[start:].strip())
    return _join_open_quotes([p for p in pieces if p], text)


def _join_open_quotes(pieces: list[str], text: str) -> list[str]:
    """Merge pieces until their quotation marks balance (at most five pieces, in case of a stray mark)."""
    merged: list[str] = []
    index = 0
    while index < len(pieces):
        current = pieces[index]
        taken = 1
        while _open_quote(current) and index + taken < len(pieces) and taken < 5:
            candidate = current + " " + pieces[index + taken]
            if candidate not in text:
                break
            current = candidate
            taken += 1
        if _open_quote(current):
            # Never closed: keep the pieces apart rather than swallow a paragraph.
            merged.append(pieces[index])
            index += 1
        else:
            merged.append(current)
            index += taken
    return merged


# --- centrality --------------------------------------------------------------------------------

#: PageRank stops once no score moves by more than this, or after PAGERANK_ROUNDS rounds.
PAGERANK_TOLERANCE = 1e-7
PAGERANK_ROUNDS = 50


class TfIdf:
    """Unit-length TF-IDF vectors (smoothed idf) of word lists, each made when first asked for:
    clustering compares few of its texts with another, so most vectors are never needed."""

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        self._documents = documents
        distinct = list(map(set, documents))
        self._sizes = list(map(len, distinct))
        # chain() feeds Counter's C loop directly: 10,000 documents hold a million words.
        frequency = Counter(itertools.chain.from_iterable(distinct))
        count = len(documents)
        self._idf = {word: math.log((1 + count) / (1 + df)) + 1.0 for word, df in frequency.items()}
        self._vectors: dict[int, dict[str, float]] = {}

    def size(self, index: int) -> int:
        """How many distinct words the document has (the length of its vector)."""
        return self._sizes[index]

    def vector(self, index: int) -> dict[str, float]:
        """The document's vector ({} when it has no word)."""
        vector = self._vectors.get(index)
        if vector is None:
            idf = self._idf
            weights = {word: tf * idf[word] for word, tf in Counter(self._documents[index]).items()}
            norm = math.sqrt(sum(w * w for w in weights.values()))
            vector = {word: w / norm for word, w in weights.items()} if norm else {}
            self._vectors[index] = vector
        return vector

    def vectors(self) -> list[dict[str, float]]:
        """Every document's vector, in order."""
        return [self.vector(index) for index in range(len(self._documents))]

    def similarities(self, pairs: Sequence[tuple[int, int]]) -> list[float]:
        """The cosine of the two documents of each pair."""
        vector = self.vector
        return [cosine(vector(first), vector(second)) for first, second in pairs]


def cosine(first: Mapping[str, float], second: Mapping[str, float]) -> float:
    """The cosine of two unit-length vectors."""
    # Only the shared words add anything. fsum rounds the exact sum once, so which vector is
    # walked (and in what order) cannot change the result.
    if len(first) > len(second):
        first, second = second, first
    return math.fsum(weight * second[word] for word, weight in first.items() if word in second)


def tfidf_vectors(documents: Sequence[Sequence[str]]) -> list[dict[str, float]]:
    """Unit-length TF-IDF vectors (smoothed idf) of word lists, one per document ({} when it has no word)."""
    return TfIdf(documents).vectors()


def similarity_graph(vectors: Sequence[Mapping[str, float]]) -> list[dict[int, float]]:
    """The cosine of every two vectors that share a word, as adjacency maps (no edge to itself)."""
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for index, vector in enumerate(vectors):
        for word, weight in vector.items():
            postings[word].append((index, weight))
    graph: list[dict[int, float]] = [defaultdict(float) for _ in vectors]
    for entries in postings.values():
        for position, (first, first_weight) in enumerate(entries):
            for second, second_weight in entries[position + 1 :]:
                product = first_weight * second_weight
                graph[first][second] += product
                graph[second][first] += product
    return [dict(edges) for edges in graph]


def pagerank(graph: Sequence[Mapping[int, float]], damping: float = 0.85) -> list[float]:
    """PageRank on a weighted graph of adjacency maps; a node without edges keeps only the base share."""
    size = len(graph)
    if not size:
        return []
    out_weight = [sum(edges.values()) or 1.0 for edges in graph]
    scores = [1.0 / size] * size
    for _ in range(PAGERANK_ROUNDS):
        updated = [(1 - damping) / size] * size
        for node, edges in enumerate(graph):
            share = damping * scores[node] / out_weight[node]
            for neighbour, weight in edges.items():
                updated[neighbour] += weight * share
        moved = max(abs(a - b) for a, b in zip(updated, scores, strict=True))
        scores = updated
        if moved < PAGERANK_TOLERANCE:
            break
    return scores


def centrality(texts: Sequence[str]) -> list[float]:
    """How central each text is among ``texts`` (TextRank: PageRank over their TF-IDF cosine graph)."""
    return pagerank(similarity_graph(tfidf_vectors([content_words(t) for t in texts])))
