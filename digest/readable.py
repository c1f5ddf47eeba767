"""An HTML page -> the HTML of its main text: the one readability extractor.

Used where a whole web page stands for one article: a page given to ``digest condense`` and the
linked page of a short entry from a ``full_text`` source. The work is readability-lxml's (a port
of Arc90's Readability): it scores each block by its text, commas and class names, drops the
blocks that look like navigation, sidebars, comments and advertisements, and joins the siblings
of the best block that read like the same text, so a story cut into several blocks by
advertisements or pull quotes comes back whole, and plain ``<br>``-separated text is found too.
Measured on the test suite's pages and on article pages in the shapes news sites take
(benchmarks/readable.py), it found every word of the articles where the densest-block heuristic
it replaced missed a split story, an old ``<br>`` page and a story beside ``<article>`` teaser
cards, and it left less furniture in; it takes about a millisecond a page.

Before it looks, the page's chrome is dropped by its tags (``nav``, ``aside``, ``footer``, forms,
scripts): Readability judges blocks by their class names and text, and on a short page it keeps
the whole body, menu and all.

The result is not sanitised: callers pass it through ``ingest.sanitize_html``, like any HTML
from outside.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

#: Page chrome, never the text itself.
CHROME = "//nav | //aside | //footer | //form | //script | //style | //noscript | //template"


def main_html(page: str) -> str:
    """The HTML of ``page``'s main text, unsanitised; "" when the page has none or cannot be read."""
    if not page.strip():
        return ""
    # Imported on first use: most builds read no web page.
    import lxml.html  # type: ignore[import-untyped]  # lxml ships no stubs; this covers the package
    from lxml import etree
    from readability import Document
    from readability.readability import Unparseable

    try:
        document = lxml.html.document_fromstring(page)
        for chrome in document.xpath(CHROME):
            chrome.drop_tree()
        return str(Document(lxml.html.tostring(document, encoding="unicode")).summary(html_partial=True))
    except (Unparseable, etree.LxmlError, ValueError) as err:
        logger.debug("no readable text in a page: %s", err)
        return ""


__all__ = ["main_html"]
