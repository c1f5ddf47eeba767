"""E-mail addresses: the one rule the config and the subscribers file share.

The syntax is email-validator's (RFC 5321/5322 as mail servers take it), without its DNS
lookups: whether a domain receives mail is the relay's business, and a check must work
offline. What Digest asks of it:

- no DNS (``check_deliverability=False``);
- a domain need not be globally deliverable: dotless names (``reader@localhost``,
  ``news@intranet``) are accepted, for relays inside a network;
- ``localhost`` and ``.local`` names are accepted too, although email-validator counts them
  among the special-use names it refuses (they name hosts inside a network, which is where an
  intranet's digest is read); the other special-use names (``.invalid``, ``.arpa``, ``.onion``)
  stay refused, and ``.test`` is accepted, for test set-ups;
- ASCII before the ``@``: an internationalised local part needs SMTPUTF8, which not every
  relay offers; an internationalised domain is kept in its ASCII (punycode) form;
- no quoted local parts and no ``[IP]`` domains;
- a display name (``Morning Briefing <briefing@example.org>``) only where the config's
  ``from`` and ``reply_to`` take one.

An address is kept as its key: trimmed, ASCII, lower case (the ledger and the suppression
list compare addresses that way).
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

#: Special-use domains (RFC 6761, 6762) that name hosts inside a network; accepted.
LOCAL_DOMAINS = ("localhost", "local")
#: Appended to such a domain while email-validator checks the rest of its syntax.
_STAND_IN = ".test"


class AddressError(ValueError):
    """Not an address Digest can send to (or from); the message says why, as a clause in lower case."""


def check_address(text: str, *, display_name: bool = False) -> str:
    """``text`` as an address key (trimmed, ASCII, lower case).

    With ``display_name``, ``Name <local@domain>`` is accepted too, and the key is the address's.

    Raises:
        AddressError: naming what is wrong with it.
    """
    given = text.strip()
    if not given:
        raise AddressError("an e-mail address is needed here")
    before, at, domain = given.rpartition("@")
    closing = ">" if domain.endswith(">") else ""
    domain = domain.removesuffix(closing)
    stand_in = at and _is_local(domain)
    try:
        checked = validate_email(
            f"{before}@{domain}{_STAND_IN}{closing}" if stand_in else given,
            check_deliverability=False,
            globally_deliverable=False,
            test_environment=True,
            allow_smtputf8=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=display_name,
        )
    except EmailNotValidError as err:
        reason = str(err).rstrip(".")
        raise AddressError(reason[:1].lower() + reason[1:]) from None
    key = checked.ascii_email or checked.normalized
    return (key.removesuffix(_STAND_IN) if stand_in else key).lower()


def normalise_address(text: str) -> str | None:
    """``text`` as an address key, or None when it is not an address (see check_address)."""
    try:
        return check_address(text)
    except AddressError:
        return None


def _is_local(domain: str) -> bool:
    name = domain.lower()
    return any(name == local or name.endswith("." + local) for local in LOCAL_DOMAINS)


__all__ = ["LOCAL_DOMAINS", "AddressError", "check_address", "normalise_address"]
