"""A condenser for tests: its answers come from a function you give it.

Code that takes a ``Condenser`` can be tested without a model or the extractive rules::

    from digest.condense.fake import FakeCondenser

    fake = FakeCondenser()                      # a plain briefing of every story
    fake = FakeCondenser(lambda story, tz: None)  # every story goes to "Briefly"

    def refuse(story, tz):
        raise CondenseError(f"{story.headline}: refused")

    fake = FakeCondenser(refuse, notes=("one answer rejected",))

``stories`` lists every story it was asked to condense, in order. It is not registered
under a backend name: a config cannot pick it by accident; a test registers it under a name
of its own (``register("flaky")(SomeSubclass)``) when a build must find it in the config.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo

from digest.condense import source_refs
from digest.types import Briefing, Dateline, Section, Story

#: What a fake condenser does with a story: a briefing, None ("Briefly"), or an error.
Handler = Callable[[Story, tzinfo], Briefing | None]


def plain_briefing(story: Story, tz: tzinfo) -> Briefing:
    """The lead's first paragraph as the lede, its others as the answer to one question."""
    lead = story.lead
    paragraphs = lead.paragraphs or (lead.entry.title,)
    return Briefing(
        headline=story.headline,
        dateline=Dateline(lead.entry.published.astimezone(tz).date()),
        lede=paragraphs[:1],
        sections=(Section(question="What else is known?", answer=paragraphs[1:] or paragraphs[:1]),),
        sources=source_refs(story),
    )


class FakeCondenser:
    """A ``Condenser`` that answers with ``handler(story, tz)`` and reports ``notes``."""

    def __init__(self, handler: Handler = plain_briefing, notes: Sequence[str] = ()) -> None:
        self.handler = handler
        self._notes = tuple(notes)
        #: Every story asked about, in order.
        self.stories: list[Story] = []

    def condense(self, story: Story, tz: tzinfo) -> Briefing | None:
        self.stories.append(story)
        return self.handler(story, tz)

    def notes(self) -> tuple[str, ...]:
        return self._notes
