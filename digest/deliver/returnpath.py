"""Per-subscriber return paths (VERP): whose message a bounce is about, told by where it arrives.

A bounce goes to the envelope sender (SMTP ``MAIL FROM``, which the receiving
side records as ``Return-Path``). With ``delivery.bounces.return_path`` set to
a template such as ``bounces+{token}@example.org``, each subscriber's message
is sent from that address with ``{token}`` filled in, so a bounce arriving at
``bounces+k3x…@example.org`` names the edition and subscriber even when the
report itself quotes only a forwarded or rewritten address, or none::

    token = base32(HMAC-SHA256(key, edition "/" address)[:10]), lower case, no padding (16 characters)
    key   = HMAC-SHA256(secret, "digest return path token")

The secret is the edition's unsubscribe secret. The unsubscribe token is not
reused here: it is case-sensitive base64 of 75 characters and more, while a
local part may have 64 characters at most (RFC 5321) and some servers change
its case on the way back. Sixteen lower-case letters and digits survive both.

The token hides the address and cannot be made without the secret, but it
cannot be decrypted: ``digest bounces`` maps it back by computing the token of
every subscriber of the edition (about a microsecond each) and looking it up.
An address that has left the subscribers file is not found, which is as it
should be: it is no longer mailed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable

from digest.configvalues import PLACEHOLDER

#: What the key is derived under, so these tokens never equal any other token made from the secret.
_KEY_LABEL = b"digest return path token"
#: Bytes of the MAC kept: 80 bits, so two subscribers' tokens do not collide in practice.
_MAC_BYTES = 10
_TOKEN = "[a-z2-7]{16}"


class ReturnPathTokens:
    """Makes the return-path tokens of one edition's subscribers with the edition's secret."""

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()

    def token(self, edition: str, address: str) -> str:
        mac = hmac.new(self._key, f"{edition}/{address}".encode(), hashlib.sha256).digest()[:_MAC_BYTES]
        return base64.b32encode(mac).decode("ascii").lower()


def return_path(template: str, token: str) -> str:
    """The envelope sender of one subscriber's message: the template with its token filled in."""
    return template.replace(PLACEHOLDER, token)


def envelope_sender(template: str | None, edition: str, secret: bytes) -> Callable[[str], str]:
    """address -> the envelope sender of its message: "" (the deliverer's own) when ``template`` is None."""
    if template is None:
        return lambda address: ""
    tokens = ReturnPathTokens(secret)
    return lambda address: return_path(template, tokens.token(edition, address))


def token_pattern(template: str) -> re.Pattern[str]:
    """Matches the addresses made from ``template`` (any case) and captures the token."""
    before, _, after = template.partition(PLACEHOLDER)
    return re.compile(f"{re.escape(before)}({_TOKEN}){re.escape(after)}", re.IGNORECASE)


__all__ = [
    "PLACEHOLDER",
    "ReturnPathTokens",
    "envelope_sender",
    "return_path",
    "token_pattern",
]
