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

It then reads every briefing of an article of 250 words or more as a reader
would, and prints per data set (each figure is defined here, not by the
condenser, so the condenser cannot grade itself):

* generic: the share of questions that hold no word of their story beyond
  question words ("What happens next?");
* answered: the share of sections whose first sentence holds at least half of
  its question's story words (what the question asks about);
* misleading: the share of openings (the lede's first sentence and each
  answer's) that start on a pronoun pointing back, a discourse connective, a
  closing quote mark or a lower-case word;
* captions: page furniture left in briefings ("Scroll down for video",
  "(pictured)", "Read more", a caption fused to the next sentence, a picture's
  label such as "Behind bars: ...");
* repeats: pairs of briefing sentences that tell one fact twice (at least 60%
  of the shorter one's content words, and four or more, shared), per briefing;
* sections: the mean count for articles over 400 words;
* grounded: the share of questions whose every named phrase (each run of words
  that are not question words, as written, capitals and all) stands in its
  answer outside quotation marks: a question about a quote's inner words
  ("What does X say about the yas tomoz boys?"), a lower-cased name or a phrase
  the answer never writes is not grounded;
* top form: the share of the commonest wording, a question with its named
  phrases replaced by X ("What is known about X?").

The data is read where it lies and never copied: it is licensed for evaluation only.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rouge_score import rouge_scorer

from digest.condense import get_condenser
from digest.config import CondenseConfig
from digest.extract import extract
from digest.ingest import text_to_html
from digest.text import STOPWORDS, centrality, content_words, split_sentences
from digest.types import Briefing, Entry, Story

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


#: What a question holds beyond its story: question words and the wordings' own words.
QUESTION_WORDS = STOPWORDS | {
    *"what who why how where when which does do did is are was were has have had about".split(),
    *"say saying said".split(),
    *"fear fears worried worry plan plans next happens happen happening done doing being responding".split(),
    *"respond stand position background history known else know figures show risks risk stake".split(),
    *"people others reporting readers reported details unclear remains more get here add adds".split(),
    *"find show decide react reacted happened changed dispute argument debate comes led role".split(),
    *"row announce announced unveil unveiled launch launched propose proposed suggest suggested".split(),
    *"promise promised pledge pledged reveal revealed confirm confirmed admit admitted deny denied".split(),
    *"recommend recommended call".split(),
}
#: A quotation: in double marks, or in single ones opening before a word (an apostrophe inside stays).
QUOTATION = re.compile(r"\"[^\"]*\"|“[^”]*”|(?<!\w)‘(?:[^’]|’(?=\w))*’|(?<!\w)'(?:[^']|'(?=\w))*'(?!\w)")
PRONOUNS = set("he she it they this these those that his her its their him them".split())
CONNECTIVES = set(
    "but however and so yet also meanwhile nevertheless nonetheless still instead moreover furthermore "
    "therefore thus besides hence otherwise".split()
)
FURNITURE = re.compile(
    r"scroll down for|\((?:pictured|left|right|above|below|centre|center)\b[^)]*\)|\bread more\b|"
    r"\bclick here\b|\bshare this (?:with|on|via|article|story|page)\b|\bsign up\b|getty images|"
    r"^(?:photo|image|picture):",
    re.IGNORECASE | re.MULTILINE,
)
#: A picture's label opening a caption: "Behind bars: The suspects ...", "... was shot Musical team: The".
LABELLED = re.compile(
    r"(?:(?:^|[.!?] |\b[a-z0-9][\w'’]* )[A-Z][a-z]+|\b[A-Z][\w'’]* [A-Z][a-z]+(?= [a-z]))"
    r"(?: (?!said|says|told|added|asked|wrote|are|is)[a-z]+){0,2}: (?=[A-Z][a-z'’]+ [a-z])"
    r"|(?:^|(?<=[.!?] ))(?:Above|Below|Pictured),",
    re.MULTILINE,
)
#: A caption without a full stop fused to the sentence after it: "... his account He joined".
FUSED = re.compile(r"[a-z0-9] (?:He|She|They|We|But|However|His|Her|Their|Its) [a-z]")
MIN_READ_WORDS = 250
LONG_WORDS = 400


def stems(words: list[str]) -> set[str]:
    return {w.removesuffix("'s").removesuffix("’s").rstrip("s") for w in words}


def opening(paragraph: str) -> str:
    sentences = split_sentences(paragraph)
    return sentences[0] if sentences else paragraph


def misleading(sentence: str) -> bool:
    text = sentence.lstrip()
    if not text:
        return False
    if text[0] in "\"'”’" and (len(text) == 1 or text[1] in " ,.;:!?"):
        return True
    if text[0].islower():
        return True
    first = text.lstrip("\"'“‘(").split(" ", 1)[0].rstrip(",;:").lower()
    return first in PRONOUNS or first in CONNECTIVES


def quoted(text: str, at: int) -> bool:
    """Whether ``at`` lies inside a quotation of its paragraph (a speaker's run-on is no caption)."""
    before = text[:at].rsplit("\n", 1)[-1]
    single_open = len(re.findall(r"(?:^|[\s:(])['‘]\w", before))
    single_close = len(re.findall(r"[\w.,!?…]['’](?=\s|$)", before))
    return before.count('"') % 2 == 1 or before.count("“") > before.count("”") or single_open > single_close


def repeats(briefing: Briefing) -> int:
    paragraphs = [*briefing.lede, *(p for s in briefing.sections for p in s.answer)]
    sentences = [set(content_words(s)) for p in paragraphs for s in split_sentences(p)]
    count = 0
    for i, first in enumerate(sentences):
        for second in sentences[i + 1 :]:
            smaller = min(len(first), len(second))
            shared = len(first & second)
            if smaller and shared >= 4 and shared / smaller >= 0.6:
                count += 1
    return count


@dataclass
class Reading:
    """What a reader meets in one data set's briefings."""

    questions: int = 0
    generic: int = 0
    sections: int = 0
    answered: int = 0
    openings: int = 0
    misleading: int = 0
    captions: int = 0
    repeats: int = 0
    briefings: int = 0
    long_sections: list[int] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    grounded: int = 0
    forms: Counter[str] = field(default_factory=Counter)

    def read(self, sample: Sample, briefing: Briefing) -> None:
        story = stems(content_words(sample.article))
        self.briefings += 1
        self.openings += 1
        self.misleading += misleading(opening(briefing.lede[0]))
        for section in briefing.sections:
            own = stems([w for w in content_words(section.question) if w not in QUESTION_WORDS])
            self.questions += 1
            if not own & story:
                self.generic += 1
                self.examples.append(f"generic: {section.question}")
            first = stems(content_words(opening(section.answer[0])))
            self.sections += 1
            if own and len(own & first) * 2 >= len(own):
                self.answered += 1
            self.openings += 1
            self.misleading += misleading(opening(section.answer[0]))
            phrases, form = named_phrases(section.question)
            self.forms[form] += 1
            unquoted = QUOTATION.sub(" ", " ".join(section.answer))
            if phrases and all(stands_in(p, unquoted) for p in phrases):
                self.grounded += 1
            else:
                self.examples.append(f"ungrounded: {section.question}")
        text = "\n".join([*briefing.lede, *(p for s in briefing.sections for p in s.answer)])
        fused = sum(not quoted(text, m.start()) for m in FUSED.finditer(text))
        self.captions += len(FURNITURE.findall(text)) + fused + len(LABELLED.findall(text))
        self.repeats += repeats(briefing)
        if len(sample.article.split()) > LONG_WORDS:
            self.long_sections.append(len(briefing.sections))

    def row(self, dataset: str) -> str:
        def share(part: int, whole: int) -> str:
            return f"{100 * part / whole:5.1f}%" if whole else "    -"

        long = statistics.mean(self.long_sections) if self.long_sections else 0.0
        top = self.forms.most_common(1)[0][1] if self.forms else 0
        return (
            f"{dataset:<6} {self.briefings:>4} {share(self.generic, self.questions):>8} "
            f"{share(self.answered, self.sections):>8} {share(self.misleading, self.openings):>10} "
            f"{self.captions:>8} {self.repeats / max(1, self.briefings):>8.2f} {long:>9.2f} "
            f"{share(self.grounded, self.questions):>8} {share(top, self.questions):>8}"
        )


def stands_in(phrase: str, text: str) -> bool:
    """Whether ``phrase`` is written in ``text``; a name may be written by its last word, as news
    refers to a person named before ("Finance Minister Ana Berg", then "Ms Berg")."""
    if phrase[:1].isupper() and all(w[:1].isupper() for w in phrase.split()):
        phrase = phrase.split()[-1]
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def named_phrases(question: str) -> tuple[list[str], str]:
    """The phrases ``question`` names (runs of words that are not question words, as written), and its
    form: the question with each phrase replaced by X."""
    phrases: list[str] = []
    form: list[str] = []
    run: list[str] = []
    for token in [*question.rstrip("?").split(), ""]:
        word = token.lower().removesuffix("'s").removesuffix("’s").strip("'’")
        if token and word not in QUESTION_WORDS:
            run.append(token)
            continue
        if run:
            phrases.append(" ".join(run))
            # "about the X" and "about X" are one form.
            if form and form[-1].lower() in ("the", "a", "an"):
                form.pop()
            form.append("X")
            run = []
        if token:
            form.append(token)
    return phrases, " ".join(form) + "?"


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
    parser.add_argument(
        "--examples", type=int, default=0, help="print this many generic questions per data set"
    )
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"condense benchmark: {args.data}: no such folder (it lives in ../shared)", file=sys.stderr)
        return 2

    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    condenser = get_condenser(CondenseConfig())
    tz = ZoneInfo("UTC")
    totals: dict[str, dict[str, list[float]]] = {}
    words: dict[str, list[int]] = {}
    seconds: dict[str, list[float]] = {}
    readings: dict[str, Reading] = {}
    for sample in samples(args.data, args.limit):
        story = story_of(sample)
        started = time.perf_counter()
        briefing = condenser.condense(story, tz)
        seconds.setdefault(sample.dataset, []).append(time.perf_counter() - started)
        if briefing is not None and len(sample.article.split()) >= MIN_READ_WORDS:
            readings.setdefault(sample.dataset, Reading()).read(sample, briefing)
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
    print(f"{header}  {'ms/article (median)':>19}")
    for dataset, scores in totals.items():
        count = len(words[dataset])
        mean_words = sum(words[dataset]) / count
        for system in ("digest", "lead", "textrank"):
            figures = [100 * sum(scores[f"{system}/{m}"]) / count for m in METRICS]
            timing = f"{1000 * statistics.median(seconds[dataset]):10.1f}" if system == "digest" else ""
            print(
                f"{dataset:<6} {count:>4} {mean_words:>5.0f} {system:<9} "
                f"{figures[0]:>6.2f} {figures[1]:>6.2f} {figures[2]:>6.2f}  {timing}"
            )
        digest_total = sum(scores["digest/rouge1"])
        lift = [100 * (digest_total - sum(scores[f"{b}/rouge1"])) / count for b in ("lead", "textrank")]
        print(f"{dataset:<6} digest R-1 minus lead: {lift[0]:+.2f}; minus textrank: {lift[1]:+.2f}")
    print()
    print(f"Briefings of articles of {MIN_READ_WORDS} words or more, read as a reader would:")
    print(
        f"{'data':<6} {'n':>4} {'generic':>8} {'answered':>8} {'misleading':>10} "
        f"{'captions':>8} {'repeats':>8} {'sections':>9} {'grounded':>8} {'top form':>8}"
    )
    for dataset, reading in readings.items():
        print(reading.row(dataset))
    if args.examples:
        for dataset, reading in readings.items():
            for form, count in reading.forms.most_common(3):
                print(f"{dataset}: form {100 * count / reading.questions:4.1f}% {form}")
            for example in reading.examples[: args.examples]:
                print(f"{dataset}: {example}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
