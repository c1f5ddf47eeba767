"""Every process Digest starts besides itself: the build's workers and the PDF renderer.

This is the one module that knows about processes. The command line (``digest build``,
``render``, ``condense``) and the scheduler (``digest run``) make a ``Workers`` and a
``PdfRenderer`` as a build starts and hand them to the pipeline, which gives the stages
``Workers.map`` (a ``digest.types.Map``: builtins.map's signature) and the renderer. A stage
takes data and a map; it never learns whether the map ran here or in other processes.

Workers. A standard ``concurrent.futures.ProcessPoolExecutor`` of one process fewer than the
cores this process may use, since the calling process works too. Its processes come from a fork
server on Linux (started once; each worker imports the stage modules as it starts) and are
spawned elsewhere; neither inherits this process's threads, locks, open
database or pipes, as a bare fork would. Starting the pool takes a Python start-up and the
stage modules' imports (most of a second), so it starts in a background thread with the first
map that has work to share (a build's parsing, once two feeds have sent documents), and until it
is ready a map works here alone.
``map`` cuts the items into chunks and works through them from the back itself while it hands
them to the ready pool from the front, a few at a time, until the two meet; the last chunk is
always its own (a map of two items shares them). With one core, or
fewer than two items, ``map`` is builtins.map. A worker that dies (killed, out of memory)
raises WorkerError, naming the function; no map waits on a dead process. Closing waits for a
process still starting (one half started would fail noisily once the build is gone), then kills
the workers, which may still be importing.

PdfRenderer. A pool of one process that imports WeasyPrint once, started when the build has
news (``prepare``) or at its first render, and then renders one PDF at a time. WeasyPrint
cannot be interrupted from another thread, so the time limit is kept inside the renderer's
process (an interval timer interrupts the render and the answer says so) and, should the
process be stuck where no timer reaches, by killing it from here a little later; either way the
render raises RenderError and the next one starts a new process. The renderer runs at the
build's own priority: the build waits for its PDF.

Dying with the build. Every process started here exits when the build does, however it ends
(SIGKILL included): on Linux the kernel sends SIGKILL to a worker whose parent dies
(PR_SET_PDEATHSIG; a worker's parent is the fork server, which exits when the build's end of its
pipe closes), and everywhere a thread in each worker waits on the build's sentinel and ends the
process when it closes.
"""

from __future__ import annotations

import builtins
import contextlib
import ctypes
import dataclasses
import importlib
import itertools
import logging
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import wait
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from digest.errors import RenderError, WorkerError

# The render stage's modules are imported when a PDF is rendered: a build with nothing new needs none.
if TYPE_CHECKING:
    from digest.render.pdf import Answer, Job

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

#: What the fork server imports before it forks anything: only what every process it forks needs
#: to start. The stage modules are imported by each worker once it has started (``_import_stages``):
#: imported by the fork server, they made ``digest build`` with nothing new wait seconds on a busy
#: machine for a fork server it did not use, since a pool still starting is waited for.
PRELOAD = ("digest.workers",)
#: What a worker imports once started, while the build goes on: the modules whose functions it runs.
STAGES = ("digest.ingest", "digest.feedparse", "digest.extract", "digest.cluster", "digest.condense")
#: Chunks a map is cut into per process working on it (the workers and this one): enough for the
#: processes to end together when chunks differ in cost, few enough that handing them over is cheap.
CHUNKS_PER_PROCESS = 4
#: Chunks handed to each worker at a time: one to work on, one waiting, so it never idles.
IN_FLIGHT_PER_WORKER = 2
#: Seconds past a PDF's time limit before its process is killed from here (the timer inside it
#: should have stopped the render long before).
KILL_GRACE = 10.0
#: prctl(2) option: the signal the kernel sends this process when its parent dies.
_PR_SET_PDEATHSIG = 1


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _context() -> multiprocessing.context.BaseContext:
    """A fork server on Linux, with the stage modules imported once; spawn elsewhere."""
    if sys.platform == "linux":
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(PRELOAD))
        return context
    return multiprocessing.get_context("spawn")


def _die_with_parent() -> None:
    """Pool initializer: end this process when its parent does, however the parent ends."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_when_closed, args=(parent.sentinel,), daemon=True).start()


def _exit_when_closed(sentinel: int) -> None:
    wait([sentinel])
    os._exit(1)


def _started() -> int:
    return os.getpid()


def _import_stages() -> None:
    for name in STAGES:
        importlib.import_module(name)


def _run_chunk(function: Callable[[T], R], chunk: list[T]) -> list[R]:
    return [function(item) for item in chunk]


def _kill_processes(executor: ProcessPoolExecutor) -> None:
    """End every process of the pool now. Every one: an idle worker holds the lock of the pool's
    queue while it waits on it, so killing some would leave the others waiting forever."""
    kill_workers = getattr(executor, "kill_workers", None)  # Python 3.14 and later
    if kill_workers is not None:
        kill_workers()
        return
    # Before 3.14 the pool offers no way to end its processes; it keeps them here.
    processes: dict[int, multiprocessing.process.BaseProcess] = getattr(executor, "_processes", None) or {}
    for process in list(processes.values()):
        with contextlib.suppress(OSError, ValueError):
            process.kill()


class _Pool:
    """A process pool started in a background thread: starting a process blocks until the fork
    server has made its imports, which the calling thread need not wait for. ``warm_up`` is then
    handed to each process, to run while the caller goes on; the pool is ``ready`` once every
    process has run it. A map hands work only to a ready pool: a chunk queued behind a worker's
    start-up imports (half a second) kept the build waiting for it, when the build's own process
    would have done it sooner."""

    def __init__(self, processes: int, warm_up: Callable[[], object] | None = None) -> None:
        self.executor = ProcessPoolExecutor(processes, mp_context=_context(), initializer=_die_with_parent)
        #: Every process has started (or the start failed).
        self.started = threading.Event()
        #: Every process has started and run ``warm_up``.
        self.ready = threading.Event()
        self._starter = threading.Thread(
            target=self._start, args=(processes, warm_up), name="digest-pool-start", daemon=True
        )
        self._starter.start()

    def _start(self, processes: int, warm_up: Callable[[], object] | None) -> None:
        # A broken start leaves the pool not ready: the work is done in the calling process.
        try:
            with contextlib.suppress(Exception):
                for started in [self.executor.submit(_started) for _ in range(processes)]:
                    started.result()
                self.started.set()
                if warm_up is not None:
                    for warmed in [self.executor.submit(warm_up) for _ in range(processes)]:
                        warmed.result()
                self.ready.set()
        finally:
            self.started.set()

    def wait_started(self) -> None:
        """Until every process has started: work handed over now waits only for the warm-up."""
        self.started.wait()

    def wait_ready(self) -> None:
        """Until the pool is ready, or has failed to start."""
        self._starter.join()

    def close(self, *, kill: bool = False) -> None:
        """Shut the pool down; ``kill``: ending its processes whatever they are doing (a warm-up
        included). A pool still starting its processes is waited for (the fork server's imports,
        begun as the build began): a process half started would otherwise fail noisily once this
        one is gone."""
        self.wait_started()
        if kill:
            _kill_processes(self.executor)
        else:
            self.wait_ready()
        # Futures of killed processes fail by themselves (Python 3.11 trips over one cancelled here).
        self.executor.shutdown(wait=True, cancel_futures=not kill)
        self._starter.join()


class _Closed:
    """A context manager that closes itself on leaving."""

    def close(self) -> None:
        raise NotImplementedError

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class Workers(_Closed):
    """The build's worker processes; ``map`` shares work out to them. A context manager."""

    def __init__(self, processes: int | None = None) -> None:
        #: Worker processes besides this one (0: every map runs here).
        self.processes = max(usable_cores() - 1, 0) if processes is None else processes
        self._pool: _Pool | None = None
        self._closed = False
        self._lock = threading.Lock()

    def __enter__(self) -> Workers:
        return self

    def start(self) -> bool:
        """Start the workers now rather than with the first map, and wait until they are ready
        (or have failed to start); whether they are ready."""
        with self._lock:
            if self._pool is None and not self._closed and self.processes > 0:
                self._pool = _Pool(self.processes, warm_up=_import_stages)
            pool = self._pool
        if pool is None:
            return False
        pool.wait_ready()
        return pool.ready.is_set()

    def close(self) -> None:
        """Stop the workers; none is left running. A map is over by now: what a worker may still
        be doing is its start-up imports."""
        with self._lock:
            pool, self._pool, self._closed = self._pool, None, True
        if pool is not None:
            pool.close(kill=True)

    def map(self, function: Callable[[T], R], items: Iterable[T], /) -> Iterator[R]:
        """``function`` of each item, in order, as builtins.map gives them; ``function`` must be a
        module-level function (it is sent to the workers by name)."""
        work = list(items)
        if len(work) < 2 or self.processes < 1:
            return builtins.map(function, work)
        with self._lock:
            # Started by the first map with work to share (a build's parsing, once feeds sent documents),
            # in the background: this one goes on here meanwhile.
            if self._pool is None and not self._closed:
                self._pool = _Pool(self.processes, warm_up=_import_stages)
            pool = self._pool
        if pool is None:
            return builtins.map(function, work)
        return iter(self._shared(pool, function, work))

    def _shared(self, pool: _Pool, function: Callable[[T], R], work: list[T]) -> list[R]:
        size = math.ceil(len(work) / ((self.processes + 1) * CHUNKS_PER_PROCESS))
        chunks = [work[start : start + size] for start in range(0, len(work), size)]
        done: dict[int, list[R]] = {}
        # The pool takes chunks from the front, this process from the back, until they meet. The
        # pool is handed only a few at a time, so no chunk is ever taken back from it.
        front, back = 0, len(chunks)
        handed: dict[int, Future[list[R]]] = {}
        try:
            while front < back:
                if pool.ready.is_set():
                    for index in [i for i, future in handed.items() if future.done()]:
                        done[index] = handed.pop(index).result()
                    # The last chunk is always this process's own: it would only wait for it.
                    while len(handed) < IN_FLIGHT_PER_WORKER * self.processes and front < back - 1:
                        handed[front] = pool.executor.submit(_run_chunk, function, chunks[front])
                        front += 1
                if front < back:
                    back -= 1
                    done[back] = _run_chunk(function, chunks[back])
            for index, future in handed.items():
                done[index] = future.result()
        except BrokenProcessPool as err:
            name = getattr(function, "__qualname__", repr(function))
            raise WorkerError(f"a worker process died while running {name} ({err})") from None
        return list(itertools.chain.from_iterable(done[index] for index in range(len(chunks))))


# --- the PDF renderer ---------------------------------------------------------------------------------------


class _OutOfTime(BaseException):
    """Raised inside a render by its timer; a BaseException, so no ``except Exception`` keeps it."""


def _import_renderer() -> None:
    # WeasyPrint and its fonts, once per process: most of a second.
    import digest.render.pdfwrite  # noqa: F401


def _out_of_time(signum: int, frame: object) -> None:
    raise _OutOfTime


def _render(job: Job) -> Answer:
    """One PDF, in the renderer's process, stopped by a timer when its time runs out."""
    from digest.render.pdfwrite import attempt

    timer = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if timer:
        signal.signal(signal.SIGALRM, _out_of_time)
        signal.setitimer(signal.ITIMER_REAL, job.deadline_after)
    try:
        return attempt(job)
    except _OutOfTime:
        return "timeout", "", []
    finally:
        if timer:
            signal.setitimer(signal.ITIMER_REAL, 0)


class PendingPdf:
    """A PDF being rendered; ``result()`` waits for it."""

    def __init__(self, renderer: PdfRenderer, job: Job, future: Future[Answer]) -> None:
        self._renderer, self._job, self._future = renderer, job, future
        self._started = time.monotonic()
        self.done = False

    def result(self) -> bytes:
        assert not self.done
        self.done = True
        title, limit = self._job.info.title, self._job.deadline_after
        try:
            answer = self._future.result(timeout=limit + KILL_GRACE)
        except FutureTimeout:
            self._renderer.restart()
            raise RenderError(f"briefing.pdf: {title}: took longer than {limit:g} s; stopped") from None
        except BrokenProcessPool:
            self._renderer.restart()
            raise RenderError(f"briefing.pdf: {title}: the PDF renderer died") from None
        from digest.render.pdf import finished

        return finished(self._job, answer, time.monotonic() - self._started)


class PdfRenderer(_Closed):
    """One process rendering PDFs, one at a time, each within its time limit. A context manager:
    the process starts with ``prepare`` (or the first render) and is gone on exit."""

    def __init__(self, time_limit: float | None = None) -> None:
        #: At most this many seconds per PDF, whatever a job allows (None: the job's own limit).
        self.time_limit = time_limit
        self._pool: _Pool | None = None
        #: One render at a time (the scheduler's builds run in threads).
        self._lock = threading.Lock()

    def __enter__(self) -> PdfRenderer:
        return self

    def prepare(self) -> None:
        """Start the process now, in the background, so that its imports (WeasyPrint, fonts: about
        a second) overlap the build's other work; a build with nothing new never calls this, and
        starts no process."""
        with self._lock:
            if self._pool is None:
                self._pool = _Pool(1, warm_up=_import_renderer)

    def close(self) -> None:
        if self._pool is not None:
            # A render in progress is not waited for: its build is over.
            self._pool.close(kill=True)
            self._pool = None

    def restart(self) -> None:
        """Kill the process (its answer is lost or late); the next render starts another."""
        if self._pool is not None:
            self._pool.close(kill=True)
            self._pool = _Pool(1, warm_up=_import_renderer)

    @contextlib.contextmanager
    def rendering(self, job: Job) -> Iterator[PendingPdf]:
        """Start rendering ``job``; inside the block, ``.result()`` waits for the PDF. Leaving the
        block without the result stops the process."""
        if self.time_limit is not None and self.time_limit < job.deadline_after:
            job = dataclasses.replace(job, deadline_after=self.time_limit)
        self.prepare()
        with self._lock:
            assert self._pool is not None
            self._pool.wait_started()
            try:
                future: Future[Answer] = self._pool.executor.submit(_render, job)
            except (BrokenProcessPool, RuntimeError):
                self.restart()
                assert self._pool is not None
                self._pool.wait_started()
                future = self._pool.executor.submit(_render, job)
            pending = PendingPdf(self, job, future)
            try:
                yield pending
            finally:
                if not pending.done:
                    self.restart()

    def render(self, job: Job) -> bytes:
        """The PDF of ``job`` (RenderError when it fails or runs out of time)."""
        with self.rendering(job) as pending:
            return pending.result()
