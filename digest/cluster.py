"""Articles -> Stories: the same event told by several feeds becomes one Story.

Method:

1. Exact duplicates (the same entry id) are dropped; the first one seen stays.
2. Articles whose links have the same *canonical URL* are one story. The
   canonical form lower-cases the scheme and host, drops a leading ``www.``,
   the fragment, a trailing slash and tracking parameters (``utm_*``,
   ``fbclid``, ``gclid``, ``ref``...); the remaining query is sorted.
3. Articles published within 48 hours of each other are one story when their
   titles and texts agree: the Jaccard similarity of the titles' content-word
   sets is at least 0.6 and the TF-IDF cosine of their first 100 words is at
   least 0.2 (two wires rewording one event share little more than names
   and numbers), or the titles are nearly identical (Jaccard >= 0.9) and the
   texts do not contradict it (cosine >= 0.1, or one text is too short to
   judge), or the texts are near copies (cosine >= 0.7) with related titles
   (Jaccard >= 0.25).
4. Comparing every pair would be quadratic, so candidates are blocked by an
   inverted index of title words: each article is compared only with the
   articles that share one of its three rarest title words, and words that
   appear in too many titles are not used for blocking at all. Two articles
   that are the same story share most title words, so they share a rare one.
5. Matches are joined with union-find (so matching is transitive). In each
   story the lead is the article with the most words (ties: the earliest
   published, then the first seen); the others follow in input order.
   ``Story.id`` is the lead's entry id. Stories come out in the order their
   first article was seen.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from digest.text import content_words
from digest.types import Article, Story

TIME_WINDOW = timedelta(hours=48)
TITLE_JACCARD = 0.6
TEXT_COSINE = 0.2
SAME_TITLE_JACCARD = 0.9
SAME_TITLE_COSINE = 0.1
COPY_COSINE = 0.7
COPY_TITLE_JACCARD = 0.25
#: Words of the text compared for similarity (the lede carries the news).
TEXT_PREFIX_WORDS = 100
#: Below this many content words a text cannot contradict a title match.
MIN_JUDGEABLE_WORDS = 15
#: The rarest title words of an article used to find candidates.
BLOCKING_WORDS = 3

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


def cluster(articles: Sequence[Article]) -> tuple[Story, ...]:
    """The stories told by ``articles``, duplicates dropped, in the order they were first seen."""
    unique = _drop_duplicate_ids(articles)
    groups = _UnionFind(len(unique))
    _join_same_urls(unique, groups)
    _join_similar(unique, groups)
    members: dict[int, list[int]] = defaultdict(list)
    for index in range(len(unique)):
        members[groups.find(index)].append(index)
    stories = [_story([unique[i] for i in indexes]) for indexes in members.values()]
    # Groups were filled in input order, so they come out in the order of their first article.
    return tuple(stories)


def _drop_duplicate_ids(articles: Sequence[Article]) -> list[Article]:
    seen: set[str] = set()
    unique: list[Article] = []
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


def _join_same_urls(articles: list[Article], groups: _UnionFind) -> None:
    first_with_url: dict[str, int] = {}
    for index, article in enumerate(articles):
        if not article.entry.link:
            continue
        key = canonical_url(article.entry.link)
        if key in first_with_url:
            groups.union(first_with_url[key], index)
        else:
            first_with_url[key] = index


def _join_similar(articles: list[Article], groups: _UnionFind) -> None:
    titles = [frozenset(content_words(a.entry.title)) for a in articles]
    vectors = _tfidf_vectors([_text_prefix(a) for a in articles])
    for first, second in _candidate_pairs(titles):
        if groups.find(first) == groups.find(second):
            continue
        if abs(articles[first].entry.published - articles[second].entry.published) > TIME_WINDOW:
            continue
        title_similarity = _jaccard(titles[first], titles[second])
        if title_similarity < COPY_TITLE_JACCARD:
            continue
        first_vector, second_vector = vectors[first], vectors[second]
        text_similarity = _cosine(first_vector, second_vector)
        judgeable = min(len(first_vector), len(second_vector)) >= MIN_JUDGEABLE_WORDS
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
    """Pairs of articles sharing one of their rarest title words, each pair once, in a stable order."""
    frequency: Counter[str] = Counter(word for title in titles for word in title)
    # A word in more titles than this says little about the story and would make blocks huge.
    too_common = max(50, int(math.sqrt(len(titles)) * 5))
    index: dict[str, list[int]] = defaultdict(list)
    for position, title in enumerate(titles):
        rare = sorted((w for w in title if frequency[w] <= too_common), key=lambda w: (frequency[w], w))
        # Pairs are made per article rather than gathered and sorted at the end: at 10,000 titles
        # there are millions, and the stories that come out do not depend on the order of the pairs.
        earlier: set[int] = set()
        for word in rare[:BLOCKING_WORDS]:
            earlier.update(index[word])
        for other in sorted(earlier):
            yield other, position
        # Every usable word is indexed, so a later article finds this one by any of its rare words.
        for word in rare:
            index[word].append(position)


def _text_prefix(article: Article) -> list[str]:
    text_words: list[str] = []
    for paragraph in article.paragraphs:
        text_words.extend(content_words(paragraph))
        if len(text_words) >= TEXT_PREFIX_WORDS:
            break
    return text_words[:TEXT_PREFIX_WORDS]


def _tfidf_vectors(documents: list[list[str]]) -> list[dict[str, float]]:
    """Unit-length TF-IDF vectors (smoothed idf), one per document."""
    document_frequency: Counter[str] = Counter(word for document in documents for word in set(document))
    count = len(documents)
    vectors: list[dict[str, float]] = []
    for document in documents:
        weights = {
            word: tf * (math.log((1 + count) / (1 + document_frequency[word])) + 1.0)
            for word, tf in Counter(document).items()
        }
        norm = math.sqrt(sum(w * w for w in weights.values()))
        vectors.append({word: w / norm for word, w in weights.items()} if norm else {})
    return vectors


def _cosine(first: dict[str, float], second: dict[str, float]) -> float:
    if len(first) > len(second):
        first, second = second, first
    # Most candidate pairs share few words: skip the others without a lookup and a product each
    # (a missing word adds 0.0, so the sum is the same, in the same order).
    shared = first.keys() & second.keys()
    return sum(weight * second[word] for word, weight in first.items() if word in shared)


def _jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    if not first or not second:
        return 0.0
    common = len(first & second)
    return common / (len(first) + len(second) - common)


def _story(articles: list[Article]) -> Story:
    lead_index = min(
        range(len(articles)),
        key=lambda i: (-articles[i].word_count, articles[i].entry.published, i),
    )
    lead = articles[lead_index]
    others = tuple(a for i, a in enumerate(articles) if i != lead_index)
    return Story(id=lead.entry.id, articles=(lead, *others))
