"""Page furniture out of an article's paragraphs, before anything is scored.

News pages carry text that is not the story: picture captions, photo credits,
"Scroll down for video", "Read more" and share or sign-up lines. A feed or a
page copied as text keeps them, often glued to the sentence after them with no
full stop between ("... on his Instagram account He joined Spurs in 2011"). A
condenser that scores them picks them: a caption repeats the story's key fact,
so it looks central. Method, per paragraph:

1. Whole paragraphs that are furniture go: a short line opening on "Read more",
   "Share this", "Sign up", "Follow us", "Click here", "Advertisement",
   "Image:", "Photo:", "Picture:", a credit ("Photograph: ...", "Getty
   Images", "AFP/Getty"), a line that is only a label and a colon, or a subhead
   in capitals with no sentence end ("TOO FAST TOO FURIOUS (DIGITAL BRIDGES)").
2. Inline markers go wherever they stand: "Scroll down for video", a share
   bar run into the text ("Share this withEmailFacebook..."), "(pictured)",
   "(left)", "(right)", "(centre)", "(above)", "(below)", "(file photo)",
   "(pictured left)" and the like, the same cues set off by commas ("Hussen,
   left, took"), and a wire tag opening the text ("(CNN)").
3. Fused captions: a caption has no full stop, so it and the sentence after it
   arrive as one. Where a word without closing punctuation is followed by a
   word that only ever opens a sentence ("He", "She", "They", "It", "But", "In",
   "The" or "A" before a lower-case word...), the text before that point, back to the
   last sentence end, is a caption run and goes. A run that holds a sentence
   end of its own is kept (a fused caption never does), and so is one with a
   quotation mark left open (the "word" might be inside a quote). A run that
   reads as the story's prose is no caption either, but a sentence whose full
   stop was lost where two paragraphs were run together: it keeps its place and
   gets its sentence end back. A caption stands beside its picture, so it never
   leans on the text before it (it does not open on "Instead," or "However,",
   nor on a pronoun as its subject: "Yesterday he was jailed"), and it shows a
   scene in the present tense, while the story reports what was said ("Lawrence
   said", "the court was told").
   A paragraph's tail after its last sentence end that has no sentence end of
   its own is a caption run too: edited prose closes every paragraph on a full
   stop, a question or exclamation mark or a closing quote, so words trailing a
   finished sentence without one ("... as surplus to requirements. Adebayor
   poses for a photo in Paris") are captions the page ran into the paragraph.
   A tail ending on a colon or a comma is kept (it introduces what follows), and
   so is a paragraph with no sentence end at all (a line of its own, such as a
   heading, is judged by rule 1); a tail that reads as prose (above) gets its
   full stop back.
4. Labelled captions: a short label of one to three words and a colon opening
   a caption ("Behind bars: The suspects ...") goes; the caption stays when it
   ends on a full stop (it reads as a sentence of the story then), and goes up
   to where the next sentence starts when it is fused to it. Sentences that
   caption a picture ("Above, a picture of the band ...") go. A label of
   speech ("He said: ..."), a list ("They are: ...") or a title ("Star Trek:
   Enterprise") is no caption.
5. Newsroom credits: a sentence saying who "contributed to this report" (or
   "contributed reporting", "Additional reporting by ...") goes.

Every sentence that survives is still the source's, less the furniture (and with
the full stop back where a paragraph break that held it was lost: rule 3).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from digest.text import STOPWORDS, normalize_space, word_count, word_set

#: A paragraph this short opening on one of these is furniture, not news.
FURNITURE_MAX_WORDS = 25
_FURNITURE_LINE = re.compile(
    r"^(?:read (?:more|next)(?!\s+[a-z])|more:|related:|see also|share (?:this|on|via)|sign up|subscribe|"
    r"follow us|"
    r"follow @|click here|advertisement|sponsored|image:|photo:|picture:|photograph:|video:|watch:|"
    r"(?:image|photo|picture) (?:copyright|credit|caption)|credit:|getty images|afp/getty|"
    r"reuters/|ap photo|scroll down|download the|listen to|join the conversation)",
    re.IGNORECASE,
)
#: A line that is only a label: "Pictured:", "WATCH THE VIDEO:".
_LABEL_LINE = re.compile(r"^[^.!?]{1,40}:$")
_INLINE_FURNITURE = re.compile(
    r"\s*(?:\bscroll down for (?:the )?(?:video|videos|more)\b[.:]?|"
    r"\bshare this with(?:\s*(?:email|facebook|messenger|twitter|pinterest|whatsapp|linkedin))*"
    r"(?:\s*copy this link)?|"
    r"\((?:pictured|picture|left|right|centre|center|above|below|top|bottom|inset|file photo|"
    r"front|back|second (?:left|right)|far (?:left|right))(?:[ ,]+[^()]{0,30})?\))",
    re.IGNORECASE,
)
#: "Abase Hussen, left, took ...": a picture's cue set off by commas.
_COMMA_CUE = re.compile(
    r",\s*(?:pictured|left|right|centre|center|above|below|circled|inset)(?:\s+(?:left|right|above|below|"
    r"centre|center|with [^,]{1,30}))?,(?=\s)",
    re.IGNORECASE,
)
#: "(CNN) --", "(The Hollywood Reporter)": the outlet's tag before the first sentence, capitalised words only.
_WIRE_TAG = re.compile(r"^\((?:[A-Z][\w&'’.-]*\s){0,3}[A-Z][\w&'’.-]*\)\s*[-—–]*\s*")
#: Words that open sentences and never stand capitalised inside one ("I" does, so it is not here);
#: those that also open titles ("It Follows", "The Times") only before a lower-case word.
_ONLY_OPENERS = (
    r"He|She|They|We|But|However|In|His|Her|Their|Its|After|When|During|Asked|Speaking|According|"
    r"Meanwhile|Yesterday|Earlier|Although|While|Since"
)
_TITLE_OPENERS = r"It|The|This|These|Those|Last|Now|Then|There|Some|Many|Most|One|For"
#: "... account He joined": the point where a caption without a full stop meets the next sentence.
_FUSE = re.compile(rf"(?<=[a-z0-9%)])\s+(?=(?:(?:{_ONLY_OPENERS})\s|(?:{_TITLE_OPENERS}|A|An)\s+[a-z]))")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*\s")
#: What a picture's caption says its people do, in the present: "appears", "poses", "is pictured".
_PICTURE_VERBS = (
    r"appears|appear|poses|pose|posed|(?:is|are) (?:pictured|mobbed)|pictured|celebrates|celebrate|"
    r"smiles|smile|looks on|look on|shakes hands|embraces|hugs|kisses|gestures"
)
#: A caption run ending where a quote starts is at most this long.
CAPTION_MAX_WORDS = 25
_TELLING_RUN = re.compile(r"\b(?:he|she|they|we|I)\s+[a-z]+(?:ed|s)\b")
#: "... he said Lind appears ...": what a name after these does is what was said.
_SPEECH = word_set("said says told added say tell wrote claimed insisted believes thinks")
_PICTURE_VERB = re.compile(rf"\b(?:{_PICTURE_VERBS})\b")
#: "... the ball Coleman appears ...": a word with no stop, then a capitalised name (role words may
#: stand inside: "Race winner Hamilton") and a picture's verb.
_PICTURE_START = re.compile(
    rf"(?P<word>\b[a-z0-9][\w'’-]*)(?<=[a-z0-9%)])(?P<gap>\s+)(?=[A-Z][\w'’-]*(?: [\w'’-]+){{0,4}}? "
    rf"(?:{_PICTURE_VERBS})\b)"
)
#: Where such a caption meets the next sentence: a quote, or a group and what it does ("Campaigners
#: lobbying"), after a word with no stop.
_PICTURE_END = re.compile(
    r"(?P<word>\b[\w'’-]+)(?<=[a-z0-9%)])(?P<gap>\s+)(?=['‘\"“][A-Z]|[A-Z][a-z]+s [a-z]+(?:ing|ed)\b)"
)
#: A fused run that is the story's prose, not a caption: it leans on what came before (a connective,
#: or a pronoun as its subject within its first two words), or it reports speech in the past tense.
_PROSE_RUN = re.compile(
    r"^(?:(?:Instead|However|But|Yet|Meanwhile|Still|Nevertheless|Later|Yesterday|Earlier|Today|Then)\b"
    r"|(?:\w+,?\s+)?(?:he|she|they|we|He|She|They|We)\s+[a-z])"
    r"|\bsaid\b|\b(?:was|were) told that\b"
    r"|\b(?:court|jury|jurors|hearing|inquest|tribunal) (?:was|were) told\b"
)


#: "Behind bars: The suspects ...", "... was shot Musical team: The Gavers were ...": a picture's label
#: (one to three words, the first capitalised) and a colon before a capital. Speech ("He said: ...")
#: and lists ("They are: ...") are no labels.
_CAPTION_LABEL = re.compile(
    r"(?<![^\s])(?!(?:Update|Note|Correction|They|It|These|Those)\b)"
    r"[A-Z][a-z]+(?: (?!(?:said|says|told|added|asked|wrote|explained|stated|are|is|was|were)\b)[a-z]+){0,2}"
    r": (?=[A-Z])"
)
#: Where a caption without a full stop ends: the next sentence starts ("... sexual assault A senior doctor").
_CAPTION_END = re.compile(
    rf"[.!?][\"'”’)]*(?:\s|$)|(?<=[a-z0-9%)])\s+(?=(?:(?:{_ONLY_OPENERS})\s|(?:{_TITLE_OPENERS}|A|An)\s+[a-z]))"
)
#: Words after which a capitalised word and a colon belong to the sentence: "Prince of Persia: Warrior
#: Within won", "the Analysys report: Pushing ...".
_TITLE_LINKS = word_set("of the a an and or for to in on at by with from called named titled")
#: "Above, a picture of the band ...", "Pictured, left, ...": a caption written as a sentence.
_CAPTION_SENTENCE = re.compile(r"(?:^|(?<=[.!?] ))(?:Above|Below|Pictured|Left|Right|Inset),[^.!?]*[.!?]?\s*")
#: "CNN's Rob Frehse and Laura Ly contributed to this report.", "©2015 The Hollywood Reporter. All
#: rights reserved.", "You can follow BBC Monitoring on Twitter": the newsroom's credits, not news.
_CREDIT_SENTENCE = re.compile(
    r"(?:^|(?<=[.!?] )|(?<=[.!?][\"'”’] ))[^.!?]{0,300}\b(?:contributed (?:to this report|reporting)|"
    r"additional reporting by|all rights reserved|(?:you can )?follow [^.!?]{1,60} on (?:twitter|facebook|"
    r"instagram)\b)[^.!?]*[.!?]?\s*|(?:^|(?<=[.!?] ))(?:©|copyright ©?)\s*\d{4}\b[^.!?]{0,80}[.!?]?\s*",
    re.IGNORECASE,
)


def clean_paragraphs(paragraphs: Iterable[str]) -> list[str]:
    """The paragraphs without furniture (whole lines, inline markers, fused captions); empty ones go."""
    kept: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        text = paragraph
        if index == 0:
            text = _WIRE_TAG.sub("", text)
        # Inline markers first: a share bar run into a sentence leaves the sentence.
        text = _COMMA_CUE.sub("", _INLINE_FURNITURE.sub("", text))
        if is_furniture(text):
            continue
        text = _CREDIT_SENTENCE.sub("", _CAPTION_SENTENCE.sub("", without_labelled_captions(text)))
        text = without_trailing_caption(without_captions(text))
        text = normalize_space(text)
        if text:
            kept.append(text)
    return kept


def is_furniture(paragraph: str) -> bool:
    """Whether a whole paragraph is page furniture ("Read more", a credit, a bare label, a subhead
    in capitals such as "TOO FAST TOO FURIOUS (DIGITAL BRIDGES)")."""
    text = paragraph.strip()
    if _LABEL_LINE.match(text):
        return True
    if not any(c.islower() for c in text) and not text.endswith((".", "!", "?", '"', "”")):
        return word_count(text) <= FURNITURE_MAX_WORDS
    return bool(_FURNITURE_LINE.match(text)) and word_count(text) <= FURNITURE_MAX_WORDS


def without_labelled_captions(paragraph: str) -> str:
    """``paragraph`` less caption labels ("Behind bars: ..."), and captions fused to the next sentence."""
    pieces: list[str] = []
    start = 0
    for label in _CAPTION_LABEL.finditer(paragraph):
        if label.start() < start:
            continue
        before = paragraph[: label.start()].rstrip()
        previous = before.rsplit(" ", 1)[-1] if before else ""
        # A label opens the paragraph, follows a sentence end, or is fused to a word with no stop after it.
        ends_sentence = previous[-1:] in ".!?\"'”’)"
        titled = " " not in label.group().strip() and previous[:1].isupper()
        if previous and not ends_sentence and (previous.lower() in _TITLE_LINKS or titled):
            # "Prince of Persia: Warrior Within", "Star Trek: Enterprise": a title, not a caption fused
            # to a word with no full stop after it ("... Westfield Miranda Cue the crowds: The ...").
            continue
        if _open_quote(before):
            continue
        end = _CAPTION_END.search(paragraph, label.end())
        pieces.append(paragraph[start : label.start()])
        if end is not None and end.group().strip():
            # A caption that ends on a full stop reads as a sentence of the story once its label goes.
            start = label.end()
        else:
            start = end.end() if end is not None else len(paragraph)
    pieces.append(paragraph[start:])
    return " ".join(piece.strip() for piece in pieces if piece.strip())


def without_captions(paragraph: str) -> str:
    """``paragraph`` less the caption runs fused to the sentences after them."""
    fuses = sorted([*(m.span() for m in _FUSE.finditer(paragraph)), *_picture_fuses(paragraph)])
    if not fuses:
        return paragraph  # nearly every paragraph of edited prose
    pieces: list[str] = []
    start = 0
    for fuse in (_Span(*span) for span in fuses):
        if fuse.start() < start:
            continue
        run_start = _run_start(paragraph, start, fuse.start())
        run = paragraph[run_start : fuse.start()]
        if _open_quote(paragraph[:run_start]) or _open_quote(run):
            continue
        if _PROSE_RUN.search(run):
            # The story's own sentence, run into the next where a paragraph break was lost.
            pieces.append(paragraph[start : fuse.start()] + ".")
        else:
            pieces.append(paragraph[start:run_start])
        start = fuse.end()
    pieces.append(paragraph[start:])
    return " ".join(piece.strip() for piece in pieces if piece.strip())


class _Span:
    """Where a fuse point starts and ends, read like a match."""

    def __init__(self, start: int, end: int) -> None:
        self._start, self._end = start, end

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end


def _picture_fuses(paragraph: str) -> list[tuple[int, int]]:
    """Fuse points a picture's caption gives away, where no opening word does.

    A caption shows a scene in the present ("Coleman appears to apologise", "Race winner Hamilton
    celebrates", "Davison is pictured ..."): one opening on a name glued to a word with no stop ("...
    handles the ball Coleman appears ...") starts there; and a run holding such a verb ends where a
    quote or a group doing something starts after a word with no stop ("... in 1913 Campaigners
    lobbying ..."). A word of grammar before the name ("where Hamilton appears", "the
    King's horse") keeps the sentence whole.
    """
    points: list[tuple[int, int]] = []
    for found in _PICTURE_START.finditer(paragraph):
        if found.group("word") not in STOPWORDS and found.group("word") not in _SPEECH:
            points.append(found.span("gap"))
    for verb in _PICTURE_VERB.finditer(paragraph):
        if paragraph.startswith(" to ", verb.end()):
            continue  # "appears to have run out of ideas": the story's own words
        end = _SENTENCE_END.search(paragraph, verb.end())
        after = _PICTURE_END.search(paragraph, verb.end(), end.start() if end else len(paragraph))
        if after is None or after.group("word") in STOPWORDS or after.group("word") in _SPEECH:
            continue
        run = paragraph[_run_start(paragraph, 0, verb.start()) : after.start()]
        # A caption is short and tells no story of its own ("... and on the day before he commented").
        if len(run.split()) <= CAPTION_MAX_WORDS and not _TELLING_RUN.search(run):
            points.append(after.span("gap"))
    return points


def without_trailing_caption(paragraph: str) -> str:
    """``paragraph`` less words trailing its last sentence end with no sentence end of their own."""
    text = paragraph.rstrip()
    if not text or not (text[-1].isalnum() or text[-1] == "%"):
        return paragraph
    start = _run_start(text, 0, len(text))
    if start == 0 or _open_quote(text[:start]) or _open_quote(text[start:]):
        return paragraph
    if _PROSE_RUN.search(text[start:]):
        return f"{text}."
    return text[:start].rstrip()


def _run_start(text: str, floor: int, end: int) -> int:
    """Where the caption run ending at ``end`` begins: after the last sentence end before it."""
    last = floor
    for match in _SENTENCE_END.finditer(text, floor, end):
        last = match.end()
    return last


def _open_quote(text: str) -> bool:
    return text.count('"') % 2 == 1 or text.count("“") > text.count("”")
