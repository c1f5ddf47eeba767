"""``digest serve``: the one-click unsubscribe endpoint and the archive, over HTTP.

A small ``http.server`` (a thread per request), meant to sit behind a reverse
proxy that terminates TLS at each edition's ``base_url``.

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

import logging
import mimetypes
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jinja2

from digest import unsubscribe
from digest.config import Config
from digest.render.templates import environment
from digest.state import State

log = logging.getLogger("digest")

#: Bytes of a request body read at most (the one-click body is 26 bytes).
MAX_BODY = 64 * 1024
#: Path segments never served from the archive.
PRIVATE_SEGMENTS = frozenset({"outbox"})
#: Issues of each edition listed at ``/``.
LISTED_ISSUES = 10
#: Content types by file name, where the extension's default is too vague (feed.xml is Atom).
CONTENT_TYPES = {"feed.xml": "application/atom+xml"}


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
        env = environment(None)
        self.pages: jinja2.Template = env.get_template("unsubscribe.html")
        self.home: jinja2.Template = env.get_template("editions.html")

    def editions_page(self) -> str:
        """``/``: each edition's title, archive link and latest issues."""
        from digest import output
        from digest.errors import InputError

        editions = []
        for name, title in self.titles.items():
            try:
                issues = output.read_issues(self.out_dir / name)
            except InputError as err:
                log.warning("serve: %s", err)
                issues = ()
            editions.append(
                {"name": name, "title": title, "href": f"/{name}/", "issues": issues, "shown": LISTED_ISSUES}
            )
        return self.home.render(editions=editions)

    def verify(self, token: str) -> tuple[str, str] | None:
        """(edition, address) of a genuine token, checked with that edition's own secret."""
        for name, signer in self.signers.items():
            found = signer.verify(token)
            if found is not None and found[0] == name:
                return found
        return None

    def archive_file(self, path: str) -> Path | None:
        """The file an archive path names, or None when there is none (or it is not to be served)."""
        decoded = unquote(path)
        if "\0" in decoded or "\\" in decoded:
            return None
        for mount in self.mounts:
            if not decoded.startswith(mount.prefix) and decoded + "/" != mount.prefix:
                continue
            parts = [p for p in decoded[len(mount.prefix) :].split("/") if p]
            if any(p.startswith(".") or p in PRIVATE_SEGMENTS for p in parts):
                return None
            target = mount.folder.joinpath(*parts).resolve()
            if target.is_dir():
                target = target / "index.html"
            if target.is_relative_to(mount.folder) and target.is_file():
                return target
        return None


class Handler(BaseHTTPRequestHandler):
    server_version = "digest"
    site: Site  # set on the subclass make_server creates

    # --- routing ---

    def do_GET(self) -> None:
        self._route(head=False)

    def do_HEAD(self) -> None:
        self._route(head=True)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(min(max(length, 0), MAX_BODY))
        path, token = self._target()
        if not path.rstrip("/").endswith("/" + unsubscribe.ENDPOINT):
            self._send_text(HTTPStatus.METHOD_NOT_ALLOWED, "POST is for the unsubscribe endpoint only\n")
            return
        self._unsubscribe(token, confirm=False)

    def _route(self, head: bool) -> None:
        path, token = self._target()
        if path.rstrip("/").endswith("/" + unsubscribe.ENDPOINT):
            self._unsubscribe(token, confirm=True, head=head)
            return
        found = self.site.archive_file(path)
        if found is None and path == "/":
            html = self.site.editions_page().encode("utf-8")
            self._send(HTTPStatus.OK, html, "text/html; charset=utf-8", head=head)
            return
        if found is None:
            self._send_text(HTTPStatus.NOT_FOUND, "not found\n", head=head)
            return
        kind = (
            CONTENT_TYPES.get(found.name) or mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        )
        if kind.startswith("text/") or kind in ("application/xml", "application/atom+xml"):
            kind += "; charset=utf-8"
        self._send(HTTPStatus.OK, found.read_bytes(), kind, head=head)

    def _target(self) -> tuple[str, str]:
        parts = urlsplit(self.path)
        tokens = parse_qs(parts.query).get(unsubscribe.TOKEN_PARAMETER, [])
        return parts.path, tokens[0] if tokens else ""

    # --- unsubscribing ---

    def _unsubscribe(self, token: str, *, confirm: bool, head: bool = False) -> None:
        if not token:
            self._page(HTTPStatus.BAD_REQUEST, "missing", head=head)
            return
        found = self.site.verify(token)
        if found is None:
            self._page(HTTPStatus.FORBIDDEN, "forbidden", head=head)
            return
        edition, address = found
        if confirm:
            already = address in self.site.state.suppressed(edition)
            page = "already" if already else "confirm"
        else:
            added = unsubscribe.unsubscribe(self.site.state, edition, address, "one-click")
            if added:
                log.info("%s unsubscribed from %s", address, edition)
            page = "done" if added else "already"
        self._page(HTTPStatus.OK, page, edition=edition, address=address, head=head)

    def _page(
        self, status: HTTPStatus, page: str, *, edition: str = "", address: str = "", head: bool = False
    ) -> None:
        html = self.site.pages.render(
            page=page, title=self.site.titles.get(edition, ""), address=address, action=self.path
        )
        self._send(status, html.encode("utf-8"), "text/html; charset=utf-8", head=head, private=True)

    # --- responses ---

    def _send_text(self, status: HTTPStatus, text: str, *, head: bool = False) -> None:
        self._send(status, text.encode("utf-8"), "text/plain; charset=utf-8", head=head)

    def _send(
        self, status: HTTPStatus, body: bytes, kind: str, *, head: bool = False, private: bool = False
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        if private:
            self.send_header("Cache-Control", "no-store")
            self.send_header(
                "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
            )
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines carry tokens; only debug logs may show them.
        log.debug("serve: %s", format % args)


def make_server(site: Site, host: str, port: int) -> ThreadingHTTPServer:
    """A server for ``site`` bound to ``host:port`` (port 0: any free port), not yet serving.

    Only binding happens here, so an OSError means the address (a missing template fails
    earlier, in Site).
    """
    handler = type("SiteHandler", (Handler,), {"site": site})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
