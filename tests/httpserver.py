"""A loopback HTTP server for tests: real sockets, real HTTP, routes you register.

Usage::

    with LoopbackServer() as server:
        url = server.route("/feed.xml", RSS_BYTES, content_type="application/rss+xml", etag='"v1"')
        slow = server.slow("/slow.xml", b"<rss>" * 100, interval=0.2)
        big = server.large("/big.xml", size=5_000_000)
        hop = server.redirect("/old", "/feed.xml")
        ...  # fetch them
        assert server.requests[0].headers["user-agent"].startswith("Digest/")

(``tests/conftest.py`` provides it as the ``http_server`` fixture.)

How it works: a stdlib ``ThreadingHTTPServer`` bound to 127.0.0.1 on a free port (port 0) runs
``serve_forever`` in a daemon thread; each connection gets its own daemon thread, speaking
HTTP/1.1 with a Content-Length on every response so clients can reuse connections. Leaving the
``with`` block stops the server and every slow response still trickling, so nothing outlives the
test. Every request that arrives is appended to ``requests`` (method, path, lower-cased headers)
before it is answered, so tests can assert what a client sent (conditional GET headers,
User-Agent, Accept) and over which connection (``client_port``).

Routes:

- ``route``: a fixed status, body and headers. With ``etag`` (and/or ``last_modified``) the
  response carries the validator and a request whose If-None-Match (or If-Modified-Since) matches
  gets ``304 Not Modified`` with no body.
- ``slow``: the body in ``chunk_size`` pieces, ``interval`` seconds apart; bounded by the body's
  length and cut short when the client goes away or the server stops.
- ``large``: ``size`` bytes of filler, streamed in 64 KiB pieces (never held in memory whole).
- ``redirect``: a 3xx with a Location (relative locations are made absolute on this server).

An unregistered path gets ``404 Not Found``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


class _Server(ThreadingHTTPServer):
    # The standard library listens with a backlog of 5: a client opening 16 connections at once
    # (ingest's fetch pool) would see SYNs dropped and retried a second later, a delay no real
    # server imposes.
    request_queue_size = 128
    daemon_threads = True


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    #: Header names lower-cased.
    headers: Mapping[str, str]
    #: The client's port: requests with the same port came over the same connection.
    client_port: int = 0


@dataclass(frozen=True)
class Route:
    """What the server answers on one path."""

    status: int = 200
    #: The body, in the pieces it is sent in.
    body: tuple[bytes, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    #: Seconds to wait before each piece of the body after the first.
    interval: float = 0.0
    #: For ``large``: the total size, streamed as repeated filler.
    filler_size: int = 0

    def pieces(self, stopping: threading.Event) -> Iterator[bytes]:
        if self.filler_size:
            block = b"x" * 65536
            remaining = self.filler_size
            while remaining > 0 and not stopping.is_set():
                yield block[: min(remaining, len(block))]
                remaining -= len(block)
            return
        for index, piece in enumerate(self.body):
            # wait() rather than sleep() so stopping the server ends a trickle at once.
            if index and self.interval and stopping.wait(self.interval):
                return
            yield piece

    @property
    def length(self) -> int:
        return self.filler_size or sum(len(piece) for piece in self.body)


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 serving registered routes; a context manager."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.requests: list[RecordedRequest] = []
        self._httpd = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            # A short poll interval makes leaving the ``with`` block (shutdown) quick.
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="loopback-http",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(
        self,
        path: str,
        body: bytes = b"",
        *,
        status: int = 200,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> str:
        """Serve ``body`` with ``status`` on ``path``; returns the route's URL."""
        all_headers = dict(headers or {})
        if content_type:
            all_headers["Content-Type"] = content_type
        return self._add(path, Route(status, (body,), all_headers, etag=etag, last_modified=last_modified))

    def slow(self, path: str, body: bytes, *, chunk_size: int = 1, interval: float = 0.2) -> str:
        """Serve ``body`` in ``chunk_size`` pieces ``interval`` seconds apart."""
        pieces = tuple(body[i : i + chunk_size] for i in range(0, len(body), chunk_size))
        return self._add(path, Route(body=pieces, interval=interval, headers={"Content-Type": "text/xml"}))

    def large(self, path: str, size: int, *, content_type: str = "text/xml") -> str:
        """Serve ``size`` bytes of filler."""
        return self._add(path, Route(filler_size=size, headers={"Content-Type": content_type}))

    def redirect(self, path: str, location: str, *, status: int = 302) -> str:
        """Answer ``path`` with a redirect to ``location`` (a path on this server, or a URL)."""
        target = self.url(location) if location.startswith("/") else location
        return self._add(path, Route(status, headers={"Location": target}))

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _add(self, path: str, route: Route) -> str:
        with self._lock:
            self._routes[path] = route
        return self.url(path)

    def _lookup(self, path: str) -> Route | None:
        with self._lock:
            return self._routes.get(path)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._answer(send_body=True)

            def do_HEAD(self) -> None:
                self._answer(send_body=False)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep pytest's output clean; tests read server.requests instead

            def _answer(self, send_body: bool) -> None:
                headers = {name.lower(): value for name, value in self.headers.items()}
                server._record(RecordedRequest(self.command, self.path, headers, self.client_address[1]))
                route = server._lookup(self.path.split("?", 1)[0])
                if route is None:
                    route = Route(404, (b"not found",), {"Content-Type": "text/plain"})
                if _not_modified(route, headers):
                    self.send_response(304)
                    self._validators(route)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self._validators(route)
                self.send_header("Content-Length", str(route.length))
                self.end_headers()
                if not send_body:
                    return
                try:
                    for piece in route.pieces(server._stopping):
                        self.wfile.write(piece)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up (a timeout or a size cap under test): nothing more to send.
                    self.close_connection = True

            def _validators(self, route: Route) -> None:
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)

        return Handler


def _not_modified(route: Route, headers: Mapping[str, str]) -> bool:
    if route.etag and "if-none-match" in headers:
        return route.etag in (tag.strip() for tag in headers["if-none-match"].split(","))
    if route.last_modified and "if-modified-since" in headers:
        return headers["if-modified-since"] == route.last_modified
    return False
