"""An LLM backend over the OpenAI-compatible chat-completions API, guarded against invention.

Works with any server that speaks ``POST {base_url}/chat/completions``
(OpenAI, Ollama, vLLM, llama.cpp's server, llama-cpp-python's server; see
``digest/condense/local.py`` for a small model on this machine). Method:

1. The story's sources go to the model as numbered articles after the format's
   rules, all in one user turn (Gemma's chat format has no system role and
   drops one), and the model is asked for the briefing as JSON against a
   schema, in at most ``max_tokens`` tokens. ``response_format`` is tried as
   OpenAI's ``json_schema``, then as ``json_object`` with a schema whose
   strings are bounded (llama-cpp-python's only way); the first the server
   takes is kept for the run.
2. The reply is parsed (raw line breaks inside strings tolerated) and
   validated: the shape (a lede of 1-4 paragraphs, 1-6 sections, questions
   ending in "?" and at most 12 words). A reply cut off at ``max_tokens`` is
   refused, as a loop when a long phrase recurs in it.
3. The guard checks the briefing against the sources, after folding white
   space, quote marks and dashes:

   * a quoted passage (three words or more between quote marks) must appear
     verbatim in a source;
   * every number must appear in a source, and in a passage (three
     consecutive source sentences) sharing ``NUMBER_CONTEXT`` of its
     sentence's content words: a figure may not be moved to another thing;
   * every capitalised word that does not open a sentence must be a word of
     a source (whole words: "Cas" is not in "Castel");
   * at least ``SUPPORT`` of a sentence's content words must appear in one
     passage (a paraphrase may reorder, not invent);
   * no sentence may echo the prompt's instructions;
   * each paragraph says something (``MIN_PARAGRAPH_WORDS`` content words)
     and ends as a sentence ends (a string cut off by its bound does not);
   * each question's words are the sources' or a question's own ("What does
     the council say?" about a story without a council is the prompt's
     example, copied);
   * nothing loops: no sentence said twice or nearly (``NEAR_REPEAT`` of
     its content words), no phrase thrice in a paragraph, no stutter
     ("10000000..."), no question asked twice.

4. On any failure (HTTP error, timeout, malformed JSON, a wrong shape, a
   guard rejection) the story is condensed by the extractive backend instead,
   and the reason, with the kind of check that failed, is kept in ``report``
   for the run report.
5. Accepted answers are cached by a hash of the model, the prompt version and
   the sources, so a rebuild pays for nothing twice; a cached answer passes
   the guard again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

import httpx

from digest.condense import register, source_refs
from digest.condense.extractive import ExtractiveCondenser
from digest.config import CondenseConfig
from digest.text import content_words, split_sentences, word_set
from digest.types import Briefing, Dateline, Section, Story

log = logging.getLogger("digest")

#: Bump when the prompt or the schema changes: cached answers of an older prompt are not reused.
PROMPT_VERSION = "2"
#: Share of a sentence's content words that one passage of a source must hold.
SUPPORT = 0.7
#: The most source text sent to the model, in characters per story.
MAX_SOURCE_CHARS = 24_000
MAX_QUESTION_WORDS = 12
#: The longest answer asked for, in tokens: a full briefing as JSON takes about 1,500.
MAX_TOKENS = 2048
#: The longest string a grammar-constrained server lets the model write (see ``bounded``).
PARAGRAPH_CHARS = 700
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


def bounded(schema: Any) -> Any:
    """``schema`` with every string at most PARAGRAPH_CHARS long.

    llama.cpp turns the schema into a grammar the model's tokens must follow; the bound makes a looping
    model ("10000000...") close its string and move on instead of spending every token left in one
    string. OpenAI's strict mode refuses length keywords, so its schema goes without.
    """
    if isinstance(schema, dict):
        result = {key: bounded(value) for key, value in schema.items()}
        if schema.get("type") == "string":
            result["maxLength"] = PARAGRAPH_CHARS
        return result
    if isinstance(schema, list):
        return [bounded(item) for item in schema]
    return schema


#: Two ways of asking for JSON that follows SCHEMA: OpenAI's and llama.cpp's server take the first,
#: llama-cpp-python's server only the second (it refuses the first with HTTP 500). The first that a
#: server accepts is used for the rest of the run.
JSON_MODES: tuple[dict[str, Any], ...] = (
    {"type": "json_schema", "json_schema": {"name": "briefing", "schema": SCHEMA, "strict": True}},
    {"type": "json_object", "schema": bounded(SCHEMA)},
)


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
    #: The check that failed ("invented number", "timeout", ...): the benchmark counts by it.
    kind: str = ""


class Rejected(Exception):
    """The model's answer failed the shape check or the guard; ``kind`` names the check, for counting."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


@register("openai")
class OpenAICondenser:
    """Condenses with a chat-completions model; falls back to the extractive backend."""

    def __init__(self, config: CondenseConfig, cache_dir: Path | None = None) -> None:
        self.config = config
        self.max_tokens = config.max_tokens
        self.cache_dir = cache_dir
        self.fallback = ExtractiveCondenser(config)
        #: Every story whose model answer was not used, and why; the pipeline reports them.
        self.report: list[Rejection] = []
        headers = {"Content-Type": "application/json"}
        api_key = os.environ.get(config.api_key_env, "")
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.client = httpx.Client(timeout=config.timeout, headers=headers)
        #: The entry of JSON_MODES this server accepted; None until one was.
        self.json_mode: Mapping[str, Any] | None = None

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
            kind, reason = describe(err, self.config.timeout)
            self.report.append(Rejection(headline=story.headline, reason=reason, kind=kind))
            log.warning(
                "story %r: %s backend not used: %s; condensed extractively",
                story.headline,
                self.config.backend,
                reason,
            )
            return baseline
        self.store(sources, reply)
        return briefing

    def ask(self, sources: str) -> Mapping[str, Any]:
        """One chat-completions request (two when the server wants the other JSON mode); the parsed reply."""
        url = self.config.base_url.rstrip("/") + "/chat/completions"
        modes = [self.json_mode] if self.json_mode is not None else list(JSON_MODES)
        for mode in modes:
            response = self.client.post(url, json=self.request_body(sources, mode))
            if response.status_code != 200 and mode is not modes[-1]:
                # A server that knows only the other way refuses the request (llama-cpp-python: HTTP 500).
                continue
            if response.status_code != 200:
                raise Rejected("HTTP error", f"HTTP {response.status_code} from {url}")
            self.json_mode = mode
            break
        try:
            choice = response.json()["choices"][0]
            content = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise Rejected("broken reply", "the reply is not a chat completion") from None
        log.debug("reply of %s: %.2000r", url, content)
        if choice.get("finish_reason") == "length":
            stopped = f"the reply stopped at max_tokens ({self.max_tokens}), unfinished"
            looped = repeated_phrase(normal(str(content)), REPLY_LOOP_WORDS)
            if looped:
                raise Rejected("loop", f"{stopped}: {looped!r} over and over")
            raise Rejected("too long", stopped)
        return parse_reply(content)

    def request_body(self, sources: str, json_mode: Mapping[str, Any]) -> dict[str, Any]:
        # One user turn, instructions first: some chat formats (Gemma's) have no system role and drop it.
        body: dict[str, Any] = {
            "messages": [{"role": "user", "content": f"{INSTRUCTIONS}{json.dumps(SCHEMA)}\n\n{sources}"}],
            "temperature": 0,
            "max_tokens": self.max_tokens,
            "response_format": json_mode,
        }
        if self.config.model:
            body["model"] = self.config.model
        return body

    def briefing(self, story: Story, reply: Mapping[str, Any], dateline: Dateline, sources: str) -> Briefing:
        lede = strings(reply.get("lede"), "lede")
        raw_sections = reply.get("sections")
        if not isinstance(raw_sections, list) or not 1 <= len(raw_sections) <= 6:
            raise Rejected("wrong shape", "sections: 1 to 6 required")
        sections = []
        for number, raw in enumerate(raw_sections):
            if not isinstance(raw, dict):
                raise Rejected("wrong shape", f"sections[{number}]: not an object")
            question = str(raw.get("question", "")).strip()
            if not question.endswith("?") or len(question.split()) > MAX_QUESTION_WORDS:
                problem = f"sections[{number}].question: {question!r} is not a short question"
                raise Rejected("wrong shape", problem)
            answer = strings(raw.get("answer"), f"sections[{number}]")
            sections.append(Section(question=question, answer=tuple(answer)))
        if not 1 <= len(lede) <= 4:
            raise Rejected("wrong shape", "lede: 1 to 4 paragraphs required")
        guard([*lede, *(p for s in sections for p in s.answer)], sources, [s.question for s in sections])
        place = str(reply.get("place") or "").strip().upper()
        if place and normal(place).upper() not in normal(sources).upper():
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
        raise Rejected("empty answer", "the model's reply is empty")
    text = content.strip()
    fenced = re.match(r"^```(?:json)?\s*(.*?)\s*```$", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    try:
        # strict=False: small models put raw line breaks inside strings; the guard judges the text.
        data = json.loads(text, strict=False)
    except ValueError:
        raise Rejected("broken JSON", "the reply is not valid JSON") from None
    if not isinstance(data, dict):
        raise Rejected("broken JSON", "the reply is not a JSON object")
    return data


def strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Rejected("wrong shape", f"{where}: a list of strings required")
    paragraphs = [" ".join(v.split()) for v in value if v.strip()]
    if not paragraphs:
        raise Rejected("empty answer", f"{where}: empty")
    return paragraphs


# --- the guard -------------------------------------------------------------------------------------------

FOLD = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "\u00a0": " "})
QUOTED = re.compile(r'"([^"]+)"')
NUMBER = re.compile(r"\d[\d,.]*\d|\d")
NAME = re.compile(r"\b[A-Z][a-zA-Z'\-]+")
NAME_WORD = re.compile(r"[a-z][a-z'\-]*")
#: A stretch of 2-30 characters said four times or more in a row ("0000000", "the the the the").
STUTTER = re.compile(r"(.{2,30}?)\1{3,}", re.DOTALL)
#: The fewest content words a paragraph needs; fewer is filler ("The", "1.", "Yes").
MIN_PARAGRAPH_WORDS = 3
#: Share of a number's sentence's content words that a source passage holding the number must hold:
#: a number the sources give for one thing must not be put on another.
NUMBER_CONTEXT = 0.5
#: Two sentences sharing this share of their content words say the same thing again (a loop).
NEAR_REPEAT = 0.8
#: A phrase of this many words said three times in one paragraph is a loop.
LOOP_PHRASE_WORDS = 4
#: In a whole reply cut off at max_tokens, JSON keys recur by design: a loop repeats a longer phrase.
REPLY_LOOP_WORDS = 10
#: How a finished paragraph ends: a full stop, question or exclamation mark, maybe inside quotes or brackets.
FINISHED = re.compile(r"[.!?…][\"')\]]*$")
#: Words a question may use though the story does not ("What happens next?").
QUESTION_WORDS = word_set(
    """
    what who whom whose which when where why how does do did is are was were will would can could should
    happen happens happened happening next now mean means matter matters know known say says said think
    expected expect want wants plan plans role reason reasons stake risk risks background response
    position story about
    """
)
INSTRUCTION_TEXT = " ".join(INSTRUCTIONS.lower().split())
#: Words agreeing in this many first letters count as one when a question is matched to the sources.
STEM_CHARS = 5


@dataclass(frozen=True)
class Passage:
    """Three consecutive source sentences: what one sentence of a briefing may rest on."""

    words: frozenset[str]
    numbers: frozenset[str]


@dataclass(frozen=True)
class Sources:
    """The sources as the guard looks them up."""

    text: str
    #: Lower-cased: every word (for names), and the first STEM_CHARS letters of each content word.
    names: frozenset[str]
    stems: frozenset[str]
    numbers: frozenset[str]
    passages: tuple[Passage, ...]

    @classmethod
    def of(cls, sources: str) -> Sources:
        text = normal(sources)
        sentences = [s for line in sources.splitlines() for s in split_sentences(normal(line))]
        bags = [(set(content_words(s)), {number_value(n) for n in NUMBER.findall(s)}) for s in sentences]
        passages = tuple(
            Passage(
                words=frozenset().union(*(words for words, _ in bags[i : i + 3])),
                numbers=frozenset().union(*(numbers for _, numbers in bags[i : i + 3])),
            )
            for i in range(len(bags))
        )
        return cls(
            text=text,
            names=frozenset(NAME_WORD.findall(text.lower())),
            stems=frozenset(word[:STEM_CHARS] for word in content_words(text)),
            numbers=frozenset(number_value(n) for n in NUMBER.findall(text)),
            passages=passages or (Passage(frozenset(), frozenset()),),
        )


def normal(text: str) -> str:
    return " ".join(text.translate(FOLD).split())


def number_value(number: str) -> str:
    """A number as compared: thousands separators and a closing full stop dropped."""
    return number.replace(",", "").rstrip(".")


def guard(paragraphs: Sequence[str], sources: str, questions: Sequence[str] = ()) -> None:
    """Raise Rejected naming the first paragraph, sentence or question the sources do not support."""
    known = Sources.of(sources)
    seen: list[tuple[str, set[str]]] = []
    for question in questions:
        check_question(normal(question), known)
    if len({q.lower() for q in questions}) < len(questions):
        raise Rejected("loop", "a question is asked twice")
    for paragraph in paragraphs:
        text = normal(paragraph)
        check_loops(text)
        if len(content_words(text)) < MIN_PARAGRAPH_WORDS:
            raise Rejected("empty answer", f"a paragraph with nothing to say: {text[:80]!r}")
        if not FINISHED.search(text):
            raise Rejected("unfinished paragraph", f"a paragraph breaks off: {text[-80:]!r}")
        for quoted in QUOTED.findall(text):
            if len(quoted.split()) >= 3 and normal(quoted).rstrip(",.") not in known.text:
                raise Rejected("invented quote", f'invented quote: "{quoted[:80]}" is not in the sources')
        for sentence in split_sentences(text):
            words = set(content_words(sentence))
            for earlier, earlier_words in seen:
                if sentence.lower() == earlier or similarity(words, earlier_words) >= NEAR_REPEAT:
                    raise Rejected("loop", f"repeated sentence: {sentence[:80]!r}")
            seen.append((sentence.lower(), words))
            check_sentence(sentence, known)


def check_loops(paragraph: str) -> None:
    stutter = STUTTER.search(paragraph)
    if stutter:
        raise Rejected("loop", f"{stutter.group(1)!r} said over and over in {paragraph[:80]!r}")
    phrase = repeated_phrase(paragraph, LOOP_PHRASE_WORDS)
    if phrase:
        raise Rejected("loop", f"{phrase!r} said three times in {paragraph[:80]!r}")


def repeated_phrase(text: str, size: int) -> str | None:
    """The first phrase of ``size`` words that ``text`` says three times or more, if any."""
    tokens = text.lower().split()
    counts = Counter(" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1))
    return next((phrase for phrase, count in counts.items() if count >= 3), None)


def check_question(question: str, known: Sources) -> None:
    """A question is about this story: of its own words (not a question's stock words), one at least is
    the sources', compared by their first ``STEM_CHARS`` letters ("close" asks about "closed")."""
    check_names_and_numbers(question, known)
    topical = [w for w in content_words(question) if w not in QUESTION_WORDS]
    if topical and not any(w[:STEM_CHARS] in known.stems for w in topical):
        strange = ", ".join(topical)
        raise Rejected("off-topic question", f"{question[:80]!r} asks about {strange}: not in the sources")


def similarity(first: set[str], second: set[str]) -> float:
    """Jaccard similarity of two bags of content words; 0 when either is too small to judge."""
    if len(first) < 3 or len(second) < 3:
        return 0.0
    return len(first & second) / len(first | second)


def check_names_and_numbers(sentence: str, known: Sources) -> None:
    for number in NUMBER.findall(sentence):
        if number_value(number) not in known.numbers:
            raise Rejected("invented number", f"invented number: {number} in {sentence[:80]!r}")
    for position, match in enumerate(NAME.finditer(sentence)):
        if position == 0 and match.start() == 0:
            continue  # a capital that opens a sentence says nothing
        if match.group(0).lower() not in known.names:
            raise Rejected("invented name", f"name not in the sources: {match.group(0)} in {sentence[:80]!r}")


def check_sentence(sentence: str, known: Sources) -> None:
    lowered = sentence.lower()
    if len(sentence.split()) >= 4 and lowered in INSTRUCTION_TEXT and lowered not in known.text.lower():
        raise Rejected("echoed instructions", f"the prompt's words, not the story's: {sentence[:80]!r}")
    check_names_and_numbers(sentence, known)
    words = set(content_words(sentence))
    if not words:
        return
    overlaps = [(len(words & passage.words) / len(words), passage) for passage in known.passages]
    best = max(share for share, _ in overlaps)
    if best < SUPPORT:
        raise Rejected("unsupported sentence", f"too little support ({best:.0%}) for {sentence[:80]!r}")
    for number in NUMBER.findall(sentence):
        value = number_value(number)
        if not any(value in passage.numbers and share >= NUMBER_CONTEXT for share, passage in overlaps):
            detail = f"number out of context: {number} in {sentence[:80]!r} counts something else"
            raise Rejected("number out of context", detail)


def describe(err: Exception, timeout: float) -> tuple[str, str]:
    """The kind of failure and the one line that says it."""
    if isinstance(err, Rejected):
        return err.kind, str(err)
    if isinstance(err, httpx.TimeoutException):
        return "timeout", f"timed out after {timeout:g}s"
    if isinstance(err, httpx.HTTPError):
        return "request failed", f"request failed: {err}"
    return "wrong shape", str(err)
