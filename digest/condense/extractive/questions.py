"""Questions from the section itself: who acts in it, what they do, and what it is about.

A section's question is built from the sentence that will open its answer, so
the first thing a reader sees under a question is what it asks about. For each
sentence of a section that can open an answer (``units.opens_news``), in the
first ``OPENER_WINDOW`` units:

1. **Actor**: the speaker of its quote or "X said" clause, else the subject of
   its cue verb, else the subject of its first verb, as ``cast.Cast`` finds
   them (clean noun phrases only: a name, "the agency", "officials").
2. **What they do**: the sentence's kind (``cues.best_kind``): say, fear,
   respond (decide, act), take a position, plan, recall the past; "" for plain
   facts.
3. **Topic**: the best noun phrase of the sentence that is not the actor: runs
   of content words (no stop word, verb form, adverb or vague noun such as
   "year" or "people") ending on a noun-like word, at most three words. A word
   scores its count in the section times its inverse section frequency (what
   this section is about, against the rest of the story), plus a little for a
   proper name and for a headline word. "the" is put before a singular common
   noun that had a determiner or needs one ("the border", "the dollar"); a
   possessive owner is kept ("Greece's debt").

The sentence with the best actor and topic wins (a clean one, the earlier the
better, and its centrality within the section breaks ties); the question reads
"How is Tajikistan handling the border?"-like: "What does Rick Egelton say
about the dollar?", "What has Time Warner done about its accounts?", "What
happens next for the tram line?". A wording without a topic names the actor; a
wording naming neither ("What else is known?") is the last resort, used only
when the section's sentences offer no name and no noun. Questions are at most
12 words, end in "?", and are never repeated within a briefing.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import chain

from digest.condense.extractive.cast import Cast
from digest.condense.extractive.cues import KIND_CUES, QUOTE, SAID_BEFORE, best_kind, cues
from digest.condense.extractive.roles import Actor
from digest.condense.extractive.units import OPENING_QUOTES, Unit, opens_news, quoted_tokens, unquoted
from digest.condense.extractive.wordings import SPARE, Opening, fallbacks, is_outlet, wordings
from digest.text import STOPWORDS, content_words, word_set

QUESTION_MAX_WORDS = 12
#: What a question no form fits ("What is known about X?") gives up against one read from a later
#: sentence: the reader is better served by opening the answer one or two sentences on.
FALLBACK_COST = 1.3
#: The units of a section that may open its answer (the earliest are the likeliest openers).
OPENER_WINDOW = 4
#: Kinds a speaker's words keep: "said it had ordered a survey" is a response, not just words.
_SPOKEN_KINDS = frozenset({"fear", "next", "response", "position"})
#: An appositive after an actor ("Fallow Water, the island's utility,") is at most this long.
APPOSITIVE_MAX_CHARS = 60
#: Role words before a speaker's name ("UBS chief economist") are at most this many.
ROLE_MAX_WORDS = 3
#: Topic phrases are at most this many words ("Royal Bank of Scotland": a name with "of" one more).
TOPIC_MAX_WORDS = 3
#: What each word of distance from the sentence's start takes off a topic's score.
TOPIC_POSITION_DECAY = 0.03

#: A sentence reporting speech: "said", "told", "saying".
_SPOKEN = re.compile(rf"{SAID_BEFORE.pattern}|\bsaying\b")
#: Characters never inside a name a question shows.
_NOT_IN_NAMES = ':;()"“”'
#: Nouns too vague to name what a section is about.
_VAGUE = word_set(
    """
    year years month months week weeks day days time times people way ways lot lots number numbers part
    parts thing things something anything everything nothing someone anyone everyone percent cent per
    million millions billion billions thousand thousands hundred hundreds end start beginning kind kinds
    sort type case cases fact point points place places area areas side sides group one ones other others
    today tonight yesterday tomorrow morning evening night weekend monday tuesday wednesday thursday friday
    saturday sunday january february march april june july august september october november december
    spokesman spokeswoman spokesperson statement comment comments interview report reports reporter
    reporters news story article video footage picture pictures photo photos image images
    mr mrs ms dr sir lot bit half quarter third level levels rate use move moves step steps issue issues
    matter matters question questions many much more most less least few several such same own
    worry worries fear fears concern concerns risk risks threat threats danger dangers plan plans
    two three four five six seven eight nine ten eleven twelve twenty dozen dozens
    warning warnings hope hopes euros euro pounds dollars crowns yen francs rupees cents pence
    """
)
#: Prepositions and other words that end a noun phrase but are not stop words.
_FUNCTION_WORDS = word_set(
    """
    since until despite among amid amidst across within without via per toward towards upon onto
    throughout beyond near including following against along around behind beside besides like unlike
    versus inside outside whether though although unless instead rather yet ago twice once again too
    later earlier soon every each back ahead away apart together abroad overseas pre-game
    perhaps probably possibly maybe almost nearly quite rather very really certainly clearly
    """
)
#: Common verb forms that no suffix gives away.
_VERBS = word_set(
    """
    said says say told tell tells added adds made make makes take takes took taken get gets got gotten
    go goes went gone come comes came give gives gave given find finds found see sees saw seen show shows
    showed shown know knows knew known think thinks thought want wants need needs become becomes became
    keep keeps kept hold holds held lead leads led meet meets met run runs ran set sets put puts cut cuts
    hit hits begin begins began begun bring brings brought build builds built leave leaves left pay pays
    paid sell sells sold buy buys bought spend spends spent rise rises rose risen fall falls fell fallen
    grow grows grew grown win wins won lose loses lost seem seems seemed remain remains believe believes
    expect expects hope hopes plan plans warn warns face faces call calls ask asks feel feels felt
    let lets allow allows help helps try tries tried look looks use uses work works include includes
    includes continue continues claim claims insist insists admit admits deny denies agree agrees
    stand stands stood sit sits sat speak speaks spoke spoken write writes wrote written read reads
    could would should might must shall can may will cannot became seen done doing does did
    is are was were be been being has have had having also just only even still already
    sent send sends sat spent lay laid fled fought caught taught sought struck stuck threw thrown drove
    driven broke broken chose chosen wore worn hid hidden shot shut spread dealt meant
    """
)
#: Words ending in -ing that are nouns ("the building", "funding").
_ING_NOUNS = word_set(
    """
    building buildings funding meeting meetings spending housing training hearing hearings ruling rulings
    ceiling offering offerings earnings savings warning warnings finding findings shooting shootings
    bombing bombings killing killings landing landings opening recording recordings wedding setting
    evening morning clothing bedding ring king thing string spring wing sibling darling
    """
)
#: Endings of words that modify a noun: "faulty wiring", "illegal parking", "heavy flooding".
_MODIFIER_ENDS = ("y", "al", "ous", "ive", "ic", "ful", "ary", "ant", "ent")
_ADJECTIVE_ENDS = ("ous", "ful", "less", "able", "ible", "ly")
#: Adjectives common in news, which never head a topic ("the senior" is not one).
_ADJECTIVES = word_set(
    """
    senior junior former new local national international political economic financial federal public
    private major key big small large great good bad high low young old long short early late full final
    main top general special social military foreign domestic global current recent possible potential
    likely real whole entire total annual daily weekly monthly average overall first second third last
    next previous other certain different similar single several various serious strong weak hard easy
    clear free open close far near wide deep huge tiny vast massive extra further particular chief
    best worst better worse separate sexual well straightaway natural fine poor rich sure true false
    right wrong ready able unable due alone alive dead brief busy fresh hot cold warm safe
    largest biggest greatest highest lowest smallest longest oldest youngest richest strongest fastest
    closer bigger larger smaller higher lower greater longer shorter older younger stronger weaker
    faster slower cheaper harder easier tougher wider deeper richer poorer safer fewer
    """
)
#: A figure worth the wording "What do the figures show": a sum, a share, a quantity.
_FIGURE = re.compile(r"[£$€¥]\s?\d|\d[\d,.]*\s?(?:%|per ?cent|percent|million|billion|bn|trillion|m\b)")
#: After these the next word is a verb ("to raise awareness", "will interpret"), never a topic's first word.
_BEFORE_VERB = word_set("to will would can could should may might must not did does do don't didn't won't")
#: Capitalised words that open sentences or clauses but never name anything.
_NEVER_NAMES = word_set(
    """
    indeed also however meanwhile instead still yet then now here there today yesterday tomorrow
    that this these those what who which when where why how it its it's that's there's here's
    """
)
_DETERMINERS = word_set("the a an its their his her our this that these those your my")
_AFTER_DETERMINER = re.compile(
    r"\b(?:the|a|an|its|their|his|her|our|of|these|those)\s+([a-z][\w-]*s)\b", re.I
)
_MASS_ENDS = ("ment", "tion", "sion", "ity", "ness", "ism", "ance", "ence", "ure", "age", "ing", "ics")
_EDGE = "\"'“”‘’(),;:!?[]…."
#: An owner before a noun: "Greece's", "the Tories'".
_POSSESSIVE = re.compile(r"^[\"“‘(]*([A-Z][\w.&-]*?)(['’]s|s['’])$")
#: Any verb: the subject before one is the sentence's actor when no cue verb has one.
_ANY_VERB = cues(
    r"\w{3,}ed|said|says|has|have|had|is|are|was|were|will|would|could|can|did|does|made|makes|won|"
    r"lost|became|took|takes|gave|gives|got|gets|went|goes|came|comes|found|finds|saw|showed|shows|told|"
    r"wants|needs|plans|hopes|faces|remains|rose|fell|grew|left|paid|sold|bought|spent|kept|held|led|met|"
    r"ran|began|brought|built|thinks|believes|knows|admits|claims|insists|denies|agrees|expects"
)
#: Question words and the words of the wordings below: what a question holds beyond its story.
QUESTION_WORDS = word_set(
    """
    what who why how where when which does do did is are was were has have had the a an about for on
    to of in with and say saying said fear worries worry plan planning plans next happens happen done
    doing being responding respond response stand stands position positions background history known
    else know figures show shows risks risk at stake story people others other reporting should readers
    comes led up this here get got involved role mean means worried argues find decide react reacted
    happened changed dispute
    """
)


@dataclass(frozen=True)
class Topics:
    """What tells one section's topic from the rest of the story's."""

    #: Content-word counts per section, in section order.
    counts: tuple[Counter[str], ...]
    #: In how many sections each content word stands.
    spread: Counter[str]
    headline: frozenset[str]
    #: Words the story uses as nouns: after "the", "a", "its", "of" ("the replaces" never occurs, so
    #: in "the program replaces the icons" the word is a verb).
    nouns: frozenset[str] = frozenset()
    #: Words the story writes capitalised mid-sentence more often than in lower case: names, which a
    #: topic never shows lower-cased.
    names: frozenset[str] = frozenset()
    #: Per section, the words it writes outside quotations, lower-cased: a word a quote uses ("Quarry
    #: Street", "the pipes") may be in a topic when the section's writer uses it too, so the answer
    #: names the topic in its own words; a quote's own words never are.
    named_outside: tuple[frozenset[str], ...] = ()

    @classmethod
    def of(cls, sections: Sequence[Sequence[Unit]], headline: str) -> Topics:
        counts = tuple(Counter(w for u in section for w in content_words(u.text)) for section in sections)
        spread: Counter[str] = Counter()
        for count in counts:
            spread.update(count.keys())
        text = " ".join(u.text for section in sections for u in section)
        nouns = frozenset(m.lower() for m in _AFTER_DETERMINER.findall(text))
        lower: Counter[str] = Counter()
        capital: Counter[str] = Counter()
        outside: list[frozenset[str]] = []
        for section in sections:
            writer: set[str] = set()
            for sentence in (part for u in section for part in u.parts):
                tokens = sentence.split(" ")
                for word, quoted in zip(tokens[1:], quoted_tokens(tokens)[1:], strict=True):
                    bare = word.strip(_EDGE)
                    (lower if bare.islower() else capital if bare.istitle() else Counter())[bare.lower()] += 1
                    if not quoted:
                        writer.add(bare.lower())
            outside.append(frozenset(writer))
        names = frozenset(w for w, n in capital.items() if n > lower[w])
        headline_words = frozenset(content_words(headline))
        return cls(counts, spread, headline_words, nouns, names, tuple(outside))

    def mentions(self, word: str) -> int:
        """How often the story says ``word``."""
        return sum(count[word] for count in self.counts)

    def weight(self, section: int, word: str) -> float:
        idf = math.log((1 + len(self.counts)) / (1 + self.spread[word])) + 1
        return self.counts[section][word] * idf + (0.5 if word in self.headline else 0.0)


@dataclass(frozen=True)
class Framed:
    """A section's question, and the unit its answer opens on."""

    question: str
    opener: Unit
    #: How much of the story the question names: 2 (actor and topic), 1 (one of them), 0 (neither).
    specificity: int


def frame(
    section: Sequence[Unit], number: int, topics: Topics, cast: Cast, story_year: int, asked: set[str]
) -> Framed:
    """The question for ``section`` (the ``number``-th of the story) and the unit that answers it first."""
    best: tuple[float, Framed] | None = None
    for position, unit in enumerate(section[:OPENER_WINDOW]):
        if not opens_news(unit) and position > 0:
            continue
        # The sentence the answer opens on says what the section does; later ones only when it is plain.
        kind = best_kind(unit.parts[0], story_year) or best_kind(unit.text, story_year)
        speaker = cast.opening_speaker(unit)
        actor: Actor | None
        if speaker is not None:
            # "Mardas said that ...": someone speaking, unless what they report is a fear, a plan, an
            # act or a stance of theirs ("the agency said it had ordered a survey"); quoted words are
            # what they say.
            first_sentence = unit.parts[0]
            reported = not QUOTE.search(first_sentence) and speaker.text.split()[-1] in first_sentence
            kind, actor = (kind if kind in _SPOKEN_KINDS and reported else "say"), speaker
        else:
            actor = cast.actor_of(unit, KIND_CUES.get(kind), _ANY_VERB)
            if kind == "say" and not _SPOKEN.search(unquoted(unit.parts[0])):
                # 'Turkey could help "Old Europe"': words in quotation marks nobody is said to speak
                # make no speaker of the sentence's subject.
                kind = ""
            writer = unquoted(unit.text)
            if actor is not None and actor.text.split()[-1] not in writer:
                # '"Hanoi is full of bikes," Thompson said': who acts in a quote is not its speaker.
                parts = tuple(unquoted(part) for part in unit.parts)
                actor = cast.actor_of(replace(unit, parts=parts), KIND_CUES.get(kind), _ANY_VERB)
        if actor is not None and (
            (is_outlet(actor) and actor != cast.main) or any(mark in actor.text for mark in _NOT_IN_NAMES)
        ):
            # "..., the Guardian reported": who reported is not who acts, unless the story is about it;
            # and a name fused with page furniture ('Alex Lees:"We') names no one. Neither is a topic.
            exclude_outlet = set(content_words(actor.text))
            actor = None
        else:
            exclude_outlet = set()
        # "The company said ...": the question names which company.
        named = cast.resolved(actor)
        exclude = set(content_words(f"{actor.text} {named.text}")) if actor and named else set()
        exclude |= exclude_outlet
        if actor is not None:
            # "Fallow Water, the island's utility, said ...": what the actor is called is not a topic.
            exclude |= set(content_words(_appositive(unit.parts[0], actor.text)))
            # "UBS economist Maury Harris said": the role named before a speaker is theirs too.
            exclude |= set(content_words(_described_before(unit.parts[0], actor.text)))
        topic = None
        first = unit.parts[0]
        verb = _ANY_VERB.search(first)
        if actor is not None and verb is not None and first[:1] not in OPENING_QUOTES:
            # The actor is the subject: what it does something about comes after its verb
            # ("Russian Foreign Minister Sergei Lavrov noted worries the conflict could spread").
            topic = topic_phrase(first, number, topics, exclude, after=len(first[: verb.start()].split()))
        topic = topic or topic_phrase(first, number, topics, exclude)
        opening = Opening(first, unit.text, kind, named, topic)
        fitted = ((q, s, 0.0) for q, s in wordings(opening, cast))
        for question, specificity, cost in chain(
            fitted, ((q, s, FALLBACK_COST) for q, s in fallbacks(opening, cast))
        ):
            if len(question.split()) > QUESTION_MAX_WORDS or question in asked:
                continue
            value = 2.0 * specificity + (1.0 if opens_news(unit) else -3.0) - 0.4 * position - cost
            if best is None or value > best[0]:
                best = (value, Framed(question, unit, specificity))
            break
    if best is None:
        spare = next(q for q in SPARE if q not in asked)
        return Framed(spare, section[0], 0)
    return best[1]


def _described_before(sentence: str, actor: str) -> str:
    """The role words just before ``actor`` in ``sentence`` ("UBS economist" before "Maury Harris")."""
    at = sentence.find(actor.removeprefix("the "))
    if at <= 0:
        return ""
    before = sentence[:at].split()[-ROLE_MAX_WORDS:]
    kept: list[str] = []
    for word in reversed(before):
        if word[-1:] in ",;:\"”'’" or word.lower() in STOPWORDS:
            break
        kept.insert(0, word)
    return " ".join(kept)


def _appositive(sentence: str, actor: str) -> str:
    """The phrase set off by commas right after ``actor`` in ``sentence`` ("the island's utility"), or ""."""
    at = sentence.lower().find(actor.lower())
    if at < 0:
        return ""
    rest = sentence[at + len(actor) :]
    if not rest.startswith(", "):
        return ""
    closing = rest.find(",", 2)
    if closing < 0 and rest.endswith("."):
        # '"...," says Reza Moghadam, assistant director of the fund.': the appositive ends the sentence.
        closing = len(rest) - 1
    return rest[2:closing] if 0 < closing <= APPOSITIVE_MAX_CHARS else ""


def topic_phrase(
    sentence: str, section: int, topics: Topics, exclude: set[str], after: int = 0
) -> str | None:
    """The noun phrase of ``sentence`` that best names what section ``section`` is about, or None.

    Words before token ``after`` (the actor's own noun phrase) are not considered.
    """
    tokens = sentence.split(" ")
    # A quote's words are the speaker's, not what the writer names ("'See yas tomoz boys!'").
    inside = quoted_tokens(tokens)
    best: tuple[float, str] | None = None
    run: list[int] = []
    # Who was told ("told the BBC News website", "told reporters") is where the words went, and who
    # a claim is "according to" is its source: neither is what they are about, so the phrase right
    # after a verb of telling, or after "according to", names no topic.
    listener = False
    for index in range(len(tokens) + 1):
        raw = tokens[index].strip(_EDGE) if index < len(tokens) else ""
        # A possessive ends a phrase and owns the next one ("Greece's debt").
        possessive = raw.endswith(("'s", "’s")) or (raw != "" and tokens[index].endswith(("s'", "s’")))
        before = tokens[index - 1].strip(_EDGE) if index > 0 else ""
        if _joins_name(tokens, index, run):
            # "Royal Bank of Scotland", "House of Lords": "of" inside a name.
            run.append(index)
            continue
        if (
            raw
            and not possessive
            and index >= after
            and (not inside[index] or _named_in_quote(tokens, index, inside, topics.named_outside[section]))
            and not (raw.islower() and raw in topics.names)
            and not _acts_on(raw, before, tokens[index + 1] if index + 1 < len(tokens) else "", topics)
            and _topic_word(_bare(raw), index, exclude, before, closes=tokens[index][-1:] in ",;")
        ):
            run.append(index)
            if tokens[index][-1:] not in ',;:.!?)"”’':
                continue
        if not listener:
            for phrase in _phrases(tokens, run, topics.nouns):
                found = _best_of_run(tokens, phrase, section, topics)
                if found is not None and (best is None or found[0] > best[0]):
                    best = found
        # A determiner or a title passes the listener on to its noun ("told the BBC", "to Mr Lund").
        if run or (raw.lower() not in _DETERMINERS and raw.lower() not in _TITLE_WORDS):
            listener = raw.lower() in _TELLING or (raw.lower() == "to" and before.lower() == "according")
        run = []
    return best[1] if best is not None else None


#: Words opening a verb's object: "replaces all the icons", "holds the record".
_OBJECT_OPENERS = word_set("the a an all its his her their our this that these those to some every each no")
_TITLE_WORDS = word_set("mr mrs ms dr sir")
#: Verbs whose object is the listener, not the topic.
_TELLING = word_set("told tell tells telling")


def _named_in_quote(
    tokens: Sequence[str], index: int, inside: Sequence[bool], writer: frozenset[str]
) -> bool:
    """Whether a quote's token ``index`` is a word the writer uses too ("to Quarry Street any more",
    "the oldest pipes"); a name modifying a noun the writer never uses ("the Keldaran economy") is
    the speaker's."""
    if _bare(tokens[index]).lower() not in writer:
        return False
    following = tokens[index + 1].strip(_EDGE) if index + 1 < len(tokens) else ""
    modifies = (
        index + 1 < len(inside) and inside[index + 1] and following.islower() and following not in STOPWORDS
    )
    return not (tokens[index][:1].isupper() and modifies and _bare(following).lower() not in writer)


def _joins_name(tokens: Sequence[str], index: int, run: Sequence[int]) -> bool:
    """Whether token ``index`` is the "of" between two capitalised words of one name."""
    return (
        bool(run)
        and index + 1 < len(tokens)
        and tokens[index] == "of"
        and run[-1] == index - 1
        and tokens[index - 1][:1].isupper()
        and tokens[index - 1][-1:].isalpha()
        and tokens[index + 1][:1].isupper()
    )


def _acts_on(word: str, before: str, following: str, topics: Topics) -> bool:
    """Whether ``word``, after the noun ``before``, is the verb of which that noun is the subject: "the
    program replaces all the icons" (a word in -s after a singular noun and before its object's
    determiner, which the story never uses as a noun: never "the replaces")."""
    return (
        following.lower() in _OBJECT_OPENERS
        and word.islower()
        and _verb_like_s(word)
        and before.isalpha()
        and before.islower()
        and not _verb_like_s(before)
        and before not in STOPWORDS
        and word not in topics.nouns
        and word not in _PLURAL_MODIFIERS
    )


def _phrases(tokens: Sequence[str], run: Sequence[int], nouns: frozenset[str]) -> list[list[int]]:
    """``run`` split where a name ends and an adjective opens another phrase ("Karim Benz | next summer")."""
    phrases: list[list[int]] = []
    for index in run:
        word = _bare(tokens[index])
        if phrases and word in _ADJECTIVES and _bare(tokens[phrases[-1][-1]])[:1].isupper():
            phrases.append([index])
        elif phrases:
            phrases[-1].append(index)
        else:
            phrases.append([index])
    subject = phrases[0] if phrases else []
    if subject and subject[0] == 1 and tokens[0].lower() in ("the", "a", "an") and len(subject) >= 3:
        # "The game rewards replay because ...": opening the sentence, a word in -s after a singular
        # noun and before more words is the subject's verb, not part of its noun.
        # Likewise a bare word after a plural noun is the verb agreeing with it ("The cars handle
        # well"): a compound noun puts its plural last ("car parks"), but for the few nouns only
        # ever plural ("the rights group").
        for at in range(1, len(subject) - 1):
            word, before = _bare(tokens[subject[at]]), _bare(tokens[subject[at - 1]])
            singular_verb = _verb_like_s(word) and not _verb_like_s(before)
            plural_verb = (
                not _verb_like_s(word) and _verb_like_s(before) and before.lower() not in _PLURAL_MODIFIERS
            )
            if word.islower() and (singular_verb or plural_verb):
                # What follows the verb is its object, a phrase of its own ("steep hills").
                phrases[0:1] = [part for part in (subject[:at], subject[at + 1 :]) if part]
                break
    return [part for phrase in phrases for part in _split_at_plural_verb(tokens, phrase, nouns)]


def _split_at_plural_verb(tokens: Sequence[str], phrase: list[int], nouns: frozenset[str]) -> list[list[int]]:
    """``phrase`` split at a verb agreeing with the plural noun before it, anywhere in a sentence
    ("as more patients reach treatment centres" gives "patients" and "treatment centres"): a bare word
    the story never uses as a noun, between a plural and more words."""
    for at in range(1, len(phrase) - 1):
        word, before = _bare(tokens[phrase[at]]), _bare(tokens[phrase[at - 1]])
        if (
            word.islower()
            and before.islower()
            and word not in nouns
            and not _verb_like_s(word)
            and _verb_like_s(before)
            and before not in _PLURAL_MODIFIERS
        ):
            return [phrase[:at], *_split_at_plural_verb(tokens, phrase[at + 1 :], nouns)]
    return [phrase]


#: Nouns in -s that modify another noun: "the sports car", "the arms trade", "the rights group".
_PLURAL_MODIFIERS = word_set(
    "sports arms sales news customs savings earnings goods jobs rights weapons drugs arts systems "
    "services parks works affairs communications"
)


def _verb_like_s(word: str) -> bool:
    return word.endswith("s") and not word.endswith(("ss", "us", "is", "'s", "’s"))


def _best_of_run(
    tokens: Sequence[str], run: Sequence[int], section: int, topics: Topics
) -> tuple[float, str] | None:
    """The best phrase ending a run of topic words: its head is the run's last noun-like word.

    Vague nouns and adjectives may stand in a phrase ("extremist group", "senior official") but never
    make one alone, and weigh nothing.
    """
    while run and not _noun_like(_bare(tokens[run[-1]])):
        run = run[:-1]
    # "Granada last week": a vague noun after an adjective ends no topic.
    if (
        len(run) > 2
        and _bare(tokens[run[-2]]).lower() in _ADJECTIVES
        and _bare(tokens[run[-1]]).lower() in _VAGUE
    ):
        run = run[:-2]
    # "the striker Karim Benzema": a role before a name; the name is the topic.
    lower = [i for i in run if not _bare(tokens[i])[:1].isupper() and tokens[i] != "of"]
    if lower and _bare(tokens[run[-1]])[:1].isupper():
        # "Rovers boss Mark Hughes": the name after the last lower-case word.
        run = [i for i in run if i > lower[-1]]
    run = run[-(TOPIC_MAX_WORDS + ("of" in (tokens[i] for i in run))) :]
    while run and tokens[run[0]] == "of":
        run = run[1:]
    words = [_bare(tokens[i]) for i in run]
    if not words or (len(words) == 1 and _weightless(words[0])):
        return None
    figure = run[0] > 0 and tokens[run[0] - 1].replace(",", "").replace(".", "").isdigit()
    if words[-1].lower() in _VAGUE and not figure:
        # "novel ways", "the background images": a vague head names nothing a reader could ask about.
        return None
    if len(words) == 1 and words[0].islower() and topics.mentions(words[0].lower()) < 2:
        # A lone common word the story uses once is as likely a verb or an adjective ("rid", "keen")
        # as the noun a section is about; what a section is about recurs.
        return None
    weights = [
        0.0
        if _weightless(w) or w == "of"
        else topics.weight(section, w.lower()) + (0.5 if w[:1].isupper() else 0.0)
        for w in words
    ]
    if max(weights) <= 0:
        return None
    # What the sentence's main clause is about comes early; a late subordinate clause rarely is.
    score = max(weights) + 0.25 * (len(words) - 1) - TOPIC_POSITION_DECAY * run[0]
    return score, _with_determiner(tokens, run[0], words)


def _with_determiner(tokens: Sequence[str], start: int, words: Sequence[str]) -> str:
    """The phrase as a question shows it: "the border", "Greece's debt", "unemployment", "Time Warner"."""
    phrase = " ".join(words)
    before = tokens[start - 1] if start > 0 else ""
    if before.replace(",", "").replace(".", "").isdigit() and words[0].lower() in _VAGUE:
        # "400 million doses": the figure belongs to its unit.
        return f"{before} {phrase}"
    owner = _POSSESSIVE.match(before)
    if owner and owner.group(1).lower() not in _NEVER_NAMES:
        # "Greece's debt"; "the Tories' idea" keeps the owner's article.
        the = "the " if start > 1 and tokens[start - 2].lower() == "the" else ""
        return f"{the}{owner.group(1)}{owner.group(2)} {phrase}"
    if words[0][:1].isupper() and all(w[:1].isupper() or w == "of" for w in words):
        # A name: "the" only where the text itself writes it ("the Arc de Triomphe").
        return f"the {phrase}" if before.lower() == "the" else phrase
    head = words[-1].lower()
    determined = False
    for token in reversed(tokens[max(0, start - 3) : start]):
        # "the old toll bridge": a determiner before the phrase's own modifiers, in the same clause.
        word = token.lower().strip(_EDGE)
        if word in _DETERMINERS or token[-1:] in ",;:":
            determined = word in _DETERMINERS
            break
        if word in STOPWORDS or word in _FUNCTION_WORDS:
            break
    if determined or not (head.endswith("s") or head.endswith(_MASS_ENDS)):
        return f"the {phrase}"
    return phrase


def _topic_word(word: str, index: int, exclude: set[str], before: str = "", closes: bool = False) -> bool:
    lower = word.lower()
    acronym = len(word) == 2 and word.isupper()  # "the FA Cup"
    if (len(word) < 3 and not acronym) or not word.replace("-", "").isalpha() or lower in exclude:
        return False
    if (
        lower in _VERBS
        and lower.endswith("s")
        and closes
        and before.isalpha()
        and before.islower()
        and before not in STOPWORDS
    ):
        # "DIY radio shows, called podcasts": a word in -s closing a phrase after a common noun is its
        # plural ("if Britain leaves, ..." is a name and its verb).
        return True
    if lower in STOPWORDS or lower in _FUNCTION_WORDS or lower in _VERBS or lower in _NEVER_NAMES:
        return False
    adverb = before.islower() and before.endswith("ly") and len(before) > 4
    if (before.lower() in _BEFORE_VERB or adverb) and not word[:1].isupper():
        # "to raise", "will interpret", "automatically distribute": a verb.
        return False
    if word.isupper() and len(word) > 4:
        # A shouted caption or label ("RIDICULOUSLY TALENTED"), not an acronym.
        return False
    if word[:1].isupper():
        # A capital opening the sentence says nothing; a name elsewhere is a fine topic.
        return index > 0
    if lower.endswith(_ADJECTIVE_ENDS) and not (lower.endswith("ly") and before.lower() in _DETERMINERS):
        # ("the rally", "a family": after a determiner a word in -ly is a noun, never an adverb.)
        return False
    if lower.endswith("ed"):
        return False
    if lower.endswith("ing") and lower not in _ING_NOUNS:
        # "faulty wiring", "heavy flooding": after a modifier an -ing word is a noun; after "was",
        # "began", "by" or a noun ("the ballot involving") it is a verb.
        prior = before.lower()
        return (
            before.isalpha() and before.islower() and (prior in _ADJECTIVES or prior.endswith(_MODIFIER_ENDS))
        )
    return True


def _weightless(word: str) -> bool:
    return word.lower() in _VAGUE or word.lower() in _ADJECTIVES


def _noun_like(word: str) -> bool:
    if word[:1].isupper():
        return True
    lower = word.lower()
    return bool(word) and lower not in _ADJECTIVES and not lower.endswith(("ic", "ive", "ian", "ish", "ese"))


def _bare(raw: str) -> str:
    return raw.strip(_EDGE).removesuffix("'s").removesuffix("’s")


def story_words(question: str) -> list[str]:
    """The words of ``question`` beyond the question words: what it names of its story."""
    return [w for w in content_words(question) if w not in QUESTION_WORDS]
