"""One send of one issue: issue folder -> subscribers - suppressed - ledger -> one message each.

The steps, each a function below:

1. take the edition's send lease (lease.py), so no other send reads the ledger meanwhile;
2. read the subscribers file, the suppression list and the ledger; the subscribers to mail are
   the active ones without an outcome. A ``sending`` mark left by a send that died while mailing
   is a message of unknown fate: reported, then sent again (``delivery.unknown_outcome: resend``,
   at least once, under the same Message-ID so mail clients fold the copies) or marked
   ``unknown`` and left (``skip``, at most once);
3. make the messages from the bodies the build rendered (message.py), one per subscriber, as the
   deliverer asks for them;
4. the deliverer sends; before each message's data goes out its ``sending`` mark is committed
   (only while the lease is this sender's), and each outcome is committed as soon as it is known.

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

    One send of an edition at a time (lease.py): while another is in progress this one stops
    with a DeliveryError before it reads the ledger. A dry run writes the messages to
    ``issue_dir/outbox/``, takes no lease and records nothing. ``deliverer`` replaces the
    configured backend; ``on_outcome`` hears of each message once its outcome is recorded and
    ``on_wait`` of each wait before a retry; ``progress`` hears both as events, for a person
    waiting (digest/progress.py).
    """
    from digest.deliver.lease import send_lease

    delivery = edition.delivery
    if delivery is None:
        raise UsageError(f"{config.path}: edition {edition.name} has no delivery settings")
    held: AbstractContextManager[Lease | None] = (
        nullcontext()
        if dry_run
        else send_lease(state, edition.name, timedelta(seconds=delivery.lease_timeout))
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
        backend = deliverer or get_deliverer("files" if dry_run else "smtp", delivery, issue_dir)

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
        self.interrupted = tuple(s.address for s in self.active if ledger.get(s.address) == "sending")
        self._report_interrupted()
        resend = delivery.unknown_outcome == "resend"
        self.todo = [
            s for s in self.active if s.address not in ledger or (resend and ledger[s.address] == "sending")
        ]
        self.sent = 0
        self.failed: list[Outcome] = []
        self.pending: list[Outcome] = []
        self.unknown: list[Outcome] = []
        self.reported: set[str] = set()
        #: Addresses whose ``sending`` mark this send wrote.
        self._marked: set[str] = set()

    def _report_interrupted(self) -> None:
        if not self.interrupted:
            return
        first = ", ".join(self.interrupted[:5]) + (", ..." if len(self.interrupted) > 5 else "")
        what = f"edition {self.edition.name} issue {self.issue.issue_id}: " + counted(
            len(self.interrupted), "message"
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
            for address in self.interrupted:
                self._write(Outcome(address, "unknown", SKIPPED_UNKNOWN))

    def deliver(self, backend: Deliverer, now: datetime, on_wait: WaitCallback | None) -> SendReport:
        backend.deliver(self._messages(self._maker(now)), self._record, on_wait)
        if self.lease is not None and not self.lease.held:
            log.error("edition %s: this send's lease was taken over by another send", self.edition.name)
            for subscriber in self.todo:
                if subscriber.address not in self.reported:
                    self.pending.append(Outcome(subscriber.address, "pending", LEASE_LOST))
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
            interrupted=self.interrupted,
            unknown_outcome=self.delivery.unknown_outcome,
            unknown=tuple(self.unknown),
        )

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
        for subscriber in self.todo:
            # A send whose lease was taken over hands nothing more out: the send that took it
            # over read the ledger afresh and mails the rest.
            if self.lease is not None and not self.lease.held:
                return
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
            if outcome.address in self._marked:
                # Certainly not delivered: the next send sends it as if it had never been tried.
                self.state.ledger.forget_sending(self.edition.name, self.issue.issue_id, outcome.address)
        else:
            if not self.dry_run:
                self._write(outcome)
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

    def _write(self, outcome: Outcome) -> None:
        self.state.ledger.record_delivery(
            self.edition.name, self.issue.issue_id, outcome.address, outcome.status, outcome.detail
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
