"""`digest serve` over real HTTP on 127.0.0.1: one-click unsubscribe and the read-only archive."""

from __future__ import annotations

import base64
import http.client
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from digest import serve
from digest.config import load_config
from digest.state import State, state_url
from digest.unsubscribe import TokenSigner

SECRET = b"serve-test-secret"


@dataclass
class Site:
    port: int
    state: State

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def suppressed(self) -> set[str]:
        return self.state.suppressed("morning")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
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
    (tmp_path / "secret.txt").write_text("outside the archive", encoding="utf-8")
    config = load_config(tmp_path / "feeds.yaml")
    with State(state_url(config)) as state:
        server = serve.make_server(serve.Site(config, state, tmp_path / "out"), "127.0.0.1", 0)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield Site(server.server_port, state)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)


def link(address: str = "ada@example.org", secret: bytes = SECRET) -> str:
    return "/morning/unsubscribe?t=" + TokenSigner(secret).token("morning", address)


ONE_CLICK = b"List-Unsubscribe=One-Click"


def test_get_shows_a_confirm_page_and_changes_nothing(site: Site) -> None:
    status, page = site.request("GET", link())
    assert status == 200
    assert '<form method="post"' in page and "ada@example.org" in page
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
