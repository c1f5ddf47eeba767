"""A second process for a stage's CPU work: a forked helper, where forking is cheap.

Fetching and parsing feeds is Python work under the GIL, so threads cannot share it out; a
child process can. A child made by fork starts in milliseconds and inherits what
the parent holds (the stage's input needs no pickling); it exists only on Linux here, and only
with a second core to run on. Elsewhere (macOS, Windows) a spawned child would import
everything again, which a build cannot win back, so the stages do their work alone.

A child forked while another thread held a lock inherits that lock held, and waits for it
forever if its work needs it: a lock inside libxml2 (extraction), OpenSSL (fetching over
https) or any library that lets go of the GIL. So a helper is forked only while this process
runs no other thread, and before the stage starts threads of its own. ``digest build`` runs
none (its progress bar is told not to start a monitor thread); ``digest run`` builds in the
scheduler's threads, beside other editions' builds and sends, so its stages work alone.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

Here = TypeVar("Here")
There = TypeVar("There")


def available() -> bool:
    """Whether a forked helper can share the work: Linux, fork, a second core, and no other
    thread in this process."""
    return (
        sys.platform == "linux"
        and "fork" in multiprocessing.get_all_start_methods()
        and (os.cpu_count() or 1) >= 2
        and threading.active_count() == 1
    )


def forked_helper(inherit: object = None) -> ProcessPoolExecutor:
    """A one-process pool, its child forked now, holding ``inherit`` (by fork: nothing is
    pickled); work submitted to it reads that with ``inherited()``."""
    pool = ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("fork"), initializer=_receive, initargs=(inherit,)
    )
    # The child is forked by the first submit, in this thread: make that happen now.
    pool.submit(int).result()
    return pool


_inherited: Any = None


def _receive(value: object) -> None:
    global _inherited
    _inherited = value


def inherited() -> Any:
    """In a helper: what ``forked_helper`` was given to inherit."""
    return _inherited


def result_or(handed: Future[There], again: Callable[[], Here]) -> There | Here:
    """The helper's result; ``again()`` here instead when the helper died (killed, out of memory)."""
    try:
        return handed.result()
    except BrokenProcessPool:
        return again()


def shared(
    here: Callable[[], Here],
    there: Callable[..., There],
    args: Sequence[Any],
    again: Callable[[], There],
    *,
    inherit: object = None,
) -> tuple[Here, There]:
    """``here()`` in this process while a forked helper (holding ``inherit``) runs
    ``there(*args)``; both results. When the helper dies, ``again()`` does its part here."""
    with forked_helper(inherit) as helper:
        handed = helper.submit(there, *args)
        ours = here()
        return ours, result_or(handed, again)
