"""``digest serve``: the one-click unsubscribe endpoint and the archive, over HTTP.

A WSGI application (``Application``) on waitress, a production HTTP server:
a fixed pool of worker threads, however many connections are open (an idle
connection costs a socket, not a thread); connections idle or stalled for
longer than the timeout are closed; a malformed request (a ``Content-Length``
that is not a number, a broken request line) gets 400 from the server and the
application never sees it; a body over ``MAX_BODY`` gets 413. It is meant to
sit behind a reverse proxy that terminates TLS at each edition's ``base_url``;
the proxy's ``X-Forwarded-*`` headers are believed only from the address
named as the trusted proxy, and removed from any other.

Unsubscribing. Any path whose last segment is ``unsubscribe`` is the
endpoint; the token (query parameter ``t``) says which edition and address:

- ``POST`` (RFC 8058 one-click, or the confirm page's button) with a genuine
  token puts the address on the edition's suppression list and answers 200;
  a second POST answers 200 too, saying so;
- ``GET`` only shows a page with a confirm button and changes nothing: mail
  scanners and link previewers follow links;
- a forged, altered or cut token gets 403 and changes nothing; no token at all
  gets 400.

The archive. ``GET``/``HEAD`` of other paths serve files of ``OUT/<edition>/``
read-only, found by the longest matching prefix among each edition's
``base_url`` path and ``/<edition>/``. A folder serves its ``index.html``;
``/`` itself, unless an edition is published there, lists the editions and
their latest issues. ``feed.xml`` is served as ``application/atom+xml``. A
path that is not plainly inside the edition's folder (``..``, symbolic links
leading out, back-slashes, NUL) is 404, and so is any hidden file or
folder and every ``outbox/`` (the dry run's messages carry personal
unsubscribe links). Responses say ``nosniff`` and ``no-referrer`` (links
carry tokens).
"""

from __future__ import annotations

import contextlib
import logging
import mimetypes
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import waitress
from waitress import wasyncore

from digest import output, unsubscribe
from digest.config import Config
from digest.errors import InputError
from digest.render import EditionListing, ServerPages
from digest.state import State

log = logging.getLogger("digest")

#: Bytes of a request body accepted at most (the one-click body is 26 bytes); more gets 413.
MAX_BODY = 64 * 1024
#: Path segments never served from the archive.
PRIVATE_SEGMENTS = frozenset({"outbox"})
#: Issues of each edition listed at ``/``.
LISTED_ISSUES = 10
#: Content types by file name, where the extension's default is too vague (feed.xml is Atom).
CONTENT_TYPES = {"feed.xml": "application/atom+xml"}
#: The forwarded headers believed from a trusted proxy unless others are named (as in `digest serve`).
FORWARDED_HEADERS = ("x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port")

#: The unsubscribe pages load nothing and post only back to this server.
PRIVATE_PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
#: Seconds the serving loop waits for sockets before it looks whether to stop (stop() wakes it sooner).
LOOP_TIMEOUT = 1.0

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@dataclass(frozen=True)
class Mount:
    """URL path prefix -> an edition's folder under out/."""

    prefix: str
    edition: str
    folder: Path


class Site:
    """What the server knows: editions' signers and titles, archive mounts, the state store."""

    def __init__(self, config: Config, state: State, out_dir: Path) -> None:
        self.state = state
        self.out_dir = out_dir
        self.titles = {name: e.title for name, e in config.editions.items()}
        self.signers = {
            name: unsubscribe.TokenSigner(unsubscribe.edition_secret(e.delivery.unsubscribe, state))
            for name, e in config.editions.items()
            if e.delivery is not None
        }
        mounts = []
        for name, edition in config.editions.items():
            folder = (out_dir / name).resolve()
            mounts.append(Mount(urlsplit(edition.base_url).path or "/", name, folder))
            mounts.append(Mount(f"/{name}/", name, folder))
        self.mounts = sorted(mounts, key=lambda m: len(m.prefix), reverse=True)
        self.pages = ServerPages()

    def editions_page(self) -> str:
        """``/``: each edition's title, archive link and latest issues."""
        editions = []
        for name, title in self.titles.items():
            try:
                issues = output.read_issues(self.out_dir / name)
            except InputError as err:
                log.warning("serve: %s", err)
                issues = ()
            editions.append(EditionListing(name=name, title=title, href=f"/{name}/", issues=issues))
        return self.pages.editions(editions, shown=LISTED_ISSUES)

    def verify(self, token: str) -> tuple[str, str] | None:
        """(edition, address) of a genuine token, checked with that edition's own secret."""
        for name, signer in self.signers.items():
            found = signer.verify(token)
            if found is not None and found[0] == name:
                return found
        return None

    def archive_file(self, path: str) -> Path | None:
        """The file an archive path (percent-decoded) names, or None when there is none (or it
        is not to be served)."""
        if "\0" in path or "\\" in path:
            return None
        for mount in self.mounts:
            if not path.startswith(mount.prefix) and path + "/" != mount.prefix:
                continue
            parts = [p for p in path[len(mount.prefix) :].split("/") if p]
            if any(p.startswith(".") or p in PRIVATE_SEGMENTS for p in parts):
                return None
            target = mount.folder.joinpath(*parts).resolve()
            if target.is_dir():
                target = target / "index.html"
            if target.is_relative_to(mount.folder) and target.is_file():
                return target
        return None


@dataclass(frozen=True)
class Response:
    status: HTTPStatus
    body: bytes
    content_type: str
    #: Personal pages (they name an address): not cached, and locked down.
    private: bool = False
    allow: str = ""

    def headers(self) -> list[tuple[str, str]]:
        headers = [
            ("Content-Type", self.content_type),
            ("Content-Length", str(len(self.body))),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
        ]
        if self.private:
            headers.append(("Cache-Control", "no-store"))
            headers.append(("Content-Security-Policy", PRIVATE_PAGE_POLICY))
        if self.allow:
            headers.append(("Allow", self.allow))
        return headers


def text_response(status: HTTPStatus, text: str, *, allow: str = "") -> Response:
    return Response(status, text.encode("utf-8"), "text/plain; charset=utf-8", allow=allow)


@dataclass(frozen=True)
class Request:
    method: str
    #: Percent-decoded, as text.
    path: str
    token: str
    #: The request target as the client sent it (path and query), for the confirm button.
    target: str


class Application:
    """The WSGI application: routes a request to the unsubscribe endpoint or the archive."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = _request(environ)
        if request.method == "POST":
            # The body says nothing the token does not (RFC 8058's is fixed); it is read so the
            # connection can carry the next request.
            length = int(environ.get("CONTENT_LENGTH") or 0)
            environ["wsgi.input"].read(min(max(length, 0), MAX_BODY))
        response = self.respond(request)
        log.debug(
            "serve: %s %s %s -> %d",
            environ.get("REMOTE_ADDR", "-"),
            request.method,
            request.path,  # never the query: it carries tokens
            response.status.value,
        )
        start_response(f"{response.status.value} {response.status.phrase}", response.headers())
        return [b""] if request.method == "HEAD" else [response.body]

    def respond(self, request: Request) -> Response:
        if request.path.rstrip("/").endswith("/" + unsubscribe.ENDPOINT):
            if request.method == "POST":
                return self._unsubscribe(request, confirm=False)
            if request.method in ("GET", "HEAD"):
                return self._unsubscribe(request, confirm=True)
        elif request.method == "POST":
            only_there = "POST is for the unsubscribe endpoint only\n"
            return text_response(HTTPStatus.METHOD_NOT_ALLOWED, only_there, allow="GET, HEAD")
        if request.method not in ("GET", "HEAD"):
            return text_response(HTTPStatus.NOT_IMPLEMENTED, f"{request.method} is not supported\n")
        return self._archive(request.path)

    def _archive(self, path: str) -> Response:
        found = self.site.archive_file(path)
        if found is None and path == "/":
            html = self.site.editions_page().encode("utf-8")
            return Response(HTTPStatus.OK, html, "text/html; charset=utf-8")
        if found is None:
            return text_response(HTTPStatus.NOT_FOUND, "not found\n")
        kind = (
            CONTENT_TYPES.get(found.name) or mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        )
        if kind.startswith("text/") or kind in ("application/xml", "application/atom+xml"):
            kind += "; charset=utf-8"
        return Response(HTTPStatus.OK, found.read_bytes(), kind)

    def _unsubscribe(self, request: Request, *, confirm: bool) -> Response:
        if not request.token:
            return self._page(request, HTTPStatus.BAD_REQUEST, "missing")
        found = self.site.verify(request.token)
        if found is None:
            return self._page(request, HTTPStatus.FORBIDDEN, "forbidden")
        edition, address = found
        if confirm:
            already = address in self.site.state.ledger.suppressed(edition)
            page = "already" if already else "confirm"
        else:
            added = unsubscribe.unsubscribe(self.site.state, edition, address, "one-click")
            if added:
                log.info("%s unsubscribed from %s", address, edition)
            page = "done" if added else "already"
        return self._page(request, HTTPStatus.OK, page, edition=edition, address=address)

    def _page(
        self, request: Request, status: HTTPStatus, page: str, *, edition: str = "", address: str = ""
    ) -> Response:
        html = self.site.pages.unsubscribe(
            page, title=self.site.titles.get(edition, ""), address=address, action=request.target
        )
        return Response(status, html.encode("utf-8"), "text/html; charset=utf-8", private=True)


def _request(environ: dict[str, Any]) -> Request:
    # WSGI hands the path percent-decoded, as the bytes' latin-1 reading.
    raw_path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    path = raw_path.encode("latin-1").decode("utf-8", "replace")
    query = environ.get("QUERY_STRING", "")
    tokens = parse_qs(query).get(unsubscribe.TOKEN_PARAMETER, [])
    target = quote(raw_path, safe="/@:+,;=!$&'()*~", encoding="latin-1") + (f"?{query}" if query else "")
    return Request(environ["REQUEST_METHOD"].upper(), path, tokens[0] if tokens else "", target)


@dataclass(frozen=True)
class ServerSettings:
    """How the server treats connections and its reverse proxy."""

    #: Worker threads: requests answered at the same time.
    threads: int = 8
    #: Open connections at most; past it the server stops accepting until some close.
    connection_limit: int = 1000
    #: Seconds a connection may stay idle (or stall mid-request) before it is closed.
    timeout: int = 30
    #: The address (or "*") of the reverse proxy whose X-Forwarded-* headers are believed.
    trusted_proxy: str | None = None
    trusted_proxy_headers: tuple[str, ...] = FORWARDED_HEADERS


class Server:
    """The application on waitress, bound but not yet serving; ``stop`` may be called from any thread."""

    def __init__(self, site: Site, host: str, port: int, settings: ServerSettings) -> None:
        proxy: dict[str, Any] = {}
        if settings.trusted_proxy:
            proxy = {
                "trusted_proxy": settings.trusted_proxy,
                "trusted_proxy_headers": " ".join(settings.trusted_proxy_headers),
            }
        self._server = waitress.create_server(
            Application(site),
            host=host,
            port=port,
            ident="digest",
            threads=settings.threads,
            connection_limit=settings.connection_limit,
            channel_timeout=settings.timeout,
            # Idle connections are looked at this often, so the timeout holds within a second or so.
            cleanup_interval=max(1, min(30, settings.timeout // 2)),
            max_request_body_size=MAX_BODY,
            # poll(), not select(): select() cannot watch sockets numbered past 1024.
            asyncore_use_poll=True,
            # Forwarded headers from anyone but the trusted proxy are dropped, not passed on.
            clear_untrusted_proxy_headers=True,
            **proxy,
        )
        # One listening socket, or one per address when the host name has several (localhost).
        self._map: dict[int, Any] = getattr(self._server, "map", None) or self._server._map
        listening = getattr(self._server, "effective_listen", None)
        self.port: int = int(listening[0][1] if listening else self._server.effective_port)
        # The pipe that wakes the serving loop; pulled by stop().
        self._wake = next(each for each in self._map.values() if hasattr(each, "pull_trigger"))
        self._stopping = threading.Event()

    def serve_forever(self) -> None:
        """Serve until ``stop``: then close every connection and end the worker threads."""
        use_poll = self._server.adj.asyncore_use_poll
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=LOOP_TIMEOUT, map=self._map, use_poll=use_poll, count=1)
        finally:
            wasyncore.close_all(self._map)
            self._server.task_dispatcher.shutdown()

    def stop(self) -> None:
        self._stopping.set()
        # Once the loop has closed everything the pipe is gone, and there is nothing to wake.
        with contextlib.suppress(OSError):
            self._wake.pull_trigger()


def make_server(site: Site, host: str, port: int, settings: ServerSettings | None = None) -> Server:
    """A server for ``site`` bound to ``host:port`` (port 0: any free port), not yet serving.

    Only binding happens here, so an OSError means the address (a missing template fails
    earlier, in Site).
    """
    return Server(site, host, port, settings or ServerSettings())
