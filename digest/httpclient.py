"""HTTP for every stage: one client factory, one bounded GET, and many GETs shared out by host.

The client. ``client(settings, accept, content=...)`` makes every httpx client a stage uses to
fetch, with the project's User-Agent, the fetch timeouts, at most ``max_redirects`` redirects
(http(s) only: httpx refuses other schemes) and a pool of ``MAX_CONNECTIONS`` connections. A
client for URLs taken from feed content (``content=True``: an article page for full text) connects
only to public addresses through ``fetchguard``, unless ``settings.allow_private_addresses``; a
client for the sources the operator configured goes wherever they point.

Every client of a process shares one TLS context (the CA bundle is read once, not per client).

The GET. ``get`` sends If-None-Match / If-Modified-Since from the previous fetch's validators
(a 304 gives None), streams the body (``iter_bytes`` yields it already decompressed, so the cap
bounds what a gzip bomb would expand to) and stops past ``max_bytes``. It bounds time twice:
httpx's connect/read/write/pool timeouts (each ``timeout`` seconds) cut a silent server, and a
deadline of ``timeout`` seconds from the start, checked after every chunk, cuts a server that
trickles. Every failure is a ``FetchError`` naming the URL, in one line.

Many GETs. ``each_by_host`` runs a fetch per URL in a thread pool with at most ``PER_HOST``
requests to one host at a time. Many feeds often live on one host, and a small server has a
short listen queue: ``python -m http.server`` listens with a backlog of 5 and closes every
connection after one answer (HTTP/1.0), so sixteen requests opened at once overflow the queue,
the kernel drops the SYNs it has no room for and the client resends them a second later. Two
hundred 304s from such a server then took 1.4 s instead of 0.3 s. So the URLs of one host are
dealt into at most ``PER_HOST`` lanes, each lane fetched one URL after another by one thread,
and the lanes of all hosts share the ``MAX_CONNECTIONS`` threads: a host gets a few connections
at once (kept alive where the server allows), as browsers and feed readers open, and many hosts
are still fetched side by side.
"""

from __future__ import annotations

import queue
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from digest.config import FetchConfig
from digest.errors import FetchError
from digest.fetchguard import guarded_transport
from digest.text import normalize_space

USER_AGENT = "Digest/0.1 (+https://github.com/digest)"
#: Requests in flight at once (and connections kept open), over all hosts.
MAX_CONNECTIONS = 16
#: Requests in flight at once to one host: below the listen backlog of 5 of a small server.
PER_HOST = 4

#: The (ETag, Last-Modified) of a previous fetch.
Validators = tuple[str | None, str | None]
Fetched = TypeVar("Fetched")


@dataclass(frozen=True)
class Body:
    """A fetched (or read) document."""

    data: bytes
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None


def client(settings: FetchConfig, accept: str, *, content: bool) -> httpx.Client:
    """A client within ``settings``' limits; ``content``: for URLs taken from feed content (guarded)."""
    guarded = content and not settings.allow_private_addresses
    limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS)
    return httpx.Client(
        headers={"User-Agent": USER_AGENT, "Accept": accept},
        timeout=httpx.Timeout(settings.timeout),
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        limits=limits,
        # httpx applies ``limits`` to the transport it makes, not to one it is given.
        transport=guarded_transport(limits, _tls_context(not guarded)) if guarded else None,
        verify=_tls_context(not guarded),
        # A proxy from the environment would make the guard judge the proxy instead of the target.
        trust_env=not guarded,
    )


@cache
def _tls_context(trust_env: bool) -> ssl.SSLContext:
    """The certificate store every client of this process verifies with, read once.

    Reading the CA bundle takes 40-110 ms, which httpx spends again for every client it makes: a
    warm build's whole fetch costs about that, and a full-text page got a client of its own.
    A context is safe to share between threads and clients (httpcore only sets ALPN on it, the
    same protocols every time).
    """
    return httpx.create_ssl_context(trust_env=trust_env)


def get(
    http: httpx.Client, url: str, settings: FetchConfig, validators: Validators = (None, None)
) -> Body | None:
    """GET ``url`` within the limits of ``settings``; None on 304. Raises FetchError."""
    etag, last_modified = validators
    conditional = {}
    if etag:
        conditional["If-None-Match"] = etag
    if last_modified:
        conditional["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + settings.timeout
    try:
        with http.stream("GET", url, headers=conditional) as response:
            if response.status_code == HTTPStatus.NOT_MODIFIED:
                # Read to its (empty) end: a response left unread closes its connection, and the
                # next request to the host would open another.
                response.read()
                return None
            if not 200 <= response.status_code < 300:
                raise FetchError(url, _status_text(response))
            data = _read_body(response, url, settings, deadline)
            return Body(
                data,
                response.headers.get("Content-Type"),
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
            )
    except httpx.TimeoutException as err:
        raise FetchError(url, timed_out(settings)) from err
    except httpx.TooManyRedirects as err:
        raise FetchError(url, f"more than {settings.max_redirects} redirects") from err
    except httpx.UnsupportedProtocol as err:
        raise FetchError(url, "redirected to a URL that is not http(s)") from err
    except httpx.InvalidURL as err:
        raise FetchError(url, normalize_space(f"invalid URL ({err})")) from err
    except httpx.HTTPError as err:
        raise FetchError(url, normalize_space(f"network error ({err or type(err).__name__})")) from err


def get_document(http: httpx.Client, url: str, settings: FetchConfig) -> Body:
    """An unconditional GET: the document itself. Raises FetchError."""
    body = get(http, url, settings)
    assert body is not None  # only a conditional request can give 304
    return body


def _read_body(response: httpx.Response, url: str, settings: FetchConfig, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > settings.max_bytes:
            raise FetchError(url, f"larger than {settings.max_bytes} bytes")
        if time.monotonic() > deadline:
            raise FetchError(url, timed_out(settings))
        chunks.append(chunk)
    return b"".join(chunks)


def _status_text(response: httpx.Response) -> str:
    reason = response.reason_phrase
    if not reason:
        try:
            reason = HTTPStatus(response.status_code).phrase
        except ValueError:
            reason = ""
    return normalize_space(f"HTTP {response.status_code} {reason}")


def timed_out(settings: FetchConfig) -> str:
    return f"timed out after {settings.timeout:g}s"


def each_by_host(
    urls: Sequence[str], fetch: Callable[[int], Fetched], *, per_host: int = PER_HOST
) -> Iterator[tuple[int, Fetched]]:
    """``(index, fetch(index))`` for every index of ``urls``, as each arrives (see the module docstring).

    ``fetch`` runs in worker threads and must not raise: it turns failures into results. The
    caller's thread receives each result as it arrives, free to do CPU work on it meanwhile.
    """
    for batch in batches_by_host(urls, fetch, per_host=per_host):
        yield from batch


def batches_by_host(
    urls: Sequence[str], fetch: Callable[[int], Fetched], *, per_host: int = PER_HOST
) -> Iterator[list[tuple[int, Fetched]]]:
    """As ``each_by_host``, but every result that has arrived at once, in one list (never empty):
    a caller that hands its work on in lots gets lots that grow while it works on the last one."""
    lanes = _lanes(urls, per_host)
    if not lanes:
        return
    arrived: queue.SimpleQueue[tuple[int, Fetched] | BaseException] = queue.SimpleQueue()

    def run(lane: Sequence[int]) -> None:
        for index in lane:
            try:
                arrived.put((index, fetch(index)))
            except BaseException as err:
                # Passed on, so the caller raises it instead of waiting for a result never coming.
                arrived.put(err)
                return

    with ThreadPoolExecutor(min(MAX_CONNECTIONS, len(lanes)), thread_name_prefix="digest-fetch") as pool:
        for lane in lanes:
            pool.submit(run, lane)
        left = len(urls)
        while left:
            batch: list[tuple[int, Fetched]] = []
            # The first result is waited for; those that came meanwhile join it.
            while not batch or (len(batch) < left and not arrived.empty()):
                item = arrived.get()
                if isinstance(item, BaseException):
                    raise item
                batch.append(item)
            left -= len(batch)
            yield batch


def _lanes(urls: Sequence[str], per_host: int) -> list[list[int]]:
    """The indexes of ``urls`` dealt into lanes, at most ``per_host`` for one host's URLs.

    The first lane of every host comes first, so no host waits behind another's long list.
    """
    by_host: dict[str, list[int]] = {}
    for index, url in enumerate(urls):
        parts = urlsplit(url)
        # A local path has no host to spare: each is a lane of its own.
        host = parts.netloc.lower() if parts.scheme in ("http", "https") else f"#{index}"
        by_host.setdefault(host, []).append(index)
    lanes_of = [
        [indexes[first::per_host] for first in range(min(per_host, len(indexes)))]
        for indexes in by_host.values()
    ]
    return [lanes[rank] for rank in range(per_host) for lanes in lanes_of if rank < len(lanes)]


__all__ = [
    "MAX_CONNECTIONS",
    "PER_HOST",
    "USER_AGENT",
    "Body",
    "Validators",
    "batches_by_host",
    "client",
    "each_by_host",
    "get",
    "get_document",
]
