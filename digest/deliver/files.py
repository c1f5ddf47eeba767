"""The dry run: subscribers' messages as .eml files in the issue's ``outbox/``.

The messages are exactly those ``digest send`` would hand to the SMTP server,
byte for byte. The folder is emptied of earlier ``.eml`` files first, so it
shows this run alone; each file is written aside and renamed into place, so
a mail client never opens half a message. File names are the addresses with
anything but letters, digits and ``@._+-`` replaced by ``_``.

A list of many thousands would make gigabytes of files (each message carries
the whole issue), so at most ``sample`` messages are written: every message of
a list that size or smaller, else a sample of that many drawn at random from
the whole list (the same sample for the same list), and ``SAMPLE.txt``
beside them, and a warning, say how many were left out. Only the sample's
messages are made.
"""

from __future__ import annotations

import logging
import os
import random
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from digest.deliver import LEASE_LOST, Outcome, OutcomeCallback, Outgoing, WaitCallback
from digest.errors import DeliveryError
from digest.text import counted

log = logging.getLogger("digest")

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")
#: Messages a dry run writes at most unless told otherwise: enough to look through, small on disk.
DEFAULT_SAMPLE = 50
#: Beside a sample, what was left out.
SAMPLE_NOTE = "SAMPLE.txt"


def outbox_name(address: str) -> str:
    return _UNSAFE.sub("_", address) + ".eml"


class OutboxDeliverer:
    def __init__(self, folder: Path, sample: int | None = DEFAULT_SAMPLE) -> None:
        """``sample``: messages to write at most; None writes every one."""
        self.folder = folder
        self.sample = sample
        self.name = f"outbox {folder}"

    @classmethod
    def for_issue(cls, issue_dir: Path, sample: int | None = DEFAULT_SAMPLE) -> OutboxDeliverer:
        """The outbox of the issue in ``issue_dir``."""
        return cls(issue_dir / "outbox", sample)

    def deliver(
        self, messages: Iterable[Outgoing], on_outcome: OutcomeCallback, on_wait: WaitCallback | None = None
    ) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for old in [*self.folder.glob("*.eml"), self.folder / SAMPLE_NOTE]:
                old.unlink(missing_ok=True)
        except OSError as err:
            raise DeliveryError(f"{self.folder}: cannot prepare the outbox ({err.strerror or err})") from err
        chosen: Iterable[Outgoing]
        total: int | None
        chosen, total = (messages, None) if self.sample is None else _drawn(messages, self.sample)
        written = 0
        for item in chosen:
            path = self.folder / outbox_name(item.address)
            if not item.claim():
                on_outcome(Outcome(item.address, "pending", LEASE_LOST))
                return
            try:
                _write_atomically(path, item.make())
            except OSError as err:
                raise DeliveryError(f"{path}: cannot write ({err.strerror or err})") from err
            written += 1
            on_outcome(Outcome(item.address, "sent", str(path)))
        if total is not None and total > written:
            self._note(written, total)

    def _note(self, written: int, total: int) -> None:
        left_out = total - written
        note = (
            f"A sample: {counted(written, 'message')} of {total:,}, drawn at random from the whole list; "
            f"{left_out:,} left out. `digest send --dry-run --sample all` writes every one."
        )
        log.warning("%s: %s", self.name, note)
        path = self.folder / SAMPLE_NOTE
        try:
            _write_atomically(path, (note + "\n").encode("utf-8"))
        except OSError as err:
            raise DeliveryError(f"{path}: cannot write ({err.strerror or err})") from err


def _drawn(messages: Iterable[Outgoing], size: int) -> tuple[list[Outgoing], int]:
    """A uniform sample of ``size`` messages, in list order, and how many there were.

    One pass keeping ``size`` at most (reservoir sampling), so a list of any length costs no
    more memory than the sample; the seed is fixed, so the same list gives the same sample.
    """
    draw = random.Random(0)
    kept: list[tuple[int, Outgoing]] = []
    total = 0
    for total, item in enumerate(messages, start=1):
        if len(kept) < size:
            kept.append((total, item))
            continue
        slot = draw.randrange(total)
        if slot < size:
            kept[slot] = (total, item)
    return [item for _, item in sorted(kept, key=lambda pair: pair[0])], total


def _write_atomically(path: Path, content: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".writing-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
