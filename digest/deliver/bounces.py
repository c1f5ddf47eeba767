"""``digest bounces``: bounce and complaint reports -> subscribers -> counts and suppressions.

The method, for each message of the mailbox (mailboxes.py), in order:

1. read it as a report (reports.py). A message that is no report (an
   out-of-office reply) or a malformed one is named and skipped;
2. find whom it is about, most certain first:
   a. a per-subscriber return path (returnpath.py) among the addresses the
      report was sent back to: the edition and subscriber whose token it
      carries;
   b. the enclosed original's Message-ID, which ``digest send`` derives
      from the edition, the issue and the address (deliver/message.py): the
      subscriber of that edition whose derived id it is;
   c. else the addresses the report names, in every edition they are a
      subscriber of.
   With a) or b) the report's gravest event (a complaint, then a hard
   bounce, then a soft one) is the subscriber's, whatever address the
   report quotes (a forwarding address, a redacted one);
3. record the report and its events (200 reports to a transaction); a
   report already recorded (its Message-ID, else a hash of its bytes)
   counts nothing again;
4. suppress: a complaint at once; hard bounces once an address has
   ``hard_limit`` of them in the edition; soft bounces once it has
   ``soft_limit`` (when set; otherwise they are only counted).

Subscribers are those of each edition's subscribers file now; every edition
with delivery settings is considered, whichever mailbox the report came from.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from digest.config import BouncesConfig, Config, EditionConfig, resolve_path
from digest.deliver import Outcome
from digest.deliver.mailboxes import Mail, is_imap
from digest.deliver.message import message_id_hash
from digest.deliver.reports import Event, Report, ReportError, read_report
from digest.deliver.returnpath import ReturnPathTokens, token_pattern
from digest.state import State
from digest.state.bounces import BOUNCED, COMPLAINED, BounceEvent, ReportRecord

log = logging.getLogger("digest")

#: Graver first: which event of a report stands for it when it is tied to one subscriber.
GRAVITY = {"complaint": 0, "hard": 1, "soft": 2}
#: Reports recorded per transaction: a commit each would make a large mailbox wait on the disk.
REPORTS_PER_COMMIT = 200
#: A Message-ID ``digest send`` made: 32 hex digits of hash, then ``edition.issue``.
SENT_MESSAGE_ID = re.compile(r"^<?([0-9a-f]{32})\.([^@>]+)@[^>]*>?$")
#: The RFC 3463 status in a server's reply ("550 5.1.1 no such user").
SMTP_STATUS = re.compile(r"\b(5\.\d{1,3}\.\d{1,3})\b")


@dataclass
class BounceRun:
    """What one ``digest bounces`` did."""

    messages: int = 0
    #: Reports recorded now.
    reports: int = 0
    #: Reports recorded by an earlier run, counted nothing.
    read_before: int = 0
    #: Reports recorded that named no subscriber.
    unmatched: int = 0
    #: "NAME: reason" of each message skipped: not a report.
    not_reports: list[str] = field(default_factory=list)
    #: "NAME: reason" of each malformed report, skipped.
    malformed: list[str] = field(default_factory=list)
    #: edition -> kind -> events recorded now.
    events: dict[str, Counter[str]] = field(default_factory=dict)
    #: (edition, address, how) suppressed now.
    suppressed: list[tuple[str, str, str]] = field(default_factory=list)


def verdict(settings: BouncesConfig, counts: Mapping[str, int]) -> str | None:
    """How to suppress an address with these counts of events in one edition, or None."""
    if counts.get("complaint", 0):
        return COMPLAINED
    if counts.get("hard", 0) >= settings.hard_limit:
        return BOUNCED
    if settings.soft_limit is not None and counts.get("soft", 0) >= settings.soft_limit:
        return BOUNCED
    return None


class Subscribers:
    """Every delivering edition's subscribers, looked up by return-path token, Message-ID or address."""

    def __init__(self, config: Config, state: State) -> None:
        self._config = config
        self._state = state
        self._editions = {e.name: e for e in config.editions.values() if e.delivery is not None}
        self._rosters: dict[str, frozenset[str]] = {}
        self._tokens: dict[str, dict[str, str]] = {}
        self._message_ids: dict[str, dict[str, str]] = {}

    def roster(self, edition: str) -> frozenset[str]:
        if edition not in self._rosters:
            from digest.subscribers import read_subscribers

            delivery = self._editions[edition].delivery
            assert delivery is not None
            path = resolve_path(self._config, delivery.subscribers)
            self._rosters[edition] = frozenset(s.address for s in read_subscribers(path).subscribers)
        return self._rosters[edition]

    def by_return_path(self, addresses: Iterable[str]) -> tuple[str, str] | None:
        for edition in self._with_return_path():
            template = _settings(edition).return_path
            assert template is not None
            pattern = token_pattern(template)
            for address in addresses:
                match = pattern.fullmatch(address)
                if match and (found := self._token_map(edition).get(match.group(1).lower())):
                    return edition.name, found
        return None

    def by_message_id(self, message_id: str) -> tuple[str, str] | None:
        match = SENT_MESSAGE_ID.match(message_id.strip().lower())
        if match is None:
            return None
        digest, prefix = match.groups()
        for name in self._editions:
            if prefix.startswith(f"{name}."):
                if prefix not in self._message_ids:
                    self._message_ids[prefix] = {message_id_hash(prefix, a): a for a in self.roster(name)}
                if found := self._message_ids[prefix].get(digest):
                    return name, found
        return None

    def by_address(self, address: str) -> list[str]:
        return [name for name in self._editions if address in self.roster(name)]

    def _with_return_path(self) -> list[EditionConfig]:
        return [e for e in self._editions.values() if _settings(e).return_path]

    def _token_map(self, edition: EditionConfig) -> dict[str, str]:
        if edition.name not in self._tokens:
            from digest.unsubscribe import edition_secret

            assert edition.delivery is not None
            tokens = ReturnPathTokens(edition_secret(edition.delivery.unsubscribe, self._state))
            self._tokens[edition.name] = {tokens.token(edition.name, a): a for a in self.roster(edition.name)}
        return self._tokens[edition.name]


def _settings(edition: EditionConfig) -> BouncesConfig:
    assert edition.delivery is not None
    return edition.delivery.bounces


def events_of(report: Report, subscribers: Subscribers) -> list[BounceEvent]:
    """The report's events, each tied to a subscriber of an edition (method step 2)."""
    if not report.events:
        return []
    gravest = min(report.events, key=lambda e: GRAVITY[e.kind])
    sent_to = subscribers.by_return_path(report.return_paths)
    if sent_to is None and report.original_message_id:
        sent_to = subscribers.by_message_id(report.original_message_id)
    if sent_to is not None:
        return [_event(sent_to[0], sent_to[1], gravest)]
    found: dict[tuple[str, str], Event] = {}
    for event in report.events:
        for edition in subscribers.by_address(event.address) if event.address else ():
            earlier = found.get((edition, event.address))
            if earlier is None or GRAVITY[event.kind] < GRAVITY[earlier.kind]:
                found[(edition, event.address)] = event
    return [_event(edition, address, event) for (edition, address), event in found.items()]


def _event(edition: str, address: str, event: Event) -> BounceEvent:
    return BounceEvent(edition, address, event.kind, event.status, event.detail[:1000])


def read_bounces(
    config: Config, state: State, mails: Iterable[Mail], run: BounceRun | None = None
) -> BounceRun:
    """Read each message of ``mails`` (method steps 1-4); ``run`` gathers the figures of several mailboxes."""
    run = run or BounceRun()
    subscribers = Subscribers(config, state)
    waiting: list[tuple[str, Report, ReportRecord]] = []
    for mail in mails:
        run.messages += 1
        if mail.read_before:
            run.read_before += 1
            continue
        try:
            report = read_report(mail.raw)
        except ReportError as err:
            (run.malformed if err.malformed else run.not_reports).append(f"{mail.name}: {err}")
            if err.malformed:
                log.warning("%s: skipped, a malformed report: %s", mail.name, err)
            else:
                log.info("%s: skipped: %s", mail.name, err)
            continue
        events = tuple(events_of(report, subscribers))
        outcome = "matched" if events else "unmatched" if report.events else "no-event"
        waiting.append((mail.name, report, ReportRecord(report.report_id, outcome, events)))
        if len(waiting) == REPORTS_PER_COMMIT:
            _record(config, state, waiting, run)
    _record(config, state, waiting, run)
    return run


def _record(
    config: Config, state: State, waiting: list[tuple[str, Report, ReportRecord]], run: BounceRun
) -> None:
    """Record the reports read so far in one transaction (method steps 3 and 4), and empty ``waiting``."""
    if not waiting:
        return
    results = state.bounces.record_reports(
        [record for _, _, record in waiting],
        lambda edition, counts: verdict(_settings(config.editions[edition]), counts),
    )
    for (name, report, record), suppressed in zip(waiting, results, strict=True):
        if suppressed is None:
            run.read_before += 1
            continue
        run.reports += 1
        if record.outcome == "unmatched":
            run.unmatched += 1
            named = ", ".join(sorted({e.address for e in report.events if e.address})) or "no address"
            log.warning("%s: names no subscriber (%s)", name, named)
        for event in record.events:
            run.events.setdefault(event.edition, Counter())[event.kind] += 1
        run.suppressed += suppressed
    waiting.clear()


def count_refusal(
    state: State, settings: BouncesConfig, edition: str, issue_id: str, refused: Outcome
) -> bool:
    """A permanent refusal at SMTP time (a 5xx to RCPT or DATA), recorded as one hard bounce of the
    address in the figures ``digest bounces`` keeps, so the same ``hard_limit`` suppresses it;
    True when it did so now.

    It is kept as a report of its own, named after the issue and the address, so that counting the
    same refusal again (a send resumed) counts nothing.
    """
    status = SMTP_STATUS.search(refused.detail)
    event = BounceEvent(
        edition, refused.address, "hard", status.group(1) if status else "5.0.0", refused.detail[:1000]
    )
    record = ReportRecord(f"smtp:{edition}:{issue_id}:{refused.address}", "matched", (event,))
    done = state.bounces.record_reports([record], lambda _, counts: verdict(settings, counts))
    return bool(done[0])


def mailboxes(
    config: Config, editions: Iterable[EditionConfig], location: str | None
) -> list[tuple[str, str | None]]:
    """(location, password variable) of each mailbox to read: ``location`` as given, else the editions'."""
    configured = [
        (_location(config, e.delivery.bounces.mailbox), e.delivery.bounces.password_env)
        for e in editions
        if e.delivery is not None and e.delivery.bounces.mailbox
    ]
    if location is None:
        return list(dict.fromkeys(configured))
    if not is_imap(location):
        return [(location, None)]
    # The password of an IMAP URL given on the command line: that of an edition reading the same account.
    account = _account(location)
    return [(location, next((env for known, env in configured if _account(known) == account), None))]


def _location(config: Config, value: str) -> str:
    return value if is_imap(value) else str(resolve_path(config, value))


def _account(url: str) -> str:
    """``user@host:port`` of an imaps:// URL, in lower case."""
    rest = url.split("://", 1)[-1].split("/", 1)[0].lower()
    return rest if ":" in rest.rpartition("@")[2] else f"{rest}:993"


__all__ = ["BounceRun", "Subscribers", "count_refusal", "events_of", "mailboxes", "read_bounces", "verdict"]
