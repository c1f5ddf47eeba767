"""The OpenAI-compatible backend against a loopback server that speaks the chat-completions protocol."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from digest.condense import get_condenser
from digest.condense.llm import OpenAICondenser, Rejected, guard
from digest.config import CondenseConfig
from digest.extract import extract
from digest.types import Entry, Story

ARTICLE = [
    "The Castel Harbour bridge reopened to traffic on Tuesday, six months after engineers closed it "
    "when an inspection found corroded cables on its northern span, the transport department said.",
    "About 48,000 vehicles crossed the bridge each day before the closure. The repair cost 31 million "
    "pounds, 4 million more than first estimated.",
    '"This bridge is the spine of the city," said Mayor Helen Vasquez at a ceremony on the northern '
    "approach.",
    "The bridge opened in 1968 and was last strengthened in 1994. Inspectors have warned since 2015 that "
    "its cables were near the end of their design life.",
    "The transport department said a full replacement of all 64 cables will start in 2028 and is expected "
    "to take three years.",
    "Business owners on the eastern shore said trade had fallen by a quarter during the closure.",
]

GOOD = {
    "place": "",
    "lede": [
        "The Castel Harbour bridge reopened to traffic on Tuesday, six months after engineers closed it.",
        "The repair cost 31 million pounds, 4 million more than first estimated.",
    ],
    "sections": [
        {
            "question": "What does the mayor say?",
            "answer": ['"This bridge is the spine of the city," said Mayor Helen Vasquez.'],
        },
        {
            "question": "What happens next?",
            "answer": ["A full replacement of all 64 cables will start in 2028 and take three years."],
        },
    ],
}


def story() -> Story:
    entry = Entry(
        id="e1",
        feed="Port Ellis Post",
        feed_url="https://post.invalid/feed",
        title="Harbour bridge reopens after repairs",
        link="https://post.invalid/bridge",
        published=datetime(2026, 11, 24, 6, tzinfo=UTC),
        dated=True,
        summary_html="",
        content_html="".join(f"<p>{p}</p>" for p in ARTICLE),
    )
    return Story(id="e1", articles=(extract(entry),))


class ChatServer:
    """A loopback chat-completions server whose answer each test scripts."""

    def __init__(self, answer: Callable[[dict[str, Any]], tuple[int, str]]) -> None:
        self.answer = answer
        self.requests: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body})
                status, text = server.answer(body)
                payload = text.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (the timeout test)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def completion(content: str, finish_reason: str = "stop") -> str:
    message = {"role": "assistant", "content": content}
    return json.dumps({"choices": [{"index": 0, "message": message, "finish_reason": finish_reason}]})


@pytest.fixture
def chat() -> Iterator[Callable[[Callable[[dict[str, Any]], tuple[int, str]]], ChatServer]]:
    servers: list[ChatServer] = []

    def start(answer: Callable[[dict[str, Any]], tuple[int, str]]) -> ChatServer:
        server = ChatServer(answer).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()


def condenser(server: ChatServer, cache: Path | None = None, timeout: float = 5) -> OpenAICondenser:
    config = CondenseConfig(backend="openai", base_url=server.base_url, model="tiny", timeout=timeout)
    return OpenAICondenser(config, cache_dir=cache)


def test_openai_is_a_registered_backend() -> None:
    assert isinstance(get_condenser(CondenseConfig(backend="openai")), OpenAICondenser)


def test_a_grounded_answer_is_used(chat: Any) -> None:
    server = chat(lambda body: (200, completion(json.dumps(GOOD))))
    briefing = condenser(server).condense(story(), ZoneInfo("UTC"))
    assert briefing is not None
    assert briefing.lede == tuple(GOOD["lede"])  # type: ignore[arg-type]
    assert [s.question for s in briefing.sections] == ["What does the mayor say?", "What happens next?"]
    assert [s.url for s in briefing.sources] == ["https://post.invalid/bridge"]
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["model"] == "tiny"
    assert request["body"]["response_format"]["type"] == "json_schema"
    assert request["body"]["max_tokens"] > 0
    # One user turn carrying instructions and sources: Gemma's chat format drops a system message.
    [message] = request["body"]["messages"]
    assert message["role"] == "user"
    assert "Castel Harbour" in message["content"]
    assert "Never add a name, number or quote" in message["content"]


def test_the_answer_is_cached_so_a_rebuild_asks_nothing(chat: Any, tmp_path: Path) -> None:
    server = chat(lambda body: (200, completion(json.dumps(GOOD))))
    first = condenser(server, cache=tmp_path).condense(story(), ZoneInfo("UTC"))
    second = condenser(server, cache=tmp_path).condense(story(), ZoneInfo("UTC"))
    assert first == second
    assert len(server.requests) == 1


def invented_quote() -> dict[str, Any]:
    bad = json.loads(json.dumps(GOOD))
    bad["sections"][0]["answer"] = ['"We will never close it again," said Mayor Helen Vasquez.']
    return bad


def invented_number() -> dict[str, Any]:
    bad = json.loads(json.dumps(GOOD))
    bad["lede"][1] = "The repair cost 45 million pounds, 4 million more than first estimated."
    return bad


def invented_name() -> dict[str, Any]:
    bad = json.loads(json.dumps(GOOD))
    bad["lede"][1] = "The repair cost 31 million pounds, said engineer Tobias Grunwald."
    return bad


def looping() -> dict[str, Any]:
    bad = json.loads(json.dumps(GOOD))
    bad["lede"] = [GOOD["lede"][0], GOOD["lede"][0]]  # type: ignore[index]
    return bad


def unsupported() -> dict[str, Any]:
    bad = json.loads(json.dumps(GOOD))
    bad["sections"][1]["answer"] = ["Critics argue that the city wasted money on cosmetic lighting upgrades."]
    return bad


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (lambda body: (200, completion(json.dumps(invented_quote()))), "invented quote"),
        (lambda body: (200, completion(json.dumps(invented_number()))), "invented number: 45"),
        (lambda body: (200, completion(json.dumps(invented_name()))), "name not in the sources: Tobias"),
        (lambda body: (200, completion(json.dumps(looping()))), "repeated sentence"),
        (lambda body: (200, completion(json.dumps(unsupported()))), "too little support"),
        (lambda body: (200, completion("{'lede': oops")), "not valid JSON"),
        (lambda body: (200, completion("")), "empty"),
        (lambda body: (200, '{"error": "no choices"}'), "not a chat completion"),
        (lambda body: (500, '{"error": "boom"}'), "HTTP 500"),
        (lambda body: (200, completion(json.dumps({**GOOD, "sections": []}))), "sections: 1 to 6"),
    ],
)
def test_every_failure_falls_back_to_the_extractive_briefing_and_is_reported(
    chat: Any, answer: Callable[[dict[str, Any]], tuple[int, str]], reason: str
) -> None:
    server = chat(answer)
    backend = condenser(server)
    briefing = backend.condense(story(), ZoneInfo("UTC"))
    extractive = get_condenser(CondenseConfig()).condense(story(), ZoneInfo("UTC"))
    assert briefing == extractive
    assert len(backend.report) == 1
    assert reason in backend.report[0].reason
    assert backend.report[0].headline == "Harbour bridge reopens after repairs"


def test_a_reply_slower_than_the_timeout_falls_back(chat: Any) -> None:
    def slow(body: dict[str, Any]) -> tuple[int, str]:
        time.sleep(2.5)
        return 200, completion(json.dumps(GOOD))

    backend = condenser(chat(slow), timeout=0.5)
    started = time.monotonic()
    briefing = backend.condense(story(), ZoneInfo("UTC"))
    assert time.monotonic() - started < 2.4
    assert briefing == get_condenser(CondenseConfig()).condense(story(), ZoneInfo("UTC"))
    assert backend.report[0].reason == "timed out after 0.5s"


def test_a_refused_connection_falls_back(tmp_path: Path) -> None:
    config = CondenseConfig(backend="openai", base_url="http://127.0.0.1:9/v1", timeout=2)
    backend = OpenAICondenser(config)
    assert backend.condense(story(), ZoneInfo("UTC")) is not None
    assert "request failed" in backend.report[0].reason


def test_guard_accepts_curly_quotes_and_paraphrase_that_reorders() -> None:
    sources = "\n".join(ARTICLE)
    guard(["“This bridge is the spine of the city,” the mayor, Helen Vasquez, said."], sources)
    guard(["Engineers closed the bridge six months ago after an inspection found corroded cables."], sources)
    with pytest.raises(Rejected):
        guard(["The bridge will be demolished in 2030."], sources)


def test_a_build_records_each_rejection_in_the_issue_report(chat: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from digest.cli import main

    server = chat(lambda body: (200, completion(json.dumps(invented_quote()))))
    feed = tmp_path / "feed.xml"
    items = "".join(f"<p>{p}</p>" for p in ARTICLE).replace("<", "&lt;").replace(">", "&gt;")
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Post</title><item>'
        "<title>Harbour bridge reopens after repairs</title><link>https://post.invalid/bridge</link>"
        f"<guid>b1</guid><pubDate>Tue, 24 Nov 2026 06:00:00 +0000</pubDate><description>{items}</description>"
        "</item></channel></rss>",
        "utf-8",
    )
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "editions:\n  x:\n    title: X\n    lookback: all\n    sources:\n      - url: feed.xml\n"
        f"    condense:\n      backend: openai\n      base_url: {server.base_url}\n      timeout: 5\n",
        "utf-8",
    )
    now = "2026-11-24T07:00:00+00:00"
    result = CliRunner().invoke(main, ["build", "--config", str(config), "--now", now])
    assert result.exit_code == 0, result.output
    data = json.loads((Path(result.stdout.strip()) / "issue.json").read_text("utf-8"))
    assert len(data["stories"]) == 1
    assert len(data["report"]) == 1
    assert "invented quote" in data["report"][0]
    assert "invented quote" in result.stderr
    assert len(server.requests) == 1


# --- what Gemma 3 270M really wrote (on llama.cpp's server), retold with this test's article -------------


def edited(**changes: Any) -> dict[str, Any]:
    """GOOD with its lede, a section's answer or a question replaced."""
    answer: dict[str, Any] = json.loads(json.dumps(GOOD))
    if "lede" in changes:
        answer["lede"] = changes["lede"]
    if "answer" in changes:
        answer["sections"][1]["answer"] = changes["answer"]
    if "question" in changes:
        answer["sections"][1]["question"] = changes["question"]
    return answer


def reply(answer: dict[str, Any]) -> Callable[[dict[str, Any]], tuple[int, str]]:
    return lambda body: (200, completion(json.dumps(answer)))


COPIED_LEDE = " ".join(ARTICLE[:2])
REOPENED = "The Castel Harbour bridge reopened to traffic on Tuesday, six months after engineers"
LOOPING_UNTIL_CUT_OFF = '{"lede": [' + '"The Castel Harbour bridge reopened to traffic.", ' * 12


@pytest.mark.parametrize(
    ("answer", "kind", "reason"),
    [
        # It copied the article's opening until the string's length bound cut it off mid-word.
        (reply(edited(lede=[COPIED_LEDE[:200]])), "unfinished paragraph", "breaks off"),
        # It took the prompt's example questions for its own.
        (reply(edited(question="What does the council say?")), "off-topic question", "council"),
        # It wrote out the instructions as the answer.
        (
            reply(edited(answer=["Use only facts stated in the articles. Reply with the JSON object only."])),
            "echoed instructions",
            "the prompt's words",
        ),
        # Empty strings where the answers go, or one word.
        (reply(edited(answer=["", " ", " "])), "empty answer", "empty"),
        (reply(edited(lede=["lede"])), "empty answer", "nothing to say"),
        # Digits that never stop, inside a string.
        (reply(edited(answer=["The bridge cost 31000000000000000000 pounds."])), "loop", "over and over"),
        # The same sentence again with a word changed.
        (
            reply(edited(answer=[f"{REOPENED} closed it.", f"{REOPENED} shut it."])),
            "loop",
            "repeated sentence",
        ),
        # A number of the article put on something else.
        (reply(edited(answer=["The repair cost 64 million pounds."])), "number out of context", "64"),
        # A name that is only part of a word of the article.
        (reply(edited(answer=["Engineer Cas said the bridge reopened on Tuesday."])), "invented name", "Cas"),
        # Sections repeated until max_tokens ran out: cut off, and the loop named.
        (lambda body: (200, completion(LOOPING_UNTIL_CUT_OFF, "length")), "loop", "max_tokens"),
        (lambda body: (200, completion('{"lede": ["The Castel Harbour', "length")), "too long", "max_tokens"),
    ],
)
def test_what_a_small_model_really_does_is_refused(
    chat: Any, answer: Callable[[dict[str, Any]], tuple[int, str]], kind: str, reason: str
) -> None:
    backend = condenser(chat(answer))
    briefing = backend.condense(story(), ZoneInfo("UTC"))
    assert briefing == get_condenser(CondenseConfig()).condense(story(), ZoneInfo("UTC"))
    [rejection] = backend.report
    assert rejection.kind == kind
    assert reason in rejection.reason


def test_a_line_break_inside_a_string_is_tolerated(chat: Any) -> None:
    # The model writes raw line breaks in strings; strict JSON refuses them, the guard judges the text.
    content = json.dumps(GOOD).replace("six months after", "six months\nafter").replace("\\n", "\n")
    assert "\n" in content
    backend = condenser(chat(lambda body: (200, completion(content))))
    briefing = backend.condense(story(), ZoneInfo("UTC"))
    assert backend.report == []
    assert briefing is not None and "six months after" in briefing.lede[0]


def test_a_server_that_refuses_json_schema_is_asked_with_json_object_from_then_on(chat: Any) -> None:
    # llama-cpp-python's server knows only {"type": "json_object", "schema": ...}, and says so with HTTP 500.
    def llama_cpp_python(body: dict[str, Any]) -> tuple[int, str]:
        if body["response_format"]["type"] != "json_object":
            return 500, "{\"error\": \"Input should be 'text' or 'json_object'\"}"
        return 200, completion(json.dumps(GOOD))

    server = chat(llama_cpp_python)
    backend = condenser(server)
    assert backend.condense(story(), ZoneInfo("UTC")) is not None
    assert backend.condense(story(), ZoneInfo("UTC")) is not None
    assert backend.report == []
    modes = [r["body"]["response_format"]["type"] for r in server.requests]
    assert modes == ["json_schema", "json_object", "json_object"]
    # Its grammar bounds every string, so a looping model moves on instead of spending every token.
    schema = server.requests[1]["body"]["response_format"]["schema"]
    assert schema["properties"]["lede"]["items"]["maxLength"] > 0


@pytest.mark.parametrize(
    "question", ["Why did the bridge close?", "Who pays for the repairs?", "What happens next?"]
)
def test_a_question_in_its_own_words_about_the_story_is_accepted(chat: Any, question: str) -> None:
    backend = condenser(chat(reply(edited(question=question))))
    briefing = backend.condense(story(), ZoneInfo("UTC"))
    assert backend.report == []
    assert briefing is not None and briefing.sections[1].question == question
