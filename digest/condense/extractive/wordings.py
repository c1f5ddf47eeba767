"""Question wordings: the form of a section's question, chosen from what its opening sentence does.

A human explainer does not ask "What is known about X?" of every section; it
asks what the section answers. The sentence an answer opens on is read for, in
this order (the first form that fits, with its actor and topic, wins):

1. **A finding**: a report, study, survey or poll, or the figures, *found*,
   *showed*, *revealed*: "What did the audit find?", "What do the figures
   show?".
2. **A decision**: its actor *decided*, *voted*, *approved*, *ruled*: "What did
   the council decide about the ferry?".
3. **A reaction**: its actor *reacted*, *welcomed*, *condemned*, or *was
   angered*: "How did the players react to the ban?", "How have fans reacted?".
4. **A reason**: something done or undergone, with its cause (*because*,
   *after*, *due to*, *amid*, *in a bid to*): "Why has Tajikistan closed the
   border?", "Why was the match postponed?". The participle is the text's own,
   so no verb is ever conjugated by rule.
5. **A person introduced**: the story names someone here first, saying what
   they are (a title, a role word before the name, an appositive after it):
   "Who is Maria Lopez?".
6. **The sentence's kind** (``cues``): what the actor says (in the tense of its
   own "said" or "says"), fears, plans, does, or where it stands; the
   background to a topic.
7. **A thing something happened to** ("The car was found ..."): "What happened
   to the car?"; **figures**: "What do the figures show about X?".
8. **The subject's own deed** (``subjects``): what an actor announced or
   suggested ("What has Margaret Hodge suggested?"), what a person or body
   opening the sentence did ("What did the family do?") or does now to an
   object ("What does the complaint describe?"), what or who it is ("What is
   harbour fever?"), what happened to one who died.
9. Last, "Who is X?" for a person the story marks as one (a title, an age, a
   role before the name), "What happened at X?" for an event told in the past,
   then "What is known about X?", and about the actor alone.

The actor and topic come from ``questions`` (a clean noun phrase each). Forms
that name both say more (specificity 2) than forms naming one (1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from digest.condense.extractive.cast import Cast
from digest.condense.extractive.cues import cues
from digest.condense.extractive.roles import ACTOR_NOUNS, GROUP_NOUNS, ORG_HEADS, ROLE_ENDS, Actor
from digest.condense.extractive.subjects import DETERMINERS, agree, doer, noun_phrase, subject_phrase
from digest.condense.extractive.units import unquoted
from digest.text import STOPWORDS, word_set

#: What a study, survey or set of figures does with what it reports.
_FINDING = re.compile(
    r"\b(?P<noun>report|study|survey|research|inquiry|review|investigation|analysis|poll|audit|census|"
    r"probe|figures|data|statistics|findings|tests)\b(?P<gap>[^.;:!?\"“”]{0,60}?)\b(?:has |have |had )?"
    r"(?:found|finds|showed|shows|suggests|suggested|revealed|reveals|concluded|concludes|indicated|"
    r"indicates)\b",
    re.IGNORECASE,
)
_PLURAL_STUDIES = word_set("figures data statistics findings tests")
_BARE_FIGURES = word_set("figures data statistics")
#: Words before a study's noun worth keeping in a question ("the safety audit", "the Pew survey").
_STUDY_DROPPED = word_set("new latest recent first second last previous same own other")
_DECISION = cues(r"(?:has |have |had )?(?:decided|voted|approved|ruled|opted|chose|agreed to)")
_REACTION = cues(
    r"(?:has |have |had )?(?:reacted|welcomed|condemned|criticised|criticized|praised|hailed|slammed|"
    r"applauded|denounced)|(?:is|are|was|were) (?:angered|furious|outraged|delighted|disappointed|"
    r"dismayed|relieved|upset|shocked|saddened|angry)"
)
#: What gives a cause: "because", "after", "due to".
_REASON = cues(
    r"because|due to|as a result of|in a bid to|in order to|amid|after|following|"
    r"over (?:fears|concerns|claims|allegations)|for (?:failing|breaching|refusing|allegedly)"
)
#: "The match was postponed", "Eight guards have been suspended": a subject, its auxiliary, a participle.
_PASSIVE = re.compile(
    r"^(?P<subject>(?:[\w'’-]+ ){0,5}?[\w'’-]+) (?P<aux>was|were|has been|have been|had been|is being|"
    r"are being) (?:\w+ly )?(?P<verb>[a-z]+ed|found|stolen|taken|killed|hit|shot|sold|held|left|lost|"
    r"built|hurt|given|seen|caught|struck|beaten|thrown|driven|won|cut|put|set)\b"
)
#: "The new line will open in March": a subject, "will" (or "is due to"), a verb and what follows.
_WILL = re.compile(
    r"^(?P<subject>(?:[\w'’-]+ ){0,4}?[\w'’-]+) (?:will|is due to|are due to|is expected to|are expected to|"
    r"is set to|are set to) (?P<be>be )?(?P<verb>[a-z]+)\b(?P<rest>.*)$"
)
#: A time a plan is for.
_TIME = cues(
    r"(?:in|by|from|until|before|on) (?:early |late |mid-)?(?:january|february|march|april|may|june|july|"
    r"august|september|october|november|december|spring|summer|autumn|winter|\d{4})|next (?:week|month|"
    r"year|season|spring|summer|autumn|winter)|this (?:week|month|year|summer|autumn|winter)|"
    r"later this|within (?:weeks|months|days|a year)|on (?:monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday)"
)
#: What a figure measures, and verbs for its change.
_MEASURES = word_set(
    """
    sales profit profits revenue revenues prices price costs cost debt deficit growth unemployment
    inflation rate rates shares turnover earnings output exports imports spending borrowing losses
    income wages pay salaries fares fees bills numbers figures membership attendance traffic
    """
)
_MOVED = cues(
    r"rose|risen|rise|rising|fell|fallen|falling|jumped|climbed|dropped|slumped|increased|decreased|"
    r"grew|grown|surged|plunged|declined|doubled|halved|soared|slipped|edged (?:up|down)|up by|down by"
)
#: Common irregular past forms: what an actor did.
_PAST = (
    "took|made|gave|won|lost|beat|scored|went|came|brought|bought|sold|built|began|broke|chose|drove|"
    "fought|found|got|hit|held|kept|led|left|met|paid|put|ran|set|sent|showed|shot|spent|stood|struck|"
    "threw|wrote|became|saw|told|fell|rose|grew|drew|flew|spoke|stole|swept|caught|taught|sought"
)
_ATTRIBUTING = word_set(
    "added stated noted explained reported claimed insisted argued asked concluded revealed suggested "
    "admitted confirmed announced warned described called named aged based used quoted told"
)
#: Words opening a clause: an actor after one is not the sentence's subject.
_CLAUSE_WORDS = word_set("that while as after when because where although though if whom who which")
#: An actor whose deed a sentence tells is named within this many words of its start.
DEED_MAX_START = 8
#: A person introduced is named within this many words of the sentence's start (its subject).
NEWCOMER_MAX_START = 5
#: Words naming news outlets: whom a speaker told or who reported, never what a question asks about.
_OUTLET_WORDS = word_set(
    """
    bbc cnn reuters afp guardian times telegraph herald mail mirror post independent observer journal
    gazette express chronicle tribune newsweek website newspaper magazine itv abc nbc cbs fox msnbc
    bloomberg politico
    """
)


def is_outlet(actor: Actor) -> bool:
    """Whether ``actor`` is a news outlet ("Daily Mail Australia", "the BBC News website")."""
    return any(word.lower() in _OUTLET_WORDS for word in actor.text.split())


#: A figure worth the wording "What do the figures show": a sum, a share, a quantity.
_FIGURE = re.compile(r"[£$€¥]\s?\d|\d[\d,.]*\s?(?:%|per ?cent|percent|million|billion|bn|trillion|m\b)")


@dataclass(frozen=True)
class Opening:
    """What a question is made from: the sentence an answer opens on, read."""

    #: The opening unit's first sentence, and the whole unit.
    sentence: str
    text: str
    #: What the sentence does (``cues.best_kind``), "" for a plain fact.
    kind: str
    actor: Actor | None
    topic: str | None


def wordings(opening: Opening, cast: Cast) -> Iterable[tuple[str, int]]:
    """Questions of a form ``opening`` fits, the best fitting first, each with its specificity."""
    actor, topic, sentence = opening.actor, opening.topic, opening.sentence
    acts = actor is not None and actor.acts
    if opening.kind == "say" and acts:
        # What someone says is what a section of their words answers, newcomer or not.
        yield from _kind_wordings(opening)
    yield from _finding(sentence, topic)
    yield from _announcement(sentence, cast)
    if acts and actor is not None:
        yield from _decision(sentence, actor, topic, cast)
        yield from _reaction(sentence, actor, topic, cast)
        yield from _reason_for_act(sentence, actor)
    yield from _reason_for_event(sentence, cast)
    yield from _when(sentence, cast)
    yield from _change(sentence, topic)
    # What the actor does about the topic says more than who they are; who they are says more than a
    # wording naming one of the two.
    by_kind = list(_kind_wordings(opening))
    yield from (w for w in by_kind if w[1] >= 2)
    person = _newcomer(sentence, cast)
    if person:
        yield f"Who is {person}?", 2
    yield from (w for w in by_kind if w[1] < 2)
    if acts and actor is not None and opening.kind not in ("", "say") and _speaks(sentence, actor):
        # "Walker said rates may rise": a plan or a fear no wording of its kind fits is still their words.
        yield from _kind_wordings(replace(opening, kind="say"))
    if acts and actor is not None and not opening.kind:
        yield from _deed(sentence, actor)
    yield from _subject_deed(sentence, cast)
    yield from _subject_present(sentence, cast)
    yield from _definition(sentence, cast)
    happened = _passive_subject(sentence, cast)
    if happened:
        yield f"What happened to {happened[0]}?", 1
    if topic and _FIGURE.search(opening.text):
        yield f"What do the figures show about {topic}?", 1 + acts


def fallbacks(opening: Opening, cast: Cast) -> Iterable[tuple[str, int]]:
    """Wordings for a sentence no form fits: who its topic is when that is a person the story marks
    as one, else what is known about its topic, or its actor."""
    if opening.topic and cast.is_person(opening.topic):
        yield f"Who is {opening.topic}?", 1
    if opening.topic and _is_event(opening.topic, opening.sentence):
        yield f"What happened at {opening.topic}?", 1
    if opening.topic:
        yield f"What is known about {opening.topic}?", 1
    if opening.actor is not None:
        yield f"What else is known about {opening.actor.text}?", 1
    yield from ((q, 0) for q in SPARE)


def _speaks(sentence: str, actor: Actor) -> bool:
    """Whether ``sentence`` reports ``actor``'s words ("Walker said", "said Mr Walker")."""
    last = re.escape(actor.text.split()[-1])
    text = unquoted(sentence)
    return bool(
        re.search(rf"\b{last}\b[^.;]{{0,80}}?\b(?:said|says|told)\b", text)
        or re.search(rf"\b(?:said|says)(?: \w+){{0,3}} {last}\b", text)
    )


#: Nouns for gatherings and contests a story can report on.
_EVENTS = word_set(
    """
    rally protest march meeting hearing trial inquest concert festival match game final race derby
    conference summit ceremony funeral wedding party parade vigil show premiere auction election vote
    debate session tournament contest fight launch
    """
)


def _is_event(topic: str, sentence: str) -> bool:
    """Whether ``topic`` is an event the sentence tells of in the past ("the rally", "the match")."""
    return (
        topic.split()[-1].lower() in _EVENTS
        and re.search(r"\b(?:was|were|had|[a-z]{3,}ed)\b", unquoted(sentence)) is not None
        and re.search(r"\b(?:will|next|upcoming)\b", topic + " " + sentence) is None
    )


def _finding(sentence: str, topic: str | None) -> Iterable[tuple[str, int]]:
    """ "What did the audit find?" when a study, survey or the figures report something."""
    found = _FINDING.search(sentence)
    if found is None or (found.group("noun")[:1].isupper() and found.start() > 0):
        # "the Disaster Research Center found": a name, not a study.
        return
    noun = found.group("noun").lower()
    before = sentence[: found.start()].split()
    modifier = before[-1].lstrip("\"'“‘(") if before else ""
    if modifier.lower() in STOPWORDS or modifier.lower() in _STUDY_DROPPED or not modifier.isalpha():
        modifier = ""
    elif modifier[:1].isupper() and len(before) == 1:
        # A capital opening the sentence ("Research ...") says nothing.
        modifier = ""
    study = f"the {modifier} {noun}" if modifier else f"the {noun}"
    asked = f"What do {study} show" if noun in _PLURAL_STUDIES else f"What did {study} find"
    if topic and topic.lower() not in study:
        yield f"{asked} about {topic}?", 2
    if noun not in _BARE_FIGURES:
        # "What do the figures show?" alone could head any story.
        yield f"{asked}?", 1


def _acted(sentence: str, cue: re.Pattern[str], actor: Actor, cast: Cast) -> bool:
    """Whether ``actor`` is the subject of a verb ``cue`` finds in ``sentence``."""
    subjects = [a for a in cast.subjects_of(sentence, cue) if a is not None]
    # "The company decided ...": the actor is shown as the business the headline names.
    named = {a.text for a in subjects} | {r.text for r in map(cast.resolved, subjects) if r is not None}
    return actor.text in named


def _decision(sentence: str, actor: Actor, topic: str | None, cast: Cast) -> Iterable[tuple[str, int]]:
    if _acted(sentence, _DECISION, actor, cast):
        if topic:
            yield f"What did {actor.text} decide about {topic}?", 2
        yield f"What did {actor.text} decide?", 1


def _reaction(sentence: str, actor: Actor, topic: str | None, cast: Cast) -> Iterable[tuple[str, int]]:
    if _acted(sentence, _REACTION, actor, cast):
        if topic:
            yield f"How did {actor.text} react to {topic}?", 2
        yield f"How {agree(actor)['has']} {actor.text} reacted?", 1


def _reason_for_act(sentence: str, actor: Actor) -> Iterable[tuple[str, int]]:
    """ "Why has Tajikistan closed the border?": the actor's act, its object, and a cause after them."""
    last = re.escape(actor.text.split()[-1])
    acted = re.search(rf"\b{last} (?:(?:has|have|had) )?(?P<verb>[a-z]+ed) (?P<rest>.+)$", unquoted(sentence))
    if acted is None or acted.group("verb") in _ATTRIBUTING:
        return
    verb, rest = acted.group("verb"), acted.group("rest")
    cause = _REASON.search(rest)
    thing = rest[: cause.start()].split() if cause else []
    if not 1 <= len(thing) <= 5 or not noun_phrase(thing):
        return
    yield f"Why {agree(actor)['has']} {actor.text} {verb} {' '.join(thing)}?", 2


def _deed(sentence: str, actor: Actor) -> Iterable[tuple[str, int]]:
    """ "What did Adam Lyth do?": a plain fact whose subject is the actor, in the past."""
    last = re.escape(actor.text.split()[-1])
    did = re.search(rf"\b{last} (?:(?P<aux>has|have|had) )?(?P<verb>[a-z]+ed|{_PAST})\b", unquoted(sentence))
    if did is None or did.group("verb") in _ATTRIBUTING:
        return
    before = unquoted(sentence)[: did.start()].split()
    if len(before) > DEED_MAX_START or any(w.lower().strip(",") in _CLAUSE_WORDS for w in before):
        # "Almunia saved, while Ashdown palmed away a shot": the sentence is not about what they did.
        return
    if did.group("aux") in ("has", "have"):
        yield f"What {agree(actor)['has']} {actor.text} done?", 1
    else:
        yield f"What did {actor.text} do?", 1


#: "The family recently started a campaign": a sentence's subject and the past verb after it.
_SUBJECT_DEED = re.compile(
    rf"^(?P<subject>(?:[\w'’-]+ ){{0,4}}?[\w'’-]+) (?:(?P<aux>has|have|had) )?(?:[a-z]+ly )?"
    rf"(?P<verb>[a-z]+ed|{_PAST})\b"
)


def _subject_deed(sentence: str, cast: Cast) -> Iterable[tuple[str, int]]:
    """ "What did the family do?": a plain fact whose subject, not a known actor, did something."""
    did = _SUBJECT_DEED.match(unquoted(sentence))
    if did is None or did.group("verb") in _ATTRIBUTING or did.group("verb") in _NOT_DEEDS:
        return
    subject = doer(did.group("subject").split(" "), cast)
    if subject is None:
        return
    if did.group("verb") == "died":
        yield f"What happened to {subject}?", 1
        return
    if did.group("aux") in ("has", "have"):
        yield f"What {did.group('aux')} {subject} done?", 1
    elif did.group("aux") is None:
        yield f"What did {subject} do?", 1


#: What an actor makes known, in the past and as a question asks it ("What did the council announce?").
_ANNOUNCED = {
    "announced": "announce",
    "unveiled": "unveil",
    "launched": "launch",
    "proposed": "propose",
    "suggested": "suggest",
    "promised": "promise",
    "pledged": "pledge",
    "revealed": "reveal",
    "confirmed": "confirm",
    "admitted": "admit",
    "denied": "deny",
    "recommended": "recommend",
    "called for": "call for",
}
_ANNOUNCEMENT = re.compile(
    r"\b(?:(?P<aux>has|have|had) )?(?:also )?(?P<verb>" + "|".join(_ANNOUNCED) + r")\b(?! that\b| to\b| by\b)"
)
#: The actor making something known opens the sentence: within this many words of its start.
ANNOUNCER_MAX_START = 15


def _announcement(sentence: str, cast: Cast) -> Iterable[tuple[str, int]]:
    """ "What did the ministry announce?", "What has Margaret Hodge suggested?": an actor near the
    sentence's start and what it made known. A speaker who "confirmed that ..." only said something."""
    text = unquoted(sentence)
    found = _ANNOUNCEMENT.search(text)
    if found is None or len(text[: found.start()].split()) > ANNOUNCER_MAX_START:
        return
    verb = found.group("verb")
    subjects = [a for a in cast.subjects_of(text, re.compile(rf"\b{verb}\b")) if a is not None]
    subject = cast.resolved(subjects[0]) if subjects else None
    if subject is None or not subject.acts:
        return
    if found.group("aux") in ("has", "have"):
        yield f"What {agree(subject)['has']} {subject.text} {verb}?", 2
    elif found.group("aux") is None:
        yield f"What did {subject.text} {_ANNOUNCED[verb]}?", 2


#: "The firm works on ...", "The group focuses on ...": a singular subject and its verb in the present.
_SUBJECT_PRESENT = re.compile(
    r"^(?P<subject>(?:[\w'’-]+ ){0,3}?[\w'’-]+) (?:also |now |still |often |only )?(?P<verb>[a-z]{3,}s)\b"
    r"(?P<particle> (?:on|in|for|with|about|against|from))?"
)
_OBJECT_OPENERS = word_set("several many some all every each no both two three four five six")
#: Verbs in the present that say what something is, not what it does ("remains", "seems").
_STATES = word_set("is has was remains seems appears looks becomes means includes contains needs lies sits")


def _subject_present(sentence: str, cast: Cast) -> Iterable[tuple[str, int]]:
    """ "What does the firm work on?": a subject that acts, doing something in the present."""
    found = _SUBJECT_PRESENT.match(unquoted(sentence))
    if found is None:
        return
    verb = found.group("verb")
    if (
        verb in _STATES
        or verb in STOPWORDS
        or verb in _MEASURES
        or verb.endswith(("ss", "us", "is", "ous"))
        or cast.used_as_noun(verb)
    ):
        # "Steel prices", "the systems": a noun in -s, not a verb.
        return
    words = found.group("subject").split(" ")
    subject = doer(words, cast)
    rest = unquoted(sentence)[found.end() :].split()
    objects = rest and (
        rest[0].lower() in DETERMINERS or rest[0].lower() in _OBJECT_OPENERS or rest[0].isdigit()
    )
    if not (found.group("particle") or objects):
        # "Early HSDPA systems typically offer ...": a verb is followed by its object or a particle.
        return
    if subject is None:
        # "The complaint describes several meetings", "The doll features a swimsuit": a thing that
        # does something to an object.
        subject = subject_phrase(words, cast) if words[0].lower() in DETERMINERS else None
    if subject is None or subject.split()[-1].lower() in GROUP_NOUNS or subject.split()[-1].endswith("s"):
        return
    if verb.endswith("ies"):
        base = verb[:-3] + "y"
    elif verb.endswith(("sses", "shes", "ches", "xes", "zes", "sses", "oes")) or verb.endswith("uses"):
        base = verb[:-2]
    else:
        base = verb[:-1]
    yield f"What does {subject} {base}{found.group('particle') or ''}?", 1


#: "Burkitt's lymphoma is a rare form of cancer": a subject, "is" or "was", and what it is.
_DEFINED = re.compile(r"^(?P<subject>(?:[\w'’-]+ ){0,3}?[\w'’-]+) (?P<be>is|was) (?:also )?(?:a|an) ")


def _definition(sentence: str, cast: Cast) -> Iterable[tuple[str, int]]:
    """ "What is Burkitt's lymphoma?", "Who was Sammy Davis?": a sentence saying what its subject is."""
    found = _DEFINED.match(unquoted(sentence))
    if found is None:
        return
    words = found.group("subject").split(" ")
    if words[0].lower() in STOPWORDS or not noun_phrase(words):
        return
    if cast.is_person(" ".join(words)):
        yield f"Who {found.group('be')} {' '.join(words)}?", 2
    elif all(w.islower() or w == words[0] or "'" in w or "’" in w for w in words):
        # A thing named in lower case ("Burkitt's lymphoma", "Dengue fever"), never a name's part.
        yield (
            f"What {found.group('be')} {words[0] if cast.written_capitalised(words[0]) else words[0].lower()}"
            + (" " + " ".join(words[1:]) if len(words) > 1 else "")
            + "?",
            1,
        )


#: Past forms that say what something was or how it went, not a deed ("seemed", "remained").
_NOT_DEEDS = word_set("seemed appeared remained lived needed used based aged named called")


def _when(sentence: str, cast: Cast) -> Iterable[tuple[str, int]]:
    """ "When will the tram line open?": a subject, what it will do, and a time for it."""
    found = _WILL.match(unquoted(sentence))
    # "will open in March": the time follows the verb; "will fit sensors next year" asks about the
    # sensors, not the engineers.
    if found is None or not _TIME.match(found.group("rest").lstrip(" ,")):
        return
    subject = subject_phrase(found.group("subject").split(" "), cast)
    if subject is None or found.group("verb") in STOPWORDS:
        return
    # "The prizes will be awarded in May": "When will the prizes be awarded?"
    yield f"When will {subject} {found.group('be') or ''}{found.group('verb')}?", 2


def _change(sentence: str, topic: str | None) -> Iterable[tuple[str, int]]:
    """ "How have sales changed?": a measure (sales, prices, profits) that rose or fell by a figure."""
    head = topic.split()[-1].lower() if topic else ""
    if topic and head in _MEASURES and _MOVED.search(sentence) and _FIGURE.search(sentence):
        yield f"How {'have' if head.endswith('s') else 'has'} {topic} changed?", 2


def _reason_for_event(sentence: str, cast: Cast) -> Iterable[tuple[str, int]]:
    """ "Why was the match postponed?": a passive opening with its cause."""
    passive = _passive_subject(sentence, cast)
    if passive is None:
        return
    subject, aux, verb, end = passive
    if not _REASON.search(unquoted(sentence)[end:]):
        return
    if " " in aux:
        first, second = aux.split(" ")
        yield f"Why {first} {subject} {second} {verb}?", 2
    else:
        yield f"Why {aux} {subject} {verb}?", 2


def _passive_subject(sentence: str, cast: Cast) -> tuple[str, str, str, int] | None:
    """The subject, auxiliary and participle of a passive opening ("the match", "was", "postponed")."""
    found = _PASSIVE.match(unquoted(sentence))
    if found is None or found.group("verb") in _ATTRIBUTING:
        return None
    subject = subject_phrase(found.group("subject").split(" "), cast)
    if subject is None:
        return None
    return subject, found.group("aux"), found.group("verb"), found.end()


def _newcomer(sentence: str, cast: Cast) -> str | None:
    """A person the story names first in ``sentence`` and says what they are: "Maria Lopez"."""
    text = unquoted(sentence)
    for name in cast.names(text):
        words = name.words
        at = text.find(" ".join(words))
        opener = text[:at].split() if at > 0 else []
        if (
            len(opener) == 1
            and opener[0].istitle()
            and opener[0].isalpha()
            and opener[0].lower() not in STOPWORDS
        ):
            # "Maria Lopez, a nurse, ...": a first name opening the sentence is still the name's.
            words, at = (opener[0], *words), 0
        if (
            name.place
            or not 2 <= len(words) <= 3
            or words[-1].lower() in ORG_HEADS
            or not all(re.fullmatch(r"[A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)?", w) for w in words)
            or not cast.named_first_in(name, sentence)
            # Named late in the sentence, they are not what it is about ("insults against Mr X").
            or at < 0
            or len(text[:at].split()) > NEWCOMER_MAX_START
        ):
            continue
        shown = " ".join(words)
        before = text[:at].split()[-1:]
        after = text[at + len(shown) :]
        titled = any(t.lower().rstrip(".") not in ("mr", "mrs", "ms", "miss") for t in name.title)
        role = bool(before) and (
            before[0] in ACTOR_NOUNS or (before[0].islower() and before[0].endswith(ROLE_ENDS))
        )
        appositive = re.match(r", (?:a|an|the|who|\d+|his|her|[a-z]+ (?:at|of|for|with)) ", after)
        # "Amit Yoran was director of the division": what they are, said outright.
        described = re.match(r" (?:is|was) (?:(?:a|an|the) )?(?:[a-z]+ )?[a-z]+ (?:of|at|for|with)\b", after)
        if titled or role or appositive or described:
            return shown
    return None


#: Per kind, its wordings, most specific first: (template, needs the actor, needs the topic,
#: specificity). {does}/{is}/{has} agree with the actor, {did} is the tense of its own "said";
#: {a} is the actor, {topic} the topic.
_KIND_WORDINGS: dict[str, tuple[tuple[str, bool, bool, int], ...]] = {
    "say": (
        ("What {did} {a} say about {topic}?", True, True, 2),
        ("What {did} {a} say?", True, False, 1),
    ),
    "fear": (
        ("Why {is} {a} worried about {topic}?", True, True, 2),
        ("What {does} {a} fear?", True, False, 1),
        ("What are the risks for {topic}?", False, True, 1),
    ),
    "next": (
        ("What {does} {a} plan for {topic}?", True, True, 2),
        ("What happens next for {topic}?", False, True, 1),
        ("What {does} {a} plan next?", True, False, 1),
    ),
    "response": (
        ("What {has} {a} done about {topic}?", True, True, 2),
        ("How {is} {a} responding?", True, False, 1),
        ("What is being done about {topic}?", False, True, 1),
    ),
    "position": (
        ("Where {does} {a} stand on {topic}?", True, True, 2),
        ("What is the position of {a}?", True, False, 1),
        ("What is the row over {topic}?", False, True, 1),
    ),
    "background": (
        ("What is the background to {topic}?", False, True, 1),
        ("How did {a} get here?", True, False, 1),
    ),
}
#: Wordings that ask about a thing, never about a name.
_ABOUT_THINGS = frozenset(
    {
        "What is the background to {topic}?",
        "What is the row over {topic}?",
        "What is being done about {topic}?",
        "What are the risks for {topic}?",
    }
)
#: "said", "told": the question asks what was said, in the past.
_PAST_SAID = cues(r"said|told|added|stated|explained|insisted|argued|wrote|claimed|admitted")


def _plans(sentence: str, actor: Actor) -> bool:
    """Whether ``actor`` is the subject of a verb of planning in ``sentence`` ("the agency will")."""
    last = re.escape(actor.text.split()[-1])
    # "The office has said it will publish": up to three words between; a plan the actor reports
    # ("the department said a full replacement will start") is theirs too.
    text = unquoted(sentence)
    return (
        re.search(rf"\b{last}(?: [a-z]+){{0,3}}? (?:{_PLANNING}|(?:said|says|announced)\b)", text) is not None
    )


_PLANNING = r"(?:will|plans?|intends?|expects?|aims?|hopes?|wants?|(?:is|are) (?:going|due|set) to)\b"


def _kind_wordings(opening: Opening) -> Iterable[tuple[str, int]]:
    """The wordings of the sentence's kind that its actor and topic can fill."""
    actor, topic = opening.actor, opening.topic
    acts = actor is not None and actor.acts
    past = _PAST_SAID.search(opening.sentence) and not re.search(r"\bsays\b", opening.sentence)
    words = {
        **(agree(actor) if actor is not None else agree(Actor(""))),
        "did": "did" if past else ("do" if actor is not None and actor.plural else "does"),
        "a": actor.text if actor is not None else "",
        "topic": topic or "",
    }
    plans = actor is not None and _plans(opening.sentence, actor)
    for template, needs_actor, needs_topic, specificity in _KIND_WORDINGS.get(opening.kind, ()):
        if needs_actor and opening.kind == "next" and not plans:
            # "a repair plan was shelved": a plan in the sentence is not the actor's.
            continue
        if (acts or not needs_actor) and (topic or not needs_topic):
            if not needs_actor and template in _ABOUT_THINGS and topic and topic[:1].isupper():
                # A person has no "background to" and is no "row over"; who they are is asked
                # otherwise.
                continue
            # A background topic named beside an actor says more than the topic alone.
            bonus = int(acts) if opening.kind == "background" and needs_topic else 0
            yield template.format(**words), specificity + bonus


#: The last resort, when a section's sentences give neither a name nor a noun.
SPARE = (
    "What else is known?",
    "What else should readers know?",
    "What other details are there?",
    "What more is there?",
    "What else was reported?",
    "What remains unclear?",
)
