"""Credentials out of published URLs.

A URL may carry a user name and password before its host
(``https://user:secret@host/path``, RFC 3986's *userinfo*). A feed that links
to a password-protected page that way would otherwise put the password into
every output of the issue and every subscriber's message. Digest publishes no
userinfo, wherever the URL came from:

- ingest removes it from an entry's link, title and name, and from every URL
  in its summary and content: the sanitiser's attribute filter rewrites
  ``href`` and ``src``, and URLs written out in the text lose it too;
- assemble removes it from the source URLs and errors an issue records;
- issue.json, read back (``digest render``, ``digest send``), loses it from
  its source and "Briefly" links and its feeds;
- the config refuses an edition ``base_url`` that carries any (every link to
  the web copy, the archive and the unsubscribe page starts with it).

Method: in a URL, the userinfo is everything between ``scheme://`` and the
last ``@`` before the host ends (at ``/``, ``?``, ``#``, white space or a
quote or angle bracket); it is removed with the ``@``. Only URLs with
``://`` are touched, so an e-mail address (``mailto:a@b``) stays.
"""

from __future__ import annotations

import re

#: scheme:// then the userinfo (greedy, so up to the last "@" of the authority) and its "@".
_USERINFO = re.compile(r"""\b([a-z][a-z0-9+.-]*://)[^\s/?#<>"'@]*(?:@[^\s/?#<>"'@]*)*@""", re.IGNORECASE)


def without_credentials(text: str) -> str:
    """``text`` (a URL, or text and HTML holding URLs) with the userinfo of every URL removed."""
    if "@" not in text:  # nearly every value: no search at all
        return text
    return _USERINFO.sub(r"\1", text)


def has_credentials(url: str) -> bool:
    """Whether ``url`` carries a user name or password."""
    return without_credentials(url) != url
