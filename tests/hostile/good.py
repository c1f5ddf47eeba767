"""Good stories for the hostile corpus: invented news, long enough to become briefings.

Every hostile build must keep each of these; ``GOOD_HEADLINES`` lists them. The
unicode story carries right-to-left text, emoji, CJK and zero-width characters
that must survive intact into every output (``UNICODE_SNIPPETS``).
"""

from __future__ import annotations

from html import escape

#: Recent enough for the mixed build's window (its clock is NOW in test_hostile.py).
RECENT = "Mon, 23 Nov 2026 {hour:02d}:00:00 +0000"

_STORIES = (
    (
        "Harbour authority opens a second ferry berth in Port Almera",
        "PORT ALMERA — The harbour authority opened a second ferry berth on Monday, ending two years "
        "of queues at the single ramp that served the island routes.",
        [
            "The new berth cost 14 million euros and was finished three weeks ahead of schedule, "
            "the authority's director, Ines Varga, told reporters at the quay.",
            "Ferries to the outer islands will now leave every forty minutes instead of every hour, "
            "and freight lorries will load from the old ramp so that passengers no longer wait "
            "behind them.",
            "Why was a second berth needed? Passenger numbers rose by a third since 2024, and in "
            "summer the queue for the morning crossing reached the town's main road.",
            'Local traders welcomed the change. "We lost customers who gave up on the trip," said '
            "Tomas Reyl, who runs a bakery on the largest island.",
            "The authority said it would publish new timetables on Friday and keep the old "
            "schedule for one more week while crews train on the new ramp.",
        ],
    ),
    (
        "Valley orchards report their largest apple harvest in a decade",
        "KORVEN — Orchards in the Korven valley picked their largest apple harvest in ten years, "
        "the growers' cooperative said on Monday, after a mild spring and a dry autumn.",
        [
            "The cooperative's 212 members picked about 48,000 tonnes, up from 31,000 tonnes last "
            "year, when a late frost destroyed many blossoms.",
            "Prices paid to growers fell by about a tenth because of the glut, said the "
            "cooperative's chair, Lena Dorsch, but the larger volume more than made up for it.",
            "What happens to the surplus? About a quarter of the crop will go to juice presses, and "
            "the cooperative is renting two cold stores in the port to keep fruit until spring.",
            "Seasonal workers were harder to find this year, growers said, and some orchards "
            "paid pickers a bonus to stay until the last varieties were in.",
            "The cooperative expects to decide in January whether to plant new trees on land "
            "that was cleared after the frost.",
        ],
    ),
    (
        "City library lends sewing machines and power tools from January",
        "PORT ALMERA — The city library will lend sewing machines, drills and other tools from "
        "January, the culture office said on Monday, in a trial that will run for one year.",
        [
            "Readers with a library card will be able to borrow up to two tools at once for a week, "
            "free of charge, from the central branch on Market Street.",
            "The library bought 120 items with a grant of 60,000 euros from the regional "
            "sustainability fund, the head librarian, Ada Moreau, said.",
            "Why tools? A survey last spring found that many households own a drill they use a "
            "few minutes a year, and that residents of small flats have no room to store one.",
            "Volunteers from the repair cafe will check each item when it comes back and teach "
            "short courses on Saturday mornings.",
            "If the trial works, the culture office plans to extend it to the three district "
            "branches in 2028.",
        ],
    ),
)

UNICODE_HEADLINE = "Festival of languages fills the old market hall"
#: Each must appear intact (same code points) in issue.json, issue.txt, the HTML and the e-mail.
UNICODE_SNIPPETS = (
    "שלום עולם",  # Hebrew, right to left
    "مرحبا بالعالم",  # Arabic, right to left
    "你好，世界",  # Chinese
    "こんにちは",  # Japanese
    "🎉🌍",  # emoji
    "zero\u200bwidth",  # a zero-width space inside a word
    "joiner\u200dtext",  # a zero-width joiner
)
_UNICODE_STORY = (
    UNICODE_HEADLINE,
    "PORT ALMERA — More than four thousand visitors came to the old market hall on Sunday for the "
    "city's first festival of languages, where stalls greeted them with שלום עולם, مرحبا بالعالم, "
    "你好，世界 and こんにちは.",
    [
        "Children collected stamps 🎉🌍 at each of the 38 stalls, and the organisers said the "
        "queue for calligraphy lessons stretched out of the hall for most of the afternoon.",
        "One stall showed how a zero\u200bwidth space and a joiner\u200dtext change how words break "
        "and join on a screen, a topic the organisers said drew more questions than expected.",
        "Why hold the festival now? The city's schools teach 27 home languages this year, up "
        "from 19 five years ago, and the culture office wanted families to meet each other.",
        "The organisers plan a second festival in the spring and are looking for volunteers "
        "who can teach a short lesson in a language of their own.",
    ],
)

GOOD_HEADLINES = (*(story[0] for story in _STORIES), UNICODE_HEADLINE)


def _item(index: int, headline: str, lede: str, paragraphs: list[str], prefix: str) -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in [lede, *paragraphs])
    return (
        f"<item><title>{escape(headline)}</title>"
        f"<link>https://good.example.org/{prefix}/{index}</link>"
        f"<guid>{prefix}-{index}</guid><pubDate>{RECENT.format(hour=6 - index)}</pubDate>"
        f"<description>{escape(body)}</description></item>"
    )


def good_rss() -> bytes:
    """An honest RSS 2.0 feed of the three ordinary good stories."""
    items = "".join(_item(i, *story, prefix="rss") for i, story in enumerate(_STORIES))
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Good Desk</title>'
        f"<link>https://good.example.org/</link>{items}</channel></rss>"
    ).encode()


def unicode_atom() -> bytes:
    """An honest Atom feed whose one story mixes scripts, emoji and zero-width characters."""
    headline, lede, paragraphs = _UNICODE_STORY
    body = "".join(f"<p>{escape(p)}</p>" for p in [lede, *paragraphs])
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Languages Desk</title><id>urn:good:atom</id><updated>2026-11-23T05:00:00Z</updated>"
        f"<entry><title>{escape(headline)}</title><id>urn:good:atom:1</id>"
        '<link href="https://good.example.org/atom/1"/><updated>2026-11-23T05:00:00Z</updated>'
        f'<content type="html">{escape(body)}</content></entry></feed>'
    ).encode()


def story_paragraphs(topic: str) -> list[str]:
    """Ordinary paragraphs (about 120 words) to put a hostile payload in the middle of."""
    return [
        f"The council of Port Almera voted on Monday to go ahead with the {topic} plan after a "
        "debate that lasted most of the afternoon, officials said.",
        f"The {topic} plan will cost about nine million euros over three years, and the first work "
        "is due to start in the spring, according to the council's budget office.",
        f"Why does the {topic} plan matter? Residents have complained for years, and a petition "
        "last summer gathered more than five thousand signatures, its organisers said.",
        f'"We listened to the people who live there," said Mara Lind, who chairs the {topic} '
        "committee, adding that a public meeting would be held in January.",
        "Opposition members said the money would be better spent on schools, but the motion "
        "passed by 31 votes to 12.",
    ]
