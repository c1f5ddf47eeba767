"""How good are the condenser's ledes? ROUGE against reference summaries, next to two baselines.

Runs the extractive condenser on every article of ``../shared/data/eval-dev/``
(bbc: extractive references; cnndm: human highlights; xsum: one-sentence
summaries) and prints, per data set, ROUGE-1/2/L F1 of the lede against the
reference, and of two baselines cut to the lede's own length in words:

* Lead: the article's first words.
* TextRank: sentences ranked by PageRank over their TF-IDF cosine graph, the
  best taken until the length is reached, in source order.

Usage::

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/condense.py [--data ../shared/data/eval-dev] [--limit N]

The data is read where it lies and never copied: it is licensed for evaluation only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rouge_score import rouge_scorer

from digest.condense import get_condenser
from digest.config import CondenseConfig
from digest.extract import extract
from digest.ingest import text_to_html
from digest.text import centrality, split_sentences
from digest.types import Entry, Story

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "eval-dev"
METRICS = ("rouge1", "rouge2", "rougeL")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Sample:
    dataset: str
    id: str
    title: str
    article: str
    reference: str


def samples(data: Path, limit: int | None) -> Iterator[Sample]:
    for folder in sorted(p for p in data.iterdir() if p.is_dir()):
        titles = {}
        meta = folder / "meta.jsonl"
        if meta.exists():
            for line in meta.read_text("utf-8").splitlines():
                record = json.loads(line)
                titles[record["id"]] = record.get("title", "")
        articles = sorted((folder / "articles").glob("*.txt"))[:limit]
        for path in articles:
            yield Sample(
                dataset=folder.name,
                id=path.stem,
                title=titles.get(path.stem, ""),
                article=path.read_text("utf-8"),
                reference=(folder / "summaries" / path.name).read_text("utf-8"),
            )


def story_of(sample: Sample) -> Story:
    # Paragraphs are separated by blank lines; a paragraph's lines belong together.
    paragraphs = [" ".join(block.split()) for block in sample.article.split("\n\n") if block.strip()]
    entry = Entry(
        id=sample.id,
        feed=sample.dataset,
        feed_url=sample.dataset,
        title=sample.title,
        link="",
        published=NOW,
        dated=True,
        summary_html="",
        content_html=text_to_html("\n".join(paragraphs)),
    )
    article = extract(entry)
    return Story(id=entry.id, articles=(article,))


def first_words(text: str, count: int) -> str:
    return " ".join(text.split()[:count])


def textrank(text: str, count: int) -> str:
    """The top sentences by PageRank over TF-IDF cosine similarity, in source order, cut to ``count``."""
    sentences = [s for p in text.split("\n\n") for s in split_sentences(" ".join(p.split())) if s.strip()]
    if not sentences:
        return ""
    scores = centrality(sentences)
    chosen: list[int] = []
    words = 0
    for index in sorted(range(len(sentences)), key=lambda i: -scores[i]):
        chosen.append(index)
        words += len(sentences[index].split())
        if words >= count:
            break
    return first_words(" ".join(sentences[i] for i in sorted(chosen)), count)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="articles per data set")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"condense benchmark: {args.data}: no such folder (it lives in ../shared)", file=sys.stderr)
        return 2

    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    condenser = get_condenser(CondenseConfig())
    tz = ZoneInfo("UTC")
    totals: dict[str, dict[str, list[float]]] = {}
    words: dict[str, list[int]] = {}
    seconds: dict[str, float] = {}
    for sample in samples(args.data, args.limit):
        started = time.perf_counter()
        briefing = condenser.condense(story_of(sample), tz)
        seconds[sample.dataset] = seconds.get(sample.dataset, 0.0) + time.perf_counter() - started
        lede = " ".join(briefing.lede) if briefing else first_words(sample.article, 120)
        length = len(lede.split())
        words.setdefault(sample.dataset, []).append(length)
        candidates = {
            "digest": lede,
            "lead": first_words(sample.article, length),
            "textrank": textrank(sample.article, length),
        }
        for system, text in candidates.items():
            score = scorer.score(sample.reference, text)
            for metric in METRICS:
                key = f"{system}/{metric}"
                totals.setdefault(sample.dataset, {}).setdefault(key, []).append(score[metric].fmeasure)

    header = f"{'data':<6} {'n':>4} {'words':>5} {'system':<9} {'R-1':>6} {'R-2':>6} {'R-L':>6}"
    print(f"{header}  {'ms/article':>10}")
    for dataset, scores in totals.items():
        count = len(words[dataset])
        mean_words = sum(words[dataset]) / count
        for system in ("digest", "lead", "textrank"):
            figures = [100 * sum(scores[f"{system}/{m}"]) / count for m in METRICS]
            timing = f"{1000 * seconds[dataset] / count:10.1f}" if system == "digest" else ""
            print(
                f"{dataset:<6} {count:>4} {mean_words:>5.0f} {system:<9} "
                f"{figures[0]:>6.2f} {figures[1]:>6.2f} {figures[2]:>6.2f}  {timing}"
            )
        digest_total = sum(scores["digest/rouge1"])
        lift = [100 * (digest_total - sum(scores[f"{b}/rouge1"])) / count for b in ("lead", "textrank")]
        print(f"{dataset:<6} digest R-1 minus lead: {lift[0]:+.2f}; minus textrank: {lift[1]:+.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
