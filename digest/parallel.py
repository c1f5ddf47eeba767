"""A second process for a stage's CPU work: a forked helper, where forking is cheap.

Fetching and parsing feeds is Python work under the GIL, so threads cannot share it out; a
child process can. A child made by fork starts in milliseconds and inherits what
the parent holds (the stage's input needs no pickling); it exists only on Linux here, and only
with a second core to run on. Elsewhere (macOS, Windows) a spawned child would import
everything again, which a build cannot win back, so the stages do their work alone.

The helper is forked as it is made, before the stage starts threads of its own: a child forked
while another thread held a lock would inherit that lock held. (The scheduler's threads exist
already; they hold no lock the helper's work takes.)
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

Here = TypeVar("Here")
There = TypeVar("There")


def available() -> bool:
    """Whether a forked helper can share the work: Linux, fork, and a second core."""
    return (
        sys.platform == "linux"
        and "fork" in multiprocessing.get_all_start_methods()
        and (os.cpu_count() or 1) >= 2
    )


def forked_helper(
    initializer: Callable[..., object] | None = None, initargs: Sequence[Any] = ()
) -> ProcessPoolExecutor:
    """A one-process pool, its child forked now (``initializer`` runs in it first)."""
    pool = ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("fork"), initializer=initializer, initargs=tuple(initargs)
    )
    # The child is forked by the first submit, in this thread: make that happen now.
    pool.submit(int).result()
    return pool


def shared(
    here: Callable[[], Here],
    there: Callable[..., There],
    args: Sequence[Any],
    again: Callable[[], There],
    *,
    initializer: Callable[..., object] | None = None,
    initargs: Sequence[Any] = (),
) -> tuple[Here, There]:
    """``here()`` in this process while a forked helper runs ``there(*args)``; both results.

    When the helper dies (killed, out of memory), ``again()`` does its part here instead.
    """
    with forked_helper(initializer, initargs) as helper:
        handed = helper.submit(there, *args)
        ours = here()
        try:
            return ours, handed.result()
        except BrokenProcessPool:
            return ours, again()
