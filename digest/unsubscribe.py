"""Unsubscribe tokens and the suppression list.

A token names an edition and an address, proves that Digest made it, and
hides the address from whoever sees the link (a forwarded message, a proxy's
log)::

    token = base64url(AES-SIV(key, edition "/" address, associated data "digest-unsubscribe"))

AES-SIV (RFC 5297, AES-256, from the ``cryptography`` package) is
deterministic authenticated encryption: the same edition and address give
the same token, and any change to a token (a changed address, another
edition, a truncated token) fails its authentication. The key is derived
from the secret as HMAC-SHA512(secret, "digest unsubscribe token"). Edition
names never contain "/", so the payload splits unambiguously. The token is
unpadded base64url: letters, digits, "-" and "_" only, so it sits in a URL,
an HTML attribute, a quoted-printable line or a mail subject without
escaping.

Tokens made before (``base64url(payload) "." base64url(HMAC-SHA256(secret,
payload)[:16])``, in links already sent) are still honoured: a token with a
"." is checked that way, its MAC compared in constant time.

The secret comes from the environment variable ``unsubscribe.secret_env``
names. When that variable is unset, a random secret is made once and kept in
the state store (so links stay valid across runs), and a warning says so on
every use: a secret in the database is only as private as the database.

An unsubscribed address goes on the edition's suppression list in the state
store, and ``digest send`` skips it for every later issue, even while it stays
in the subscribers file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
from urllib.parse import quote

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from digest.config import UnsubscribeConfig
from digest.state import State

log = logging.getLogger("digest")

#: The last path segment of the one-click endpoint, under the edition's base_url.
ENDPOINT = "unsubscribe"
#: The query parameter carrying the token.
TOKEN_PARAMETER = "t"
#: Under this name the state store keeps a secret Digest made itself.
STORED_SECRET_NAME = "unsubscribe"
_MAC_BYTES = 16
#: What the AES-SIV key is derived under, and the associated data each token is bound to.
_KEY_LABEL = b"digest unsubscribe token"
_ASSOCIATED = b"digest-unsubscribe"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Makes and checks the tokens of unsubscribe links with one secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._cipher = AESSIV(hmac.new(secret, _KEY_LABEL, hashlib.sha512).digest())

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def token(self, edition: str, address: str) -> str:
        return _b64(self._cipher.encrypt(f"{edition}/{address}".encode(), [_ASSOCIATED]))

    def verify(self, token: str) -> tuple[str, str] | None:
        """(edition, address) when the token is genuine, else None."""
        try:
            payload = (
                self._earlier(token) if "." in token else self._cipher.decrypt(_unb64(token), [_ASSOCIATED])
            )
        except (binascii.Error, ValueError, InvalidTag):
            return None
        if payload is None:
            return None
        edition, slash, address = payload.decode("utf-8", "replace").partition("/")
        return (edition, address) if slash and edition and address else None

    def _earlier(self, token: str) -> bytes | None:
        """The payload of a token of the earlier, signed-only form, when its MAC is right."""
        encoded, _, mac = token.partition(".")
        payload, given = _unb64(encoded), _unb64(mac)
        return payload if hmac.compare_digest(given, self._mac(payload)) else None


def endpoint_url(base_url: str) -> str:
    """The unsubscribe endpoint of an edition: ``<base_url>unsubscribe``, without a token."""
    return f"{base_url if base_url.endswith('/') else base_url + '/'}{ENDPOINT}"


def link(base_url: str, token: str) -> str:
    """The https (or http) one-click link of one subscriber."""
    return f"{endpoint_url(base_url)}?{TOKEN_PARAMETER}={token}"


def mailto(address: str, token: str) -> str:
    """A mailto URI whose subject carries the token, for List-Unsubscribe."""
    return f"mailto:{address}?subject={quote('unsubscribe ' + token)}"


def edition_secret(settings: UnsubscribeConfig, state: State) -> bytes:
    """The HMAC key: the environment variable's value, else one made once and kept in the state store."""
    from_environment = os.environ.get(settings.secret_env, "")
    if from_environment:
        return from_environment.encode("utf-8")
    value, made = state.secrets.secret(STORED_SECRET_NAME, lambda: secrets.token_hex(32))
    log.warning(
        "%s is not set; unsubscribe links are signed with a secret %s the state store",
        settings.secret_env,
        "made now and kept in" if made else "kept in",
    )
    return value.encode("utf-8")


def unsubscribe(state: State, edition: str, address: str, how: str) -> bool:
    """Suppress ``address`` for ``edition``; False when it already was."""
    return state.ledger.suppress(edition, address.strip().lower(), how)
