"""Who can act: the words that make a noun phrase an actor, and the grammar of such phrases.

An actor is a clean noun phrase at a clause boundary: a name, "the" and a role
word ("the transport department"), a possessive role ("the city's audit
office") or a group ("officials"). The word lists here say which nouns act,
which end an organisation's or a place's name and which are titles; the
functions read one phrase at a time, so ``cast`` can run them over a story.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from digest.text import ABBREVIATIONS, STOPWORDS, word_set

#: Lower-case nouns for bodies and roles that act, speak and take positions ("the agency").
ACTOR_NOUNS = word_set(
    """
    agency council government ministry department mayor president minister company firm bank union party
    court committee commission authority utility operator city state board regulator association group
    spokesman spokeswoman spokesperson director chief team governor prosecutor judge club manager coach
    chairman chairwoman chair executive owner administration office army military navy airline carrier
    insurer charity organisation organization federation league parliament senate congress cabinet premier
    chancellor leader opposition institute university school hospital service trust fund corporation
    developer contractor landlord network broadcaster police watchdog inquiry panel secretary ambassador
    embassy county province region prime king queen prince campaign manufacturer producer retailer
    official spokesman economist analyst source
    """
)
#: How a story refers back to the business it is about ("the company said ...").
BUSINESS_REFERENCES = frozenset(f"the {noun}" for noun in word_set("company firm group corporation business"))
#: Plural nouns for groups that act ("officials", "health workers").
GROUP_NOUNS = word_set(
    """
    officials police authorities analysts economists residents engineers scientists researchers critics
    campaigners experts doctors nurses teachers workers farmers landlords tenants shopkeepers unions
    investors traders lawmakers legislators ministers leaders negotiators protesters activists voters fans
    players parents students patients passengers airlines banks companies firms regulators inspectors
    firefighters rescuers volunteers officers troops soldiers prosecutors judges opponents supporters
    diplomats governments members staff executives developers producers manufacturers retailers
    consumers customers drivers pilots owners businesses opposition governors mayors councillors
    """
)
#: Capitalised words ending an organisation's name: it is shown with "the" ("the Labor Department").
ORG_HEADS = word_set(
    """
    agency department ministry council commission association society institute university service office
    authority union fund board committee corporation party bank trust foundation federation league
    organisation organization alliance court coalition observatory company group network centre center
    """
)
#: A name ending in one of these (or opening on one of the openers) is a place, which does not act.
PLACE_ENDS = word_set(
    """
    street st road rd avenue ave lane square boulevard blvd quay station walk way drive bridge river lake
    bay hills valley island islands highway motorway airport harbour harbor town city village district
    terminal park shelf coast beach canal
    """
)
PLACE_OPENERS = word_set("lake mount mt river cape port fort gulf")
#: Endings of words for what a person does ("striker", "economist", "director", "witness").
ROLE_ENDS = ("er", "ist", "or", "ian", "ant", "ent", "eer", "ive", "ess")
#: Titles kept in front of a person's name ("Mayor Helen Vasquez").
TITLES = word_set(
    """
    mayor president governor dr prof professor sen senator gov minister chancellor judge king queen prince
    princess pope general gen captain capt sir lord lady dame councillor secretary chief deputy inspector
    sheriff coach rev mr mrs ms prime foreign finance health transport interior defence defense justice
    commissioner ambassador director sergeant sgt colonel col lieutenant lt detective
    """
)
#: Words that follow a name used as a name (a verb, an auxiliary), never a demonym.
VERBISH = word_set(
    """
    is was are were has have had said says will would could can may might must did does should told added
    also has wants warned
    """
)
DEMONYM_ENDS = ("an", "ese", "ish", "ic", "ch", "i")
EDGE_PUNCTUATION = "\"'“”‘’(),;:!?[]…"
POSSESSIVE = re.compile(r"['’]s?$")
CLAUSE_OPENERS = word_set(
    "and but that while as after when because so where although though if then whom who"
)


@dataclass(frozen=True)
class Actor:
    """Who or what a question names."""

    #: As shown in a question: "Mayor Helen Vasquez", "the agency", "officials", "the Kestrel moon lander".
    text: str
    plural: bool = False
    #: False for a thing the story is about: it is never asked to respond, speak or take a position.
    acts: bool = True


def bare(raw: str) -> str:
    """A token without its surrounding punctuation, possessive or sentence-final period."""
    word = POSSESSIVE.sub("", raw.strip(EDGE_PUNCTUATION))
    if word.endswith(".") and word[:-1].lower() not in ABBREVIATIONS:
        word = word.rstrip(".")
    return word


def is_title(word: str) -> bool:
    return word.lower().rstrip(".") in TITLES


def before_appositive(tokens: list[str]) -> list[str]:
    """The words before an appositive ending ``tokens``.

    "Karin Holm, who attended the opening," -> "Karin Holm".
    """
    for start in range(len(tokens) - 2, max(-1, len(tokens) - 14), -1):
        if tokens[start].endswith(","):
            # "Ross Walker, UK economist at the bank,": a role word early in it marks an appositive too.
            opening = [t.lower().strip(",") for t in tokens[start + 1 : start + 4]]
            if opening[0] in APPOSITIVE_OPENERS or ACTOR_NOUNS.intersection(opening[:3]):
                return [*tokens[:start], tokens[start][:-1]]
            return []
    return []


APPOSITIVE_OPENERS = word_set("who which whose a an the its his her their one")


def opens_clause(before: Sequence[str], phrase: Sequence[str]) -> bool:
    """Whether ``phrase`` (which ``before`` precedes) starts a clause, so it can be a verb's subject.

    Role words may stand between a clause's start and a name: "Deputy transport minister Karin Holm".
    """
    if phrase[0][:1].isupper():
        rest = list(before)
        for _ in range(3):
            if (
                rest
                and rest[-1].isalpha()
                and (
                    rest[-1].lower() in TITLES
                    or rest[-1].lower() in ACTOR_NOUNS
                    or (rest[-1].islower() and rest[-1] not in STOPWORDS)
                    # "Witness Louie Solano told ...": a role word opening the sentence.
                    or (len(rest) == 1 and rest[0].istitle() and rest[0].lower().endswith(ROLE_ENDS))
                )
            ):
                rest.pop()
        # "UBS economist Maury Harris", "Long-time Labour supporter X": who the role is at or with.
        owner = [*rest[:-2], *(t for t in rest[-2:] if not t[:1].isupper())]
        if len(rest) < len(before) and len(owner) < len(rest) and opens_clause(owner, ["x"]):
            rest = owner
        before = rest
    if not before:
        return True
    return before[-1][-1:] in ',;:"”' or before[-1].lower() in CLAUSE_OPENERS


def is_demonym(word: str, followers: Sequence[str]) -> bool:
    """Whether ``word`` is only ever an adjective of origin ("Marengan aid group", never "Marengan said")."""
    if not word.endswith(DEMONYM_ENDS) or not word.isalpha():
        return False
    before_lower = [w for w in followers if w.islower() and w not in VERBISH and w not in STOPWORDS]
    used_as_name = any(w == "'s" or w.lower() in VERBISH for w in followers)
    return bool(before_lower) and not used_as_name


def role_phrase(tokens: Sequence[str]) -> Actor | None:
    """A role: "the agency", "the city council", "the city's audit office", "Tarvonia's central bank"."""
    words = [bare(t) if i == len(tokens) - 1 else t.strip(EDGE_PUNCTUATION) for i, t in enumerate(tokens)]
    if not words:
        return None
    # The role word ends the phrase; the words before it must be modifiers, never verbs.
    if words[-1] not in ACTOR_NOUNS:
        if words and words[-1] in GROUP_NOUNS and words[0] in ("the", "The") and len(words) <= 3:
            return Actor(" ".join(["the", *words[1:]]), plural=True)
        return None
    middle = words[1:-1]
    # "A Ministry of Justice spokesperson": a body's name before the role.
    named_body = (
        0 < len(middle) <= 4
        and middle[0][:1].isupper()
        and middle[-1][:1].isupper()
        and all(w.isalpha() and (w[:1].isupper() or w == "of") for w in middle)
    )
    if named_body and words[0] in ("the", "The", "a", "A", "an", "An"):
        return Actor(" ".join([words[0].lower(), *words[1:]]))
    if len(middle) > 2 or any(w.lower() in VERBISH or w.lower() in STOPWORDS for w in middle):
        return None
    if words[0] in ("the", "The", "a", "A", "an", "An"):
        if any(not re.fullmatch(r"[a-z][\w-]*(?:['’]s)?", w) for w in middle):
            return None
        # "A senior official told ...": one of many, so the question keeps the "a".
        return Actor(" ".join([words[0].lower(), *words[1:]]))
    if POSSESSIVE.search(words[0]) and words[0][:1].isupper() and len(words) <= 4:
        return Actor(" ".join(words))
    return None
