"""Cue words: what kind of thing a sentence does (speaks, fears, responds, takes a position, plans,
recalls the past), found by small word patterns rather than a trained model.

A sentence's *kind* is the one whose cues it holds most (``best_kind``): history
and past years (*background*), quotes and a named speaker's words (*say*),
actions and decisions (*response*), stances (*position*), risks and warnings
(*fear*), plans and future years (*next*). A hedge ("could", "would") hints at
a kind but does not make one alone. Questions are worded by the kind of the
sentence that answers them.
"""

from __future__ import annotations

import re

from digest.condense.extractive.units import ATTRIBUTION

KINDS = ("background", "response", "say", "position", "fear", "next")
#: When a sentence fits several kinds equally, the one earlier here wins.
TIE_ORDER = ("say", "position", "next", "fear", "response", "background")


def cues(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)


KIND_CUES: dict[str, re.Pattern[str]] = {
    "fear": cues(
        r"risks?|risky|warn(?:s|ed|ing|ings)?|threat(?:s|en|ens|ened)?|fears?|feared|dangers?|"
        r"dangerous|concerns?|concerned|worr(?:y|ies|ied|ying)|at stake|crisis|delays?|shortages?|"
        r"disrupt\w*|alarm(?:ed|ing)?|vulnerable|uncertain(?:ty)?|afraid|damag(?:e|ed|ing)|harm(?:ful)?|"
        r"losses|struggl(?:e|es|ed|ing)|pressure|trouble|collaps(?:e|ed)|fragile|jeopardi[sz]e|"
        r"could lose|cost (?:jobs|lives)|death toll|shortfall|slump(?:ed)?|slowdown|default"
    ),
    "response": cues(
        r"sent|sends?|deploy(?:s|ed)?|announc(?:ed|es)|launch(?:ed|es)|order(?:ed|s)|pledged|promised|"
        r"approved|imposed|set up|evacuat\w*|closed|suspended|responded|introduced|dispatched|"
        r"mobili[sz]ed|distribut(?:ed|es|ing)|handling|measures|allocated|rushed|agreed|decided|"
        r"voted|moved to|stepped up|hired|invested|offered|tightened|banned|restricted|cancell?ed|"
        r"postponed|replaced|installed|arrested|charged|fined|sued|appealed|requested|signed|"
        r"investigat(?:e|es|ed|ing|ion)|inquiry|probe|stepp(?:ed|ing) in|took action|"
        r"(?:has|have) (?:begun|started)|began|tested|repaired|inspect(?:ed|ions?)|vaccinated|treated|"
        r"chartered|asked (?:the|for)|called in|brought in|set aside|refund(?:s|ed)?|flown out"
    ),
    "background": cues(
        r"since|for (?:decades|years|months|generations)|ha[sdv]e? long|history|historic(?:al|ally)?|"
        r"previously|decades?|ago|last (?:year|decade|century)|originally|founded|dates back|"
        r"in the past|first built|used to|had been|was born|began in|started in|earlier this year|"
        r"at the time"
    ),
    "next": cues(
        r"will|won't|plans?|planned|planning|expected|expects?|hopes? to|aims? to|intends? to|"
        r"next (?:week|month|year|season|step)|upcoming|scheduled|(?:is|are) set to|"
        r"later this (?:week|month|year)|by the end of|deadline|(?:is|are) due|due to (?:be|start|open)|"
        r"forecasts?|predict(?:s|ed)?|outlook|coming (?:weeks|months|years|days)|in future|"
        r"propos(?:e|es|ed|al)|going to|soon"
    ),
    "position": cues(
        r"blam(?:e|es|ed|ing)|criticiz\w*|criticis\w*|calls? (?:for|on)|called (?:for|on)|urg(?:e|es|ed)|"
        r"demand(?:s|ed)?|accus\w+|condemn\w*|oppos(?:e|es|ed)|insist\w*|argu(?:e|es|ed)|"
        r"reject\w*|stance|denounc\w+|welcom(?:e|ed|es)|back(?:s|ed)|supports?|supported|defend(?:s|ed)|"
        r"den(?:y|ies|ied)|dismiss(?:es|ed)|believes?|in favour of|disagree[sd]?|prais(?:e|es|ed)|"
        r"slamm?(?:s|ed)|attack(?:s|ed)|question(?:s|ed)|challeng(?:e|es|ed)|complain(?:s|ed)?|"
        r"protest(?:s|ed)?|object(?:s|ed)|maintain(?:s|ed)"
    ),
}
WEAK_FEAR = cues(r"could|might")
WEAK_NEXT = cues(r"would|may")
#: A quotation: in double marks, or in single ones opening at a word's start.
QUOTE = re.compile(r"[\"“][^\"”]{12,}[\"”]?|(?:^|(?<=[\s(:]))['‘](?=[A-Z0-9])[^'’]{12,}")
ATTRIBUTION_VERBS = r"said|says|told|added|stated|noted|explained|wrote|asked|concluded|insisted|argued"
YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
#: What a speaker does in "..., said X" and "X said ...".
SAID_AFTER = re.compile(
    r"\b(?:said|says|added|stated|noted|explained|wrote|concluded|insisted|argued)\s+(.{1,120})"
)
#: "Activists say ..." too: a group speaks in the plural.
SAID_BEFORE = re.compile(rf"\b(?:has |had |also )?(?:{ATTRIBUTION_VERBS}|say)\b")


#: Verbs whose subject fears something ("Inspectors have warned ...").
FEAR_VERBS = cues(r"warn(?:s|ed)?|fears?|feared|worr(?:y|ies|ied)|(?:is|are) concerned")


def best_kind(text: str, story_year: int, min_score: float = 1.0) -> str:
    """The kind of thing ``text`` does best, or "" when no kind scores ``min_score``."""
    scores: dict[str, float] = {kind: float(len(cue.findall(text))) for kind, cue in KIND_CUES.items()}
    # Hedges and reported speech hint at a kind but do not make one alone.
    scores["fear"] += 0.5 * len(WEAK_FEAR.findall(text))
    scores["next"] += 0.5 * len(WEAK_NEXT.findall(text))
    for year in YEAR.findall(text):
        if int(year) < story_year:
            scores["background"] += 1
        elif int(year) > story_year:
            scores["next"] += 1
    # "What does X say?" wants direct quotes most; a named speaker's reported words will do.
    attributed = 1.0 if ATTRIBUTION.search(text) else 0.0
    # \w{0,40}, not \w+: on a 100,000-letter "word" an unbounded run backtracks from every
    # capital, quadratic time (minutes); no name is longer.
    named_speaker = bool(
        re.search(rf"\b(?:{ATTRIBUTION_VERBS})\s+[A-Z]|[A-Z]\w{{0,40}}\s+(?:{ATTRIBUTION_VERBS})\b", text)
    )
    scores["say"] = 2.0 + attributed if QUOTE.search(text) else attributed * named_speaker
    best = max(TIE_ORDER, key=lambda kind: (scores[kind], -TIE_ORDER.index(kind)))
    return best if scores[best] >= min_score else ""
