"""Each subscriber's message, made from bytes prepared once per issue.

Rendering and CSS inlining are slow and the same for everyone, so they happen
once per issue, at its build: the issue folder's ``issue.txt`` and
``email.html`` are the bodies, rendered with ``Links.unsubscribe`` set to the
edition's bare endpoint, ``<base_url>unsubscribe`` (a harmless page should it
ever be followed as is). What differs between subscribers is small: the ``To``
header, the ``Message-ID``, the ``List-Unsubscribe`` header and the one-click
link in both bodies. So:

1. once per issue, ``render.build_message`` (the same function that
   makes ``issue.eml``) builds a skeleton message whose personal parts are
   placeholder strings, with the PDF attached in a second skeleton when some
   subscriber wants it; each skeleton is serialised (CRLF, SMTP policy) and
   cut at its placeholders into a list of literal byte strings and slots;
2. the bodies are cut at the bare endpoint URL the same way;
3. per subscriber, the body pieces are joined around the subscriber's link
   and quoted-printable encoded (``binascii.b2a_qp``, in C, keeping CRLF and
   the 76-character lines), and the skeleton's pieces are joined around the
   personal values. Nothing is parsed, rendered or inlined again.

The Message-ID is derived from (edition, issue, address): unique per
message, and the same if a message must be sent again after a dropped
acknowledgement, so the receiving side can tell it is a repeat.

With DKIM configured, each finished message is signed with dkimpy (relaxed
canonicalisation) over the headers in ``SIGNED_HEADERS``, both unsubscribe
headers included, and the signature header is put in front.
"""

from __future__ import annotations

import binascii
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from pathlib import Path

from digest.config import DkimConfig
from digest.errors import DeliveryError
from digest.render import build_message, header_value

#: Headers the DKIM signature covers (RFC 8058 asks for both unsubscribe headers).
SIGNED_HEADERS = (
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"Reply-To",
    b"List-Id",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"MIME-Version",
    b"Content-Type",
)

# Placeholders in the skeleton: plain ASCII that survives header handling and quoted-printable unchanged.
_TO = "digest-slot-to@slot.invalid"
_MESSAGE_ID = "<digest-slot-message-id@slot.invalid>"
_LIST_UNSUBSCRIBE = "<https://slot.invalid/digest-slot-list-unsubscribe>"
_TEXT = "DIGEST-SLOT-TEXT-BODY"
_HTML = "DIGEST-SLOT-HTML-BODY"
_CRLF = b"\r\n"
# The email package ends a body with a line break; the slot swallows it so the encoded body brings its own.
_SLOTS = {
    _TO.encode(): "to",
    _MESSAGE_ID.encode(): "message_id",
    _LIST_UNSUBSCRIBE.encode(): "list_unsubscribe",
    _TEXT.encode() + _CRLF: "text",
    _HTML.encode() + _CRLF: "html",
}
_SLOT_PATTERN = re.compile(b"(" + b"|".join(re.escape(s) for s in _SLOTS) + b")")


@dataclass(frozen=True)
class Personal:
    """What differs between two subscribers' copies of an issue."""

    address: str
    name: str
    #: The one-click link with the subscriber's token.
    unsubscribe_url: str
    #: A mailto URI for List-Unsubscribe, or "" when the edition has none.
    unsubscribe_mailto: str
    attach_pdf: bool


def message_id_hash(id_prefix: str, address: str) -> str:
    """The part of a Message-ID that names the subscriber: 32 hex digits (bounces.py matches on it)."""
    return hashlib.sha256(f"{id_prefix}\0{address}".encode()).hexdigest()[:32]


class _Skeleton:
    """A serialised message cut at its placeholders: literal pieces and slot names, alternating."""

    def __init__(self, message: EmailMessage) -> None:
        raw = message.as_bytes()
        self._pieces: list[bytes | str] = []
        for index, piece in enumerate(_SLOT_PATTERN.split(raw)):
            self._pieces.append(_SLOTS[piece] if index % 2 else piece)
        missing = set(_SLOTS.values()) - {p for p in self._pieces if isinstance(p, str)}
        if missing:
            raise AssertionError(f"message skeleton lost its slots: {sorted(missing)}")

    def fill(self, values: Mapping[str, bytes]) -> bytes:
        return b"".join(values[p] if isinstance(p, str) else p for p in self._pieces)


class _Body:
    """A rendered body as CRLF bytes, cut where the bare unsubscribe endpoint appears."""

    def __init__(self, text: str, endpoint: str, part: str) -> None:
        lines = text.replace("\r\n", "\n").replace("\r", "\n")
        if not lines.endswith("\n"):
            lines += "\n"
        self._pieces = lines.replace("\n", "\r\n").encode("utf-8").split(endpoint.encode("utf-8"))
        if len(self._pieces) < 2:
            raise DeliveryError(f"the {part} part has no unsubscribe link ({endpoint}); check the theme")

    def encoded(self, link: str) -> bytes:
        # The body ends with CRLF, so b2a_qp sees CRLF line ends and keeps them, soft breaks included.
        return binascii.b2a_qp(link.encode("ascii").join(self._pieces), quotetabs=False, istext=True)


class DkimSigner:
    """Signs finished messages with dkimpy."""

    def __init__(self, domain: str, selector: str, key: bytes) -> None:
        self.domain = domain.encode("ascii")
        self.selector = selector.encode("ascii")
        self.key = key

    def sign(self, message: bytes) -> bytes:
        import dkim

        signature: bytes = dkim.sign(
            message,
            self.selector,
            self.domain,
            self.key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=list(SIGNED_HEADERS),
        )
        return signature + message


def load_dkim(settings: DkimConfig, folder: Path) -> DkimSigner:
    """The signer of an edition's ``dkim`` settings, its key read and tried once now.

    Raises DeliveryError naming the key file or variable when the key is missing or unusable.
    """
    if settings.key_file:
        where = str(folder / Path(settings.key_file).expanduser())
        try:
            key = Path(where).read_bytes()
        except OSError as err:
            raise DeliveryError(f"{where}: cannot read the DKIM key ({err.strerror})") from None
    elif settings.key_env:
        where = f"environment variable {settings.key_env}"
        # A PEM key in one environment line often has its line breaks written as "\n".
        key = os.environ.get(settings.key_env, "").replace("\\n", "\n").encode("ascii", "replace")
        if not key.strip():
            raise DeliveryError(f"{where}: not set; it should hold the DKIM private key (PEM)")
    else:
        raise DeliveryError("dkim: needs key_file or key_env")
    signer = DkimSigner(settings.domain, settings.selector, key)
    try:
        signer.sign(b"From: a@b.invalid\r\nSubject: key check\r\n\r\nbody\r\n")
    except Exception as err:
        raise DeliveryError(f"{where}: not a usable DKIM key: {err}") from None
    return signer


class MessageMaker:
    """Makes each subscriber's message of one issue from bytes prepared once."""

    def __init__(
        self,
        *,
        subject: str,
        sender: str,
        reply_to: str | None,
        list_id: str,
        text: str,
        html: str,
        endpoint: str,
        date: datetime,
        id_prefix: str,
        pdf: bytes | None,
        pdf_name: str,
        dkim_signer: DkimSigner | None = None,
    ) -> None:
        self._domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
        self._id_prefix = id_prefix
        self._dkim = dkim_signer
        self._text = _Body(text, endpoint, "text")
        self._html = _Body(html, endpoint, "HTML")
        headers = {
            "Message-ID": _MESSAGE_ID,
            "List-Id": list_id,
            "List-Unsubscribe": _LIST_UNSUBSCRIBE,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        if reply_to:
            headers["Reply-To"] = reply_to

        def skeleton(attachment: bytes | None) -> _Skeleton:
            message = build_message(
                subject=subject,
                sender=sender,
                to=_TO,
                text=_TEXT,
                html=_HTML,
                date=date,
                message_id_domain=self._domain,
                headers=headers,
            )
            if attachment is not None:
                message.add_attachment(attachment, maintype="application", subtype="pdf", filename=pdf_name)
            return _Skeleton(message)

        self._plain = skeleton(None)
        self._with_pdf = skeleton(pdf) if pdf is not None else None

    def message_id(self, address: str) -> str:
        return f"<{message_id_hash(self._id_prefix, address)}.{self._id_prefix}@{self._domain}>"

    def make(self, personal: Personal) -> bytes:
        """The complete message for one subscriber, CRLF line ends, signed when DKIM is set."""
        unsubscribe = f"<{personal.unsubscribe_url}>"
        if personal.unsubscribe_mailto:
            unsubscribe += f", <{personal.unsubscribe_mailto}>"
        skeleton = self._with_pdf if personal.attach_pdf and self._with_pdf is not None else self._plain
        message = skeleton.fill(
            {
                "to": formataddr((header_value(personal.name), personal.address), "utf-8").encode("ascii"),
                "message_id": self.message_id(personal.address).encode("ascii"),
                "list_unsubscribe": unsubscribe.encode("ascii"),
                "text": self._text.encoded(personal.unsubscribe_url),
                "html": self._html.encoded(personal.unsubscribe_url),
            }
        )
        return self._dkim.sign(message) if self._dkim is not None else message
