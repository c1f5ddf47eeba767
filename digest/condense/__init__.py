"""Story -> Briefing: the Condenser protocol and the registry of backends.

A backend is a class taking the edition's ``CondenseConfig`` and offering
``condense(story, tz)``; it registers itself under a name with
``@register("name")``, and ``get_condenser`` picks the one the config names.
``extractive`` (offline, the default) is imported here so it is always known.

Stories too short for a briefing go into the issue's "Briefly" list as
``briefly_item(story)``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import Protocol, TypeVar

from digest.config import CondenseConfig
from digest.errors import CondenseError
from digest.text import cut_words, split_sentences
from digest.types import Briefing, BrieflyItem, SourceRef, Story

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
