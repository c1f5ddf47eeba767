"""The WeasyPrint side of briefing.pdf: what runs in the PDF renderer's process.

pdf.py explains the method: the safe URL fetcher, the archival variant, the time
limit. This module holds the parts that need WeasyPrint, so that only the renderer's
process (digest/workers.py) imports it: importing WeasyPrint costs about 0.6 s, which
a build with nothing new, or a command that never renders a PDF, should not pay.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from digest.render.pdf import DEFAULT_TIME_LIMIT, MAX_IMAGE_BYTES, MAX_IMAGE_REDIRECTS, PDF_VARIANT, Job


class SafeFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
    """Serves regular files under ``roots`` (the first one is the base) and, when ``images``
    is true, http(s) images; refuses everything else."""

    def __init__(self, roots: Sequence[Path], *, images: bool = False, deadline: float | None = None) -> None:
        super().__init__(
            allowed_protocols=("file", "http", "https") if images else ("file",), allow_redirects=False
        )
        self.roots = tuple(root.resolve() for root in roots)
        self.images = images
        #: A ``time.monotonic()`` value after which nothing more is fetched.
        self.deadline = deadline

    def resolve(self, url: str) -> Path:
        """The file a ``file:`` URL names, if it is allowed; ValueError naming the URL otherwise."""
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError(f"{url}: only files of the template folders may be fetched")
        # normpath folds "..", so "base/../../etc/passwd" is judged by where it really points.
        requested = Path(os.path.normpath(unquote(parts.path)))
        relative = next((requested.relative_to(r) for r in self.roots if requested.is_relative_to(r)), None)
        if relative is not None:
            for root in self.roots:
                candidate = (root / relative).resolve()
                if candidate.is_relative_to(root) and candidate.is_file():
                    return candidate
        raise ValueError(f"{url}: not a file of the template folders")

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        if self.images and urlsplit(url).scheme in ("http", "https"):
            return self.fetch_image(url)
        path = self.resolve(url)
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), status=200)

    def fetch_image(self, url: str) -> URLFetcherResponse:
        """An http(s) image within the size cap and the time left; ValueError naming the URL otherwise."""
        timeout = self._time_left(url)
        try:
            with (
                httpx.Client(
                    timeout=timeout, follow_redirects=True, max_redirects=MAX_IMAGE_REDIRECTS
                ) as client,
                client.stream("GET", url, headers={"Accept": "image/*"}) as response,
            ):
                kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if response.status_code != 200:
                    raise ValueError(f"{url}: HTTP {response.status_code}")
                if not kind.startswith("image/"):
                    raise ValueError(f"{url}: not an image ({kind or 'no type'})")
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > MAX_IMAGE_BYTES:
                        raise ValueError(f"{url}: image larger than {MAX_IMAGE_BYTES} bytes")
                    self._time_left(url)
                return URLFetcherResponse(
                    str(response.url), bytes(data), status=200, headers={"Content-Type": kind}
                )
        except httpx.HTTPError as err:
            raise ValueError(f"{url}: {type(err).__name__}: {err}") from err

    def _time_left(self, url: str) -> float:
        if self.deadline is None:
            return DEFAULT_TIME_LIMIT
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ValueError(f"{url}: the PDF's time limit ran out")
        return left


class _Collect(logging.Handler):
    """Keeps WeasyPrint's warnings in the renderer's process, to be logged again by the build."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(" ".join(record.getMessage().split()))


def write(job: Job) -> bytes:
    """The PDF itself; runs in the renderer's process (or in-process in tests of the fetcher)."""
    fetcher = SafeFetcher(job.roots, images=job.images, deadline=time.monotonic() + job.deadline_after)
    base_url = job.roots[0].as_uri() + "/"
    document = HTML(string=job.html, base_url=base_url, url_fetcher=fetcher).render()
    stamp = job.info.created.isoformat(timespec="seconds")
    metadata = document.metadata
    metadata.title = job.info.title
    metadata.authors = [job.info.author] if job.info.author else []
    metadata.lang = job.info.lang
    metadata.created = stamp
    metadata.modified = stamp
    # No attachments: a PDF of the briefing holds the briefing and nothing else.
    metadata.attachments = []
    for page in document.pages:
        page.links = [link for link in page.links if link[0] != "attachment"]
    return bytes(document.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True, attachments=[]))


def attempt(job: Job) -> tuple[str, bytes | str, list[str]]:
    """("ok", pdf, warnings) or ("error", reason, warnings); runs in the renderer's process."""
    collect = _Collect()
    logging.getLogger("weasyprint").addHandler(collect)
    try:
        return "ok", write(job), collect.messages
    except Exception as err:  # WeasyPrint raises many kinds; all mean "no PDF"
        return "error", " ".join(f"{type(err).__name__}: {err}".split()), collect.messages
    finally:
        logging.getLogger("weasyprint").removeHandler(collect)
