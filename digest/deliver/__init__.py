"""Delivery backends: where each subscriber's message goes.

A Deliverer takes the messages to send, one ``Outgoing`` per subscriber, and
reports one ``Outcome`` for each of them through a callback, as soon as it is
known, so the caller can write it to the ledger before the next message goes
out. Outcomes:

- ``sent``: the server answered 250 to the message (or, for the outbox, the
  file is written);
- ``failed``: refused permanently (a 5xx for that recipient); not retried;
- ``pending``: not delivered after the backend's retries (the server down,
  a 4xx that did not clear); a later run tries again;
- ``unknown``: the message's data went out but no reply came (the connection
  dropped while the server had it), and the edition sends such messages at
  most once (``delivery.unknown_outcome: skip``), so it is not tried again.

Before a message's data goes out, the backend calls its ``claim``: the caller
writes the ledger's ``sending`` mark there and answers False when this sender
may no longer send (its lease was taken over); the backend then leaves the
message pending and hands out nothing more.

Backends, by name (``get_deliverer``): ``smtp`` (smtp.py) and ``files``
(files.py, the ``--dry-run`` outbox). ``FakeDeliverer`` (fake.py) hands each
message to a function instead, for tests and experiments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from digest.config import DeliveryConfig
from digest.errors import DeliveryError

OutcomeStatus = Literal["sent", "failed", "pending", "unknown"]

#: The detail of a message a sender left because its lease was taken over.
LEASE_LOST = "left to the send that took the lease over"


def _claimed() -> bool:
    return True


@dataclass(frozen=True)
class Outgoing:
    """One subscriber's message, made only when the backend is ready to send it."""

    address: str
    #: Returns the complete message (CRLF line ends); called once per message at most.
    make: Callable[[], bytes]
    #: Called right before each attempt's data goes out; False: send nothing more.
    claim: Callable[[], bool] = _claimed
    #: The envelope sender (MAIL FROM) of this message; "" for the deliverer's own (the From address).
    #: A per-subscriber return path (returnpath.py) tells whose message a bounce is about.
    envelope_from: str = ""


@dataclass(frozen=True)
class Outcome:
    address: str
    status: OutcomeStatus
    #: The server's reply, the file written, or why the message is still pending; one line.
    detail: str


OutcomeCallback = Callable[[Outcome], None]
#: (address, why, seconds): a message waits this long before its next try.
WaitCallback = Callable[[str, str, float], None]


class Deliverer(Protocol):
    #: Names where messages go, for messages: "SMTP server mail.example.org:587".
    name: str

    def deliver(
        self, messages: Iterable[Outgoing], on_outcome: OutcomeCallback, on_wait: WaitCallback | None = None
    ) -> None:
        """Deliver every message, calling ``on_outcome`` once for each, in any order.

        A backend that stops early (the server down, a claim refused) takes no more messages
        from ``messages`` and reports only those it took; the caller accounts for the rest.

        Args:
            messages: consumed lazily; each message is made when it is about to be sent.
            on_outcome: called as soon as a message's fate is known (from worker threads too,
                one call at a time).
            on_wait: told of each wait before a retry, for progress displays.

        Raises:
            DeliveryError: before sending anything, when a setting it needs is missing
                (an environment variable named in the config, for one).
        """
        ...


DelivererFactory = Callable[[DeliveryConfig, Path], Deliverer]


def _smtp(delivery: DeliveryConfig, issue_dir: Path) -> Deliverer:
    from digest.deliver.smtp import SmtpDeliverer

    return SmtpDeliverer(
        delivery.smtp, envelope_from=delivery.from_, resend_unknown=delivery.unknown_outcome == "resend"
    )


def _files(delivery: DeliveryConfig, issue_dir: Path) -> Deliverer:
    from digest.deliver.files import OutboxDeliverer

    return OutboxDeliverer.for_issue(issue_dir)


_REGISTRY: dict[str, DelivererFactory] = {"smtp": _smtp, "files": _files}


def available() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def get_deliverer(name: str, delivery: DeliveryConfig, issue_dir: Path) -> Deliverer:
    """The backend called ``name``, set up for one edition's delivery and issue folder."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise DeliveryError(f"unknown delivery backend {name!r}; known: {', '.join(_REGISTRY)}") from None
    return factory(delivery, issue_dir)


from digest.deliver.fake import FakeDeliverer  # noqa: E402  (it implements the protocol above)

__all__ = [
    "LEASE_LOST",
    "Deliverer",
    "DeliveryError",
    "FakeDeliverer",
    "Outcome",
    "OutcomeCallback",
    "OutcomeStatus",
    "Outgoing",
    "WaitCallback",
    "available",
    "get_deliverer",
]
