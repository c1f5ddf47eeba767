"""Fit an inlined e-mail under Gmail's clipping limit, and finish it for mail clients.

Gmail hides everything after the first ~102 KB of a message's HTML, the
unsubscribe link included. However many and however long an issue's stories
and "Briefly" items, the e-mail is cut until it fits, and the web copy keeps
everything. What goes first, and what stays longest:

1. "Briefly" items, from the last: the list ends with a link to the rest in
   the full briefing;
2. then the rest of each story (its questions and sources), from the last
   story: its headline and lede stay, with a "read the full briefing" link;
3. then whole stories, from the last: a line says how many more stories the
   full briefing has and links to the first of them.

The template decides what each version looks like; it renders everything,
marked (see email.html): a Briefly item ``data-briefly="I"`` and the link
after the list ``data-briefly-more``; the rest of story N ``data-full="N"``,
its link ``data-short="N"``, the story itself (and its line in the contents)
``data-story="N"``, and for each N a line ``data-stories-more="N"`` that is
kept when N is the first story left out. The CSS is inlined once for the
whole document (inline.py), and then this module only removes elements:

1. every marked element is measured (serialised alone, as bytes of UTF-8);
2. the cuts above form one sequence of versions, from "everything" to "no
   Briefly item, no story"; each version's size is estimated as the whole
   document less the parts it removes, and the first version under the limit
   is taken;
3. the chosen version is serialised and weighed for real, and the next
   version is taken while it is still over (a safety net for serialisation
   details the sum of parts misses), so the result is always under the limit
   or an error (a theme whose frame alone is over it).

What was cut is returned as a ``Fit``, for the run report.

Finishing touches, for documents a theme may have written: the markers are
removed (a ``<span>`` that only carried one with them), and an ``<img>``
without ``alt`` gets an empty one (decorative), so no client reads out a file
name.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import lxml.html  # type: ignore[import-untyped]

from digest.errors import RenderError

FULL = "data-full"
SHORT = "data-short"
STORY = "data-story"
STORIES_MORE = "data-stories-more"
BRIEFLY = "data-briefly"
BRIEFLY_MORE = "data-briefly-more"
_MARKERS = (FULL, SHORT, STORY, STORIES_MORE, BRIEFLY, BRIEFLY_MORE)


@dataclass(frozen=True)
class Fit:
    """What the e-mail kept of an issue: counts, from the first story or item."""

    #: The limit it was fitted under, in bytes.
    limit: int
    stories: int
    #: Stories in the e-mail at all (the rest are only in the full briefing).
    stories_kept: int
    #: Stories shown whole (the others up to ``stories_kept`` show their lede and a link).
    stories_whole: int
    briefly: int
    briefly_kept: int

    @property
    def cut(self) -> bool:
        return (self.stories_kept, self.stories_whole, self.briefly_kept) != (
            self.stories,
            self.stories,
            self.briefly,
        )


def _size(element: lxml.html.HtmlElement) -> int:
    return len(lxml.html.tostring(element, encoding="unicode", with_tail=False).encode("utf-8"))


def _marker_size(element: lxml.html.HtmlElement, attribute: str) -> int:
    size = len(f' {attribute}="{element.get(attribute)}"'.encode())
    if element.tag == "span" and len(element.attrib) == 1:
        size += len("<span></span>")
    return size


def _serialise(tree: lxml.html.HtmlElement) -> str:
    # lxml drops the doctype it parsed unless told; without one, clients render in quirks mode.
    doctype = tree.getroottree().docinfo.doctype or "<!DOCTYPE html>"
    return str(lxml.html.tostring(tree, encoding="unicode", doctype=doctype)) + "\n"


def _marked(tree: lxml.html.HtmlElement, attribute: str) -> dict[int, list[lxml.html.HtmlElement]]:
    found: dict[int, list[lxml.html.HtmlElement]] = {}
    for element in tree.xpath(f"//*[@{attribute}]"):
        value = element.get(attribute, "")
        number = int(value) if value.isdigit() else 0
        found.setdefault(number, []).append(element)
    return found


@dataclass(frozen=True)
class _Version:
    """One way to cut the document: the first ``kept`` stories, ``whole`` of them whole, and
    the first ``briefly`` Briefly items."""

    kept: int
    whole: int
    briefly: int

    def removes(self, attribute: str, number: int, stories: int, items: int) -> bool:
        """Whether this version removes the element marked ``attribute="number"``."""
        if attribute == STORY:
            return number > self.kept
        if attribute == FULL:
            return number > self.whole
        if attribute == SHORT:
            return number <= self.whole
        if attribute == STORIES_MORE:
            return number != self.kept + 1 or self.kept == stories
        if attribute == BRIEFLY:
            return number > self.briefly
        return self.briefly == items  # BRIEFLY_MORE


def _versions(stories: int, items: int) -> Iterator[_Version]:
    """Every version, from the whole document to the most cut, in the order of the docstring."""
    for briefly in range(items, -1, -1):
        yield _Version(stories, stories, briefly)
    for whole in range(stories - 1, -1, -1):
        yield _Version(stories, whole, 0)
    for kept in range(stories - 1, -1, -1):
        yield _Version(kept, 0, 0)


def _cut(tree: lxml.html.HtmlElement, version: _Version, stories: int, items: int) -> str:
    """The document as ``version`` cuts it, markers removed."""
    copied = copy.deepcopy(tree)
    for attribute in _MARKERS:
        for number, elements in _marked(copied, attribute).items():
            for element in elements:
                if version.removes(attribute, number, stories, items):
                    # An element inside one already removed is detached with it; dropping it
                    # again does nothing harmful.
                    if element.getparent() is not None:
                        element.drop_tree()
                else:
                    del element.attrib[attribute]
                    if element.tag == "span" and not element.attrib:
                        element.drop_tag()  # a span that only carried the marker
    for image in copied.iter("img"):
        if image.get("alt") is None:
            image.set("alt", "")
    return _serialise(copied)


def fit_email(html: str, limit: int) -> tuple[str, Fit]:
    """``html`` cut down to fewer than ``limit`` bytes, and what it kept.

    Raises RenderError when even the most cut version (no Briefly item, no story) is over the limit.
    """
    tree = lxml.html.document_fromstring(html)
    marked = {attribute: _marked(tree, attribute) for attribute in _MARKERS}
    stories = max([0, *marked[FULL], *marked[SHORT], *marked[STORY]])
    items = max([0, *marked[BRIEFLY]])
    everything = len(_serialise(tree).encode("utf-8"))
    versions = list(_versions(stories, items))
    if everything < limit:
        # Nearly every issue: the whole document fits, so no part needs measuring.
        first = 0
    else:
        first = _first_under(versions, _estimator(tree, marked, everything, stories, items), limit)
    for version in versions[first:]:
        result = _cut(tree, version, stories, items)
        size = len(result.encode("utf-8"))
        if size < limit:
            fit = Fit(limit, stories, version.kept, version.whole, items, version.briefly)
            return result, fit
    raise RenderError(f"email.html: {size} bytes with every story and Briefly item left out, over {limit}")


def _estimator(
    tree: lxml.html.HtmlElement,
    marked: dict[str, dict[int, list[lxml.html.HtmlElement]]],
    everything: int,
    stories: int,
    items: int,
) -> Callable[[_Version], int]:
    """Each version's size, estimated as the whole document less the parts it removes."""
    sizes = {
        (attribute, number): sum(_size(e) for e in elements)
        for attribute, found in marked.items()
        for number, elements in found.items()
    }
    # What a kept element loses all the same: its marker (and a span that only carried it, its tags).
    markers = {
        (attribute, number): sum(_marker_size(e, attribute) for e in elements)
        for attribute, found in marked.items()
        for number, elements in found.items()
    }

    def estimate(version: _Version) -> int:
        removed = 0
        for (attribute, number), size in sizes.items():
            # Parts of a story left out go with it: not counted twice.
            if attribute in (FULL, SHORT) and number > version.kept:
                continue
            cut = version.removes(attribute, number, stories, items)
            removed += size if cut else markers[attribute, number]
        return everything - removed

    return estimate


def _first_under(versions: list[_Version], estimate: Callable[[_Version], int], limit: int) -> int:
    """The index of the first version whose estimate is under ``limit`` (the last when none is).

    The estimates fall along the sequence (a story's link is shorter than the rest it stands
    for), so this is a binary search: an issue with thousands of Briefly items is not estimated
    thousands of times over.
    """
    low, high = 0, len(versions) - 1
    while low < high:
        middle = (low + high) // 2
        if estimate(versions[middle]) < limit:
            high = middle
        else:
            low = middle + 1
    return low
