"""The cast of a story: who or what a question can name.

* Names are runs of capitalised words. Not names: a word capitalised only
  because it opens a sentence (it must also be capitalised mid-sentence and
  never written in lower case), days and months, demonyms ("Marengan aid
  group": a word ending -an/-ese/-ish/-ic that precedes lower-case nouns and
  never a verb), the dateline's place, and places that do not act (streets,
  quays, stations, rivers, lakes: "Harbour Street"). A title ("Mayor", "Dr.")
  stays in front of the name it belongs to; a later "Vasquez" is shown as the
  first full "Mayor Helen Vasquez".
* Actors are the speakers of quotes and "X said" clauses, and the subjects of
  verbs (``roles`` holds the words and phrase grammar that make one), taken
  only when they form a clean noun phrase at a clause boundary: a
  name of 1-4 words, "the" and 1-3 words ending in a noun that can act ("the
  transport department"), a possessive ("the city's audit office"), or a group
  ("officials", "health workers").
* The story's *main subject* is the headline's subject (its words before the
  first verb: "Council" gives "the council", "Kestrel moon lander" gives "the
  Kestrel moon lander"; a headline word in -s that the text uses as a noun is no
  verb) when the text refers to it ("the ... council") or names it, else the
  actor named most often (three times or more) that speaks or acts somewhere.
  It acts (a body, a role, a person named as a speaker or subject) or is a
  thing the story is about, which is never asked to respond, speak or take a
  position.
* "The company", "the firm", "the group" in a question is shown as the business
  the headline names ("UK Coal plunges ..." gives "What does UK Coal say ..."),
  when that subject is one named body that acts and the text never gives it a
  title such as "Mr" (a person is no company).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from digest.condense.extractive.cues import KIND_CUES, QUOTE, SAID_AFTER, SAID_BEFORE
from digest.condense.extractive.roles import (
    ACTOR_NOUNS,
    BUSINESS_REFERENCES,
    EDGE_PUNCTUATION,
    GROUP_NOUNS,
    ORG_HEADS,
    PLACE_ENDS,
    PLACE_OPENERS,
    POSSESSIVE,
    ROLE_ENDS,
    VERBISH,
    Actor,
    bare,
    before_appositive,
    is_demonym,
    is_title,
    opens_clause,
    role_phrase,
)
from digest.condense.extractive.units import PRONOUN_SAID, Unit, unquoted
from digest.text import STOPWORDS, word_set

#: What stands before "said" when the speaker follows it: '"...," said X', "..., said X".
_INVERSION_ENDS = ",\"”’'"
#: A speaker named within this many words of a sentence's start opens it ("Deputy minister Karin Holm said").
OPENING_SPEAKER_WORDS = 8

_NOT_NAMES = word_set(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december i however meanwhile earlier later last yesterday today
    tomorrow after before while when although officials police according
    """
)
_NAME_TOKEN = re.compile(r"[A-Z][\w.'’&-]*")
_AUXILIARIES = word_set(
    "has have had also is are was were will would could did does do not then now already quickly swiftly "
    "since today yesterday later still both"
)
_SUBJECT_PRONOUNS = word_set("it they he she")
_CONTRACTION = re.compile(r"['’](?:ve|ll|m|d|re|t)$")
#: Words before a noun: a headline word after one of these in the text is no verb.
_NOUN_MARKERS = r"(?:the|a|an|its|their|his|her|our|of|and|more|many|some|these|those|new|\d[\d,.]*)"
_HEADLINE_VERBS = word_set(
    """
    set hit cut put held won lost found made took taken given gave shut seen saw told sent left quit struck
    beaten hurt led paid sold sought kept met ran rose fell fallen grew grown drew drawn began begun broke
    broken bought brought built caught chose fought flew froze got heard hid knew laid lent let lit meant
    overtook read rode rang sank sat slid sped spent split spread stood stole stuck swept swore threw thrown
    tore underwent upheld wrote written is are was were be to face faces eye vows vow
    """
)


@dataclass(frozen=True)
class Name:
    """A name found in a sentence: its words, the title in front, and whether it is a place."""

    words: tuple[str, ...]
    title: tuple[str, ...]
    place: bool

    @property
    def key(self) -> str:
        """What later mentions share: a person's surname, an organisation's whole name."""
        return " ".join(self.words) if self.words[-1].lower() in ORG_HEADS else self.words[-1]

    @property
    def shown(self) -> str:
        text = " ".join((*self.title, *self.words))
        if not self.title and self.words[-1].lower() in ORG_HEADS and len(self.words) >= 2:
            return "the " + text
        return text


def _sentence_starts(tokens: Sequence[str]) -> set[int]:
    """Token positions that open a sentence or a quoted sentence (their capital says nothing)."""
    starts = {0}
    for index, raw in enumerate(tokens):
        if raw[:1] in '"“‘(' or (index and tokens[index - 1].endswith(":")):
            starts.add(index)
    return starts


#: Endings of a sentence's first word that make it no forename ("Speaking", "Asked", "Witness").
_NOT_FORENAME_ENDS = ("ing", "ed", "ly", "ist", "ness", "ment", "ion")
_PLURAL_INITIALISM = re.compile(r"[A-Z]{2,}s")


class Cast:
    """The actors of a story: names, speakers and subjects, and the story's main subject."""

    def __init__(self, units: Sequence[Unit], headline: str, place: str) -> None:
        sentences = [part for unit in units for part in unit.parts]
        self._text = " ".join(sentences)
        self._lower_text = self._text.lower()
        #: How often each word is written in lower case, and capitalised past a sentence's start.
        self._lower: Counter[str] = Counter()
        self._mid_caps: Counter[str] = Counter()
        #: Words that stand alone as a name mid-sentence ("in Greece", not only "Almera Water").
        self._mid_alone: set[str] = set()
        followers: dict[str, list[str]] = defaultdict(list)
        for sentence in sentences:
            tokens = sentence.split(" ")
            starts = _sentence_starts(tokens)
            capitals = [bare(raw)[:1].isupper() for raw in tokens]
            for index, raw in enumerate(tokens):
                word = bare(raw)
                if not word:
                    continue
                if word.islower():
                    self._lower[word] += 1
                elif word[:1].isupper() and index not in starts:
                    self._mid_caps[word] += 1
                    if not capitals[index - 1] and not (index + 1 < len(tokens) and capitals[index + 1]):
                        self._mid_alone.add(word)
                if word[:1].isupper() and index + 1 < len(tokens) and raw == raw.rstrip(EDGE_PUNCTUATION):
                    possessive = bool(POSSESSIVE.search(raw.strip(EDGE_PUNCTUATION)))
                    followers[word].append("'s" if possessive else bare(tokens[index + 1]))
        self._demonyms = frozenset(w for w, after in followers.items() if is_demonym(w, after))
        # "The Conservatives are ...": a name in -s that takes a plural verb names a group.
        self._plural_names = frozenset(
            w
            for w, after in followers.items()
            if w.endswith("s")
            and sum(a in ("are", "were", "have") for a in after)
            > sum(a in ("is", "was", "has") for a in after)
        )
        self._place_words = frozenset(place.split())
        self.counts: Counter[str] = Counter()
        self._forms: dict[str, Name] = {}
        for sentence in sentences:
            for name in self.names(sentence):
                if not name.place:
                    self.counts[name.key] += 1
                    self._remember(name)
        self._acting: set[str] = set()
        for sentence in sentences:
            for actor in (self._speaker(sentence), *self.subjects_of(sentence, KIND_CUES["response"])):
                if actor is not None:
                    self._acting.add(actor.text)
        headline_subject = self._headline_subject(headline)
        self.main = headline_subject or self._most_named()
        #: The business the headline names ("UK Coal plunges ..."), which "the company" stands for.
        self._business = headline_subject if self._is_business(headline_subject) else None

    # names

    def names(self, sentence: str) -> list[Name]:
        """The names in ``sentence``, in order."""
        tokens = sentence.split(" ")
        starts = _sentence_starts(tokens)
        found: list[Name] = []
        run: list[tuple[int, str, str]] = []
        for index, raw in enumerate(tokens):
            word = bare(raw)
            is_name = (
                bool(_NAME_TOKEN.match(word))
                and word.lower() not in _NOT_NAMES
                and not _CONTRACTION.search(word)
            )
            if is_name or (word == "of" and run):
                run.append((index, word, raw))
            # A name ends at a word that is not one, or at punctuation closing a phrase or a sentence.
            closes = raw[-1:] in ',;:?!"”)' or (raw.endswith(".") and not word.endswith("."))
            if (not is_name and word != "of") or closes:
                found += self._clean(run, starts)
                run = []
        found += self._clean(run, starts)
        return found

    def _clean(self, run: list[tuple[int, str, str]], starts: set[int]) -> list[Name]:
        """The name a run of capitalised words makes, if any."""
        while run and run[-1][1] == "of":
            run.pop()
        # A capital at a sentence's start proves nothing: the word must be capitalised mid-sentence too.
        if run and run[0][0] in starts and not is_title(run[0][1]):
            first = run[0][1]
            alone = len(run) == 1
            if (
                first.lower() in STOPWORDS
                or first.lower() in self._lower
                or (first not in (self._mid_alone if alone else self._mid_caps) and not self._forename(run))
            ):
                run = run[1:]
        while run and (run[0][1] == "of" or run[0][1].lower() in STOPWORDS):
            run = run[1:]
        title: list[str] = []
        # "Health Ministry" is a body; in "UK Foreign Secretary Jack Straw" the person is "Jack Straw",
        # with the title "Foreign Secretary" (what comes before a title only qualifies it).
        if run and run[-1][1].lower() not in ORG_HEADS:
            at = next((i for i, item in enumerate(run[:-1]) if is_title(item[1])), len(run))
            end = at
            while end < len(run) - 1 and is_title(run[end][1]):
                end += 1
            title = [raw.strip(EDGE_PUNCTUATION) for _, _, raw in run[at:end]]
            run = run[end:] if title else run
        words = tuple(word for _, word, _ in run)
        if not words or len(words) > 4:
            return []
        if len(words) >= 3 and "of" not in words and not title and self._stands_apart(words[-2:], words[-3]):
            # "Office Ricky Gervais", "Xbox Peter Moore": a name glued to the word before it, which the
            # text writes elsewhere without that word.
            words = words[-2:]
        if (
            len(words) >= 3
            and "of" not in words
            and words[-1] in self._mid_alone
            and self._stands_apart(words[:-1], words[-1], after=True)
        ):
            # "Brendan Rodgers Liverpool": a caption's name glued to the name after it, which the text
            # writes elsewhere without it.
            words = words[:-1]
        elif len(words) == 2 and not title and self._glued(words):
            # "in Bahrain Hamilton finished second": two names the text writes apart, met once.
            words = words[1:]
        if all(w in self._place_words for w in words) or (len(words) == 1 and words[0] in self._demonyms):
            return []
        last, opener = words[-1].lower(), words[0].lower()
        place = last in PLACE_ENDS or (opener in PLACE_OPENERS and last not in ORG_HEADS)
        return [Name(words, tuple(title), place)]

    def _stands_apart(self, name: tuple[str, ...], neighbour: str, after: bool = False) -> bool:
        """Whether the text writes ``name`` somewhere not after ``neighbour`` (or not before it)."""
        phrase = re.escape(" ".join(name))
        # Only the words just beside each mention matter (the text's spaces are single).
        reach = len(neighbour) + 1
        if after:
            return any(
                not self._text[match.end() : match.end() + reach].lstrip().startswith(neighbour)
                for match in re.finditer(rf"\b{phrase}\b", self._text)
            )
        return any(
            not self._text[max(0, match.start() - reach) : match.start()].rstrip().endswith(neighbour)
            for match in re.finditer(rf"\b{phrase}\b", self._text)
        )

    def _glued(self, words: tuple[str, ...]) -> bool:
        """Whether two names met side by side once are each written alone at least twice elsewhere."""
        together = len(re.findall(rf"\b{re.escape(' '.join(words))}\b", self._text))
        return (
            together == 1
            and all(w in self._mid_alone for w in words)
            and all(len(re.findall(rf"\b{re.escape(w)}\b", self._text)) >= together + 2 for w in words)
        )

    def _forename(self, run: Sequence[tuple[int, str, str]]) -> bool:
        """Whether a sentence's capitalised first word, which the text writes nowhere else, is a
        forename: "Katherine Endacott battled ...", but not a role ("Witness Solano") or a participle."""
        if len(run) != 2:
            return False
        first = run[0][1]
        return (
            first.isalpha()
            and first.istitle()
            and not first.lower().endswith(_NOT_FORENAME_ENDS)
            and first.lower() not in ACTOR_NOUNS
            and first.lower() not in GROUP_NOUNS
            and first.lower() not in _NOT_NAMES
        )

    def _remember(self, name: Name) -> None:
        """Keep the fullest form of each actor: the first mention with the most words."""
        known = self._forms.get(name.key)
        if known is None or len(name.words) + len(name.title) > len(known.words) + len(known.title):
            self._forms[name.key] = name

    def _as_actor(self, name: Name) -> Actor | None:
        """A name as an actor in its fullest form ("the SEC" when the text says so); None for a place."""
        if name.place:
            return None
        full = self._forms.get(name.key, name)
        if full.words[-len(name.words) :] != name.words:
            # "Guardian Australia" is not "Daily Mail Australia": a fuller form must end on these words.
            full = name
        text = full.shown
        # "the SEC", but not "the Kestrel" of "the Kestrel lander".
        if not text.startswith("the ") and re.search(rf"\b[Tt]he {re.escape(text)}\b(?! [a-z])", self._text):
            text = "the " + text
        last = full.words[-1]
        # "MPs", "CEOs": an initialism in the plural.
        return Actor(text, plural=last in self._plural_names or bool(_PLURAL_INITIALISM.fullmatch(last)))

    def _known_actor(self, name: Name) -> Actor | None:
        """``name`` as a speaker or subject: a one-word name must recur ("Holm"), else it may be a title's
        last word ("the singer of Because the Night told ...")."""
        if len(name.words) == 1 and not name.title and self.counts[name.key] < 2:
            return None
        return self._as_actor(name)

    def is_person(self, text: str) -> bool:
        """Whether ``text`` is a person's full name (two or three words) that the story marks as one:
        with a courtesy title ("Mr Choudary"), an age ("Choudary, 47,"), or a role word before it
        ("cleric Anjem Choudary")."""
        words = text.split()
        if not 2 <= len(words) <= 3 or not all(
            re.fullmatch(r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?", w) for w in words
        ):
            return False
        known = self._forms.get(words[-1])
        if known is None or known.place or words[-1].lower() in ORG_HEADS:
            return False
        surname, full = re.escape(words[-1]), re.escape(text)
        marked = (
            rf"\b(?:Mr|Mrs|Ms|Miss|Dr)\.? (?:[A-Z]\w+ )?{surname}\b|\b{surname}, \d{{1,3}},"
            rf"|\b[a-z]+(?:er|ist|or|ian|ant|ent|ic)\s{full}\b"
        )
        return re.search(marked, self._text) is not None

    def used_as_noun(self, word: str) -> bool:
        """Whether the story writes ``word`` after a determiner or a number ("the systems", "its prices")."""
        return re.search(rf"\b{_NOUN_MARKERS} {re.escape(word.lower())}\b", self._lower_text) is not None

    def written_capitalised(self, word: str) -> bool:
        """Whether the story writes ``word`` (or its possessive) capitalised mid-sentence more often
        than in lower case: a name's word, kept capitalised wherever a question shows it."""
        word = bare(word)
        return self._mid_caps[word] > self._lower[word.lower()]

    def named_first_in(self, name: Name, sentence: str) -> bool:
        """Whether ``sentence`` is where the story first names ``name`` (its surname, its whole name)."""
        at = self._text.find(sentence)
        return at >= 0 and re.search(rf"\b{re.escape(name.key)}\b", self._text[:at]) is None

    # speakers and subjects

    def _speaker(self, sentence: str) -> Actor | None:
        """Who speaks in ``sentence``: "..., said X", "..., X said", "X told ..."; None for "she said"."""
        after = SAID_AFTER.search(sentence)
        # "..., said X" names X; in "Mardas said Greece would pay" Greece is what was said.
        if after and sentence[: after.start()].rstrip()[-1:] in _INVERSION_ENDS:
            actor = self._phrase_after(after.group(1))
            if actor is not None:
                return actor
        for match in SAID_BEFORE.finditer(sentence):
            actor = self._phrase_before(sentence[: match.start()])
            if actor is not None:
                return actor
        return None

    def _phrase_after(self, text: str) -> Actor | None:
        """The speaker named right after "said": "Mayor Helen Vasquez", "councillor Amira Haddad"."""
        tokens = text.split(" ")
        # Lower-case role words may come before the name: "said deputy minister Karin Holm".
        skip = 0
        while skip < min(3, len(tokens)) and tokens[skip].isalpha() and tokens[skip].islower():
            if tokens[skip] in STOPWORDS:
                break
            skip += 1
        if skip < len(tokens) and tokens[skip][:1].isupper():
            names = self.names("x " + " ".join(tokens[skip:]))
            # "said Mr Holzle": a courtesy title is no part of the name found.
            shown = " ".join(tokens[skip + 1 :] if is_title(tokens[skip]) else tokens[skip:])
            if names and (
                " ".join(tokens[skip:]).startswith((*names[0].title, *names[0].words)[0])
                or shown.startswith(names[0].words[0])
            ):
                return self._known_actor(names[0])
            return None
        if tokens[0] in ("the", "The"):
            clause = re.split(r"[,.;:]", text, maxsplit=1)[0]
            return role_phrase(clause.split(" ")[:5])
        return None

    def _phrase_before(self, text: str) -> Actor | None:
        """The clean noun phrase ending ``text`` (which a verb follows), at a clause boundary."""
        tokens = text.rstrip().split(" ")
        # "the agency said it had ordered": the actor is the one that said.
        while tokens and tokens[-1].lower() in _AUXILIARIES:
            tokens.pop()
        if (
            len(tokens) >= 2
            and tokens[-1].lower() in _SUBJECT_PRONOUNS
            and bare(tokens[-2]) in ("said", "says", "added", "announced")
        ):
            tokens = tokens[:-2]
            while tokens and tokens[-1].lower() in _AUXILIARIES:
                tokens.pop()
        if tokens and tokens[-1].endswith(","):
            named = self._named_appositive(tokens)
            if named is not None:
                return named
            tokens = before_appositive(tokens)
        if not tokens or not tokens[-1] or tokens[-1][-1:] in ",;:":
            return None
        # The longest clean phrase ending here, whose first word opens a clause.
        for size in range(min(5, len(tokens)), 0, -1):
            phrase, before = tokens[-size:], tokens[:-size]
            if any(raw[-1:] in ",;:" for raw in phrase[:-1]) or not opens_clause(before, phrase):
                continue
            actor = self._noun_phrase(phrase, at_start=not before)
            if actor is not None:
                return actor
        return None

    def _named_appositive(self, tokens: list[str]) -> Actor | None:
        """The name set off after a role: "Kenteris's lawyer, Gregory Ioannidis," names the lawyer."""
        opening = max((i for i, raw in enumerate(tokens[:-1]) if raw.endswith(",")), default=-1)
        name = [raw.strip(",") for raw in tokens[opening + 1 :]]
        role = bare(tokens[opening]).lower() if opening >= 0 else ""
        if not 1 <= len(name) <= 3 or not all(w[:1].isupper() for w in name):
            return None
        if role not in ACTOR_NOUNS and not (role.isalpha() and role.endswith(ROLE_ENDS)):
            return None
        names = self.names("x " + " ".join(name))
        if len(names) != 1 or names[0].words[-1] != name[-1]:
            return None
        return self._as_actor(names[0])

    def _noun_phrase(self, phrase: list[str], at_start: bool) -> Actor | None:
        """``phrase`` as an actor when it is a name, "the" + a role, a possessive role, or a group."""
        if phrase[-1][:1].isupper():
            if phrase[0] in ("the", "The"):
                phrase = phrase[1:]
                at_start = False
            sentence = ("" if at_start else "x ") + " ".join(phrase)
            names = self.names(sentence)
            if (
                len(names) == 1
                and " ".join(phrase).strip(EDGE_PUNCTUATION).startswith((*names[0].title, *names[0].words)[0])
                and bare(phrase[-1]) == names[0].words[-1]
            ):
                return self._known_actor(names[0])
            return self._group(phrase, at_start) if len(phrase) == 1 else None  # "Residents welcomed"
        role = role_phrase(phrase)
        if role is not None:
            return role
        return self._group(phrase, at_start)

    def _group(self, phrase: list[str], at_start: bool) -> Actor | None:
        """A group: "officials", "health workers", "Keldaran officials" (a plural noun, one modifier)."""
        head = bare(phrase[-1])
        if len(phrase) == 1 and at_start and head.istitle():
            # "Unions accuse ...": a group opening the sentence.
            head = head.lower()
        if head not in GROUP_NOUNS or len(phrase) > 2:
            return None
        if len(phrase) == 1:
            return Actor(head, plural=True)
        modifier = bare(phrase[0])
        if modifier.lower() in STOPWORDS or modifier.lower() in VERBISH or not modifier.isalpha():
            return None
        if (
            modifier[:1].isupper()
            and at_start
            and modifier not in self._demonyms
            and modifier not in self._mid_caps
        ):
            modifier = modifier.lower()
        return Actor(f"{modifier} {head}", plural=True)

    def subjects_of(self, sentence: str, cue: re.Pattern[str]) -> list[Actor | None]:
        """The actor before each cue verb of ``sentence`` (None where there is no clean one)."""
        return [self._phrase_before(sentence[: m.start()]) for m in cue.finditer(sentence)]

    def speakers(self, units: Sequence[Unit]) -> list[Actor]:
        """The speaker of each attributed unit of ``units``, in order (quotes, else reported speech)."""
        quoted = [u for u in units if QUOTE.search(u.text)] or list(units)
        found: list[Actor] = []
        for unit in quoted:
            actor = next((a for a in map(self._speaker, unit.parts) if a is not None), None)
            pronoun = [bool(PRONOUN_SAID.search(part)) for part in unit.parts]
            if actor is None and any(pronoun[1:]) and not pronoun[0]:
                # 'Brandt blamed the government. "...," he said.': "he" is the one named first, outside
                # the quote ('"The UK has ...," BT's Ben Verwaayen said': the one nearest "said").
                first = unquoted(unit.parts[0])
                said = SAID_BEFORE.search(first)
                named = [n for n in self.names(first[: said.start()] if said else first) if not n.place]
                if said and not first[: said.start()].rstrip().endswith(","):
                    # Not after an appositive ("McGuire, an analyst at Gartner, told"): the nearest.
                    named.reverse()
                actor = self._as_actor(named[0]) if named else None
            if actor is not None:
                found.append(actor)
        return found

    def opening_speaker(self, unit: Unit) -> Actor | None:
        """The speaker when ``unit`` opens on who speaks ("Mardas said ...", "Analysts told ..."), or when
        it quotes someone it names."""
        first = unit.parts[0]
        said = SAID_BEFORE.search(first)
        if said is not None and len(first[: said.start()].split()) <= OPENING_SPEAKER_WORDS:
            actor = self._phrase_before(first[: said.start()])
            if actor is not None:
                return actor
        if QUOTE.search(unit.text):
            speakers = self.speakers([unit])
            return speakers[0] if speakers else None
        return None

    def actor_of(self, unit: Unit, cue: re.Pattern[str] | None, any_verb: re.Pattern[str]) -> Actor | None:
        """Who acts in ``unit``: its speaker, else the subject of ``cue``'s verb, else of any verb."""
        if QUOTE.search(unit.text) or SAID_BEFORE.search(unit.text):
            speakers = self.speakers([unit])
            if speakers:
                return speakers[0]
        for pattern in (cue, any_verb):
            actor = self.subject([unit], pattern) if pattern is not None else None
            if actor is not None:
                return actor
        return None

    def subject(self, units: Sequence[Unit], cue: re.Pattern[str]) -> Actor | None:
        """The first actor in source order that does what ``cue`` finds ("the agency ordered")."""
        for unit in units:
            for part in unit.parts:
                actor = next((a for a in self.subjects_of(part, cue) if a is not None), None)
                if actor is not None:
                    return actor
        return None

    def resolved(self, actor: Actor | None) -> Actor | None:
        """``actor`` with "the company" (or "the firm", "the group") shown as the business the headline
        names: a question read alone should say which company it means."""
        if actor is None or self._business is None or actor.text.lower() not in BUSINESS_REFERENCES:
            return actor
        return Actor(self._business.text)

    def _is_business(self, subject: Actor | None) -> bool:
        """Whether the headline's subject is a single named body that acts, not a person: the text
        gives it no title ("Mr", "Dr") and never refers to it by one."""
        if subject is None or subject.plural or not subject.acts or not subject.text[:1].isupper():
            return False
        form = self._forms.get(subject.text.split()[-1]) or self._forms.get(subject.text)
        if form is not None and form.title:
            return False
        last = re.escape(subject.text.split()[-1])
        return re.search(rf"\b(?:Mr|Mrs|Ms|Miss|Dr|Sir|Lord|Lady)\.? (?:\w+ )?{last}\b", self._text) is None

    # the main subject

    def _headline_subject(self, headline: str) -> Actor | None:
        """The headline's words before its first verb, when they form a short noun phrase the text uses."""
        tokens = [t.strip(EDGE_PUNCTUATION) for t in headline.split()]
        if not tokens or not tokens[0] or tokens[0].lower() in STOPWORDS:
            return None
        verb_at = next((i for i in range(1, len(tokens)) if self._is_headline_verb(tokens[i])), 0)
        subject = tokens[:verb_at]
        if not subject or any(not t or (t.lower() in STOPWORDS and t != "and") for t in subject):
            return None
        capitalised = [t[:1].isupper() for t in subject]
        if len(subject) > 2 and capitalised[-1] and capitalised[-2] and not all(capitalised):
            # "Carry On star Patsy Rowlands dies": the person named at the end.
            lower_at = max(i for i, cap in enumerate(capitalised) if not cap)
            subject = subject[lower_at + 1 :]
        elif POSSESSIVE.search(subject[-1]):
            return None
        # A headline capitalises its first word whatever it is: keep the capital only for a name.
        first = bare(subject[0])
        if self._lower[first.lower()] >= max(1, self._mid_caps[first]):
            subject = [subject[0].lower(), *subject[1:]]
        if all(t[:1].isupper() or t == "and" for t in subject):
            return self._named_subject(subject)
        head = subject[-1]
        # A thing the text itself calls "the ... line" ("the new tram line"), or names ("Kestrel").
        definite = re.search(rf"\bthe (?:[\w'’-]+ ){{0,3}}{re.escape(head.lower())}\b", self._lower_text)
        named = any(t[:1].isupper() and self._mid_caps[bare(t)] for t in subject)
        if len(subject) > 3 or not (definite or (named and self._lower[head.lower()])):
            return None
        # "Tarvonia's central bank" and "officials" as they are; "the singer's film", "the council".
        named_owner = POSSESSIVE.search(subject[0]) is not None and subject[0][:1].isupper()
        plural = head in GROUP_NOUNS
        text = " ".join(subject) if named_owner or plural else "the " + " ".join(subject)
        return Actor(text, plural=plural, acts=head in ACTOR_NOUNS or plural)

    def _named_subject(self, words: Sequence[str]) -> Actor | None:
        """A headline subject made of names ("Clarke", "Keldara and Norvasse"), when the text names them."""
        if len(words) > 4:
            return None
        names = [n for n in self.names("x " + " ".join(words)) if not n.place]
        if not names or any(self.counts[n.key] == 0 for n in names):
            return None
        if len(names) > 1:
            return Actor(" ".join(words), plural=True)
        actor = self._as_actor(names[0])
        if actor is None:
            return None
        return Actor(actor.text, acts=actor.text in self._acting or names[0].words[-1].lower() in ORG_HEADS)

    def _most_named(self) -> Actor | None:
        """The actor named most often (three times at least) that speaks or acts somewhere, or None."""
        for key, count in self.counts.most_common():
            if count < 3:
                break
            actor = self._as_actor(self._forms[key])
            if actor is not None and actor.text in self._acting:
                return actor
        return None

    def _is_headline_verb(self, token: str) -> bool:
        """Whether a headline word past the first is a verb: "backs", "delayed", "to", "set".

        A word ending in -s that the text uses as a noun ("the fraudsters", "its profits") is not one.
        """
        if not token.islower():
            return False
        if token in _HEADLINE_VERBS:
            return True
        if token.endswith("ed") and len(token) > 4:
            return True
        plural_or_verb = token.endswith("s") and not token.endswith(("ss", "us", "is", "'s", "’s"))
        return (
            plural_or_verb
            and len(token) > 3
            and not re.search(rf"\b{_NOUN_MARKERS} {re.escape(token)}\b", self._lower_text)
        )
