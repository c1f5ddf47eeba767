"""A Deliverer that hands each message to a function instead of a server.

For tests and experiments, in the way httpx's ``MockTransport`` stands in for
the network: the function gets the address and the finished message and says
what became of it, as a status (``"sent"``, ``"failed"``, ``"pending"``,
``"unknown"``) or a whole Outcome. Without one, every message is sent. Every
message made is kept in ``messages``, in order, whatever its outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from digest.deliver import LEASE_LOST, Outcome, OutcomeCallback, OutcomeStatus, Outgoing, WaitCallback

Handler = Callable[[str, bytes], "OutcomeStatus | Outcome"]


def _accept(address: str, message: bytes) -> OutcomeStatus:
    return "sent"


class FakeDeliverer:
    def __init__(self, handler: Handler = _accept, *, name: str = "fake deliverer") -> None:
        self.handler = handler
        self.name = name
        #: (address, message) of every message made, in order.
        self.messages: list[tuple[str, bytes]] = []

    def deliver(
        self, messages: Iterable[Outgoing], on_outcome: OutcomeCallback, on_wait: WaitCallback | None = None
    ) -> None:
        for item in messages:
            if not item.claim():
                on_outcome(Outcome(item.address, "pending", LEASE_LOST))
                return
            message = item.make()
            self.messages.append((item.address, message))
            result = self.handler(item.address, message)
            outcome = (
                result if isinstance(result, Outcome) else Outcome(item.address, result, f"fake: {result}")
            )
            on_outcome(outcome)

    def sent_to(self) -> list[str]:
        """The addresses of every message made, in order."""
        return [address for address, _ in self.messages]
