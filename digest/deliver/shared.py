"""Several senders sharing one issue, on PostgreSQL: each claims the subscribers it mails, in batches.

Any number of ``digest send`` processes, on one machine or several, may send one issue at once
when the state store is on PostgreSQL. Each, at its start:

1. reads the subscribers file, the suppression list and the ledger, as every send does, and adds
   a claim row (state/claims.py) for each active subscriber without an outcome (a ``sending``
   mark counts as none: its fate is decided when the row is claimed). Rows already there stay as
   they are, so a sender that starts late adds nobody another is mailing;
2. holds a session advisory lock named by a random token of its own for as long as it runs (the
   server drops it with the sender's connection), and renews a heartbeat on its rows every
   ``lease_timeout / 4`` from a thread;
3. claims the next batch of claimable rows (``FOR UPDATE SKIP LOCKED``: no two senders ever get
   the same row), hands those subscribers to its deliverer, and claims the next batch when the
   deliverer asks for more. Rows are claimable when nobody holds them, when their holder's lock
   is gone (a killed sender: taken over at once), or when their heartbeat is older than
   ``delivery.lease_timeout`` (a sender frozen with its connection up);
4. writes each message's ``sending`` mark only while it still holds the subscriber's row, after
   reading the ledger in the same transaction: a subscriber another sender settled meanwhile is
   left; a ``sending`` mark another sender left (it died mailing it) is a message of unknown
   fate, handled as ``delivery.unknown_outcome`` says (sent again, or recorded ``unknown``);
5. writes each outcome and deletes the row in one transaction;
6. when nothing is claimable and other senders still hold rows, waits for them (checking every
   ``POLL`` seconds), so that the rows of one that dies are taken over by those still running;
   it ends when no row of the issue is left to anyone else, and gives back the rows it claimed
   and never tried (its deliverer stopped early: the server down).

So every subscriber is mailed by the one sender holding its row; the one exception is a sender
frozen between a mark and its data long enough to lose its rows, whose message the new holder
finds marked and treats as one of unknown fate.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from digest.config import Config, DeliveryConfig, EditionConfig
from digest.deliver import Deliverer, Outcome, WaitCallback
from digest.deliver.lease import Clock, utc_now
from digest.deliver.send import SKIPPED_UNKNOWN, _Send
from digest.errors import StateError
from digest.heartbeat import Heartbeat
from digest.progress import Progress
from digest.state import ClaimedMark, State
from digest.state.claims import SETTLED
from digest.state.leases import advisory_key

if TYPE_CHECKING:
    from digest.deliver.message import MessageMaker
    from digest.subscribers import Subscriber

log = logging.getLogger("digest")

#: Seconds between looks at the claim rows while only other senders hold some.
POLL = 0.1
#: Subscribers claimed at once per SMTP connection: enough that claiming costs little next to
#: sending, few enough that the senders finish together.
BATCH_PER_CONNECTION = 25


class Claimer:
    """This sender's standing among those sharing issues: its token, its lock, its heartbeat."""

    def __init__(self, state: State, timeout: timedelta, clock: Clock) -> None:
        self.state = state
        self.timeout = timeout
        self.clock = clock
        self.holder = uuid.uuid4().hex
        #: The session advisory lock this sender holds while it lives, and its key in pg_locks.
        self.lock_name = f"digest sender {self.holder}"
        self.lock_key = advisory_key(self.lock_name)
        self.heartbeat = Heartbeat(self._renew, timeout, "send claims")

    def _renew(self) -> bool:
        self.state.claims.renew(self.holder, self.clock())
        return True  # a row taken over shows at its next mark, row by row; the others stay this sender's


@contextmanager
def sharing(state: State, timeout: timedelta, clock: Clock = utc_now) -> Iterator[Claimer]:
    """This process as one of the senders sharing issues, for the block (method step 2)."""
    claimer = Claimer(state, timeout, clock)
    with state.leases.session_lock(claimer.lock_name) as locked:
        if not locked:
            raise StateError(f"send claims: the advisory lock of sender {claimer.holder} is taken")
        try:
            with claimer.heartbeat:
                yield claimer
        finally:
            # What it claimed and never tried goes back to the others at once.
            state.claims.release(claimer.holder)


class SharedSend(_Send):
    """One of the senders sharing an issue (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        edition: EditionConfig,
        delivery: DeliveryConfig,
        state: State,
        issue_dir: Path,
        claimer: Claimer,
        *,
        on_outcome: Callable[[Outcome], None] | None,
        progress: Progress,
    ) -> None:
        self.claimer = claimer
        #: Subscribers whose mark this sender declined to write, and why (Claims.mark).
        self._declined: dict[str, ClaimedMark] = {}
        #: Subscribers whose row another sender took over before this one marked them.
        self._lost: set[str] = set()
        #: Subscribers whose outcome this sender wrote.
        self._settled_here: set[str] = set()
        #: Whether the last batch claimed was the last of all (else its deliverer stopped early).
        self._drained = False
        self._finished = False
        self._closing = False
        self._ledger_at_end: dict[str, str] = {}
        super().__init__(
            config,
            edition,
            delivery,
            state,
            issue_dir,
            None,
            dry_run=False,
            on_outcome=on_outcome,
            progress=progress,
        )

    def _plan(self, ledger: dict[str, str]) -> list[Subscriber]:
        todo = [s for s in self.active if ledger.get(s.address, "sending") == "sending"]
        positions = {s.address: n for n, s in enumerate(self.roster.subscribers)}
        self.state.claims.add(
            self.edition.name, self.issue.issue_id, [(positions[s.address], s.address) for s in todo]
        )
        return todo

    def _deliver_all(self, backend: Deliverer, maker: MessageMaker, on_wait: WaitCallback | None) -> None:
        # Waiting for the other senders happens here, between deliveries, never inside one: a
        # deliverer waiting for its next message would hold up its own messages waiting for a retry.
        while True:
            self._drained = False
            pending_before = len(self.pending)
            backend.deliver(self._messages(maker), self._record, on_wait)
            if not self._drained:
                return  # it stopped early (the server down): the rest is left over
            self._finished = True
            if len(self.pending) > pending_before:
                return  # not waiting on others after a failure of its own: it exits 1 now
            if not self.state.claims.held_by_others(
                self.edition.name, self.issue.issue_id, self.claimer.holder
            ):
                return
            time.sleep(POLL)

    def _subscribers(self) -> Iterator[Subscriber]:
        mine = {s.address: s for s in self.todo}
        edition, issue_id = self.edition.name, self.issue.issue_id
        limit = BATCH_PER_CONNECTION * self.delivery.smtp.connections
        while batch := self.state.claims.claim(
            edition,
            issue_id,
            self.claimer.holder,
            self.claimer.lock_key,
            self.claimer.clock(),
            timeout=self.claimer.timeout,
            limit=limit,
        ):
            statuses = self.state.ledger.statuses(edition, issue_id, batch)
            interrupted = [a for a in batch if statuses.get(a) == "sending" and a not in self._marked]
            self._report_interrupted(interrupted)
            for address in batch:
                subscriber = mine.get(address)
                if (
                    subscriber is None
                    or statuses.get(address) in SETTLED
                    or not self._may_send(address, interrupted)
                ):
                    # Settled already (by another sender), recorded just now (``skip``), or not on
                    # this sender's list (unsubscribed since another sender started): no message.
                    self.state.claims.drop(edition, issue_id, address)
                    continue
                yield subscriber
        self._drained = True

    def _may_send(self, address: str, interrupted: list[str]) -> bool:
        return self._resend or address not in interrupted

    @property
    def _resend(self) -> bool:
        return self.delivery.unknown_outcome == "resend"

    def _claim(self, address: str) -> bool:
        verdict = self.state.claims.mark(
            self.edition.name,
            self.issue.issue_id,
            address,
            self.claimer.holder,
            self.claimer.clock(),
            own_mark=address in self._marked,
            resend_unknown=self._resend,
            skipped=SKIPPED_UNKNOWN,
        )
        if verdict in {"marked", "resent"}:
            if verdict == "resent" and address not in self.interrupted:
                # Left by a sender that died after this one claimed the batch (else said above).
                self.interrupted.append(address)
                log.warning(
                    "%s: of unknown fate (another send died while sending it): sent again with the same "
                    "Message-ID, so the subscriber may see a copy twice",
                    address,
                )
            self._marked.add(address)
            return True
        self._declined[address] = verdict
        return False

    def _record(self, outcome: Outcome) -> None:
        verdict = self._declined.pop(outcome.address, None)
        if outcome.status == "pending" and verdict in {"done", "skipped"}:
            # Another sender settled it between this one's claim and its mark; or it was left of
            # unknown fate and recorded so (``skip``): nothing is pending.
            self.reported.add(outcome.address)
            if verdict == "skipped":
                self.interrupted.append(outcome.address)
                self._settled_here.add(outcome.address)
            return
        if verdict == "lost":
            self._lost.add(outcome.address)
        super()._record(outcome)

    def _forget(self, address: str) -> None:
        # A message tried and not delivered: its mark and its row go, and the next send mails it.
        # One never tried (the deliverer stopped first) keeps its row, given back at the end; one
        # whose row another sender took over is that sender's.
        if self._closing or address in self._lost:
            return
        if address in self._marked:
            self.state.claims.settle(self.edition.name, self.issue.issue_id, address, "pending", "")
        else:
            self.state.claims.drop(self.edition.name, self.issue.issue_id, address)

    def _write(self, outcome: Outcome) -> None:
        self._settled_here.add(outcome.address)
        self.state.claims.settle(
            self.edition.name, self.issue.issue_id, outcome.address, outcome.status, outcome.detail
        )

    def _left_over(self) -> list[str]:
        self._closing = True
        self._ledger_at_end = self.state.ledger.deliveries(self.edition.name, self.issue.issue_id)
        if self._finished:
            return []
        # The deliverer stopped early: the subscribers no sender has settled are pending.
        return [
            s.address
            for s in self.todo
            if s.address not in self.reported and self._ledger_at_end.get(s.address) not in SETTLED
        ]

    def _by_others(self) -> int:
        return sum(
            1
            for s in self.todo
            if s.address not in self._settled_here and self._ledger_at_end.get(s.address) in SETTLED
        )
