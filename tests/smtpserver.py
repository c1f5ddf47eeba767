"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, with scripted faults.

``LoopbackSmtp`` runs aiosmtpd's Controller in its own thread and keeps every
message it accepted (recipient, raw bytes as received). Its handler can be
told, between or during runs, to misbehave the ways real servers do:

- ``busy``: answer ``421`` to this many MAIL commands, then recover;
- ``drop_after``: accept this many messages in all, then drop every later
  connection at MAIL without a reply (as a crashed or cut link does);
- ``replies``: per recipient, a list of replies to its next RCPT commands
  (``"451 4.7.1 try later"``, ``"550 5.1.1 no such user"``), consumed one per
  attempt; when the list is empty RCPT gets 250;
- ``vanish_after_data``: recipients whose next message is kept, and then the
  connection dropped instead of the 250 (the server has the message, the
  sender never learns it); one message each;
- ``hold``: a recipient whose RCPT gets no answer until ``release`` is set
  (at most a minute): a sender caught in the middle of its send;
- ``hold_data``: likewise for a recipient's DATA, the message in the server's
  hands and not yet acknowledged (the sender has written its ``sending`` mark).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ScriptedHandler:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[tuple[str, bytes]] = []
        #: (recipient, envelope sender) of each message accepted, in the order received.
        self.envelopes: list[tuple[str, str]] = []
        self.busy = 0
        self.drop_after: int | None = None
        self.replies: dict[str, list[str]] = {}
        self.vanish_after_data: set[str] = set()
        self.hold: str | None = None
        self.hold_data: str | None = None
        self.release = threading.Event()
        self.mail_commands = 0

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        with self.lock:
            self.mail_commands += 1
            if self.drop_after is not None and len(self.received) >= self.drop_after:
                session.transport.abort()
                return "421 4.3.0 dropped"
            if self.busy > 0:
                self.busy -= 1
                return "421 4.3.2 busy, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() == self.hold:
            await self._held()
        with self.lock:
            queued = self.replies.get(address.lower())
            if queued:
                return queued.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def _held(self) -> None:
        until = time.monotonic() + 60
        while not self.release.is_set() and time.monotonic() < until:
            await asyncio.sleep(0.01)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hold_data in (recipient.lower() for recipient in envelope.rcpt_tos):
            await self._held()
        with self.lock:
            vanish = False
            for recipient in envelope.rcpt_tos:
                self.received.append((recipient.lower(), bytes(envelope.original_content)))
                self.envelopes.append((recipient.lower(), envelope.mail_from))
                if recipient.lower() in self.vanish_after_data:
                    self.vanish_after_data.discard(recipient.lower())
                    vanish = True
        if vanish:
            server.transport.abort()
        return "250 2.0.0 queued"


class LoopbackSmtp:
    """aiosmtpd on 127.0.0.1 and a free port; a context manager."""

    def __init__(self, **options: Any) -> None:
        """``options`` go to aiosmtpd's Controller (tls_context, require_starttls, authenticator, ...)."""
        self.handler = ScriptedHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options)

    @property
    def received(self) -> list[tuple[str, bytes]]:
        with self.handler.lock:
            return list(self.handler.received)

    @property
    def envelopes(self) -> list[tuple[str, str]]:
        with self.handler.lock:
            return list(self.handler.envelopes)

    def copies(self) -> Counter[str]:
        """How many messages each recipient got."""
        return Counter(recipient for recipient, _ in self.received)

    def __enter__(self) -> LoopbackSmtp:
        self.controller.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.controller.stop()
