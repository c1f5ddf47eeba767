"""SMTP delivery with smtplib: persistent connections, retries, parallelism, a rate limit.

The method, per connection (``smtp.connections`` of them, each in a thread of
its own, all taking the next message from one shared stream):

- the connection is opened on first need (``ssl``: TLS from the start;
  ``starttls``: upgraded after EHLO; ``none``: plain), logged in when
  ``username_env``/``password_env`` name variables, and kept open across
  messages;
- each message is one MAIL/RCPT/DATA transaction for its one recipient. A 250
  makes it ``sent``; a 5xx to the recipient or its data makes it ``failed``
  (permanent, not retried);
- a transient fault is retried after a backoff that doubles from
  ``RetryPolicy.first_delay`` up to ``max_delay``, at most ``attempts`` tries
  per message. Faults of the connection (refused, dropped, a timeout, 421, a
  4xx to MAIL FROM) also drop the connection, and the next try opens a new
  one, after the backoff. A 4xx to one recipient (greylisting) leaves the
  connection as it is and puts that message at the back of the queue, due
  again after the backoff: the others are sent meanwhile;
- the transaction is smtplib's ``sendmail`` in steps: after RCPT is accepted
  the message's ``claim`` writes its ``sending`` mark, then DATA. A connection
  lost after the data went out leaves the message's fate unknown (the server
  may have it): it is tried again like any connection fault, or, with
  ``resend_unknown`` off (``delivery.unknown_outcome: skip``), reported
  ``unknown`` and never tried again;
- a message whose tries run out is ``pending``. When its last fault was the
  connection's, the server is taken to be down: every worker stops, the
  messages put back for a later try are ``pending`` too, and no more are taken
  from the stream (the caller reports those it handed out and were never
  taken), so the run ends quickly with one line naming the server. Refusals
  no retry can cure (login refused, a 5xx to MAIL FROM or to the greeting, no
  STARTTLS offered) stop the run at once;
- ``smtp.rate`` spaces all workers' transactions at least ``1/rate`` seconds
  apart (one shared schedule, so the limit holds across connections).
"""

from __future__ import annotations

import heapq
import os
import re
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from typing import Literal

from digest.config import SmtpConfig
from digest.deliver import LEASE_LOST, Outcome, OutcomeCallback, Outgoing, WaitCallback
from digest.errors import DeliveryError


@dataclass(frozen=True)
class RetryPolicy:
    #: Tries per message, the first included.
    attempts: int = 5
    #: The wait before the second try; doubled for each further one, up to ``max_delay``.
    first_delay: timedelta = timedelta(seconds=2)
    max_delay: timedelta = timedelta(seconds=60)
    #: How long a connection may wait for the server at any step.
    timeout: timedelta = timedelta(seconds=30)

    def delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` failed tries."""
        doubled: timedelta = self.first_delay * 2 ** (failures - 1)
        return min(self.max_delay, doubled).total_seconds()


#: What ``digest send`` uses; tests pass a policy of tiny delays instead.
DEFAULT_RETRY = RetryPolicy()

#: How a try went wrong: this recipient only, the connection, or beyond retrying.
FaultKind = Literal["recipient", "connection", "fatal"]


@dataclass(frozen=True)
class _Fault:
    kind: FaultKind
    reason: str


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return " ".join(f"{code} {text}".split())


def classify(err: Exception) -> _Fault | Outcome | None:
    """What a failed try means.

    Returns a ``failed`` Outcome (address left blank) for a permanent refusal of the recipient or its
    data (5xx); a _Fault for anything to retry or to stop on; None for an error SMTP does not explain
    (a bug), which the caller re-raises.
    """
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        code, message = next(iter(err.recipients.values()), (0, b"refused"))
        if 500 <= code < 600:
            return Outcome("", "failed", _reply(code, message))
        return _Fault("connection" if code == 421 else "recipient", _reply(code, message))
    if isinstance(err, smtplib.SMTPDataError):
        if 500 <= err.smtp_code < 600:
            return Outcome("", "failed", _reply(err.smtp_code, err.smtp_error))
        kind: FaultKind = "connection" if err.smtp_code == 421 else "recipient"
        return _Fault(kind, _reply(err.smtp_code, err.smtp_error))
    if isinstance(err, smtplib.SMTPAuthenticationError):
        return _Fault("fatal", f"login refused: {_reply(err.smtp_code, err.smtp_error)}")
    if isinstance(err, smtplib.SMTPNotSupportedError):
        return _Fault("fatal", f"{err} (check smtp.security)")
    if isinstance(err, smtplib.SMTPResponseException):
        # The greeting, EHLO, STARTTLS or MAIL FROM: a fault of the whole conversation, not of one recipient.
        kind = "connection" if 400 <= err.smtp_code < 500 else "fatal"
        return _Fault(kind, _reply(err.smtp_code, err.smtp_error))
    if isinstance(err, smtplib.SMTPServerDisconnected):
        return _Fault("connection", f"connection dropped ({err or 'no reason given'})")
    if isinstance(err, ssl.SSLError):
        return _Fault("fatal", f"TLS failed: {err.reason or err}")
    if isinstance(err, TimeoutError | socket.timeout):
        return _Fault("connection", "timed out")
    if isinstance(err, OSError):
        return _Fault("connection", err.strerror or str(err) or type(err).__name__)
    return None


class RateLimiter:
    """Spaces events at least ``1/rate`` seconds apart across threads."""

    def __init__(self, rate: float | None) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self, stop: threading.Event) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            stop.wait(slot - now)


class _Connection:
    """One SMTP connection, opened on first use and again after a fault."""

    def __init__(self, deliverer: SmtpDeliverer) -> None:
        self._deliverer = deliverer
        self._smtp: smtplib.SMTP | None = None

    def get(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self._deliverer.connect()
        return self._smtp

    def discard(self) -> None:
        """Forget a connection in an unknown state, without a polite QUIT."""
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


@dataclass
class _Queued:
    """A message taken from the stream: made once, then tried until it has an outcome."""

    item: Outgoing
    message: bytes | None = None
    #: Tries that failed so far, and why the last one did.
    failures: int = 0
    reason: str = ""


class _Stream:
    """The shared stream of messages: each taken by one worker, in order; the deferred come last.

    A message a recipient's server answered with a 4xx (greylisting, a full mailbox) goes to the
    back, due again after the retry delay, so the subscribers after it do not wait for it.
    """

    def __init__(self, messages: Iterable[Outgoing]) -> None:
        self._messages: Iterator[Outgoing] = iter(messages)
        self._deferred: list[tuple[float, int, _Queued]] = []
        self._lock = threading.Lock()

    def take(self, stop: threading.Event) -> _Queued | None:
        """The next new message, else the deferred one due first (after waiting until it is due)."""
        with self._lock:
            item = next(self._messages, None)
            if item is not None:
                return _Queued(item)
            if not self._deferred:
                return None
            due, _, queued = heapq.heappop(self._deferred)
        stop.wait(max(0.0, due - time.monotonic()))
        return queued

    def defer(self, queued: _Queued, delay: float) -> None:
        with self._lock:
            heapq.heappush(self._deferred, (time.monotonic() + delay, id(queued), queued))

    def rest(self) -> Iterator[_Queued]:
        """What workers took and put back: the deferred. The messages never taken stay in the
        stream: making them only to report them would make (or claim) every one of them."""
        with self._lock:
            while self._deferred:
                yield heapq.heappop(self._deferred)[2]


class SmtpDeliverer:
    """Delivers over SMTP to the server of ``settings``."""

    def __init__(
        self,
        settings: SmtpConfig,
        *,
        envelope_from: str,
        retry: RetryPolicy | None = None,
        tls_context: ssl.SSLContext | None = None,
        resend_unknown: bool = True,
    ) -> None:
        self.settings = settings
        #: Whether a message whose data went out without a reply is tried again (at least once)
        #: or reported ``unknown`` (at most once).
        self.resend_unknown = resend_unknown
        self.name = f"SMTP server {settings.host}:{settings.port}"
        self.envelope_from = parseaddr(envelope_from)[1] or envelope_from
        self.retry = retry or DEFAULT_RETRY
        self._tls_context = tls_context
        self._credentials: tuple[str, str] | None = None
        self._local_hostname = socket.gethostname() or "localhost"

    # --- connecting ---

    def connect(self) -> smtplib.SMTP:
        """A new connection, greeted, secured and logged in as the settings say."""
        settings, timeout = self.settings, self.retry.timeout.total_seconds()
        context = self._tls_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(
                settings.host, settings.port, self._local_hostname, timeout=timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, self._local_hostname, timeout=timeout)
        try:
            smtp.ehlo()
            if settings.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if self._credentials is not None:
                smtp.login(*self._credentials)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _read_credentials(self) -> tuple[str, str] | None:
        names = (self.settings.username_env, self.settings.password_env)
        if not any(names):
            return None
        values = []
        for name in names:
            if not name:
                raise DeliveryError("smtp: username_env and password_env go together; set both")
            value = os.environ.get(name)
            if value is None:
                raise DeliveryError(f"{self.name}: environment variable {name} is not set (smtp login)")
            values.append(value)
        return values[0], values[1]

    # --- delivering ---

    def deliver(
        self, messages: Iterable[Outgoing], on_outcome: OutcomeCallback, on_wait: WaitCallback | None = None
    ) -> None:
        self._credentials = self._read_credentials()
        stream = _Stream(messages)
        limiter = RateLimiter(self.settings.rate)
        stop = threading.Event()
        report_lock = threading.Lock()
        stopped_because: list[str] = []
        crashes: list[BaseException] = []

        def report(outcome: Outcome) -> None:
            with report_lock:
                on_outcome(outcome)

        def waiting(address: str, reason: str, seconds: float) -> None:
            if on_wait is not None:
                with report_lock:
                    on_wait(address, reason, seconds)

        def work() -> None:
            connection = _Connection(self)
            try:
                while not stop.is_set() and (queued := stream.take(stop)) is not None:
                    if stop.is_set():
                        stream.defer(queued, 0)  # reported pending with the rest below
                        break
                    outcome, server_down = self._send(connection, queued, limiter, stop, waiting)
                    if outcome is None:
                        # A 4xx for this recipient: to the back of the queue, the others go first.
                        delay = self.retry.delay(queued.failures)
                        waiting(queued.item.address, queued.reason, delay)
                        stream.defer(queued, delay)
                        continue
                    report(outcome)
                    if server_down:
                        stopped_because.append(outcome.detail)
                        stop.set()
            except BaseException as err:  # re-raised in the calling thread below
                crashes.append(err)
                stop.set()
            finally:
                connection.close()

        workers = [threading.Thread(target=work, daemon=True) for _ in range(self.settings.connections)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        if crashes:
            raise crashes[0]
        reason = stopped_because[0] if stopped_because else "stopped"
        # What a worker took and put back is pending too: the next run sends it.
        for queued in stream.rest():
            report(Outcome(queued.item.address, "pending", queued.reason or reason))

    def _send(
        self,
        connection: _Connection,
        queued: _Queued,
        limiter: RateLimiter,
        stop: threading.Event,
        waiting: WaitCallback,
    ) -> tuple[Outcome | None, bool]:
        """One message, retried as the policy allows -> (its outcome, whether the server is down).

        The outcome is None when the recipient's server asked to try later (a 4xx) and tries are
        left: the caller puts the message at the back of the queue.
        """
        item = queued.item
        if queued.message is None:
            queued.message = item.make()
        while True:
            try:
                smtp = connection.get()
                limiter.wait(stop)
                outcome = self._transaction(smtp, item, queued.message)
                if outcome is not None:
                    return outcome, outcome.status == "pending"
                return Outcome(item.address, "sent", "250 accepted"), False
            except _Unanswered as err:
                connection.discard()
                if not self.resend_unknown:
                    return Outcome(item.address, "unknown", f"{err.reason}; sent at most once"), False
                verdict: _Fault | Outcome = _Fault("connection", err.reason)
            except Exception as err:
                classified = classify(err)
                if classified is None:
                    raise
                verdict = classified
            if isinstance(verdict, Outcome):
                return Outcome(item.address, verdict.status, verdict.detail), False
            if verdict.kind != "recipient":
                connection.discard()
            queued.failures += 1
            queued.reason = verdict.reason
            if verdict.kind == "fatal" or queued.failures >= self.retry.attempts or stop.is_set():
                tries = f" after {queued.failures} tries" if queued.failures > 1 else ""
                outcome = Outcome(item.address, "pending", f"{verdict.reason}{tries}")
                return outcome, verdict.kind != "recipient"
            if verdict.kind == "recipient":
                return None, False
            delay = self.retry.delay(queued.failures)
            waiting(item.address, verdict.reason, delay)
            stop.wait(delay)

    def _transaction(self, smtp: smtplib.SMTP, item: Outgoing, message: bytes) -> Outcome | None:
        """MAIL, RCPT, then DATA after the message's claim: None when the server took it.

        smtplib's ``sendmail`` in steps, so that the ``sending`` mark goes into the ledger after
        the server accepted the recipient and before the data goes out, and so that a connection
        lost after the data went out (the server may have the message) is told apart: _Unanswered.
        """
        smtp.ehlo_or_helo_if_needed()
        sender = item.envelope_from or self.envelope_from
        code, reply = smtp.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        code, reply = smtp.rcpt(item.address)
        if code not in (250, 251):
            smtp.rset()
            raise smtplib.SMTPRecipientsRefused({item.address: (code, reply)})
        if not item.claim():
            smtp.rset()
            return Outcome(item.address, "pending", LEASE_LOST)
        code, reply = smtp.docmd("DATA")
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        try:
            smtp.send(_dot_stuffed(message))
            code, reply = smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as err:
            raise _Unanswered(
                f"connection lost after the message went out ({err or type(err).__name__})"
            ) from err
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        return None


class _Unanswered(Exception):
    """The message's data went out and no reply came: the server may or may not have it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _dot_stuffed(message: bytes) -> bytes:
    """DATA's form of a message (RFC 5321 4.5.2): a leading dot doubled, CRLF "." CRLF at the end."""
    stuffed = re.sub(rb"(?m)^\.", b"..", message)
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"
