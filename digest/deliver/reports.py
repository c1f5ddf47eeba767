"""Bounce and complaint reports: one received message -> what it says about which recipients.

The method, with Python's ``email`` package:

- a ``multipart/report; report-type=delivery-status`` message (RFC 3464, a
  DSN) carries a ``message/delivery-status`` part: a block of per-message
  fields, then a block per recipient. A recipient block with ``Action:
  failed`` is a hard bounce when its ``Status`` (RFC 3463) is a permanent
  failure about the address (5.0.x, 5.1.x, 5.2.1; see ``severity``) and a
  soft one otherwise (4.x.x, a full mailbox, a policy block); ``Action:
  delayed`` is soft; ``delivered``, ``relayed`` and ``expanded`` are no
  bounce. A ``Status`` of x.0.0 gives way to the code in the remote server's
  ``Diagnostic-Code``. The address is the ``Original-Recipient`` (what was
  sent to), else the ``Final-Recipient`` (where it ended up);
- a ``multipart/report; report-type=feedback-report`` message (RFC 5965, ARF,
  as mailbox providers send for "this is spam") carries a
  ``message/feedback-report`` part; ``Feedback-Type`` abuse, fraud or virus
  is a complaint about the ``Original-Rcpt-To``, else about the recipient the
  enclosed original names (``To``, or Microsoft's
  ``X-HmXmrOriginalRecipient`` when ``To`` is redacted). Other feedback
  types (not-spam, auth-failure) complain of nothing;
- a message of neither kind with an ``X-Failed-Recipients`` header (the
  plain-text bounces of older Exim and others) is a hard bounce of each
  address the header lists;
- whatever else arrives (an out-of-office reply, a person writing back) is
  not a report, and a report missing what its RFC requires is malformed:
  ``ReportError`` says which, and the caller skips the message.

Besides its events, a report keeps what ties it to one sent message: the
addresses a per-subscriber return path may hide in (the report's ``To``,
``Delivered-To``, ``X-Original-To``, ``Envelope-To``, the ARF
``Original-Mail-From`` and the original's ``Return-Path``), and the
original's ``Message-ID``: from the enclosed original (``message/rfc822``)
or its header (``text/rfc822-headers``), else from the report's
``X-Original-Message-ID`` (Gmail) or ``In-Reply-To`` (Gmail, Microsoft),
for reports that enclose neither.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email import message_from_bytes, message_from_string
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses
from typing import Literal

EventKind = Literal["hard", "soft", "complaint"]

#: Feedback types that mean a recipient did not want the message.
COMPLAINT_TYPES = frozenset({"abuse", "fraud", "virus"})
#: Headers of a report that may carry the per-subscriber return path it was sent back to.
RETURN_PATH_HEADERS = ("To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To")
#: RFC 3463: class.subject.detail, each up to three digits.
#: The longest Message-ID kept as it is (the state store's column holds 1000 characters).
MAX_REPORT_ID = 500
STATUS = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
STATUS_IN_TEXT = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


class ReportError(ValueError):
    """A message that cannot be used: ``malformed`` when it claims to be a report and is not a whole one."""

    def __init__(self, reason: str, *, malformed: bool) -> None:
        super().__init__(reason)
        self.malformed = malformed


@dataclass(frozen=True)
class Event:
    """What a report says of one recipient."""

    kind: EventKind
    #: Lower case; "" when the report does not say (a redacted complaint).
    address: str
    #: The RFC 3463 status ("5.1.1"), or the feedback type of a complaint.
    status: str
    #: The remote server's diagnostic, or the action; one line.
    detail: str


@dataclass(frozen=True)
class Report:
    """One bounce or complaint report, as read from one message."""

    #: The report's Message-ID, else a hash of its bytes: what keeps it from being counted twice.
    report_id: str
    #: "delivery-status", "feedback-report" or "x-failed-recipients".
    form: str
    events: tuple[Event, ...]
    #: Lower-case addresses that may be a per-subscriber return path.
    return_paths: tuple[str, ...]
    #: The original's Message-ID (with its angle brackets), or "".
    original_message_id: str


def read_report(raw: bytes) -> Report:
    """The report in ``raw``, one whole message.

    Raises:
        ReportError: when the message is not a report, or is a malformed one.
    """
    message = message_from_bytes(raw, policy=compat32)
    if not message.keys():
        raise ReportError("no message header", malformed=True)
    original = _original(message)
    content_type = message.get_content_type()
    report_type = str(message.get_param("report-type", "") or "").lower()
    if content_type == "multipart/report" and report_type == "delivery-status":
        form, events = report_type, _delivery_status(message)
    elif content_type == "multipart/report" and report_type == "feedback-report":
        form, events = report_type, _feedback(message, original)
    elif content_type == "multipart/report":
        raise ReportError(
            f"a report of type {report_type or '(none)'}, not a bounce or complaint", malformed=False
        )
    elif message.get_all("X-Failed-Recipients"):
        form = "x-failed-recipients"
        events = tuple(
            Event("hard", address, "5.0.0", "listed in X-Failed-Recipients")
            for address in _addresses(message.get_all("X-Failed-Recipients", []))
        )
    else:
        raise ReportError(f"not a bounce or complaint report ({content_type})", malformed=False)
    return_paths = _addresses(
        [value for name in RETURN_PATH_HEADERS for value in message.get_all(name, [])]
        + [
            value
            for block in _blocks(message, "message/feedback-report")
            for value in block.get_all("Original-Mail-From", [])
        ]
        + (original.get_all("Return-Path", []) if original is not None else [])
    )
    message_id = report_id(str(message.get("Message-ID", "")))
    return Report(
        report_id=message_id or "sha256:" + hashlib.sha256(raw).hexdigest(),
        form=form,
        events=events,
        return_paths=return_paths,
        original_message_id=_original_message_id(message, original),
    )


def report_id(message_id: str) -> str:
    """A report's key in the state store, from its Message-ID header ("" when it has none); a
    Message-ID too long for the key's column is kept as its hash."""
    value = _one_line(message_id).strip()
    return value if len(value) <= MAX_REPORT_ID else "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def _delivery_status(message: Message) -> tuple[Event, ...]:
    blocks = _blocks(message, "message/delivery-status")
    if not blocks:
        raise ReportError("a delivery-status report without its message/delivery-status part", malformed=True)
    recipients = [b for b in blocks[1:] if b.keys()]
    if not recipients:
        raise ReportError("a delivery-status report that names no recipient", malformed=True)
    events = []
    for block in recipients:
        action = _one_line(block.get("Action", "")).strip().lower()
        address = _recipient(block.get("Original-Recipient", "")) or _recipient(
            block.get("Final-Recipient", "")
        )
        status = STATUS.match(_one_line(block.get("Status", "")))
        if not action or not address:
            raise ReportError("a recipient block without its Action or Final-Recipient", malformed=True)
        if action not in ("failed", "delayed"):
            continue
        if status is None:
            raise ReportError(
                f"{address}: Status {block.get('Status', '(none)')!r} is not x.y.z", malformed=True
            )
        detail = _one_line(block.get("Diagnostic-Code", "")).partition(";")[2].strip() or action
        code = _refined(".".join(status.groups()), detail)
        events.append(Event(severity(action, code), address, code, detail))
    return tuple(events)


def severity(action: str, code: str) -> EventKind:
    """A failure about the address itself is hard: no such mailbox or domain, moved (5.1.x), the
    mailbox disabled (5.2.1), or unspecified (5.0.0). Other permanent failures say nothing about
    the address (a full mailbox, a message too large, the sending server blocked by policy, 5.7.x)
    and count as soft, like delays and 4.x.x: a sender blocked for a day by one provider must not
    lose every subscriber there."""
    if action != "failed" or not code.startswith("5."):
        return "soft"
    _, subject, detail = code.split(".")
    return "hard" if subject in ("0", "1") or (subject, detail) == ("2", "1") else "soft"


def _refined(code: str, diagnostic: str) -> str:
    """``code``, or the more precise code of the same class the remote server's reply gives when
    the report's own says only x.0.0 (Exim's reports do)."""
    if not code.endswith(".0.0"):
        return code
    found = STATUS_IN_TEXT.search(diagnostic)
    return ".".join(found.groups()) if found and found.group(1) == code[0] else code


def _feedback(message: Message, original: Message | None) -> tuple[Event, ...]:
    blocks = _blocks(message, "message/feedback-report")
    if not blocks or not blocks[0].get("Feedback-Type"):
        raise ReportError("a feedback report without its message/feedback-report part", malformed=True)
    fields = blocks[0]
    feedback_type = _one_line(fields.get("Feedback-Type", "")).strip().lower()
    if feedback_type not in COMPLAINT_TYPES:
        return ()
    named = _addresses(fields.get_all("Original-Rcpt-To", []))
    if not named and original is not None:
        named = _addresses(original.get_all("X-HmXmrOriginalRecipient", []) + original.get_all("To", []))
    detail = _one_line(fields.get("User-Agent", "")).strip() or "complaint"
    return tuple(Event("complaint", address, feedback_type, detail) for address in named or ("",))


def _blocks(message: Message, content_type: str) -> list[Message]:
    """The field blocks of the first part of ``content_type`` (the email package parses them as headers)."""
    for part in message.walk():
        if part.get_content_type() == content_type:
            payload = part.get_payload()
            if isinstance(payload, list):
                return [block for block in payload if isinstance(block, Message)]
            return [message_from_string(str(payload), policy=compat32)] if payload else []
    return []


def _original(message: Message) -> Message | None:
    """The enclosed original message, or its header, when the report carries either."""
    for part in message.walk():
        if part is message:
            continue
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if content_type == "text/rfc822-headers":
            text = part.get_payload(decode=True)
            if isinstance(text, bytes):
                return message_from_bytes(text, policy=compat32)
    return None


def _original_message_id(message: Message, original: Message | None) -> str:
    found = [original.get("Message-ID", "")] if original is not None else []
    found += [b.get("X-Original-Message-ID", "") for b in _blocks(message, "message/delivery-status")[:1]]
    found.append(message.get("In-Reply-To", ""))
    return next((report_id(str(value)) for value in found if report_id(str(value))), "")


def _recipient(field: str) -> str:
    """The address of ``rfc822; someone@example.org`` (the type is optional in practice)."""
    value = _one_line(field).partition(";")[2] if ";" in field else _one_line(field)
    found = _addresses([value])
    return found[0] if found else ""


def _addresses(values: list[str]) -> tuple[str, ...]:
    found = [address.strip().lower() for _, address in getaddresses([_one_line(v) for v in values])]
    return tuple(dict.fromkeys(a for a in found if "@" in a))


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


__all__ = ["Event", "EventKind", "Report", "ReportError", "read_report", "report_id", "severity"]
