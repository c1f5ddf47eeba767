"""briefing.html -> briefing.pdf: archival (PDF/A-3a, tagged), reproducible, safe and time-limited.

Archival. The document is written as PDF/A-3a (``pdf_variant="pdf/a-3a"``,
which WeasyPrint tags for accessibility, ``pdf_tags=True``): the XMP
metadata carries the PDF/A identification, every font is embedded (WeasyPrint
always subsets and embeds), colours get an sRGB output intent. Title, author,
language and the creation and modification dates come from the issue, never
from the clock; the file identifier is a hash of the content (the variant's
default), so rendering the same issue twice gives the same bytes. Bookmarks
and page numbers are the stylesheet's business (``bookmark-level``,
``target-counter``).

Safe. The HTML carries text from feeds, so it must not make the renderer read
arbitrary files or reach the network. WeasyPrint fetches every resource
(stylesheets, images, fonts) through a URL fetcher; ours serves:

- ``file:`` URLs of regular files inside the template folders only. A URL is
  judged by where it really points (``..`` folded, symlinks resolved), and a
  file missing in the theme is looked up under the same relative name in the
  default theme, the same one-by-one override the template loader applies;
- ``http(s):`` URLs only when the edition allows images, and then only
  responses whose type is ``image/*``, at most ``MAX_IMAGE_BYTES``, within
  the render's time limit.

Everything else (``data:``, other files, ``/dev``, the network) raises
ValueError naming the URL; WeasyPrint logs it and renders without the
resource. Attachments (``<link rel=attachment>``, ``<a rel=attachment>``)
are dropped before the PDF is written, so nothing but the briefing is inside.

Time-limited. WeasyPrint has no time limit of its own and cannot be
interrupted from another thread, so PDFs are rendered in a process of their own
(digest/workers.py's ``PdfRenderer``), which stops a render that runs out of
time. This module holds what both sides share: the ``Job`` sent to that process,
and ``finished``, which turns its answer into the PDF or a RenderError here.
WeasyPrint's warnings there (a refused resource) come back with the answer and
are logged here; a character that no installed font has (WeasyPrint warns once
per glyph drawn, and prints an empty box) is told once per process and font
package, naming the Debian package to install.

Only the renderer's process imports WeasyPrint (pdfwrite.py holds the fetcher
and the writing), so a process that renders no PDF never pays for the import.
The render stage receives a ``Renderer`` and hands it the job first, then renders
the other files while the PDF is made.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from digest.errors import RenderError

logger = logging.getLogger(__name__)

#: The archival variant: PDF/A-3, level A (tagged, with Unicode text).
PDF_VARIANT = "pdf/a-3a"
#: Seconds one PDF may take, fetching included.
DEFAULT_TIME_LIMIT = 120.0
#: The largest image fetched over http(s), in bytes.
MAX_IMAGE_BYTES = 5_000_000
#: Redirects an image request may follow.
MAX_IMAGE_REDIRECTS = 3


@dataclass(frozen=True)
class PdfInfo:
    """What the PDF says about itself."""

    title: str
    #: The edition; the PDF's author.
    author: str
    #: The creation (and modification) date, from the issue, so a rebuild gives the same bytes.
    created: datetime
    #: BCP 47.
    lang: str = "en"


@dataclass(frozen=True)
class Job:
    """Everything the renderer's process needs to render one PDF (sent to it pickled)."""

    html: str
    roots: tuple[Path, ...]
    info: PdfInfo
    images: bool
    deadline_after: float


def __getattr__(name: str) -> Any:
    # SafeFetcher subclasses WeasyPrint's fetcher, so it lives in pdfwrite.py (imported by the child
    # only); it is still reachable here, where the method is described, at the price of the import.
    if name == "SafeFetcher":
        from digest.render.pdfwrite import SafeFetcher

        return SafeFetcher
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: The renderer's answer to a job: ("ok", pdf, warnings), ("error", reason, warnings) or
#: ("timeout", "", warnings).
Answer = tuple[str, bytes | str, list[str]]

#: WeasyPrint's warning for each glyph no installed font has.
_NOTDEF = re.compile(
    r"^\.notdef glyph rendered for Unicode string unsupported by fonts: .* \(U\+([0-9A-F]+)\)$"
)
#: (first, last) code points of the scripts Debian's fonts-noto-cjk covers.
_CJK = (
    (0x1100, 0x11FF), (0x2E80, 0x2FDF), (0x3000, 0x31FF), (0x3200, 0x4DBF), (0x4E00, 0x9FFF),
    (0xA960, 0xA97F), (0xAC00, 0xD7FF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF),
    (0x20000, 0x3134F),
)  # fmt: skip
#: (first, last) code points of emoji and pictographs (fonts-noto-color-emoji).
_EMOJI = ((0x2600, 0x27BF), (0x2B00, 0x2BFF), (0xFE00, 0xFE0F), (0x1F000, 0x1FAFF))
#: Font packages already named by a warning in this process.
_fonts_named: set[str] = set()


def font_package(char: str) -> str:
    """The Debian package whose font has ``char``: CJK, emoji, or Noto's other scripts."""
    code = ord(char)
    if any(first <= code <= last for first, last in _CJK):
        return "fonts-noto-cjk"
    if any(first <= code <= last for first, last in _EMOJI):
        return "fonts-noto-color-emoji"
    return "fonts-noto-core"


def log_warnings(messages: Sequence[str]) -> None:
    """The child's warnings, logged here; missing glyphs once per font package and process."""
    missing: dict[str, dict[str, None]] = {}
    for message in messages:
        found = _NOTDEF.match(message)
        if found is None:
            logger.warning("briefing.pdf: %s", message)
            continue
        char = chr(int(found.group(1), 16))
        missing.setdefault(font_package(char), {})[char] = None
    for package, chars in missing.items():
        if package in _fonts_named:
            continue
        _fonts_named.add(package)
        shown = " ".join(f"{c} (U+{ord(c):04X})" for c in list(chars)[:5]) + (
            " ..." if len(chars) > 5 else ""
        )
        logger.warning(
            "briefing.pdf: no installed font has %s, printed as empty boxes: install %s (apt-get install %s)",
            shown,
            package,
            package,
        )


def finished(job: Job, answer: Answer, seconds: float) -> bytes:
    """The PDF the renderer's answer holds; RenderError naming the issue when it holds none."""
    outcome, payload, warnings = answer
    log_warnings(warnings)
    if outcome == "timeout":
        raise RenderError(
            f"briefing.pdf: {job.info.title}: took longer than {job.deadline_after:g} s; stopped"
        )
    if outcome != "ok" or not isinstance(payload, bytes):
        raise RenderError(f"briefing.pdf: {job.info.title}: {payload!s}")
    logger.debug("briefing.pdf: %s rendered in %.2f s", job.info.title, seconds)
    return payload


class PendingPdf(Protocol):
    """A PDF being rendered."""

    def result(self) -> bytes:
        """The PDF; RenderError when it failed or ran out of time."""
        ...


class Renderer(Protocol):
    """Renders PDFs (digest/workers.py's ``PdfRenderer``)."""

    def prepare(self) -> None:
        """Get ready to render (start in the background) before the first job arrives."""
        ...

    def rendering(self, job: Job) -> AbstractContextManager[PendingPdf]:
        """Start rendering ``job``; inside the block, ``.result()`` waits for the PDF."""
        ...


def job(
    html: str,
    base_dir: Path,
    info: PdfInfo,
    *,
    roots: Sequence[Path] = (),
    images: bool = False,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> Job:
    """The job of rendering ``html``, whose relative URLs resolve against ``base_dir``.

    ``roots`` are further folders whose files may be fetched (the default theme behind a user
    theme); ``images`` lets http(s) images in; the render may take ``time_limit`` seconds.
    """
    return Job(html, (base_dir.resolve(), *(r.resolve() for r in roots)), info, images, time_limit)
