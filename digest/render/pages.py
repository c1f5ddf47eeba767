"""The pages ``digest serve`` answers with: the editions index at ``/`` and the unsubscribe pages.

They are rendered from the default theme's templates (``editions.html``,
``unsubscribe.html``): the server is one for every edition, so no edition's
theme applies. The templates are loaded once, when the server starts, so a
missing template stops ``digest serve`` before it listens rather than on the
first request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jinja2

from digest.render.templates import environment
from digest.types import Issue


@dataclass(frozen=True)
class EditionListing:
    """One edition on the index page."""

    name: str
    title: str
    #: Where the edition's archive is served, ending in "/".
    href: str
    #: Its issues, newest first.
    issues: tuple[Issue, ...]


class ServerPages:
    """The server's templates, loaded once."""

    def __init__(self) -> None:
        env = environment(None)
        self._unsubscribe: jinja2.Template = env.get_template("unsubscribe.html")
        self._editions: jinja2.Template = env.get_template("editions.html")

    def unsubscribe(self, page: str, *, title: str, address: str, action: str) -> str:
        """One of the unsubscribe endpoint's pages ("confirm", "done", "already", "forbidden",
        "missing"); ``action`` is where the confirm button posts to."""
        return self._unsubscribe.render(page=page, title=title, address=address, action=action)

    def editions(self, editions: Sequence[EditionListing], *, shown: int) -> str:
        """The index: each edition, its archive and Atom feed, and its ``shown`` latest issues."""
        return self._editions.render(editions=editions, shown=shown)
