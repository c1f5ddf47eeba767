"""An issue as a MIME message: text and HTML alternatives.

The message is ``multipart/alternative`` with the plain text first and the
HTML last (clients show the last part they can display). Both bodies are
UTF-8 in quoted-printable, which keeps every line under SMTP's 998-byte
limit however long a paragraph is, and keeps mostly-ASCII text readable in
the raw message. The message uses ``email.policy.SMTP``, so ``bytes(msg)``
has CRLF line ends, ready for the wire or an ``.eml`` file.

Python's folding moves a whole header value that fits on one continuation
line onto it, leaving the header's first line empty (``Subject:`` then the
subject below it); mail clients show that as intended, but it looks broken in
the raw message and some filters dislike it. The policy here joins such a
first continuation line back onto the header's name line, which then stays
far below SMTP's 998-byte limit (the name is short).

Header values can come from feeds (a headline in the subject), so control
characters are replaced by spaces before they reach a header: a CR or LF in
a headline must never start a header of its own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]+")


class _Policy(EmailPolicy):
    """``email.policy.SMTP`` whose folded headers never start with an empty line (see above)."""

    def fold(self, name: str, value: str) -> str:
        folded = super().fold(name, value)
        empty = f"{name}:{self.linesep} "
        return f"{name}: {folded[len(empty) :]}" if folded.startswith(empty) else folded

    def fold_binary(self, name: str, value: str) -> bytes:
        folded = super().fold_binary(name, value)
        empty = f"{name}:{self.linesep} ".encode("ascii")
        return name.encode("ascii") + b": " + folded[len(empty) :] if folded.startswith(empty) else folded


#: CRLF line ends, as ``email.policy.SMTP``.
SMTP = _Policy(linesep="\r\n")


def header_value(text: str) -> str:
    """``text`` fit for a header: control characters become single spaces, ends trimmed."""
    return " ".join(_CONTROL_CHARACTERS.sub(" ", text).split())


def build_message(
    *,
    subject: str,
    sender: str,
    to: str,
    text: str,
    html: str,
    date: datetime,
    message_id_domain: str,
    headers: Mapping[str, str] = {},  # read only, never mutated
) -> EmailMessage:
    """A complete message; ``headers`` add to (or, for Message-ID, replace) the standard ones."""
    message = EmailMessage(policy=SMTP)
    message["Subject"] = header_value(subject)
    message["From"] = header_value(sender)
    message["To"] = header_value(to)
    message["Date"] = format_datetime(date)
    extra = {header_value(name): header_value(value) for name, value in headers.items()}
    given_id = next((extra.pop(name) for name in list(extra) if name.lower() == "message-id"), "")
    message["Message-ID"] = given_id or make_msgid(domain=header_value(message_id_domain))
    for name, value in extra.items():
        message[name] = value
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    # "=_" never occurs in a quoted-printable body, so a boundary derived from the content is
    # safe, and the same message gives the same bytes (the default boundary is random).
    fingerprint = hashlib.sha256(f"{text}\0{html}".encode()).hexdigest()[:32]
    message.set_boundary(f"=_digest_{fingerprint}")
    return message
