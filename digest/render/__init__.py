"""The render stage: Issue -> Rendered, every file of an issue folder (issue.py), and the
PDF's job and WeasyPrint's side of it (pdf.py, pdfwrite.py; the process that renders PDFs is
digest/workers.py's), and the pages ``digest serve`` answers with (pages.py). The names below
are the stage's public face; other stages use these, not the modules behind them.

Importing the package itself costs little: the PDF renderer's process imports pdf.py, and
Python imports a package before any of its modules. Jinja2, lxml and the rest come with
issue.py, which the names below are read from on first use: when a build has something to
render.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from digest.render.issue import (
        EMAIL_HTML_BUDGET,
        EMAIL_HTML_LIMIT,
        render_archive,
        render_briefings_text,
        render_email_html,
        render_issue,
        render_text,
    )
    from digest.render.mime import build_message, header_value
    from digest.render.pages import EditionListing, ServerPages
    from digest.render.templates import environment

#: Names read from mime.py: the message builder that delivery shares with issue.eml.
_MIME = ("build_message", "header_value")

__all__ = [
    "EMAIL_HTML_BUDGET",
    "EMAIL_HTML_LIMIT",
    "EditionListing",
    "ServerPages",
    "build_message",
    "environment",
    "header_value",
    "render_archive",
    "render_briefings_text",
    "render_email_html",
    "render_issue",
    "render_text",
]


def __getattr__(name: str) -> Any:
    if name == "environment":
        from digest.render.templates import environment

        return environment
    if name in ("EditionListing", "ServerPages"):
        from digest.render import pages

        return getattr(pages, name)
    if name in _MIME:
        from digest.render import mime

        return getattr(mime, name)
    if name in __all__:
        from digest.render import issue

        return getattr(issue, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
