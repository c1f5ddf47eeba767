"""Story -> Briefing: the Condenser protocol and the registry of backends.

A backend is a class taking the edition's ``CondenseConfig`` and offering
``condense(story, tz)``; it registers itself under a name with
``@register("name")``, and ``get_condenser`` picks the one the config names.
``extractive`` (offline, the default) is imported here so it is always known.

Stories too short for a briefing go into the issue's "Briefly" list as
``briefly_item(story)``.

One story's failure never costs the issue: a ``CondenseError``, or any other
exception while one candidate is extracted or condensed, makes that candidate
a ``Skipped`` (named with its error), and the others go on.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from datetime import tzinfo
from pathlib import Path
from typing import Protocol, TypeVar

from digest.config import CondenseConfig
from digest.errors import CondenseError
from digest.text import cut_words, split_sentences
from digest.types import Briefing, BrieflyItem, Candidate, Map, Skipped, SourceRef, Story

#: What extracting and condensing one candidate gives.
Outcome = Briefing | BrieflyItem | Skipped

#: The longest summary of a "Briefly" item, in words.
BRIEFLY_MAX_WORDS = 40


class Condenser(Protocol):
    """Condenses one story into the Q&A briefing format of FORMAT.md."""

    def condense(self, story: Story, tz: tzinfo) -> Briefing | None:
        """The story as a briefing, or None when its text is too short for one section (it goes to "Briefly").

        Args:
            story: the articles about one event, the lead first.
            tz: the edition's time zone, for the dateline's date.

        Raises:
            CondenseError: the backend failed on this story (the run goes on without it).
        """
        ...

    def notes(self) -> tuple[str, ...]:
        """What went wrong so far without stopping the run, one line each (a model's answer rejected, and
        why); the pipeline puts them in the issue's report."""
        ...


T = TypeVar("T")
_REGISTRY: dict[str, Callable[[CondenseConfig, Path | None], Condenser]] = {}


def register(name: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: make the backend known as ``name``; it is built as ``cls(config, cache_dir)``."""

    def decorator(cls: type[T]) -> type[T]:
        _REGISTRY[name] = cls  # type: ignore[assignment]  # the factory shape is the documented contract
        return cls

    return decorator


def available() -> tuple[str, ...]:
    """The names of the registered backends, sorted."""
    return tuple(sorted(_REGISTRY))


def get_condenser(config: CondenseConfig, cache_dir: Path | None = None) -> Condenser:
    """The backend ``config.backend`` names, built with ``config``; ``cache_dir`` may keep costly results."""
    factory = _REGISTRY.get(config.backend)
    if factory is None:
        raise CondenseError(
            f"condense.backend: unknown backend {config.backend!r}; known: {', '.join(available())}"
        )
    return factory(config, cache_dir)


def condense_candidates(
    candidates: Sequence[Candidate], condenser: Condenser, tz: tzinfo, map: Map = builtins.map
) -> list[Outcome]:
    """Each candidate extracted and condensed, in order: its briefing, or its "Briefly" item when
    its text is too short for one, or ``Skipped`` when extracting or condensing it failed.

    The candidates are extracted through ``map`` (which may run in other processes); the
    condenser works here, since a backend may hold a connection or keep notes.
    """
    return [
        extracted if isinstance(extracted, Skipped) else _condensed(candidate, extracted, condenser, tz)
        for candidate, extracted in zip(candidates, map(_extracted, candidates), strict=True)
    ]


def _extracted(candidate: Candidate) -> Story | Skipped:
    from digest import extract

    try:
        return extract.story(candidate)
    except Exception as err:  # one story's failure, whatever it is, is that story's alone
        return _skipped(candidate, err)


def _condensed(candidate: Candidate, story: Story, condenser: Condenser, tz: tzinfo) -> Outcome:
    try:
        briefing = condenser.condense(story, tz)
        return briefly_item(story) if briefing is None else briefing
    except Exception as err:  # one story's failure, whatever it is, is that story's alone
        return _skipped(candidate, err)


def _skipped(candidate: Candidate, err: Exception) -> Skipped:
    reason = str(err) if isinstance(err, CondenseError) else f"{type(err).__name__}: {err}"
    return Skipped(
        headline=candidate.headline,
        story_id=candidate.id,
        url=candidate.lead.link,
        reason=" ".join(reason.split())[:300] or type(err).__name__,
    )


def source_refs(story: Story) -> tuple[SourceRef, ...]:
    """One reference per article of ``story``, in story order (the lead first)."""
    return tuple(
        SourceRef(
            title=article.entry.title,
            url=article.entry.link,
            feed=article.entry.feed,
            published=article.entry.published,
            entry_id=article.entry.id,
        )
        for article in story.articles
    )


def briefly_item(story: Story) -> BrieflyItem:
    """``story`` as a "Briefly" line: headline, the lead's first sentence (at most 40 words), link."""
    lead = story.lead
    summary = ""
    for paragraph in lead.paragraphs:
        sentences = split_sentences(paragraph)
        if sentences:
            summary = cut_words(sentences[0], BRIEFLY_MAX_WORDS)
            break
    headline = lead.entry.title.strip() or cut_words(summary, 12)
    return BrieflyItem(
        headline=headline,
        summary=summary,
        url=lead.entry.link,
        feed=lead.entry.feed,
        entry_id=lead.entry.id,
    )


# Last, because the backends use the names above; importing one registers it.
import digest.condense.extractive  # noqa: E402
import digest.condense.llm  # noqa: E402,F401
