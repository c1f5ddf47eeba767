"""An LLM backend over the OpenAI-compatible chat-completions API, guarded against invention.

Works with any server that speaks ``POST {base_url}/chat/completions``
(OpenAI, Ollama, vLLM, llama.cpp's server). Method:

1. The story's sources go to the model as numbered articles, with the format's
   rules, and the model is asked for the briefing as JSON against a schema
   (``response_format`` json_schema; servers that ignore it still get the
   schema in the prompt).
2. The reply is parsed and validated: the shape (a lede of 1-4 paragraphs,
   1-6 sections, questions ending in "?" and at most 12 words).
3. The guard checks every paragraph against the sources, sentence by
   sentence, after folding white space, quote marks and dashes:

   * a quoted passage (three words or more between quote marks) must appear
     verbatim in a source;
   * every number must appear in a source;
   * every capitalised name that does not open a sentence must appear in a
     source;
   * at least ``SUPPORT`` of a sentence's content words must appear in one
     source sentence or its neighbours (a paraphrase may reorder, not invent);
   * no sentence may repeat (small models loop).

4. On any failure (HTTP error, timeout, malformed JSON, a wrong shape, a
   guard rejection) the story is condensed by the extractive backend instead,
   and the reason is kept in ``report`` for the run report.
5. Accepted answers are cached by a hash of the model, the prompt version and
   the sources, so a rebuild pays for nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

import httpx

from digest.condense import register, source_refs
from digest.condense.extractive import ExtractiveCondenser
from digest.config import CondenseConfig
from digest.text import content_words, split_sentences
from digest.types import Briefing, Dateline, Section, Story

log = logging.getLogger("digest")

#: Bump when the prompt or the schema changes: cached answers of an older prompt are not reused.
PROMPT_VERSION = "1"
#: Share of a sentence's content words that one passage of a source must hold.
SUPPORT = 0.7
#: The most source text sent to the model, in characters per story.
MAX_SOURCE_CHARS = 24_000
MAX_QUESTION_WORDS = 12

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["lede", "sections"],
    "properties": {
        "place": {"type": "string"},
        "lede": {"type": "array", "minItems": 1, "maxItems": 4, "items": {"type": "string"}},
        "sections": {
            "type": "array",
            "minItems": 1,
            "maxItems": 6,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["question", "answer"],
                "properties": {
                    "question": {"type": "string"},
                    "answer": {"type": "array", "minItems": 1, "maxItems": 6, "items": {"type": "string"}},
                },
            },
        },
    },
}

INSTRUCTIONS = """You condense news articles into a Q&A briefing, as JSON.
Use only facts stated in the articles. Never add a name, number or quote that is not in them.
Quote people only with their exact words from the articles, inside double quotes.
"lede": 2-4 short paragraphs (120-200 words in all): the news itself, who, what, where, when, the key number.
"sections": 3-6 sections when the articles allow. Each "question" is what a curious reader asks next,
at most 12 words, naming the actors ("What does the council say?", "Why is the port closed?",
"What happens next?"), ending with "?". Each "answer" is 1-4 paragraphs; its first sentence answers
the question directly. If the articles already ask questions as headings, keep those questions.
"place": the dateline place in capitals if the articles give one, else "".
Reply with the JSON object only, matching this schema:
"""


@dataclass(frozen=True)
class Rejection:
    """Why the model's briefing of a story was not used."""

    headline: str
    reason: str


class Rejected(Exception):
    """The model's answer failed the shape check or the guard."""


@register("openai")
class OpenAICondenser:
    """Condenses with a chat-completions model; falls back to the extractive backend."""

    def __init__(self, config: CondenseConfig, cache_dir: Path | None = None) -> None:
        self.config = config
        self.cache_dir = cache_dir
        self.fallback = ExtractiveCondenser(config)
        #: Every story whose model answer was not used, and why; the pipeline reports them.
        self.report: list[Rejection] = []
        headers = {"Content-Type": "application/json"}
        api_key = os.environ.get(config.api_key_env, "")
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.client = httpx.Client(timeout=config.timeout, headers=headers)

    def notes(self) -> tuple[str, ...]:
        backend = self.config.backend
        return tuple(f"story {r.headline!r}: {backend} backend not used: {r.reason}" for r in self.report)

    def condense(self, story: Story, tz: tzinfo) -> Briefing | None:
        baseline = self.fallback.condense(story, tz)
        if baseline is None:
            return None  # too short for a briefing whoever writes it
        sources = source_text(story)
        try:
            reply = self.cached(sources) or self.ask(sources)
            briefing = self.briefing(story, reply, baseline.dateline, sources)
        except (httpx.HTTPError, Rejected, ValueError) as err:
            reason = describe(err, self.config.timeout)
            self.report.append(Rejection(headline=story.headline, reason=reason))
            log.warning("story %r: %s backend not used: %s; condensed extractively", story.headline,
                        self.config.backend, reason)
            return baseline
        self.store(sources, reply)
        return briefing

    def ask(self, sources: str) -> Mapping[str, Any]:
        """One chat-completions request; the parsed JSON object of the reply."""
        body: dict[str, Any] = {
            "messages": [
                {"role": "system", "content": INSTRUCTIONS + json.dumps(SCHEMA)},
                {"role": "user", "content": sources},
            ],
            "temperature": 0,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "briefing", "schema": SCHEMA, "strict": True},
            },
        }
        if self.config.model:
            body["model"] = self.config.model
        url = self.config.base_url.rstrip("/") + "/chat/completions"
        response = self.client.post(url, json=body)
        if response.status_code != 200:
            raise Rejected(f"HTTP {response.status_code} from {url}")
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise Rejected("the reply is not a chat completion") from None
        return parse_reply(content)

    def briefing(self, story: Story, reply: Mapping[str, Any], dateline: Dateline, sources: str) -> Briefing:
        lede = strings(reply.get("lede"), "lede")
        raw_sections = reply.get("sections")
        if not isinstance(raw_sections, list) or not 1 <= len(raw_sections) <= 6:
            raise Rejected("sections: 1 to 6 required")
        sections = []
        for number, raw in enumerate(raw_sections):
            if not isinstance(raw, dict):
                raise Rejected(f"sections[{number}]: not an object")
            question = str(raw.get("question", "")).strip()
            if not question.endswith("?") or len(question.split()) > MAX_QUESTION_WORDS:
                raise Rejected(f"sections[{number}].question: {question!r} is not a short question")
            answer = strings(raw.get("answer"), f"sections[{number}]")
            sections.append(Section(question=question, answer=tuple(answer)))
        if not 1 <= len(lede) <= 4:
            raise Rejected("lede: 1 to 4 paragraphs required")
        guard([*lede, *(p for s in sections for p in s.answer)], sources)
        place = str(reply.get("place") or "").strip().upper()
        if place and normal(place) not in normal(sources).upper():
            place = dateline.place
        return Briefing(
            headline=story.headline,
            dateline=Dateline(date=dateline.date, place=place or dateline.place),
            lede=tuple(lede),
            sections=tuple(sections),
            sources=source_refs(story),
        )

    # --- the cache -------------------------------------------------------------------------------------

    def cache_key(self, sources: str) -> str:
        material = "\n".join([PROMPT_VERSION, self.config.base_url, self.config.model or "", sources])
        return hashlib.sha256(material.encode()).hexdigest()

    def cached(self, sources: str) -> Mapping[str, Any] | None:
        if self.cache_dir is None:
            return None
        path = self.cache_dir / f"{self.cache_key(sources)}.json"
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def store(self, sources: str, reply: Mapping[str, Any]) -> None:
        if self.cache_dir is None:
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(reply, file, ensure_ascii=False)
        os.replace(temporary, self.cache_dir / f"{self.cache_key(sources)}.json")


def source_text(story: Story) -> str:
    """The story's articles, numbered, as the model reads them."""
    parts = []
    for number, article in enumerate(story.articles, start=1):
        asked = tuple(f"{s.question}\n" + "\n".join(s.answer) for s in article.sections)
        body = "\n".join(article.intro + asked)
        parts.append(f"Article {number} ({article.entry.feed}): {article.entry.title}\n{body}")
    return "\n\n".join(parts)[:MAX_SOURCE_CHARS]


def parse_reply(content: Any) -> Mapping[str, Any]:
    """The JSON object in a reply, tolerating a Markdown code fence around it."""
    if not isinstance(content, str) or not content.strip():
        raise Rejected("the model's reply is empty")
    text = content.strip()
    fenced = re.match(r"^```(?:json)?\s*(.*?)\s*```$", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except ValueError:
        raise Rejected("the reply is not valid JSON") from None
    if not isinstance(data, dict):
        raise Rejected("the reply is not a JSON object")
    return data


def strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Rejected(f"{where}: a list of strings required")
    paragraphs = [" ".join(v.split()) for v in value if v.strip()]
    if not paragraphs:
        raise Rejected(f"{where}: empty")
    return paragraphs


# --- the guard -------------------------------------------------------------------------------------------

FOLD = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "\u00a0": " "})
QUOTED = re.compile(r'"([^"]+)"')
NUMBER = re.compile(r"\d[\d,.]*\d|\d")
NAME = re.compile(r"\b[A-Z][a-zA-Z'\-]+")


def normal(text: str) -> str:
    return " ".join(text.translate(FOLD).split())


def guard(paragraphs: Sequence[str], sources: str) -> None:
    """Raise Rejected naming the first sentence the sources do not support."""
    source = normal(sources)
    source_lower = source.lower()
    source_numbers = {n.replace(",", "").rstrip(".") for n in NUMBER.findall(source)}
    passages = support_passages(sources)
    seen: set[str] = set()
    for paragraph in paragraphs:
        text = normal(paragraph)
        for quoted in QUOTED.findall(text):
            if len(quoted.split()) >= 3 and normal(quoted).rstrip(",.") not in source:
                raise Rejected(f"invented quote: \"{quoted[:80]}\" is not in the sources")
        for sentence in split_sentences(text):
            key = sentence.lower()
            if key in seen:
                raise Rejected(f"repeated sentence: {sentence[:80]!r}")
            seen.add(key)
            check_sentence(sentence, source_lower, source_numbers, passages)


def check_sentence(sentence: str, source_lower: str, numbers: set[str], passages: Sequence[set[str]]) -> None:
    for number in NUMBER.findall(sentence):
        if number.replace(",", "").rstrip(".") not in numbers:
            raise Rejected(f"invented number: {number} in {sentence[:80]!r}")
    for position, match in enumerate(NAME.finditer(sentence)):
        if position == 0 and match.start() == 0:
            continue
        if match.group(0).lower() not in source_lower:
            raise Rejected(f"name not in the sources: {match.group(0)} in {sentence[:80]!r}")
    words = set(content_words(sentence))
    if not words:
        return
    best = max((len(words & passage) / len(words) for passage in passages), default=0.0)
    if best < SUPPORT:
        raise Rejected(f"too little support ({best:.0%}) for {sentence[:80]!r}")


def support_passages(source: str) -> list[set[str]]:
    """Content words of each run of three consecutive source sentences."""
    sentences = [s for line in source.splitlines() for s in split_sentences(normal(line))]
    bags = [set(content_words(s)) for s in sentences]
    return [set().union(*bags[i : i + 3]) for i in range(len(bags))] or [set()]


def describe(err: Exception, timeout: float) -> str:
    if isinstance(err, httpx.TimeoutException):
        return f"timed out after {timeout:g}s"
    if isinstance(err, httpx.HTTPError):
        return f"request failed: {err}"
    return str(err)

