"""The noun phrases a question shows as its subject, and the agreement of its verb with them.

A question names who or what its answer's first sentence is about: the noun
phrase opening that sentence ("the match", "Eight guards" shown as "eight
guards"), or one that can do something ("the family", "officials", a name the
story repeats). A phrase holding a clause word, a verb form or punctuation is
no noun phrase, and a thing is never asked what it "did".
"""

from __future__ import annotations

from digest.condense.extractive.cast import Cast
from digest.condense.extractive.roles import ACTOR_NOUNS, GROUP_NOUNS, Actor
from digest.text import STOPWORDS, word_set

#: Words a subject of a passive cannot hold (it would be a clause, not a noun phrase).
NOT_IN_SUBJECT = word_set(
    "and but or that which who when while as if because it they he she this these those there it's "
    "no some any all few many such"
)
DETERMINERS = word_set("the a an its their his her our this that these those")
NUMBER_WORDS = word_set(
    "two three four five six seven eight nine ten eleven twelve dozens hundreds thousands"
)


def agree(actor: Actor) -> dict[str, str]:
    return {
        "does": "do" if actor.plural else "does",
        "is": "are" if actor.plural else "is",
        "has": "have" if actor.plural else "has",
        "was": "were" if actor.plural else "was",
    }


def doer(words: list[str], cast: Cast) -> str | None:
    """A subject that can do something, as a question shows it: a name the story repeats ("Capitol
    Records"), or a role, a group or a person ("the family", "officials"); a thing ("the title") that
    "did" something reads oddly and gives None."""
    head = words[-1].lower()
    if not noun_phrase(words) and not (len(words) == 2 and head in PEOPLE):
        # ("family" ends like an adverb.)
        return None
    names = [n for n in cast.names("x " + " ".join(words)) if not n.place]
    if (
        len(names) == 1
        and (*names[0].title, *names[0].words) == tuple(words)
        and cast.counts[names[0].key] >= 2
    ):
        return " ".join(words)
    if words[0].lower() not in DETERMINERS or not (
        head in ACTOR_NOUNS or head in GROUP_NOUNS or head in PEOPLE
    ):
        return None
    return " ".join([words[0].lower(), *words[1:]])


#: Nouns for people, who do things ("the family", "the couple").
PEOPLE = word_set(
    """
    family families couple man men woman women boy boys girl girls child children mother father parents
    wife husband son daughter pair victim victims suspect suspects teenager teenagers driver crew
    gunman attacker owner player side squad pupils residents
    """
)


def subject_phrase(words: list[str], cast: Cast) -> str | None:
    """The noun phrase opening a sentence as a question shows it ("the match", "Eight guards" as
    "eight guards", "Engineers" as "engineers"), or None when it is no noun phrase."""
    first = words[0].lower()
    if not noun_phrase(words) or (first in STOPWORDS and first not in DETERMINERS):
        # "On Wednesday Adeli was jailed": a subject opens on its determiner or its noun.
        return None
    named = {word for name in cast.names(" ".join(words)) for word in name.words}
    if first in STOPWORDS or first in NUMBER_WORDS or words[0] not in named:
        # A capital that only opens the sentence is not kept.
        return " ".join([first, *words[1:]])
    return " ".join(words) if can_open_subject(words[0]) else None


def can_open_subject(word: str) -> bool:
    """Whether a capitalised first word can open a subject: a name, not "When" or "It"."""
    return word[:1].isupper() and word.lower() not in NOT_IN_SUBJECT and word.lower() not in STOPWORDS


def noun_phrase(words: list[str]) -> bool:
    """Whether ``words`` can be a noun phrase: no clause word, no verb form, no punctuation inside,
    ending on a word that can be a noun."""
    if not words or any(w[-1:] in ",;:" for w in words[:-1]):
        return False
    lowered = [w.lower().strip("\"'“”‘’") for w in words]
    if any(
        w in NOT_IN_SUBJECT or w in ("said", "says", "is", "are", "was", "were", "has", "have")
        for w in lowered
    ):
        return False
    if any(w.endswith(("ed", "ing")) and w[:1].islower() and i > 0 for i, w in enumerate(words)):
        return False
    last = lowered[-1]
    return bool(last) and last not in STOPWORDS and last.isalpha() and not last.endswith("ly")
