"""How a build's or a send's progress is shown to whoever waits for it (the events are
digest/progress.py's; the command line picks the view)."""

from __future__ import annotations

import logging
import sys
from typing import Any

from digest.logs import CONTROL, REPLACEMENT, fields
from digest.progress import ProgressEvent

log = logging.getLogger("digest")

#: Steps that start a count, and the steps that advance it.
COUNTING_STEPS = ("fetching", "sending")
COUNTED_STEPS = ("fetched", "delivered")


class ProgressView:
    """Shows the ProgressEvents of a build or a send to whoever waits for it.

    On a terminal: each step as a line, and a bar while sources are fetched or messages sent.
    With ``--log-format json``: each event as a JSON line on stderr (the logger's format, with
    ``event``, ``edition`` and the counts). Otherwise (a pipe, a cron job's mail): nothing.
    """

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._bar: Any = None

    def __call__(self, event: ProgressEvent) -> None:
        if self.mode == "json":
            counts = {"done": event.done, "total": event.total, "seconds": event.seconds}
            extra = {
                **fields(event.event, event.edition),
                **{k: v for k, v in counts.items() if v is not None},
            }
            log.info("%s", event.describe(), extra=extra)
        elif self.mode == "terminal":
            self._show(event)

    def _show(self, event: ProgressEvent) -> None:
        from tqdm import tqdm

        if event.event in COUNTED_STEPS and self._bar is not None:
            self._bar.update(1)
            return
        self.close()
        tqdm.write(f"digest: {CONTROL.sub(REPLACEMENT, event.describe())}", file=sys.stderr)
        if event.event in COUNTING_STEPS and event.total:
            unit = "feed" if event.event == "fetching" else "message"
            self._bar = tqdm(total=event.total, desc=event.edition, unit=unit, file=sys.stderr, leave=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
