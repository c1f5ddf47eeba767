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
interrupted from another thread, so renders run in a child process that is
killed when ``time_limit`` runs out. The child (``python -m
digest.render.pdfworker``) lives on between renders, so WeasyPrint is imported and
its fonts found once per run, not once per PDF: jobs and results travel
pickled over its stdin and stdout, each preceded by its length. It is
started with fork and exec (subprocess), never a bare fork, so it holds no
lock of the caller's other threads (the scheduler's), and it imports only
this module, never the caller's main script. After a timeout or a crash the
child is killed and the next render starts a new one; renders from several
threads take turns. WeasyPrint's warnings in the child (a refused resource)
come back with the result and are logged here; a character that no installed
font has (WeasyPrint warns once per glyph drawn, and prints an empty box) is
told once per process and font package, naming the Debian package to install.

Only the child imports WeasyPrint (pdfwrite.py holds the fetcher and the
writing), so a process that renders no PDF never pays for the import, and a
build can start the child early (``start_worker``) so that its start overlaps
the work before the first render, and hand it a job and go on working until it
needs the PDF (``pdf_in_background``). A build starts it as it starts fetching when
a web source has no validators yet (its whole feed will come, with news most
likely), else when a web source sends entries (pipeline.py).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import pickle
import re
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

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
    """Everything a child needs to render one PDF (sent to it pickled)."""

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


FRAME = struct.Struct(">Q")

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


def _read_exactly(descriptor: int, count: int, deadline: float) -> bytes:
    """``count`` bytes from a pipe; TimeoutError after ``deadline``, EOFError when it closes."""
    data = bytearray()
    while len(data) < count:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([descriptor], [], [], left)[0]:
            raise TimeoutError
        chunk = os.read(descriptor, min(count - len(data), 1 << 20))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


class _Worker:
    """The child process that renders PDFs, one job at a time."""

    def __init__(self) -> None:
        # The child must import digest from wherever this process did (an editable install, a test run).
        path = os.pathsep.join(p for p in sys.path if p)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "digest.render.pdfworker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
        )

    def send(self, job: Job) -> None:
        """Hand ``job`` to the child, which starts on it at once; EOFError when the child died."""
        assert self.process.stdin is not None
        message = pickle.dumps(job)
        try:
            self.process.stdin.write(FRAME.pack(len(message)) + message)
            self.process.stdin.flush()
        except BrokenPipeError:
            raise EOFError from None

    def receive(self, deadline: float) -> tuple[str, bytes | str, list[str]]:
        """The child's answer to the job sent; TimeoutError or EOFError (the child died) otherwise."""
        assert self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        (length,) = FRAME.unpack(_read_exactly(descriptor, FRAME.size, deadline))
        answer: tuple[str, bytes | str, list[str]] = pickle.loads(_read_exactly(descriptor, length, deadline))
        return answer

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


_worker: _Worker | None = None
_worker_lock = threading.Lock()


@atexit.register
def _stop_worker() -> None:
    global _worker
    with _worker_lock:
        if _worker is not None:
            _worker.stop()
            _worker = None


def start_worker() -> None:
    """Start the renderer's child now, if it is not running, without waiting for it.

    Its start (Python, WeasyPrint, fonts: about a second) then overlaps whatever the caller
    does before its first ``render_pdf``, on another core.
    """
    global _worker
    with _worker_lock:
        if _worker is None:
            # A child that cannot start now is reported, naming the PDF, when one is rendered.
            with contextlib.suppress(OSError):
                _worker = _Worker()


def render_pdf(
    html: str,
    base_dir: Path,
    info: PdfInfo,
    *,
    roots: Sequence[Path] = (),
    images: bool = False,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> bytes:
    """The PDF of ``html``, whose relative URLs resolve against ``base_dir``.

    ``roots`` are further folders whose files may be fetched (the default
    theme behind a user theme); ``images`` lets http(s) images in. Raises
    RenderError when WeasyPrint fails or the render takes over ``time_limit``
    seconds.
    """
    with pdf_in_background(html, base_dir, info, roots=roots, images=images, time_limit=time_limit) as pdf:
        return pdf.result()


@contextmanager
def pdf_in_background(
    html: str,
    base_dir: Path,
    info: PdfInfo,
    *,
    roots: Sequence[Path] = (),
    images: bool = False,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> Iterator[PendingPdf]:
    """Start rendering the PDF (as ``render_pdf``) and let the caller work while the child does.

    Inside the block, ``.result()`` waits for the PDF (raising as ``render_pdf`` does). Other
    threads' renders wait until the block ends; leaving it without the result stops the child.
    """
    job = Job(html, (base_dir.resolve(), *(r.resolve() for r in roots)), info, images, time_limit)
    with _worker_lock:
        pending = PendingPdf(job)
        try:
            yield pending
        finally:
            if not pending.done:
                _drop_worker()


class PendingPdf:
    """A PDF the child is rendering; made by ``pdf_in_background`` under the worker lock."""

    def __init__(self, job: Job) -> None:
        global _worker
        self._job = job
        self._started = time.monotonic()
        self._failure: BaseException | None = None
        self.done = False
        try:
            if _worker is None:
                _worker = _Worker()
            _worker.send(job)
        except EOFError as err:
            self._failure = err
        except OSError as err:  # no child at all (no Python to run, no process left to make)
            self._failure = RenderError(
                f"briefing.pdf: {job.info.title}: the PDF renderer could not start ({err})"
            )

    def result(self) -> bytes:
        assert not self.done
        if isinstance(self._failure, RenderError):
            self.done = True
            raise self._failure
        assert _worker is not None
        info, time_limit = self._job.info, self._job.deadline_after
        try:
            if self._failure is not None:
                raise self._failure
            outcome, payload, warnings = _worker.receive(self._started + time_limit)
        except (TimeoutError, EOFError) as err:
            code = _worker.process.poll()
            _drop_worker()
            if isinstance(err, TimeoutError):
                reason = f"took longer than {time_limit:g} s; stopped"
            else:
                reason = f"the PDF renderer died (exit status {code})"
            raise RenderError(f"briefing.pdf: {info.title}: {reason}") from None
        finally:
            self.done = True
        log_warnings(warnings)
        if outcome != "ok" or not isinstance(payload, bytes):
            raise RenderError(f"briefing.pdf: {info.title}: {payload!s}")
        logger.debug("briefing.pdf: %s rendered in %.2f s", info.title, time.monotonic() - self._started)
        return payload


def _drop_worker() -> None:
    """Stop the child (its answer is lost or late); the next render starts another. Lock held."""
    global _worker
    if _worker is not None:
        _worker.stop()
        _worker = None
