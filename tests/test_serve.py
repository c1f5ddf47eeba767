"""`digest serve` over real HTTP on 127.0.0.1: one-click unsubscribe and the read-only archive."""

from __future__ import annotations

import base64
import http.client
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from digest import serve
from digest.config import Config, load_config
from digest.state import State, state_url
from digest.unsubscribe import TokenSigner

SECRET = b"serve-test-secret"
ATOM = '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"></feed>\n'
#: A guard against a test hanging, far beyond any expected wait; never a measure of speed.
HANG_GUARD = 10


@dataclass
class Site:
    port: int
    state: State

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, str]:
        response, text = self.exchange(method, path, body)
        return response.status, text

    def exchange(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[http.client.HTTPResponse, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HANG_GUARD)
        try:
            sent = dict(headers or {})
            if body is not None:
                sent["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            return response, response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def raw(self, request: bytes) -> bytes:
        """What the server answers to ``request`` sent as it is, until it closes the connection."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=HANG_GUARD) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            return answer

    def suppressed(self) -> set[str]:
        return self.state.ledger.suppressed("morning")


@contextmanager
def serving(config: Config, state: State, out: Path, settings: serve.ServerSettings) -> Iterator[int]:
    """A real server on a free port of 127.0.0.1, stopped (every connection closed) on leaving."""
    server = serve.make_server(serve.Site(config, state, out), "127.0.0.1", 0, settings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.port
    finally:
        server.stop()
        thread.join(10)
        assert not thread.is_alive(), "the server did not stop"


@pytest.fixture
def site_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("SERVE_TEST_SECRET", SECRET.decode())
    (tmp_path / "feeds.yaml").write_text(
        """\
editions:
  morning:
    title: Morning Briefing
    base_url: https://news.example.org/morning/
    sources: [{url: feed.xml}]
    delivery:
      from: briefing@example.org
      subscribers: subscribers.csv
      unsubscribe: {secret_env: SERVE_TEST_SECRET}
""",
        encoding="utf-8",
    )
    issue = tmp_path / "out" / "morning" / "2026-03-14"
    (issue / "outbox").mkdir(parents=True)
    (issue / "briefing.html").write_text("<p>the web copy</p>", encoding="utf-8")
    (issue / "outbox" / "ada@example.org.eml").write_text("personal", encoding="utf-8")
    (tmp_path / "out" / "morning" / "index.html").write_text("<p>all issues</p>", encoding="utf-8")
    (tmp_path / "out" / "morning" / "feed.xml").write_text(ATOM, encoding="utf-8")
    (tmp_path / "secret.txt").write_text("outside the archive", encoding="utf-8")
    return load_config(tmp_path / "feeds.yaml")


@pytest.fixture
def settings() -> serve.ServerSettings:
    """What the server is started with; a test overrides this fixture to change it."""
    return serve.ServerSettings(threads=4, timeout=5)


@pytest.fixture
def site(site_config: Config, settings: serve.ServerSettings) -> Iterator[Site]:
    with (
        State(state_url(site_config)) as state,
        serving(site_config, state, site_config.folder / "out", settings) as port,
    ):
        yield Site(port, state)


def link(address: str = "ada@example.org", secret: bytes = SECRET) -> str:
    return "/morning/unsubscribe?t=" + TokenSigner(secret).token("morning", address)


ONE_CLICK = b"List-Unsubscribe=One-Click"


def test_get_shows_a_confirm_page_and_changes_nothing(site: Site) -> None:
    status, page = site.request("GET", link())
    assert status == 200
    assert f'<form method="post" action="{link()}"' in page and "ada@example.org" in page
    assert site.suppressed() == set()


def test_one_click_post_unsubscribes_and_a_second_post_says_already(site: Site) -> None:
    status, page = site.request("POST", link(), ONE_CLICK)
    assert status == 200 and "You are unsubscribed" in page
    assert site.suppressed() == {"ada@example.org"}
    status, page = site.request("POST", link(), ONE_CLICK)
    assert status == 200 and "Already unsubscribed" in page
    status, page = site.request("GET", link())
    assert status == 200 and "Already unsubscribed" in page
    assert site.suppressed() == {"ada@example.org"}


def test_forged_or_altered_tokens_get_403_and_change_nothing(site: Site) -> None:
    genuine = TokenSigner(SECRET).token("morning", "ada@example.org")
    bo = base64.urlsafe_b64encode(b"morning/bo@example.org").rstrip(b"=").decode()
    for token in (
        TokenSigner(b"someone else's secret").token("morning", "ada@example.org"),
        bo + "." + genuine[:22],  # bo's address in the earlier, signed form, with a made-up signature
        genuine[:5] + genuine[6:],
        genuine[:-3],
        "nonsense",
    ):
        for method in ("GET", "POST"):
            status, _ = site.request(method, f"/morning/unsubscribe?t={token}", ONE_CLICK)
            assert status == 403, (method, token)
    assert site.suppressed() == set()
    assert site.request("POST", "/morning/unsubscribe", ONE_CLICK)[0] == 400


def test_archive_is_served_read_only_without_escaping_its_folder(site: Site) -> None:
    assert site.request("GET", "/morning/2026-03-14/briefing.html") == (200, "<p>the web copy</p>")
    assert site.request("GET", "/morning/") == (200, "<p>all issues</p>")
    for path in (
        "/morning/../secret.txt",
        "/morning/2026-03-14/../../../secret.txt",
        "/morning/%2e%2e/%2e%2e/secret.txt",
        "/morning/2026-03-14/outbox/ada@example.org.eml",
        "/morning/2026-03-14/..%5c..%5csecret.txt",
        "/secret.txt",
    ):
        assert site.request("GET", path)[0] == 404, path
    assert site.request("POST", "/morning/2026-03-14/briefing.html", b"x")[0] == 405
    assert site.request("DELETE", "/morning/index.html")[0] == 501


def test_the_index_lists_the_editions_and_atom_is_served_as_atom(site: Site) -> None:
    response, page = site.exchange("GET", "/")
    assert response.status == 200 and response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert "Morning Briefing" in page and 'href="/morning/"' in page and 'href="/morning/feed.xml"' in page
    response, feed = site.exchange("GET", "/morning/feed.xml")
    assert response.status == 200 and feed == ATOM
    assert response.getheader("Content-Type") == "application/atom+xml; charset=utf-8"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    response, body = site.exchange("HEAD", "/morning/feed.xml")
    assert response.status == 200 and body == ""
    assert response.getheader("Content-Length") == str(len(ATOM.encode()))


def test_malformed_requests_get_400_and_the_server_keeps_serving(site: Site) -> None:
    for malformed in (
        b"POST /morning/unsubscribe?t=x HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
        b"GET /morning/ HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n",
        b"GET /morning/ HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
    ):
        answer = site.raw(malformed)
        assert answer.split(b" ", 2)[1] == b"400", (malformed, answer[:200])
    assert site.request("GET", "/morning/2026-03-14/briefing.html") == (200, "<p>the web copy</p>")


def test_a_body_over_the_limit_gets_413_and_nothing_changes(site: Site) -> None:
    status, _ = site.request("POST", link(), b"x" * (serve.MAX_BODY + 1))
    assert status == 413
    assert site.suppressed() == set()


def test_with_200_idle_connections_open_a_request_is_answered_without_a_thread_each(site: Site) -> None:
    threads_before = threading.active_count()
    with ExitStack() as idle:
        for number in range(200):
            sock = idle.enter_context(socket.create_connection(("127.0.0.1", site.port), timeout=HANG_GUARD))
            if number % 2:  # half of them stall in the middle of a request
                sock.sendall(b"GET /morning/ HTTP/1.1\r\nHost: a\r\n")
        # The hang guard only keeps a broken server from stalling the suite; the figure for how
        # fast the answer comes is benchmarks/serve.py's.
        assert site.request("GET", "/morning/2026-03-14/briefing.html") == (200, "<p>the web copy</p>")
        assert threading.active_count() <= threads_before
    assert site.request("GET", "/morning/") == (200, "<p>all issues</p>")


class TestTimeouts:
    @pytest.fixture
    def settings(self) -> serve.ServerSettings:
        return serve.ServerSettings(threads=2, timeout=1)

    def test_an_idle_or_stalled_connection_is_closed(self, site: Site) -> None:
        for opening in (b"", b"GET /morning/ HTTP/1.1\r\nHost: a\r\n"):
            assert site.raw(opening) == b""  # closed by the server, with nothing said
        assert site.request("GET", "/morning/") == (200, "<p>all issues</p>")


class ServeLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def serve_log() -> Iterator[list[str]]:
    logger = logging.getLogger("digest")
    handler, level = ServeLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


def test_forwarded_headers_count_only_from_the_trusted_proxy(site_config: Config) -> None:
    out = site_config.folder / "out"
    with State(state_url(site_config)) as state:
        for trusted, client in ((None, "127.0.0.1"), ("127.0.0.1", "203.0.113.9"), ("10.0.0.1", "127.0.0.1")):
            settings = serve.ServerSettings(threads=2, trusted_proxy=trusted)
            with serve_log() as lines, serving(site_config, state, out, settings) as port:
                response, _ = Site(port, state).exchange("GET", "/morning/", headers=FORWARDED)
                assert response.status == 200
            assert f"serve: {client} GET /morning/ -> 200" in lines, (trusted, lines)


@pytest.mark.slow
def test_digest_serve_answers_and_stops_cleanly_on_sigterm(site_config: Config) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "serve", "--config", str(site_config.path), "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(serve.__file__).parents[1])},
    )
    try:
        assert process.stderr is not None
        lines = []
        for line in process.stderr:  # ends when the process does, should it fail to start
            lines.append(line)
            if "serving on http://127.0.0.1:" in line:
                break
        port = int(lines[-1].split("127.0.0.1:")[1].split("/")[0])
        with State(state_url(site_config)) as state:
            assert Site(port, state).request("GET", "/morning/") == (200, "<p>all issues</p>")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=HANG_GUARD) == 0
        assert "stopped" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
