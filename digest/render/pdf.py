"""briefing.html -> briefing.pdf with WeasyPrint, reading only the theme's own files.

The HTML comes from feeds, so it must not make the renderer read arbitrary
files or reach the network. WeasyPrint fetches every resource (stylesheets,
images, fonts) through a URL fetcher; ours serves ``file:`` URLs only, and
only for regular files inside the template folders. A relative URL is first
resolved against ``base_dir`` (the theme folder); a file missing there is
looked up under the same relative name in the other ``roots``, the same
one-by-one override the template loader applies. Symlinks are resolved
before the check, so a link pointing out of a folder is refused. Everything
else (``http(s):``, ``data:`` included, other ``file:`` paths, ``/dev``)
raises ValueError naming the URL; WeasyPrint logs it and renders without
the resource.

Same input, same bytes: the document's creation and modification dates are
set to ``created`` (the issue's build time) rather than the clock, and no
PDF file identifier is written (WeasyPrint's default), so two renders of one
issue are byte-identical.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from digest.errors import RenderError


class SafeFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
    """Serves regular files under ``roots`` (the first one is the base); refuses all else."""

    def __init__(self, roots: Sequence[Path]) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False)
        self.roots = tuple(root.resolve() for root in roots)

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
        path = self.resolve(url)
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), status=200)


def render_pdf(
    html: str,
    base_dir: Path,
    created: datetime,
    title: str,
    lang: str = "en",
    *,
    roots: Sequence[Path] = (),
) -> bytes:
    """The PDF of ``html``, whose relative URLs resolve against ``base_dir``.

    ``roots`` are further folders whose files may be fetched (the default
    theme behind a user theme). Raises RenderError when WeasyPrint fails.
    """
    fetcher = SafeFetcher([base_dir, *roots])
    stamp = created.isoformat(timespec="seconds")
    try:
        document = HTML(string=html, base_url=str(base_dir.resolve()) + "/", url_fetcher=fetcher).render()
        document.metadata.title = title
        document.metadata.lang = lang
        document.metadata.created = stamp
        document.metadata.modified = stamp
        pdf = document.write_pdf(uncompressed_pdf=False, pdf_identifier=None)
    except Exception as err:  # WeasyPrint raises many kinds; all mean "no PDF"
        raise RenderError(f"briefing.pdf: {title}: {err}") from err
    return bytes(pdf)
