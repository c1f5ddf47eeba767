"""Invented news feeds for the benchmarks, served over loopback HTTP with conditional GET.

The generator. Every story is an *event* of one of a dozen kinds (a budget vote, a strike, a
flood, a court ruling...) filled with its own invented actors: a town built from two syllables,
an organisation of that town, a named spokesperson, figures and a weekday. Each kind has a few
names for itself in headlines ("Place name: who says what") and a pool of sentence patterns;
general pools add background, reaction and what comes next. An article is a wire dateline and
lede, then paragraphs of three or four sentences drawn from those pools until it reaches its
word target (300-600 words, drawn per article). All randomness comes from ``random.Random``
seeded by the story and the telling, so a corpus is the same on every run. About a fifth of the
stories are told by two or three feeds, each telling with its own draw of sentences and its own
link, as wires and papers do; the rest are told once.

The feeds. ``make_corpus(feeds, entries)`` gives ``feeds`` RSS 2.0 documents of ``entries`` items
each: guid, link, pubDate (within the last day), title, a one-paragraph description and the full
text in ``content:encoded``.

The servers. ``FeedServer`` serves them from a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 (a
free port), speaking HTTP/1.1 with keep-alive. Every document has an ETag (a hash of its bytes)
and a Last-Modified; a request whose If-None-Match or If-Modified-Since matches gets ``304 Not
Modified`` without a body, so a second run of a well-behaved reader fetches nothing. The bodies
are encoded once, up front, so the server spends little of the machine's time.
``StaticFeedServer`` writes them to a folder (each file dated by its Last-Modified) and serves it
with ``python -m http.server`` in a child process, as many small sites and test set-ups do: HTTP/1.0,
a connection per request, a listen backlog of 5, If-Modified-Since honoured, no ETag.

Run it by itself to look at the output::

    python benchmarks/feeds.py --feeds 3 --entries 2 --show
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

WORDS_MIN = 300
WORDS_MAX = 600
#: The share of stories told by more than one feed.
SHARED_SHARE = 0.2

_FIRST = [
    "Bel",
    "Cor",
    "Dun",
    "Esk",
    "Fal",
    "Gran",
    "Hol",
    "Kir",
    "Lan",
    "Mor",
    "Nor",
    "Ost",
    "Pel",
    "Quen",
    "Ros",
    "Sal",
    "Tor",
    "Val",
    "Wex",
    "Yar",
    "Ard",
    "Brin",
]
_SECOND = [
    "ford",
    "haven",
    "mouth",
    "bridge",
    "wick",
    "stead",
    "by",
    "ton",
    "field",
    "moor",
    "gate",
    "port",
    "dale",
    "holm",
    "ness",
    "cliffe",
]
_GIVEN = [
    "Amara",
    "Bruno",
    "Celia",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kwame",
    "Leila",
    "Marco",
    "Nadia",
    "Oskar",
    "Priya",
    "Rafael",
    "Sofia",
    "Tomas",
    "Uma",
    "Viktor",
    "Wen",
    "Yusuf",
    "Zofia",
    "Anil",
    "Beatriz",
    "Chidi",
    "Dana",
    "Emil",
    "Fatima",
]
_FAMILY = [
    "Abara",
    "Brandt",
    "Castillo",
    "Dahl",
    "Eze",
    "Fournier",
    "Gupta",
    "Halvorsen",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Mensah",
    "Novak",
    "Okafor",
    "Petrov",
    "Quist",
    "Romano",
    "Sato",
    "Tanaka",
    "Uddin",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zeller",
    "Moreau",
    "Haddad",
]
_QUALIFIERS = ("", "Upper ", "Lower ", "North ", "South ", "East ", "West ", "New ", "Old ")
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass(frozen=True)
class Kind:
    """One kind of event: who acts, what its headlines call it and the sentences that tell it."""

    bodies: tuple[str, ...]
    roles: tuple[str, ...]
    headlines: tuple[str, ...]
    ledes: tuple[str, ...]
    sentences: tuple[str, ...]


KINDS = (
    Kind(
        bodies=("Town Council", "City Assembly", "District Board"),
        roles=("finance chair", "council leader", "treasurer"),
        headlines=("budget vote", "{amount} million budget", "spending plan passes"),
        ledes=(
            "The {body} of {place} approved a budget of {amount} million on {day}, after a debate "
            "that ran for {hours} hours and ended with a vote of {votes} to {against}.",
            "Members of {place}'s {body} voted {votes} to {against} on {day} for a spending plan of "
            "{amount} million that raises the schools' share by {share} per cent.",
        ),
        sentences=(
            "The plan sets aside {small} million for road repairs that residents have demanded for years.",
            "Opponents said the rise in local charges would fall hardest on pensioners and renters.",
            "{person}, the {role}, said the figures had been checked line by line by outside auditors.",
            "The largest single item is a new depot for the bus fleet, costed at {small} million.",
            "Libraries will open on Sundays again, reversing a cut made {hours} months ago.",
            "A proposal to sell the old market hall was withdrawn before the vote.",
            "The budget assumes that tax receipts grow by {share} per cent over the year.",
        ),
    ),
    Kind(
        bodies=("Dockworkers' Union", "Transit Workers' Guild", "Nurses' Federation"),
        roles=("general secretary", "union steward", "branch organiser"),
        headlines=("strike", "walkout enters day {hours}", "pay dispute"),
        ledes=(
            "Members of the {body} in {place} stopped work on {day}, saying an offer of {share} per cent "
            "fell far short of what {votes} per cent of them had voted to demand.",
            "A strike by the {body} kept much of {place} at a standstill on {day}, the {hours}th day of a "
            "dispute over pay and hours.",
        ),
        sentences=(
            "Picket lines formed before dawn outside the main depot, where about {votes} people gathered.",
            "Employers said the offer was the most they could afford without cutting services.",
            "{person}, the {role}, told reporters that members had lost {share} per cent of their pay "
            "to prices over three years.",
            "Shops near the harbour reported takings down by half since the walkout began.",
            "Mediators from the labour ministry offered to host talks as early as next week.",
            "Some services ran on a reduced timetable staffed by managers and volunteers.",
            "The last strike of its kind in {place} lasted {hours} days and ended with a two-year deal.",
        ),
    ),
    Kind(
        bodies=("River Authority", "Emergency Service", "Civil Protection Office"),
        roles=("incident commander", "chief hydrologist", "duty officer"),
        headlines=("floods", "river bursts banks", "flood clean-up"),
        ledes=(
            "About {amount} households in {place} left their homes on {day} after the river rose {small} "
            "metres in a single night, the {body} said.",
            "Water reached the ground floors of streets near the centre of {place} on {day}, after {hours} "
            "hours of rain that the {body} called the heaviest in decades.",
        ),
        sentences=(
            "Rescue crews used boats to reach older residents on the lower streets.",
            "{person}, the {role}, said the flood defences had held along most of their length.",
            "Schools in the valley stayed shut and served as shelters for those who had left.",
            "Insurers estimated early claims at {small} million, a figure they expect to rise.",
            "Farmers upstream said fields would be under water for weeks.",
            "The rail line to the coast was closed where the embankment had been washed away.",
            "Forecasters expect drier weather from the weekend, with the river falling slowly.",
        ),
    ),
    Kind(
        bodies=("High Court", "Court of Appeal", "Administrative Tribunal"),
        roles=("presiding judge", "lawyer for the residents", "court spokesperson"),
        headlines=("wind farm ruling", "permit struck down", "planning case"),
        ledes=(
            "The {body} ruled on {day} that the permit for a wind farm of {votes} turbines near {place} "
            "had been granted without a proper review of its effect on birds.",
            "Residents of {place} won their case at the {body} on {day}, which found that officials "
            "skipped steps required by law before approving a {amount} million project.",
        ),
        sentences=(
            "{person}, the {role}, said the ruling sent the decision back to the planning office.",
            "The developer said it would study the judgment before deciding whether to appeal.",
            "The case had been brought by a group of {votes} households living within two kilometres.",
            "Work on access roads, which began in spring, must stop until a new review is done.",
            "Environmental groups welcomed the ruling but said they still supported wind power.",
            "The judgment runs to {hours} pages and cites three earlier cases from the same court.",
            "Officials have {small} months to complete a fresh assessment.",
        ),
    ),
    Kind(
        bodies=("University", "Institute of Marine Science", "Research Hospital"),
        roles=("lead author", "professor of ecology", "research director"),
        headlines=("seagrass study", "carbon survey", "marine research"),
        ledes=(
            "Scientists at the {body} in {place} reported on {day} that seagrass meadows along the coast "
            "store about {share} per cent more carbon than earlier estimates.",
            "A survey led by the {body} of {place} has mapped {amount} square kilometres of seabed and "
            "found that a third of its seagrass has gone since the 1990s.",
        ),
        sentences=(
            "{person}, the {role}, said the team took {votes} core samples over two summers.",
            "The findings were published in a peer-reviewed journal this week.",
            "Other researchers cautioned that the samples came from sheltered bays "
            "and may not hold elsewhere.",
            "Restoring meadows costs about {small} thousand per hectare, the study estimates.",
            "Fishing groups said the results matched what crews had seen on the water for years.",
            "The work was funded by a grant of {small} million from a regional science fund.",
            "The team plans to repeat the survey in {hours} months to track any recovery.",
        ),
    ),
    Kind(
        bodies=("Ferry Company", "Port Authority", "Harbour Trust"),
        roles=("operations manager", "harbour master", "chief executive"),
        headlines=("ferry suspended", "crossings cancelled", "engine fault strands islanders"),
        ledes=(
            "The {body} suspended its crossings from {place} on {day} after an engine fault on its only "
            "large vessel, leaving about {amount} passengers to find other routes.",
            "Sailings between {place} and the islands stopped on {day}; the {body} said repairs would take "
            "at least {hours} days.",
        ),
        sentences=(
            "{person}, the {role}, said safety came before the timetable.",
            "A smaller boat will carry medical staff and supplies twice a day.",
            "Hauliers said lorries were queuing at the quay with perishable goods.",
            "The vessel is {hours} years old and was due to be replaced next year.",
            "Island shops reported running low on fresh milk and bread.",
            "Engineers flown in from the shipyard began work overnight.",
            "Passengers holding tickets can claim a full refund or rebook without charge.",
        ),
    ),
    Kind(
        bodies=("Health Board", "Hospital Trust", "Public Health Office"),
        roles=("medical director", "chief nurse", "board chair"),
        headlines=("{votes}-bed hospital wing", "waiting lists", "new wing opens"),
        ledes=(
            "The {body} in {place} opened a wing of {votes} beds on {day}, saying it would treat about "
            "{amount} more patients a year and shorten waits for surgery.",
            "A new wing at the main hospital in {place} took its first patients on {day}, at a cost of "
            "{small} million to the {body}.",
        ),
        sentences=(
            "{person}, the {role}, said the first operations were planned for the following week.",
            "Waiting times for hip and knee surgery have doubled since {hours} years ago.",
            "The wing needs {votes} more nurses, and recruitment is only half done.",
            "Patients' groups welcomed the beds but asked how they would be staffed at night.",
            "The building uses heat pumps and solar panels to cut running costs.",
            "Part of the money came from a public appeal that raised {small} million.",
            "Visitors will have a new car park, free for the first two hours.",
        ),
    ),
    Kind(
        bodies=("Rail Company", "Transport Agency", "Roads Directorate"),
        roles=("project director", "transport minister", "chief engineer"),
        headlines=("bridge closure", "bridge cracks", "detours for {hours} months"),
        ledes=(
            "The {body} will close the road bridge at {place} from {day} for {hours} months, after "
            "inspectors found cracks in two of its steel supports.",
            "Cracks found in the {place} bridge during a routine check will keep it closed until summer, the "
            "{body} said on {day}.",
        ),
        sentences=(
            "{person}, the {role}, said the bridge was not in danger of falling but could not carry lorries.",
            "The detour adds about {small} kilometres to journeys between the two banks.",
            "Buses will use a temporary ferry landing on the northern shore.",
            "The repairs are expected to cost {small} million.",
            "Business owners on the far bank fear losing customers for a whole season.",
            "The bridge carries about {amount} vehicles on a normal weekday.",
            "A pedestrian walkway will stay open for most of the works.",
        ),
    ),
    Kind(
        bodies=("Electoral Commission", "Mayor's Office", "Regional Parliament"),
        roles=("returning officer", "mayor-elect", "campaign manager"),
        headlines=("mayoral race", "recount", "new mayor"),
        ledes=(
            "{person} was elected mayor of {place} on {day} by a margin of {votes} votes, on a turnout of "
            "{share} per cent, the {body} said.",
            "After a recount that ran into the night, the {body} declared {person} the winner of the "
            "{place} mayoral race on {day}.",
        ),
        sentences=(
            "The {role} said the first task would be the housing plan left unfinished by the last council.",
            "The losing candidate conceded in a short statement and asked supporters to stay involved.",
            "Turnout was up on the last election, when fewer than {share} per cent voted.",
            "Observers reported no irregularities at the {votes} polling stations.",
            "The new mayor takes office in {hours} days.",
            "Both campaigns had promised more buses and cheaper parking in the centre.",
            "Young voters turned out in higher numbers than at any recent local election.",
        ),
    ),
    Kind(
        bodies=("Chamber of Commerce", "Trade Ministry", "Export Council"),
        roles=("trade envoy", "chamber president", "chief economist"),
        headlines=("trade deal", "tariff pact", "export deal"),
        ledes=(
            "Negotiators from {place} signed a trade agreement on {day} that removes tariffs on {amount} "
            "kinds of goods over {hours} years, the {body} said.",
            "Exporters in {place} welcomed a deal signed on {day} that the {body} expects to lift "
            "shipments by {share} per cent within three years.",
        ),
        sentences=(
            "{person}, the {role}, said cheese, timber and machine parts would gain most.",
            "Farm groups asked for safeguards against a sudden rise in imports.",
            "The deal still needs the approval of both parliaments.",
            "Trade between the two sides was worth about {small} billion last year.",
            "Customs checks will move online, cutting waits at the border.",
            "Critics said the text had been negotiated with too little public scrutiny.",
            "Small firms will get help with the paperwork from a new advice office.",
        ),
    ),
    Kind(
        bodies=("Fire Service", "Rescue Brigade", "Fire and Rescue Authority"),
        roles=("fire chief", "station commander", "safety officer"),
        headlines=("warehouse fire", "industrial estate blaze", "smoke warning"),
        ledes=(
            "A fire at a warehouse on the edge of {place} burned for {hours} hours before the {body} "
            "brought it under control on {day}; no one was hurt.",
            "Crews from the {body} fought a fire at an industrial estate in {place} through the night to "
            "{day}, as smoke drifted across the town.",
        ),
        sentences=(
            "{person}, the {role}, said {votes} firefighters and {small} engines had attended.",
            "Residents nearby were told to keep windows and doors closed as a precaution.",
            "The warehouse stored furniture and packaging, which fed the flames.",
            "Investigators will examine the building once it is safe to enter.",
            "Neighbouring firms lost power for several hours while crews worked.",
            "The owner said about {amount} jobs depended on the site.",
            "Air quality readings were back to normal by the afternoon.",
        ),
    ),
    Kind(
        bodies=("Energy Cooperative", "Power Company", "Grid Operator"),
        roles=("plant manager", "cooperative chair", "grid director"),
        headlines=("{votes}-megawatt solar park", "solar power", "clean energy switch-on"),
        ledes=(
            "The {body} switched on a solar park of {votes} megawatts near {place} on {day}, "
            "enough, it said, to supply about {amount} homes.",
            "A solar park outside {place} began feeding the grid on {day}, {hours} months after building "
            "started, the {body} said.",
        ),
        sentences=(
            "{person}, the {role}, said members would see lower bills from the next quarter.",
            "Sheep will graze between the rows of panels to keep the grass down.",
            "The park cost {small} million, raised partly from local shareholders.",
            "A battery store on the site can hold about two hours of output.",
            "Some neighbours objected to the view but the plan passed on appeal.",
            "The grid connection took longer than the panels to build.",
            "A second park of similar size is planned for the other side of the valley.",
        ),
    ),
)

_BACKGROUND = (
    "{place} has a population of about {population} and sits at the mouth of a wide valley.",
    "The issue has been argued over in {place} for most of the past decade.",
    "Local papers had reported on the matter for weeks before {day}.",
    "The {body} last faced a question of this size {hours} years ago.",
    "Figures published last month showed the town's economy growing slowly.",
    "Many of those affected work in fishing, farming or at the port.",
)
_REACTION = (
    '"We have waited a long time for this," said one resident, who asked not to be named.',
    '"It is not perfect, but it is a start," {person} said.',
    "Opposition members said they would keep pressing for answers in the weeks ahead.",
    "Neighbouring towns are watching closely, several officials said.",
    '"People want to know what this means for them, and they deserve a clear answer," {person} said.',
    "A petition on the subject has gathered about {amount} signatures.",
)
_NEXT = (
    "A further meeting is set for next {day}.",
    "The {body} is expected to publish more details within {hours} days.",
    "A public meeting will be held at the town hall later this month.",
    "Officials said they would review the decision in a year.",
    "The next step is a report to the regional government.",
)


# The end of a headline: who says what. Two unrelated events of one kind share the pattern's words,
# so it is these (and the place) that tell their titles apart, as the details of real ones do.
_HEADLINE_VERBS = ("says", "warns", "insists", "claims")
#: A claim is a number, a subject and a predicate (979 x 20 x 12 of them), so unrelated headlines
#: seldom share one.
_CLAIM_SUBJECTS = (
    "costs", "fares", "rents", "schools", "jobs", "repairs", "wages", "tourism", "exports", "harvests",
    "deliveries", "pensions", "clinics", "ferries", "shops", "farms", "budgets", "savings", "insurers",
    "landlords",
)  # fmt: skip
_CLAIM_PREDICATES = (
    "will rise", "face delays", "need review", "look safe", "hang in balance", "must wait",
    "could suffer", "stay protected", "recover slowly", "deserve scrutiny", "need support", "outlast winter",
)  # fmt: skip

# Sentences made of four parts: enough distinct ones (8 x 8 x 10 x 6) that a long article need not
# repeat itself once the pools above are used up.
_WHO = (
    "A shopkeeper on the high street", "Two councillors from the east ward", "A retired teacher",
    "The head of the local business group", "A spokesperson for the regional government",
    "A lecturer in public policy", "Several parents at the school gates",
    "A taxi driver waiting at the station",
)  # fmt: skip
_VERB = ("said", "argued", "warned", "suggested", "told reporters", "wrote in a letter", "insisted", "noted")
_CLAIM = (
    "that the decision had come too late for many families",
    "that the cost had been underestimated from the start",
    "that nobody had explained who would pay for the next stage",
    "that the town had handled worse and would cope",
    "that the figures should be published in full",
    "that the change was overdue and broadly welcome",
    "that the timetable looked optimistic",
    "that smaller villages were again left out of the plans",
    "that trust in local institutions was at stake",
    "that the same mistakes had been made elsewhere",
)
_WHEN = (
    "on {day}",
    "earlier in the week",
    "at a meeting on {day} evening",
    "in an interview",
    "last month",
    "",
)


@dataclass(frozen=True)
class Story:
    """One invented event: its kind and the particulars every telling of it shares."""

    number: int
    kind: Kind
    slots: dict[str, str]


@dataclass(frozen=True)
class Item:
    """One entry of one feed: a telling of a story."""

    guid: str
    link: str
    title: str
    published: datetime
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Document:
    """One feed as served."""

    path: str
    body: bytes
    etag: str
    last_modified: str
    items: int


def make_story(number: int, seed: int = 0) -> Story:
    """Story ``number`` of the corpus: the same number always gives the same story."""
    rng = random.Random(f"story-{seed}-{number}")
    # A town per story (3,168 of them), so unrelated stories do not share names; past that many
    # stories the kind shifts, so a town never has the same kind of event twice below 38,000.
    towns = len(_FIRST) * len(_SECOND) * len(_QUALIFIERS)
    place = (
        _QUALIFIERS[(number // (len(_FIRST) * len(_SECOND))) % len(_QUALIFIERS)]
        + _FIRST[number % len(_FIRST)]
        + _SECOND[(number // len(_FIRST)) % len(_SECOND)]
    )
    kind = KINDS[(number + number // towns) % len(KINDS)]
    slots = {
        "place": place.strip(),
        "body": rng.choice(kind.bodies),
        "role": rng.choice(kind.roles),
        "person": f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}",
        "day": rng.choice(_WEEKDAYS),
        "amount": str(rng.randint(12, 990)),
        "small": str(rng.randint(2, 48)),
        "share": str(rng.randint(3, 40)),
        "hours": str(rng.randint(3, 19)),
        "votes": str(rng.randint(21, 480)),
        "against": str(rng.randint(2, 20)),
        "population": f"{rng.randint(8, 240)},{rng.randint(100, 999)}",
        "claim": f"{rng.randint(12, 990)} {rng.choice(_CLAIM_SUBJECTS)} {rng.choice(_CLAIM_PREDICATES)}",
    }
    return Story(number, kind, slots)


def tell(story: Story, telling: int, published: datetime, site: str) -> Item:
    """One feed's article about ``story``: its own wording of the headline, sentences and length."""
    rng = random.Random(f"telling-{story.number}-{telling}")
    slots = story.slots
    # The pattern and the claim belong to the story, so its tellings agree on most title words;
    # a telling says it with its own verb, as papers reword each other.
    pattern = story.kind.headlines[story.number % len(story.kind.headlines)].format(**slots)
    verb = _HEADLINE_VERBS[(story.number + telling) % len(_HEADLINE_VERBS)]
    family_name = slots["person"].split()[-1]
    headline = f"{slots['place']} {pattern}: {slots['claim']}, {family_name} {verb}"
    lede = rng.choice(story.kind.ledes).format(**slots)
    paragraphs = [f"{slots['place'].upper()} — {lede}"]
    target = rng.randint(WORDS_MIN, WORDS_MAX)
    words = len(paragraphs[0].split())
    sentences = _sentences(story, rng)
    while words < target:
        paragraph = " ".join(next(sentences) for _ in range(rng.randint(3, 4)))
        paragraphs.append(paragraph)
        words += len(paragraph.split())
    slug = "-".join(headline.lower().replace(",", "").split()[:8])
    link = f"https://{site}/{published:%Y/%m/%d}/{slug}-{story.number}"
    return Item(
        guid=f"{site}:{story.number}",
        link=link,
        title=headline,
        published=published,
        paragraphs=tuple(paragraphs),
    )


def _sentences(story: Story, rng: random.Random) -> Iterator[str]:
    """The story's sentences in a random order, none twice: the pools first, then made-up voices."""
    pooled = [*story.kind.sentences, *_BACKGROUND, *_REACTION, *_NEXT]
    rng.shuffle(pooled)
    for pattern in pooled:
        yield pattern.format(**story.slots)
    made: set[str] = set()
    while True:
        when = rng.choice(_WHEN).format(**story.slots)
        sentence = (
            " ".join(filter(None, (rng.choice(_WHO), rng.choice(_VERB), when, rng.choice(_CLAIM)))) + "."
        )
        if sentence not in made:
            made.add(sentence)
            yield sentence


def make_corpus(feeds: int, entries: int, *, now: datetime | None = None, seed: int = 0) -> list[list[Item]]:
    """``feeds`` lists of ``entries`` items each; about SHARED_SHARE of the stories in 2-3 feeds."""
    clock = (now or datetime.now(UTC)).replace(microsecond=0)
    rng = random.Random(f"corpus-{seed}")
    corpus: list[list[Item]] = [[] for _ in range(feeds)]
    number = 0
    for feed in range(feeds):
        while len(corpus[feed]) < entries:
            story = make_story(number, seed)
            number += 1
            others = [f for f in range(feeds) if f != feed and len(corpus[f]) < entries]
            shared = (
                rng.sample(others, min(len(others), rng.randint(1, 2))) if rng.random() < SHARED_SHARE else []
            )
            published = clock - timedelta(minutes=rng.randint(5, 23 * 60))
            for telling, target in enumerate([feed, *shared]):
                # Other feeds run the story a little later, as they do.
                when = min(published + timedelta(minutes=17 * telling), clock)
                corpus[target].append(tell(story, telling, when, f"news{target}.example"))
    return corpus


def rss(feed: int, items: Sequence[Item]) -> bytes:
    """An RSS 2.0 document with the full text in content:encoded."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">\n<channel>\n'
        f"<title>Bench News {feed}</title>\n<link>https://news{feed}.example/</link>\n"
        f"<description>Invented news number {feed}</description>\n"
    ]
    for item in sorted(items, key=lambda i: i.published, reverse=True):
        content = "".join(f"<p>{escape(p, quote=False)}</p>" for p in item.paragraphs)
        parts.append(
            "<item>\n"
            f"<title>{escape(item.title)}</title>\n<link>{escape(item.link)}</link>\n"
            f'<guid isPermaLink="false">{escape(item.guid)}</guid>\n'
            f"<pubDate>{format_datetime(item.published)}</pubDate>\n"
            f"<description>{escape(item.paragraphs[0])}</description>\n"
            f"<content:encoded>{escape(content)}</content:encoded>\n"
            "</item>\n"
        )
    parts.append("</channel>\n</rss>\n")
    return "".join(parts).encode()


def documents(feeds: int, entries: int, *, now: datetime | None = None, seed: int = 0) -> list[Document]:
    """The corpus as served documents, at ``/feeds/<n>.xml``."""
    stamp = format_datetime((now or datetime.now(UTC)).replace(microsecond=0), usegmt=True)
    served = []
    for number, items in enumerate(make_corpus(feeds, entries, now=now, seed=seed)):
        body = rss(number, items)
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        served.append(Document(f"/feeds/{number}.xml", body, etag, stamp, len(items)))
    return served


class _Server(ThreadingHTTPServer):
    # The standard library's listen backlog is 5: a reader opening 16 connections at once would
    # see SYNs dropped and retried a second later, a delay no real server imposes.
    request_queue_size = 256
    daemon_threads = True


class FeedServer:
    """Serves documents on 127.0.0.1 with ETag/Last-Modified and 304s; a context manager.

    ``requests`` and ``not_modified`` count what was asked and what was answered 304.
    """

    def __init__(self, served: Sequence[Document]) -> None:
        self._by_path = {d.path: d for d in served}
        self._lock = threading.Lock()
        self.requests = 0
        self.not_modified = 0
        self._httpd = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="bench-feeds", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def urls(self) -> list[str]:
        return [self.base_url + path for path in self._by_path]

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _count(self, not_modified: bool) -> None:
        with self._lock:
            self.requests += 1
            self.not_modified += not_modified

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle's algorithm on, the second waits
            # for the client's delayed ACK (40 ms a response), which no real server makes its
            # clients wait.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                document = server._by_path.get(self.path.split("?", 1)[0])
                if document is None:
                    server._count(False)
                    self._send(404, b"not found", {"Content-Type": "text/plain"})
                    return
                validators = {"ETag": document.etag, "Last-Modified": document.last_modified}
                fresh = self.headers.get("If-None-Match") == document.etag or (
                    self.headers.get("If-None-Match") is None
                    and self.headers.get("If-Modified-Since") == document.last_modified
                )
                server._count(fresh)
                if fresh:
                    self._send(304, b"", validators)
                else:
                    self._send(200, document.body, {"Content-Type": "application/rss+xml", **validators})

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the benchmark prints figures, not a request log

        return Handler


class StaticFeedServer:
    """The documents served by ``python -m http.server`` on 127.0.0.1; a context manager.

    ``not_modified`` counts the 304 answers, read from the server's request log.
    """

    def __init__(self, served: Sequence[Document]) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="digest-bench-static-")
        root = Path(self._folder.name)
        self._paths = [d.path for d in served]
        for document in served:
            file = root / document.path.lstrip("/")
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(document.body)
            stamp = parsedate_to_datetime(document.last_modified).timestamp()
            os.utime(file, (stamp, stamp))
        self._log = root / "requests.log"
        self._process: subprocess.Popen[str] | None = None
        self._port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def urls(self) -> list[str]:
        return [self.base_url + path for path in self._paths]

    @property
    def not_modified(self) -> int:
        return sum('" 304 ' in line for line in self._log.read_text(errors="replace").splitlines())

    def __enter__(self) -> StaticFeedServer:
        with self._log.open("w") as log:
            # Port 0: the server takes a free one and says which on its first line ("-u": at once).
            self._process = subprocess.Popen(
                [sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory",
                 self._folder.name, "0"],
                stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True,
            )  # fmt: skip
        assert self._process.stdout is not None
        first = self._process.stdout.readline()
        # "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        try:
            self._port = int(first.split(" port ", 1)[1].split()[0])
        except (IndexError, ValueError):
            self._stop()
            raise RuntimeError(f"python -m http.server did not start: {first!r}") from None
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            if self._process.stdout is not None:
                self._process.stdout.close()
        self._folder.cleanup()


def _main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=3)
    parser.add_argument("--entries", type=int, default=2)
    parser.add_argument("--show", action="store_true", help="print the first feed's XML")
    args = parser.parse_args(argv)
    served = documents(args.feeds, args.entries)
    total = sum(len(d.body) for d in served)
    print(f"{len(served)} feeds, {sum(d.items for d in served)} entries, {total / 1e6:.1f} MB")
    if args.show:
        print(served[0].body.decode())


if __name__ == "__main__":
    _main()
