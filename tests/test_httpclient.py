"""The HTTP client factory and fetching many URLs: every result once, a few requests per host."""

from __future__ import annotations

import threading
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest
from httpserver import LoopbackServer

from digest.config import FetchConfig
from digest.errors import FetchError
from digest.httpclient import (
    PER_HOST,
    USER_AGENT,
    batches_by_host,
    client,
    each_by_host,
    get,
    get_document,
)


def test_each_by_host_keeps_to_a_few_requests_per_host_and_returns_every_result() -> None:
    urls = [f"http://feeds.example.org/{n}.xml" for n in range(24)]
    urls += [f"https://other.example.net/{n}" for n in range(6)] + ["/tmp/local.xml", "relative.xml"]
    lock = threading.Lock()
    in_flight: Counter[str] = Counter()
    most: Counter[str] = Counter()

    def fetch(index: int) -> str:
        host = urlsplit(urls[index]).netloc or urls[index]
        with lock:
            in_flight[host] += 1
            most[host] = max(most[host], in_flight[host])
        time.sleep(0.01)  # long enough for the threads to overlap
        with lock:
            in_flight[host] -= 1
        return urls[index]

    arrived = dict(each_by_host(urls, fetch))
    assert arrived == dict(enumerate(urls))
    assert most["feeds.example.org"] <= PER_HOST
    assert most["other.example.net"] <= PER_HOST
    # Many hosts are fetched side by side: more requests in flight at once than one host gets.
    assert max(most.values()) >= 2


def test_each_by_host_raises_what_a_fetch_raised_instead_of_waiting() -> None:
    def fetch(index: int) -> int:
        if index == 3:
            raise RuntimeError("a bug in the fetch")
        return index

    with pytest.raises(RuntimeError, match="a bug in the fetch"):
        list(each_by_host([f"http://h.example/{n}" for n in range(8)], fetch))


def test_batches_by_host_hand_over_what_arrived_at_once_each_result_once() -> None:
    urls = [f"http://h{n % 3}.example/{n}" for n in range(40)]
    slow = threading.Event()

    def fetch(index: int) -> int:
        if index == 0:
            slow.wait(5)  # the others arrive while the first lot is being worked on
        return index

    batches = []
    for batch in batches_by_host(urls, fetch):
        assert batch
        batches.append(batch)
        slow.set()
        time.sleep(0.05)
    arrived = [index for batch in batches for index, _ in batch]
    assert sorted(arrived) == list(range(40))
    assert len(batches) < len(urls), "results that arrived together came in one lot"


def test_each_by_host_of_nothing_is_nothing() -> None:
    assert list(each_by_host([], lambda index: index)) == []


def test_a_source_client_sends_the_user_agent_and_honours_304(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed.xml", b"<rss/>", etag='"v1"')
    with client(FetchConfig(), "application/rss+xml", content=False) as http:
        body = get_document(http, url, FetchConfig())
        assert body.data == b"<rss/>" and body.etag == '"v1"'
        assert get(http, url, FetchConfig(), ('"v1"', None)) is None
    request = http_server.requests_to("/feed.xml")[0]
    assert request.headers["user-agent"] == USER_AGENT
    assert request.headers["accept"] == "application/rss+xml"


def test_a_304_leaves_its_connection_open_for_the_next_request(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed.xml", b"<rss/>", etag='"v1"')
    with client(FetchConfig(), "application/rss+xml", content=False) as http:
        for _ in range(3):
            assert get(http, url, FetchConfig(), ('"v1"', None)) is None
    # A warm build sends a conditional GET per source, often all to one host: one connection serves them.
    assert len({request.client_port for request in http_server.requests_to("/feed.xml")}) == 1


def test_a_content_client_is_guarded_but_a_source_client_is_not(http_server: LoopbackServer) -> None:
    url = http_server.route("/page.html", b"<p>x</p>", content_type="text/html")
    with client(FetchConfig(), "text/html", content=False) as http:
        assert get_document(http, url, FetchConfig()).data == b"<p>x</p>"
    with (
        client(FetchConfig(), "text/html", content=True) as http,
        pytest.raises(FetchError, match="not a public"),
    ):
        get_document(http, url, FetchConfig())
    assert len(http_server.requests_to("/page.html")) == 1
