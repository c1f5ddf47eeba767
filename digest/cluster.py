"""Previews -> Candidates: the same event told by several feeds becomes one story.

Method:

1. Exact duplicates (the same entry id) are dropped; the first one seen stays.
2. Articles whose links have the same *canonical URL* are one story. The
   canonical form lower-cases the scheme and host, drops a leading ``www.``,
   the fragment, a trailing slash and tracking parameters (``utm_*``,
   ``fbclid``, ``gclid``, ``ref``...); the remaining query is sorted.
3. Articles published within 48 hours of each other are one story when their
   titles and texts agree: the Jaccard similarity of the titles' content-word
   sets is at least 0.6 and the TF-IDF cosine of the first 100 content words
   of their texts (``Preview.opening``) is at least 0.2 (two wires rewording
   one event share little more than names and numbers), or the titles are
   nearly identical (Jaccard >= 0.9) and the texts do not contradict it
   (cosine >= 0.1, or one text is too short to judge), or the texts are near
   copies (cosine >= 0.7) with related titles (Jaccard >= 0.25).
4. Comparing every pair would be quadratic, so candidates are blocked by an
   inverted index of title word *pairs*. Every rule above needs a title
   Jaccard of at least 0.25, and two titles of three or more content words
   each that reach it share at least two words (one shared word gives at most
   1/5). So an article is indexed under the pairs of its five rarest title
   words (rarest in this batch of titles) and compared only with the earlier
   articles under one of those pairs. Two titles that differ in at most three
   rarer words each share a pair there: both hold the two rarest words they
   share among their five rarest. Titles of one or two words, which can match
   sharing a single word, are indexed by single words and compared with
   titles of at most four words (longer ones cannot reach 0.25 with one
   shared word). Words in too many titles (over 5 x sqrt(n), at least 50)
   are not used for blocking, nor are pairs in over sqrt(n) titles (at least
   20): the words of a headline pattern ("spending plan passes") recur
   together in every story of its kind. At 10,000 articles single-word
   blocks gave about 150 candidates an article; pairs give about eight.
5. Matches are joined with union-find (so matching is transitive). In each
   story the lead is the article with the longest text (ties: the earliest
   published, then the first seen); the others follow in input order.
   ``Candidate.id`` is the lead's entry id. Candidates come out in the order
   their first article was seen.

Clustering reads previews (extract.preview), not extracted articles: a build
extracts only the stories its issue reaches.
"""

from __future__ import annotations

import builtins
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from digest.text import TfIdf, content_words
from digest.types import Candidate, Map, Preview

TIME_WINDOW = timedelta(hours=48)
TITLE_JACCARD = 0.6
TEXT_COSINE = 0.2
SAME_TITLE_JACCARD = 0.9
SAME_TITLE_COSINE = 0.1
COPY_COSINE = 0.7
COPY_TITLE_JACCARD = 0.25
#: Below this many content words a text cannot contradict a title match.
MIN_JUDGEABLE_WORDS = 15
#: The rarest title words of an article whose pairs find its candidates.
BLOCKING_WORDS = 5
#: Titles of at most this many content words can match another sharing one word (1/4 >= 0.25)...
SHORT_TITLE = 2
#: ...but only a title of at most this many: 1 / (2 + 5 - 1) < 0.25.
SMALL_TITLE = 4

_TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "ref", "ref_src", "mc_cid", "mc_eid"})


def canonical_url(url: str) -> str:
    """``url`` without what varies between links to the same page (tracking, host case, fragment)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    host = host.removeprefix("www.")
    if parts.port and (parts.scheme, parts.port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{parts.port}"
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_") and key.lower() not in _TRACKING_PARAMS
    )
    path = parts.path.rstrip("/")
    # http and https copies of one page are the same story.
    return urlunsplit(("", host, path, urlencode(query), ""))


def cluster(articles: Sequence[Preview], map: Map = builtins.map) -> tuple[Candidate, ...]:
    """The stories told by ``articles``, duplicates dropped, in the order they were first seen.

    The candidate pairs (from the titles and times) and the texts' vectors do not depend on each
    other: they are handed to ``map`` together, which may make them side by side.
    """
    unique = _drop_duplicate_ids(articles)
    groups = _UnionFind(len(unique))
    _join_same_urls(unique, groups)
    _join_similar(unique, groups, map)
    members: dict[int, list[int]] = defaultdict(list)
    for index in range(len(unique)):
        members[groups.find(index)].append(index)
    stories = [_candidate([unique[i] for i in indexes]) for indexes in members.values()]
    # Groups were filled in input order, so they come out in the order of their first article.
    return tuple(stories)


def _drop_duplicate_ids(articles: Sequence[Preview]) -> list[Preview]:
    seen: set[str] = set()
    unique: list[Preview] = []
    for article in articles:
        if article.entry.id not in seen:
            seen.add(article.entry.id)
            unique.append(article)
    return unique


class _UnionFind:
    def __init__(self, size: int) -> None:
        self._parent = list(range(size))

    def find(self, item: int) -> int:
        root = item
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[item] != root:
            self._parent[item], item = root, self._parent[item]
        return root

    def union(self, first: int, second: int) -> None:
        a, b = self.find(first), self.find(second)
        if a != b:
            # The smaller index stays root, so a group's root is its first article.
            self._parent[max(a, b)] = min(a, b)


def _join_same_urls(articles: list[Preview], groups: _UnionFind) -> None:
    first_with_url: dict[str, int] = {}
    for index, article in enumerate(articles):
        if not article.entry.link:
            continue
        key = canonical_url(article.entry.link)
        if key in first_with_url:
            groups.union(first_with_url[key], index)
        else:
            first_with_url[key] = index


@dataclass(frozen=True)
class _Titles:
    """What the candidate pairs are found from: each article's title and time."""

    titles: list[str]
    stamps: list[float]


@dataclass(frozen=True)
class _Pairs:
    """Pairs of articles close enough in time whose titles may tell one story, with the Jaccard
    similarity of their titles' content words."""

    pairs: list[tuple[int, int]]
    title_similarities: list[float]


def _made(work: _Titles | tuple[tuple[str, ...], ...]) -> _Pairs | TfIdf:
    """One of the two halves of comparing articles: the pairs of ``_Titles``, or the vectors
    of a tuple of texts (every one: nearly every text is in some pair)."""
    if isinstance(work, _Titles):
        return _title_pairs(work)
    texts = TfIdf(work)
    texts.vectors()
    return texts


def _title_pairs(work: _Titles) -> _Pairs:
    titles = [frozenset(content_words(title)) for title in work.titles]
    window = TIME_WINDOW.total_seconds()
    stamps = work.stamps
    pairs: list[tuple[int, int]] = []
    title_similarities: list[float] = []
    for first, second in _candidate_pairs(titles):
        if abs(stamps[first] - stamps[second]) <= window:
            title_similarity = _jaccard(titles[first], titles[second])
            if title_similarity >= COPY_TITLE_JACCARD:
                pairs.append((first, second))
                title_similarities.append(title_similarity)
    return _Pairs(pairs, title_similarities)


def _join_similar(articles: list[Preview], groups: _UnionFind, map: Map) -> None:
    work: list[_Titles | tuple[tuple[str, ...], ...]] = [
        _Titles([a.entry.title for a in articles], [a.entry.published.timestamp() for a in articles]),
        tuple(a.opening for a in articles),
    ]
    # The texts come last: a map works on its last item itself, so their vectors stay here.
    found, texts = map(_made, work)
    assert isinstance(found, _Pairs) and isinstance(texts, TfIdf)
    text_similarities = texts.similarities(found.pairs)
    for (first, second), title_similarity, text_similarity in zip(
        found.pairs, found.title_similarities, text_similarities, strict=True
    ):
        judgeable = min(texts.size(first), texts.size(second)) >= MIN_JUDGEABLE_WORDS
        if (
            (title_similarity >= TITLE_JACCARD and text_similarity >= TEXT_COSINE)
            or (
                title_similarity >= SAME_TITLE_JACCARD
                and (text_similarity >= SAME_TITLE_COSINE or not judgeable)
            )
            or text_similarity >= COPY_COSINE
        ):
            groups.union(first, second)


def _candidate_pairs(titles: list[frozenset[str]]) -> Iterator[tuple[int, int]]:
    """Pairs of articles sharing a pair of their rarest title words (or, for titles of one or two
    words, one word), each pair once, in a stable order."""
    frequency: Counter[str] = Counter(word for title in titles for word in title)
    # A word in more titles than this says little about the story and would make blocks huge.
    too_common = max(50, int(math.sqrt(len(titles)) * 5))
    rare_words = [
        sorted((w for w in title if frequency[w] <= too_common), key=lambda w: (frequency[w], w))
        for title in titles
    ]
    # Sorted by one global order, so two titles name a shared pair by the same tuple.
    all_pairs = [list(itertools.combinations(rare[:BLOCKING_WORDS], 2)) for rare in rare_words]
    pair_frequency: Counter[tuple[str, str]] = Counter(pair for pairs in all_pairs for pair in pairs)
    # Two words of one headline pattern ("spending plan passes") recur in every story of that
    # kind: such a pair would put hundreds of unrelated stories in one block.
    pair_too_common = max(20, int(math.sqrt(len(titles))))
    by_pair: dict[tuple[str, str], list[int]] = defaultdict(list)
    #: Single-word blocks: titles of at most SHORT_TITLE words, and of at most SMALL_TITLE words.
    by_word_short: dict[str, list[int]] = defaultdict(list)
    by_word_small: dict[str, list[int]] = defaultdict(list)
    for position, (title, rare) in enumerate(zip(titles, rare_words, strict=True)):
        pairs = [pair for pair in all_pairs[position] if pair_frequency[pair] <= pair_too_common]
        earlier: set[int] = set()
        for pair in pairs:
            earlier.update(by_pair[pair])
        if len(title) <= SMALL_TITLE:
            single_words_of = by_word_small if len(title) <= SHORT_TITLE else by_word_short
            for word in rare:
                earlier.update(single_words_of[word])
        # Pairs are made per article rather than gathered and sorted at the end: the stories that
        # come out do not depend on the order of the pairs.
        for other in sorted(earlier):
            yield other, position
        for pair in pairs:
            by_pair[pair].append(position)
        if len(title) <= SMALL_TITLE:
            for word in rare:
                by_word_small[word].append(position)
                if len(title) <= SHORT_TITLE:
                    by_word_short[word].append(position)


def _jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    if not first or not second:
        return 0.0
    common = len(first & second)
    return common / (len(first) + len(second) - common)


def _candidate(articles: list[Preview]) -> Candidate:
    lead_index = min(
        range(len(articles)),
        key=lambda i: (-articles[i].length, articles[i].entry.published, i),
    )
    lead = articles[lead_index]
    others = tuple(a.entry for i, a in enumerate(articles) if i != lead_index)
    return Candidate(entries=(lead.entry, *others))
