"""The heartbeat that keeps a lease in the state store alive while its holder works.

A lease (an edition's send, a scheduled run's build) is a row naming its holder and when the
holder last said it was alive. Another process takes the lease over once that is older than the
lease's timeout, so a holder that dies or freezes blocks the others for ``timeout`` at most. While
the holder works, a thread renews the row every ``timeout / 4``: a store busy for a moment costs a
beat, not the lease. A renewal that finds the lease no longer the holder's stops the beating and
marks the lease lost, for the holder to see before its next step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from types import TracebackType

from digest.errors import StateError


class Heartbeat:
    """A thread calling ``renew`` every ``timeout / 4`` until stopped or until ``renew`` says False.

    A context manager: started on entering, stopped (and joined) on leaving.
    """

    def __init__(self, renew: Callable[[], bool], timeout: timedelta, name: str) -> None:
        self._renew = renew
        self._every = timeout.total_seconds() / 4
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=name, daemon=True)

    @property
    def held(self) -> bool:
        """False once a renewal found the lease gone to another holder (or ``lose`` said so)."""
        return not self._lost.is_set()

    def lose(self) -> None:
        """Record that the lease was found taken over by other means (a write that checked it)."""
        self._lost.set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def __enter__(self) -> Heartbeat:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _beat(self) -> None:
        while not self._stop.wait(self._every):
            try:
                renewed = self._renew()
            except StateError:
                continue  # the store busy for a moment: the next beat tries again, well inside the timeout
            if not renewed:
                self._lost.set()
                return
