"""What a build or a send is doing now, as events, for a person waiting (or a machine watching).

The pipeline and the delivery code call a ``Progress`` callback with a ``ProgressEvent`` at
each step; they neither print nor know where the events go. The command line decides how
they are shown (cli.py): a bar and plain lines on a terminal, JSON lines with
``--log-format json``, nothing otherwise. The events of a build, in order:

- ``fetching`` (``total`` sources), then ``fetched`` as each source finishes (``done`` of ``total``);
- ``condensing`` (``total`` stories at most);
- ``rendering`` (the e-mail, the web page and the PDF);
- ``writing`` (the issue folder moved into place).

Those of a send: ``sending`` (``total`` messages), ``delivered`` as each message's fate is known
(``done`` of ``total``), and ``retry-wait`` when a temporary failure makes the sender wait
(``seconds``, with the server's reply in ``detail``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from digest.types import FeedResult

#: The events' names, as they appear in ``--log-format json``'s ``event`` field.
BUILD_STEPS = ("fetching", "fetched", "condensing", "rendering", "writing")
SEND_STEPS = ("sending", "delivered", "retry-wait")


@dataclass(frozen=True)
class ProgressEvent:
    #: One of BUILD_STEPS or SEND_STEPS.
    event: str
    edition: str
    #: How far along, where the step counts something: ``done`` of ``total``.
    done: int | None = None
    total: int | None = None
    #: A wait about to start, in seconds (``retry-wait``).
    seconds: float | None = None
    #: A source's name, an address, a server's reply: what the step is about.
    detail: str = ""

    def describe(self) -> str:
        """One line for a person: ``morning: fetching 12 sources``."""
        what = self.event
        match self.event:
            case "fetching":
                what = f"fetching {self.total} sources"
            case "fetched":
                what = f"fetched {self.done} of {self.total} sources ({self.detail})"
            case "condensing":
                what = f"condensing up to {self.total} stories"
            case "rendering":
                what = "rendering the e-mail, the web page and the PDF"
            case "writing":
                what = "writing the issue folder"
            case "sending":
                what = f"sending {self.total} messages"
            case "delivered":
                what = f"{self.done} of {self.total} messages done ({self.detail})"
            case "retry-wait":
                what = f"waiting {self.seconds or 0:g} s before trying again: {self.detail}"
        return f"{self.edition}: {what}"


#: What the pipeline and the delivery code call at each step.
Progress = Callable[[ProgressEvent], None]


def ignore(_event: ProgressEvent) -> None:
    """The Progress of an unattended run: nobody is watching."""


def counting_sources(edition: str, total: int, progress: Progress) -> Callable[[FeedResult], None]:
    """The callback of each finished source: a ``fetched`` event counting them."""
    done = 0
    lock = threading.Lock()

    def on_feed(result: FeedResult) -> None:
        nonlocal done
        with lock:  # sources finish in several threads
            done += 1
            count = done
        progress(ProgressEvent("fetched", edition, count, total, detail=result.name))

    return on_feed
