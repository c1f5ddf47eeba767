"""Fit an inlined e-mail under Gmail's clipping limit, and finish it for mail clients.

Gmail hides everything after the first ~102 KB of a message's HTML, the
unsubscribe link included. A long issue must therefore lose something, and
what it keeps is every story's headline and lede: the rest of a story (its
questions and sources) gives way to a "read the full briefing" link to the
web copy, from the last story backwards.

The template decides what each version looks like; it renders both for every
story: the rest of story N in an element marked ``data-full="N"``, the link
in one marked ``data-short="N"``. The CSS is inlined once for the whole
document (inline.py), and then this module only removes marked elements:

1. every ``data-short`` element is measured and so is every ``data-full``
   one (serialised alone, as bytes of UTF-8);
2. the document with the first ``k`` stories whole weighs the whole
   document, less the ``data-full`` parts of stories after ``k``, less the
   ``data-short`` parts of stories up to ``k``; the largest ``k`` under the
   limit is taken;
3. the chosen document is serialised and weighed for real, and ``k`` goes
   down while it is still over (a safety net for serialisation details the
   sum of parts misses), so the result is always under the limit or an error.

Finishing touches, for documents a theme may have written: the markers are
removed, and an ``<img>`` without ``alt`` gets an empty one (decorative), so
no client reads out a file name.
"""

from __future__ import annotations

import copy

import lxml.html  # type: ignore[import-untyped]

from digest.errors import RenderError

FULL = "data-full"
SHORT = "data-short"


def _size(element: lxml.html.HtmlElement) -> int:
    return len(lxml.html.tostring(element, encoding="unicode", with_tail=False).encode("utf-8"))


def _serialise(tree: lxml.html.HtmlElement) -> str:
    # lxml drops the doctype it parsed unless told; without one, clients render in quirks mode.
    doctype = tree.getroottree().docinfo.doctype or "<!DOCTYPE html>"
    return str(lxml.html.tostring(tree, encoding="unicode", doctype=doctype)) + "\n"


def _marked(tree: lxml.html.HtmlElement, attribute: str) -> dict[int, list[lxml.html.HtmlElement]]:
    found: dict[int, list[lxml.html.HtmlElement]] = {}
    for element in tree.xpath(f"//*[@{attribute}]"):
        value = element.get(attribute, "")
        if value.isdigit():
            found.setdefault(int(value), []).append(element)
    return found


def _cut(tree: lxml.html.HtmlElement, whole: int) -> str:
    """The document with stories up to ``whole`` shown whole and the later ones short."""
    copied = copy.deepcopy(tree)
    for story, elements in _marked(copied, FULL).items():
        for element in elements:
            if story > whole:
                element.drop_tree()
            else:
                del element.attrib[FULL]
    for story, elements in _marked(copied, SHORT).items():
        for element in elements:
            if story <= whole:
                element.drop_tree()
            else:
                del element.attrib[SHORT]
    for image in copied.iter("img"):
        if image.get("alt") is None:
            image.set("alt", "")
    return _serialise(copied)


def fit_email(html: str, limit: int) -> tuple[str, int]:
    """``html`` cut down to fewer than ``limit`` bytes, and the count of stories left whole.

    Raises RenderError when even every story cut short is over the limit.
    """
    tree = lxml.html.document_fromstring(html)
    fulls, shorts = _marked(tree, FULL), _marked(tree, SHORT)
    stories = max([*fulls, *shorts], default=0)
    full_size = {n: sum(_size(e) for e in fulls.get(n, ())) for n in range(1, stories + 1)}
    short_size = {n: sum(_size(e) for e in shorts.get(n, ())) for n in range(1, stories + 1)}
    everything = len(_serialise(tree).encode("utf-8"))

    def estimate(whole: int) -> int:
        return (
            everything
            - sum(full_size[n] for n in range(whole + 1, stories + 1))
            - sum(short_size[n] for n in range(1, whole + 1))
        )

    whole = next((k for k in range(stories, -1, -1) if estimate(k) < limit), 0)
    while True:
        result = _cut(tree, whole)
        size = len(result.encode("utf-8"))
        if size < limit:
            return result, whole
        if whole == 0:
            raise RenderError(f"email.html: {size} bytes with every story cut short, over {limit}")
        whole -= 1
