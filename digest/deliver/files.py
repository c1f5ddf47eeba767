"""The dry run: each subscriber's message as an .eml file in the issue's ``outbox/``.

The messages are exactly those ``digest send`` would hand to the SMTP server,
byte for byte. The folder is emptied of earlier ``.eml`` files first, so it
shows this run alone; each file is written aside and renamed into place, so
a mail client never opens half a message. File names are the addresses with
anything but letters, digits and ``@._+-`` replaced by ``_``.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from digest.deliver import Outcome, OutcomeCallback, Outgoing
from digest.errors import DeliveryError

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


def outbox_name(address: str) -> str:
    return _UNSAFE.sub("_", address) + ".eml"


class OutboxDeliverer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = f"outbox {folder}"

    def deliver(self, messages: Iterable[Outgoing], on_outcome: OutcomeCallback) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for old in self.folder.glob("*.eml"):
                old.unlink()
        except OSError as err:
            raise DeliveryError(f"{self.folder}: cannot prepare the outbox ({err.strerror or err})") from err
        for item in messages:
            path = self.folder / outbox_name(item.address)
            try:
                _write_atomically(path, item.make())
            except OSError as err:
                raise DeliveryError(f"{path}: cannot write ({err.strerror or err})") from err
            on_outcome(Outcome(item.address, "sent", str(path)))


def _write_atomically(path: Path, content: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".writing-", suffix=".eml")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
