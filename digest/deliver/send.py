"""One send of one issue: issue folder -> subscribers - suppressed - ledger -> one message each.

The steps, each a function below:

1. take the edition's send lease (lease.py), so no other send reads the ledger meanwhile; or, on
   PostgreSQL, join the senders sharing the issue, claiming subscribers in batches (shared.py);
2. read the subscribers file, the suppression list and the ledger; the subscribers to mail are
   the active ones without an outcome. A ``sending`` mark left by a send that died while mailing
   is a message of unknown fate: reported, then sent again (``delivery.unknown_outcome: resend``,
   at least once, under the same Message-ID so mail clients fold the copies) or marked
   ``unknown`` and left (``skip``, at most once);
3. make the messages from the bodies the build rendered (message.py), one per subscriber, as the
   deliverer asks for them;
4. the deliverer sends; before each message's data goes out its ``sending`` mark is committed
   (only while the lease is this sender's), and each outcome is committed as soon as it is known.
   A permanent refusal (a 5xx) also counts as a hard bounce of the address, in the figures
   ``digest bounces`` keeps, so that an address refused ``hard_limit`` times is suppressed.

So, per (issue, subscriber): a message the ledger records as ``sent`` went out and the server
took it; one with no row (or a ``sending`` row with ``resend``) is sent by the next run; one the
server may have taken without this process learning it is never resent without being reported.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

from digest.config import Config, DeliveryConfig, EditionConfig, resolve_path
from digest.deliver import LEASE_LOST, Deliverer, Outcome, Outgoing, WaitCallback, get_deliverer
from digest.errors import OutputError, UsageError
from digest.progress import Progress, ProgressEvent, ignore
from digest.state import State
from digest.text import counted

if TYPE_CHECKING:
    from digest.deliver.lease import Lease
    from digest.deliver.message import MessageMaker
    from digest.subscribers import Subscriber
    from digest.types import Issue

log = logging.getLogger("digest")

#: The ledger's detail of a message skipped because a crash hid its fate.
SKIPPED_UNKNOWN = "an earlier send was interrupted while sending it; not sent again (unknown_outcome: skip)"


@dataclass(frozen=True)
class SendReport:
    """What one ``digest send`` of one issue did."""

    edition: str
    issue_id: str
    #: Where the messages went: "SMTP server HOST:PORT" or "outbox PATH".
    where: str
    dry_run: bool
    sent: int
    #: Refused permanently (5xx), each with the server's reply.
    failed: tuple[Outcome, ...]
    #: Still to deliver after the retries; a later run sends them.
    pending: tuple[Outcome, ...]
    #: Subscribers the ledger already had (sent, refused or of unknown fate) before this run.
    done_before: int
    #: Subscribers skipped because they unsubscribed.
    suppressed: int
    #: Rows of the subscribers file skipped or merged, each "FILE:LINE: reason".
    problems: tuple[str, ...] = ()
    #: Addresses an earlier, interrupted send was mailing when it died: their fate is unknown.
    interrupted: tuple[str, ...] = ()
    #: What this run did with them and with its own messages of unknown fate: "resend" or "skip".
    unknown_outcome: str = "resend"
    #: Messages of this run whose data went out without a reply, not resent (``skip``).
    unknown: tuple[Outcome, ...] = ()
    #: Subscribers this run found to mail that other senders sharing the issue settled (PostgreSQL).
    by_others: int = 0

    def summary(self) -> str:
        verb = "written" if self.dry_run else "sent"
        line = (
            f"{self.edition} {self.issue_id}: {self.sent} {verb}, {len(self.failed)} refused, "
            f"{len(self.pending)} pending, {self.done_before} done before, {self.suppressed} unsubscribed"
        )
        if self.interrupted:
            done = "sent again" if self.unknown_outcome == "resend" else "not sent again"
            line += f", {len(self.interrupted)} of unknown fate after an interrupted send ({done})"
        if self.unknown:
            line += f", {len(self.unknown)} of unknown fate (not sent again)"
        if self.by_others:
            line += f", {self.by_others} by other senders of the issue"
        return line

    def pending_error(self) -> str | None:
        """The one-line reason to exit 1, or None when nothing is pending."""
        if not self.pending:
            return None
        return (
            f"{self.where}: {counted(len(self.pending), 'message')} of "
            f"{self.edition} {self.issue_id} still pending ({self.pending[0].detail}); "
            "run digest send again to resume"
        )


def send_issue(
    config: Config,
    edition: EditionConfig,
    state: State,
    issue_dir: Path,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    deliverer: Deliverer | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
    on_wait: WaitCallback | None = None,
    progress: Progress = ignore,
) -> SendReport:
    """Send the issue in ``issue_dir`` to every active subscriber the ledger has no outcome for.

    On SQLite, one send of an edition at a time (lease.py): while another is in progress this one
    stops with a DeliveryError before it reads the ledger. On PostgreSQL any number of sends share
    the issue, each claiming the subscribers it mails (shared.py). A dry run writes the messages to
    ``issue_dir/outbox/``, takes no lease and records nothing. ``deliverer`` replaces the
    configured backend; ``on_outcome`` hears of each message once its outcome is recorded and
    ``on_wait`` of each wait before a retry; ``progress`` hears both as events, for a person
    waiting (digest/progress.py).
    """
    from digest.deliver.lease import send_lease
    from digest.deliver.shared import SharedSend, sharing

    delivery = edition.delivery
    if delivery is None:
        raise UsageError(f"{config.path}: edition {edition.name} has no delivery settings")
    timeout = timedelta(seconds=delivery.lease_timeout)
    if not dry_run and state.shares_sends:
        with sharing(state, timeout) as claimer:
            shared = SharedSend(
                config, edition, delivery, state, issue_dir, claimer, on_outcome=on_outcome, progress=progress
            )
            return _run(shared, edition, delivery, issue_dir, deliverer, now, on_wait, progress)
    held: AbstractContextManager[Lease | None] = (
        nullcontext() if dry_run else send_lease(state, edition.name, timeout)
    )
    with held as lease:
        run = _Send(
            config,
            edition,
            delivery,
            state,
            issue_dir,
            lease,
            dry_run=dry_run,
            on_outcome=on_outcome,
            progress=progress,
        )
        return _run(run, edition, delivery, issue_dir, deliverer, now, on_wait, progress)


def _run(
    run: _Send,
    edition: EditionConfig,
    delivery: DeliveryConfig,
    issue_dir: Path,
    deliverer: Deliverer | None,
    now: datetime | None,
    on_wait: WaitCallback | None,
    progress: Progress,
) -> SendReport:
    """The deliverer (the configured one unless given) sending what ``run`` hands it."""
    backend = deliverer or get_deliverer("files" if run.dry_run else "smtp", delivery, issue_dir)

    def waiting(address: str, why: str, seconds: float) -> None:
        progress(ProgressEvent("retry-wait", edition.name, seconds=seconds, detail=f"{address}: {why}"))
        if on_wait is not None:
            on_wait(address, why, seconds)

    progress(ProgressEvent("sending", edition.name, 0, len(run.todo)))
    return run.deliver(backend, now or datetime.now(UTC), waiting)


class _Send:
    """One send's reading of the ledger, and its writing as outcomes arrive."""

    def __init__(
        self,
        config: Config,
        edition: EditionConfig,
        delivery: DeliveryConfig,
        state: State,
        issue_dir: Path,
        lease: Lease | None,
        *,
        dry_run: bool,
        on_outcome: Callable[[Outcome], None] | None,
        progress: Progress,
    ) -> None:
        from digest import issuejson
        from digest import subscribers as subscriber_file

        self.config, self.edition, self.delivery = config, edition, delivery
        self.state, self.issue_dir, self.lease = state, issue_dir, lease
        self.dry_run = dry_run
        self._on_outcome = on_outcome
        self._progress = progress
        self.issue = issuejson.load(issue_dir / "issue.json")
        self.roster = subscriber_file.read_subscribers(resolve_path(config, delivery.subscribers))
        for line in subscriber_file.summarised(self.roster.problems):
            log.warning("%s", line)
        ledger = state.ledger.deliveries(edition.name, self.issue.issue_id)
        suppressed = state.ledger.suppressed(edition.name)
        self.active = [s for s in self.roster.subscribers if s.address not in suppressed]
        #: Addresses an earlier send was mailing when it died (a ``sending`` mark it left).
        self.interrupted: list[str] = []
        self.sent = 0
        self.failed: list[Outcome] = []
        self.pending: list[Outcome] = []
        self.unknown: list[Outcome] = []
        self.reported: set[str] = set()
        #: Addresses whose ``sending`` mark this send wrote.
        self._marked: set[str] = set()
        self.todo = self._plan(ledger)

    def _plan(self, ledger: dict[str, str]) -> list[Subscriber]:
        """The subscribers to mail: the active ones without an outcome (see the module docstring)."""
        interrupted = [s.address for s in self.active if ledger.get(s.address) == "sending"]
        self._report_interrupted(interrupted)
        resend = self.delivery.unknown_outcome == "resend"
        return [
            s for s in self.active if s.address not in ledger or (resend and ledger[s.address] == "sending")
        ]

    def _report_interrupted(self, interrupted: list[str]) -> None:
        """Say which messages an earlier send left of unknown fate; with ``skip``, record them so."""
        if not interrupted:
            return
        self.interrupted.extend(interrupted)
        first = ", ".join(interrupted[:5]) + (", ..." if len(interrupted) > 5 else "")
        what = f"edition {self.edition.name} issue {self.issue.issue_id}: " + counted(
            len(interrupted), "message"
        )
        if self.delivery.unknown_outcome == "resend":
            log.warning(
                "%s of unknown fate (an earlier send died while sending them): sent again with the same "
                "Message-ID, so a subscriber may see a copy twice: %s",
                what,
                first,
            )
            return
        log.warning(
            "%s of unknown fate (an earlier send died while sending them): not sent again: %s", what, first
        )
        if not self.dry_run:
            for address in interrupted:
                self._write(Outcome(address, "unknown", SKIPPED_UNKNOWN))

    def deliver(self, backend: Deliverer, now: datetime, on_wait: WaitCallback | None) -> SendReport:
        self._deliver_all(backend, self._maker(now), on_wait)
        # A deliverer that stopped early (the server down, the lease lost) took no more messages:
        # the subscribers it never took are pending too, for the same reason.
        if self.lease is not None and not self.lease.held:
            log.error("edition %s: this send's lease was taken over by another send", self.edition.name)
            reason = LEASE_LOST
        else:
            reason = self.pending[0].detail if self.pending else "not tried: the send stopped"
        for address in self._left_over():
            self._record(Outcome(address, "pending", reason))
        return SendReport(
            edition=self.edition.name,
            issue_id=self.issue.issue_id,
            where=backend.name,
            dry_run=self.dry_run,
            sent=self.sent,
            failed=tuple(self.failed),
            pending=tuple(self.pending),
            done_before=len(self.active) - len(self.todo),
            suppressed=len(self.roster.subscribers) - len(self.active),
            problems=tuple(str(problem) for problem in self.roster.problems),
            interrupted=tuple(self.interrupted),
            unknown_outcome=self.delivery.unknown_outcome,
            unknown=tuple(self.unknown),
            by_others=self._by_others(),
        )

    def _deliver_all(self, backend: Deliverer, maker: MessageMaker, on_wait: WaitCallback | None) -> None:
        backend.deliver(self._messages(maker), self._record, on_wait)

    def _left_over(self) -> list[str]:
        """The subscribers to mail that the deliverer never took (it stopped early); none in a dry
        run, whose outbox may keep a sample."""
        if self.dry_run:
            return []
        return [s.address for s in self.todo if s.address not in self.reported]

    def _by_others(self) -> int:
        return 0

    def _wants_pdf(self, subscriber: Subscriber) -> bool:
        return self.delivery.attach_pdf if subscriber.pdf is None else subscriber.pdf

    def _maker(self, now: datetime) -> MessageMaker:
        return message_maker(
            self.config,
            self.edition,
            self.issue,
            self.issue_dir,
            now,
            pdf=any(map(self._wants_pdf, self.todo)),
        )

    def _messages(self, maker: MessageMaker) -> Iterator[Outgoing]:
        from digest import unsubscribe
        from digest.deliver import returnpath
        from digest.deliver.message import Personal

        secret = unsubscribe.edition_secret(self.delivery.unsubscribe, self.state)
        signer = unsubscribe.TokenSigner(secret)
        return_path = returnpath.envelope_sender(self.delivery.bounces.return_path, self.edition.name, secret)
        mailto = self.delivery.unsubscribe.mailto
        for subscriber in self._subscribers():
            token = signer.token(self.edition.name, subscriber.address)
            personal = Personal(
                address=subscriber.address,
                name=subscriber.name,
                unsubscribe_url=unsubscribe.link(self.edition.base_url, token),
                unsubscribe_mailto=unsubscribe.mailto(mailto, token) if mailto else "",
                attach_pdf=self._wants_pdf(subscriber),
            )
            yield Outgoing(
                subscriber.address,
                functools.partial(maker.make, personal),
                functools.partial(self._claim, subscriber.address),
                envelope_from=return_path(subscriber.address),
            )

    def _subscribers(self) -> Iterator[Subscriber]:
        for subscriber in self.todo:
            # A send whose lease was taken over hands nothing more out: the send that took it
            # over read the ledger afresh and mails the rest.
            if self.lease is not None and not self.lease.held:
                return
            yield subscriber

    def _claim(self, address: str) -> bool:
        """The ``sending`` mark, committed before the message's data goes out."""
        if self.lease is None:
            return True
        if not self.lease.mark_sending(self.issue.issue_id, address):
            return False
        self._marked.add(address)
        return True

    def _record(self, outcome: Outcome) -> None:
        self.reported.add(outcome.address)
        if outcome.status == "pending":
            self.pending.append(outcome)
            self._forget(outcome.address)
        else:
            if not self.dry_run:
                self._write(outcome)
                if outcome.status == "failed":
                    self._count_refusal(outcome)
            if outcome.status == "sent":
                self.sent += 1
            elif outcome.status == "unknown":
                self.unknown.append(outcome)
                log.warning("%s: fate unknown, not sent again: %s", outcome.address, outcome.detail)
            else:
                self.failed.append(outcome)
                log.warning("%s: refused permanently: %s", outcome.address, outcome.detail)
        detail = f"{outcome.address} {outcome.status}"
        self._progress(
            ProgressEvent("delivered", self.edition.name, len(self.reported), len(self.todo), detail=detail)
        )
        if self._on_outcome is not None:
            self._on_outcome(outcome)

    def _forget(self, address: str) -> None:
        if address in self._marked:
            # Certainly not delivered: the next send sends it as if it had never been tried.
            self.state.ledger.forget_sending(self.edition.name, self.issue.issue_id, address)

    def _write(self, outcome: Outcome) -> None:
        self.state.ledger.record_delivery(
            self.edition.name, self.issue.issue_id, outcome.address, outcome.status, outcome.detail
        )

    def _count_refusal(self, outcome: Outcome) -> None:
        """A permanent refusal at SMTP time is a hard bounce, as a bounce report read later would be."""
        from digest.deliver.bounces import count_refusal

        if count_refusal(self.state, self.delivery.bounces, self.edition.name, self.issue.issue_id, outcome):
            log.warning(
                "%s: suppressed from edition %s after %s",
                outcome.address,
                self.edition.name,
                counted(self.delivery.bounces.hard_limit, "hard bounce"),
            )


def message_maker(
    config: Config, edition: EditionConfig, issue: Issue, issue_dir: Path, now: datetime, *, pdf: bool
) -> MessageMaker:
    """The issue's message maker, from the bodies its build rendered (rendered now for an older folder)."""
    from digest import unsubscribe
    from digest.deliver.message import MessageMaker, load_dkim

    assert edition.delivery is not None
    delivery = edition.delivery
    endpoint = unsubscribe.endpoint_url(edition.base_url)
    text, html = issue_bodies(config, edition, issue, issue_dir, endpoint)
    domain = parseaddr(delivery.from_)[1].rpartition("@")[2] or "localhost"
    return MessageMaker(
        subject=issue.mail_subject,
        sender=delivery.from_,
        reply_to=delivery.reply_to,
        list_id=f"{edition.title} <{edition.name}.{domain}>",
        text=text,
        html=html,
        endpoint=endpoint,
        date=now,
        id_prefix=f"{edition.name}.{issue.issue_id}",
        pdf=read_issue_file(issue_dir / "briefing.pdf") if pdf else None,
        pdf_name=f"{edition.name}-{issue.issue_id}.pdf",
        dkim_signer=load_dkim(delivery.dkim, config.folder) if delivery.dkim else None,
    )


def issue_bodies(
    config: Config, edition: EditionConfig, issue: Issue, issue_dir: Path, endpoint: str
) -> tuple[str, str]:
    """(text, HTML) of the message: the folder's issue.txt and email.html as the build rendered them.

    A folder built before its edition had delivery (or by an older Digest) has bodies without the
    unsubscribe endpoint; those are rendered once here instead, with it.
    """
    text = read_issue_file(issue_dir / "issue.txt").decode("utf-8")
    html = read_issue_file(issue_dir / "email.html").decode("utf-8")
    if endpoint in text and endpoint in html:
        return text, html
    from digest import assemble
    from digest.render import environment, render_email_html, render_text

    env = environment(resolve_path(config, edition.theme) if edition.theme else None)
    links = assemble.links_for(edition.base_url, issue.issue_id, unsubscribe=endpoint)
    return render_text(issue, links, env), render_email_html(issue, links, env, edition.base_url)


def read_issue_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise OutputError(f"{path}: cannot read ({err.strerror or err})") from err
