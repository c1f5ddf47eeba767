"""Inline an e-mail's CSS into style attributes, once per issue.

Many mail clients (Gmail's apps, Outlook) drop or ignore ``<style>`` blocks,
so every rule that can live in a ``style`` attribute is moved there by
premailer. What cannot be inlined - ``@media`` queries, dark-mode rules,
Outlook.com's ``[data-ogsc]`` selectors - sits in the template's one
``<style data-premailer="ignore">`` block, which premailer leaves in place
(dropping only the marker attribute), so the result keeps exactly one
``<style>`` element. A theme that puts such rules in an ordinary block still
works: premailer keeps what it could not inline in a block of its own.

premailer is told never to touch the network: the template carries its CSS
inline, and a build must not depend on (or leak to) a remote stylesheet.
Relative links are made absolute against ``base_url``.
"""

from __future__ import annotations

import logging

from digest.errors import RenderError


def inline_css(html: str, base_url: str) -> str:
    """``html`` with its CSS inlined and relative links made absolute against ``base_url``.

    Raises RenderError when premailer cannot parse the HTML or its CSS.
    """
    # Imported here: premailer brings cssutils and requests (about 0.2 s), which a build with
    # nothing new never needs.
    from premailer import Premailer

    premailer = Premailer(
        html,
        base_url=base_url,
        allow_network=False,
        disable_validation=True,
        # The contents' links (#story-N) point inside the message, not at the web copy.
        preserve_internal_links=True,
        # cssutils warns loudly about properties it does not know (mso-*, -webkit-*).
        cssutils_logging_level=logging.CRITICAL,
    )
    try:
        return str(premailer.transform())
    except Exception as err:  # premailer raises bare lxml/cssutils errors of many kinds
        raise RenderError(f"email.html: cannot inline CSS: {err}") from err
