"""Feed bytes -> feedparser's result, from the fastest parser that gives the same one.

feedparser is the reference: ingest.py's normalisation is written against its result, and
tests compare every other parser with it. It reads about 850 entries a second, so parsing
dominates a large cold build. feedparser-rs offers the same API (``parse(bytes)`` -> a
dict-like result with ``feed``, ``entries``, ``version``, ``bozo``; the same keys, text
constructs and UTC ``struct_time`` dates) at about 25 times the speed; when it is installed it
parses every document it is known to agree on, and feedparser the others.

Where they differ, and how a document is sent to feedparser instead:

- Relative URLs. feedparser resolves them (links, a permalink ``<guid>``, ``href`` and ``src``
  in content) against the response's Content-Location (the source's URL) and ``xml:base``;
  feedparser-rs resolves only some, against the channel's link. A document with ``xml:base``,
  an ``href``/``src`` value without a scheme, a relative RSS ``<link>``, or a permalink
  ``<guid>`` that is not a URL goes to feedparser. (A guid changes the entry's id, so the
  parsers must agree on it exactly.) The check is a few regular expressions over the bytes,
  which cost little next to either parser.
- Encodings. feedparser honours the charset of the HTTP Content-Type; feedparser-rs reads only
  the document. A charset other than UTF-8 in the header sends the document to feedparser.
- Links to hosts it deems private. feedparser-rs empties every link (``link``, each of ``links``,
  enclosures) whose host is a private, loopback, link-local or shared address (``10.0.0.1``,
  ``127.0.0.1:8080``, ``[::1]``), ``localhost``, or a name under a top-level domain used inside
  networks (``intranet.corp``, ``srv.internal``, ``nas.local``, ``host.lan``), and does not set an
  RSS item's ``link`` from a permalink ``<guid>`` on such a host. feedparser keeps them, and so
  must Digest: an intranet's news digest links to the intranet, and readers, not Digest, follow
  those links. The host rules are the fast parser's own, so they are not guessed from the bytes:
  the symptom is looked for in its result instead. An empty ``link`` or ``href`` on the feed or
  on any entry sends the document to feedparser (a document whose links are all empty for other
  reasons loses only the speed). The whole document goes, since feedparser must read it whole
  to give any one entry; public feeds, nearly all, never pay for it.
- Broken documents. feedparser recovers from ill-formed XML with a lenient parser of its own;
  when feedparser-rs reports the document ill-formed (``bozo``) or finds no feed in it,
  feedparser parses it again, so errors and recoveries stay the reference's.

``DIGEST_FEED_PARSER=feedparser`` in the environment turns the fast parser off.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

fast_parser: Any
try:
    import feedparser_rs as fast_parser  # optional; ships no type hints
except ImportError:  # depends on what is installed
    fast_parser = None

#: "feedparser-rs" when it is installed (and not turned off), else "feedparser".
BACKEND = (
    "feedparser-rs"
    if fast_parser is not None and os.environ.get("DIGEST_FEED_PARSER", "") != "feedparser"
    else "feedparser"
)

_SCHEME = rb"[A-Za-z][A-Za-z0-9+.-]*:"
# The opening of an attribute value as it appears in XML (quoted) or in escaped HTML
# (``&quot;``, ``&#34;``, ``&#x22;``, and the single-quote forms), or nothing (unquoted). The
# quantifiers are possessive: backing off a quote or a space must not make "not a scheme" true.
_QUOTE = rb"""(?:["']|&quot;|&apos;|&#0*3[49];|&#x0*2[27];)?+"""
# Matched against the lower-cased document at each "href" or "src" found by bytes.find, which
# is far faster than a case-blind regex scanning 35 MB of feeds (issue 8). The look-behind is
# ``\b``: the name must not end a longer word ("xsrc").
_RELATIVE_ATTRIBUTE = re.compile(
    rb"(?<![a-z0-9_])(?:href|src)\s*=\s*+" + _QUOTE + rb"\s*+(?!" + _SCHEME + rb")"
)
_RELATIVE_LINK = re.compile(rb"<link>\s*+(?!" + _SCHEME + rb")")
_PERMALINK_GUID = re.compile(rb"<guid(?![^>]*isPermaLink\s*=\s*[\"']false)[^>]*>\s*+(?!" + _SCHEME + rb")")
_XML_BASE = re.compile(rb"\bxml:base\s*=")
_CHARSET = re.compile(r";\s*charset\s*=\s*[\"']?([^\s;\"']+)", re.IGNORECASE)


def parse(data: bytes, headers: Mapping[str, str]) -> Any:
    """feedparser's result for ``data``; ``headers`` are the response's (content-location, content-type).

    Raises whatever the chosen parser raises (ingest.py turns it into a ParseError).
    """
    if BACKEND == "feedparser-rs" and not needs_reference(data, headers.get("content-type")):
        parsed = fast_parser.parse(data)
        if not parsed.get("bozo") and parsed.get("version") and not has_emptied_link(parsed):
            return parsed
    # Imported only when a document needs it: the import takes longer (60-130 ms) than the fast
    # parser takes for a large feed.
    import feedparser

    return feedparser.parse(data, response_headers=dict(headers))


def needs_reference(data: bytes, content_type: str | None = None) -> bool:
    """Whether the document uses something the fast parser treats differently (see above)."""
    charset = _CHARSET.search(content_type or "")
    if charset and charset.group(1).lower().replace("_", "-") not in ("utf-8", "utf8"):
        return True
    # A substring test is far cheaper than a regex over a large feed, and most feeds have no xml:base.
    if b"xml:base" in data and _XML_BASE.search(data):
        return True
    return _has_relative_attribute(data) or any(
        pattern.search(data) for pattern in (_RELATIVE_LINK, _PERMALINK_GUID)
    )


def has_emptied_link(parsed: Any) -> bool:
    """Whether the fast parser's result has an empty link on its feed or on any entry (see above)."""
    return _emptied(parsed.get("feed") or {}) or any(_emptied(entry) for entry in parsed.get("entries", ()))


def _emptied(item: Any) -> bool:
    if item.get("link") == "":
        return True
    return any(not link.get("href") for link in item.get("links", ()))


def _has_relative_attribute(data: bytes) -> bool:
    lowered = data.lower()
    for name in (b"href", b"src"):
        start = lowered.find(name)
        while start != -1:
            if _RELATIVE_ATTRIBUTE.match(lowered, start):
                return True
            start = lowered.find(name, start + 1)
    return False


__all__ = ["BACKEND", "has_emptied_link", "needs_reference", "parse"]
