"""How well does our readability extractor find an article's text, next to well-kept libraries?

Pages. The HTML pages of the test suite (the condense inputs, the golden input, the full-text
test page) and article pages written here in the shapes news sites take: a newsroom page with
an ``<article>``, a byline, a figure, a related-stories box inside the article, a most-read
sidebar and a cookie banner; a blog with ``<div>`` soup and a long comment thread; a magazine
whose story is cut into several blocks by advertisements and pull quotes; an explainer of
question headings with a newsletter box; a page whose teaser cards are ``<article>`` elements
beside a story that is not; an old page whose paragraphs are ``<br>``-separated text. Each page
knows its article's paragraphs and question headings, and the furniture phrases around them.

Measures, per extractor and page: word recall (the article's words found, as a multiset) and
precision (the extracted words that are the article's), the question headings kept as text, the
furniture phrases left in, and the time per page (the best of ``--repeat`` runs).

Extractors: ours (``digest.ingest.readable_html``), trafilatura (HTML output with formatting,
so headings stay) and readability-lxml (``Document.summary``), each when installed.

Usage::

    .venv/bin/python benchmarks/readable.py
"""

# ruff: noqa: E501  (the pages are HTML written out on long lines)
from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import lxml.html

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from digest.ingest import readable_html  # noqa: E402

WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class Page:
    name: str
    html: str
    #: The article's paragraphs and headings, as a reader would keep them.
    paragraphs: tuple[str, ...]
    questions: tuple[str, ...] = ()
    furniture: tuple[str, ...] = ()


STORY = (
    "KELL POINT — The island council voted on Tuesday to buy two electric ferries for the crossing to "
    "the mainland, replacing diesel boats that have served the route since 1991, the council's "
    "transport committee said.",
    "The ferries will cost 48 million crowns together, about a third of it paid by a national fund for "
    "clean shipping. They are due in the spring of 2029 and will carry 300 passengers and 60 cars each.",
    '"We have patched the old boats for ten years, and every winter we wonder which of them will fail '
    'first," said committee chair Anna Selby after the vote, which passed by 14 votes to 5.',
    "Opponents said the island's power line could not charge both ferries at the pier in the twenty "
    "minutes a crossing allows, and asked for a study of the grid before any contract is signed.",
    "The utility, Fallow Power, said it would lay a second cable to the pier next year at its own cost, "
    "and that the charging station would draw less power than the fish plant at the harbour.",
    "Fares will not change when the new ferries start, the council said, but the timetable will add "
    "two late crossings on Fridays and Saturdays from the summer of 2029.",
)
QUESTIONS = ("Why does the island need new ferries?", "What will change for passengers?")
NAV = "<nav><ul><li><a href='/'>Home</a></li><li><a href='/news'>News</a></li><li><a href='/sport'>Sport</a></li><li><a href='/weather'>Weather</a></li></ul></nav>"
COOKIE = "<div class='cookie'><p>We use cookies to improve your experience. By continuing to browse you accept our cookie policy.</p><button>Accept all</button></div>"
MOST_READ = (
    "Harbour crane collapses during storm",
    "School board delays vote on new campus again",
    "Fishing quotas cut for the third year running",
    "Local baker wins national bread prize",
)
COMMENTS = (
    "I have taken that ferry every week for twenty years and the old boats are a disgrace, the council "
    "should have done this long ago instead of wasting money on the new roundabout by the school.",
    "Electric ferries sound nice but who pays when the batteries need replacing in ten years? Not the "
    "councillors who voted for it, that much is certain, and the fares will go up whatever they say.",
    "The grid question is a real one. My street loses power every time the wind gets up and now they "
    "want to run two ferries off the same line? Good luck with that in January.",
    "Finally some good news for the island. My grandmother will be happy she can still get to the "
    "hospital on the mainland without sitting in diesel fumes for forty minutes.",
)


def _p(texts: Sequence[str]) -> str:
    return "".join(f"<p>{t}</p>" for t in texts)


def written_pages() -> list[Page]:
    most_read = (
        "<aside class='most-read'><h3>Most read</h3><ol>"
        + "".join(f"<li><a href='/n/{i}'>{t}</a></li>" for i, t in enumerate(MOST_READ))
        + "</ol></aside>"
    )
    furniture = ("cookie policy", "Most read", MOST_READ[0], "All rights reserved", "Share on")
    newsroom = (
        f"<html><head><title>Island buys electric ferries | Fallow Times</title></head><body>{COOKIE}"
        f"<header><a href='/'>Fallow Times</a>{NAV}</header><main><article><h1>Island buys two electric ferries</h1>"
        "<p class='byline'>By Tom Reed</p><time datetime='2026-11-03'>3 November 2026</time>"
        "<figure><img src='/f.jpg'><figcaption>The old ferry at Kell Point. Photo: Fallow Times</figcaption></figure>"
        f"{_p(STORY[:3])}<aside class='related'><h4>Related</h4><ul><li><a href='/x'>Ferry fares frozen for 2027</a></li>"
        f"<li><a href='/y'>Pier repairs finished early</a></li></ul></aside>{_p(STORY[3:])}"
        "<div class='share'><a href='#'>Share on Facebook</a> <a href='#'>Share on X</a></div></article>"
        f"{most_read}</main><footer><p>© 2026 Fallow Times. All rights reserved.</p>"
        "<p><a href='/about'>About us</a> · <a href='/contact'>Contact</a> · <a href='/privacy'>Privacy</a></p></footer></body></html>"
    )
    comments = "".join(
        f"<div class='comment'><div class='author'>reader{i}</div><p>{c}</p><a href='#'>Reply</a></div>"
        for i, c in enumerate(COMMENTS)
    )
    blog = (
        "<html><head><title>Ferries at last - Island Notes</title></head><body><div id='wrap'>"
        "<div id='header'><h1><a href='/'>Island Notes</a></h1><div id='menu'><a href='/'>Home</a> <a href='/about'>About</a> "
        "<a href='/archive'>Archive</a></div></div><div id='content'><div class='post'><h2>Ferries at last</h2>"
        "<div class='meta'>Posted 3 November 2026 by admin in Council</div>"
        f"<div class='entry'>{_p(STORY)}</div><div class='tags'>Tags: ferries, council, energy</div></div>"
        f"<div id='comments'><h3>4 comments</h3>{comments}<div class='respond'><h3>Leave a reply</h3></div></div></div>"
        "<div id='sidebar'><h3>Archives</h3><ul><li>October 2026</li><li>September 2026</li></ul>"
        "<h3>Blogroll</h3><ul><li><a href='/a'>Harbour Watch</a></li></ul></div>"
        "<div id='footer'>Powered by a blog engine. Theme by someone.</div></div></body></html>"
    )
    blog_furniture = ("Leave a reply", "Archives", COMMENTS[0][:40], COMMENTS[2][:40], "Powered by")
    ad = "<div class='ad'><p>Advertisement</p><p>Save 20% on winter tyres at Harbour Motors this week only.</p></div>"
    pull = f"<div class='pullquote'><p>{STORY[2][:60]}</p></div>"
    magazine = (
        f"<html><head><title>The ferry question</title></head><body>{NAV}<div class='story'><h1>The ferry question</h1>"
        f"<div class='standfirst'>An island chooses electric boats.</div><div class='body'>"
        f"<div class='block'>{_p(STORY[:2])}</div>{ad}<div class='block'>{_p(STORY[2:4])}</div>{pull}"
        f"<div class='block'>{_p(STORY[4:])}</div></div></div>"
        "<div class='newsletter'><h3>Get the briefing</h3><p>Sign up for our weekly newsletter and never miss a story from the islands.</p>"
        "<form><input name='email'><button>Subscribe</button></form></div>"
        "<footer><p>Magazine Ltd, registered in the islands.</p></footer></body></html>"
    )
    magazine_furniture = ("winter tyres", "Sign up for our weekly newsletter", "registered in the islands")
    explainer_body = (
        _p(STORY[:1])
        + f"<h2>{QUESTIONS[0]}</h2>"
        + _p(STORY[1:4])
        + f"<h2>{QUESTIONS[1]}</h2>"
        + _p(STORY[4:])
    )
    explainer = (
        f"<html><head><title>Explainer</title></head><body><header>{NAV}</header><article><h1>Electric ferries: what we know</h1>"
        f"{explainer_body}<section class='related'><h3>Related stories</h3><ul>"
        "<li><a href='/r1'>Council approves budget for the harbour</a></li><li><a href='/r2'>Storm closes the pier</a></li></ul></section>"
        "<div class='newsletter'><p>Sign up for our weekly newsletter and never miss a story from the islands.</p></div>"
        "</article><footer><p>© 2026 Island Wire</p></footer></body></html>"
    )
    explainer_furniture = ("Related stories", "Council approves budget", "Sign up for our weekly newsletter")
    teasers = "".join(
        f"<article class='card'><h3><a href='/t/{i}'>{t}</a></h3><p>{t}. Read the full story on our site today.</p></article>"
        for i, t in enumerate(MOST_READ)
    )
    cards = (
        f"<html><head><title>Ferries</title></head><body><header>{NAV}</header><main><div class='story-body'>"
        f"<h1>Island buys two electric ferries</h1>{_p(STORY)}</div><section class='more'><h2>More news</h2>{teasers}</section>"
        "</main><footer><p>© 2026 Coast News</p></footer></body></html>"
    )
    cards_furniture = ("More news", MOST_READ[1], "Read the full story")
    old = (
        "<html><head><title>Ferries</title></head><body><table><tr><td class='menu'><a href='/'>Home</a><br><a href='/n'>News</a>"
        "<br><a href='/c'>Contact</a></td><td class='main'><font size='4'><b>Island buys two electric ferries</b></font><br><br>"
        + "<br><br>".join(STORY)
        + "<br><br></td></tr></table><center>Copyright 2026 Island Gazette</center></body></html>"
    )
    old_furniture = ("Contact", "Copyright 2026")
    return [
        Page("newsroom article", newsroom, STORY, (), furniture),
        Page("blog with comments", blog, STORY, (), blog_furniture),
        Page("magazine, split body", magazine, STORY, (), magazine_furniture),
        Page("explainer, questions", explainer, STORY, QUESTIONS, explainer_furniture),
        Page("teaser cards as <article>", cards, STORY, (), cards_furniture),
        Page("old <br> page", old, STORY, (), old_furniture),
    ]


def suite_pages() -> list[Page]:
    """The HTML pages of the test suite; their article text is every paragraph and heading question."""
    pages = []
    files = sorted((REPO / "tests" / "data" / "condense").glob("*.html"))
    files.append(REPO / "tests" / "golden" / "inputs" / "harbour-bridge.html")
    for file in files:
        text = file.read_text()
        document = lxml.html.document_fromstring(text)
        paragraphs = tuple(p.text_content() for p in document.iter("p"))
        questions = tuple(
            h.text_content()
            for h in document.iter("h2", "h3", "h4")
            if h.text_content().strip().endswith("?")
        )
        pages.append(Page(f"tests: {file.name}", text, paragraphs, questions))
    park = (
        "The park will close for a year while the lake is dredged, the city said on Monday.",
        "About 2,000 people use the park every day, and the closure worries the cafés around it.",
    )
    page = (
        "<html><head><title>Park</title><script>alert(1)</script></head><body>"
        "<nav><p>Home</p><p>News</p><p>Sport</p></nav>"
        f"<div class='story'>{_p(park)}<p><img src=x onerror=alert(1)></p></div>"
        "<footer><p>Copyright and a long footer line that is not the story at all.</p></footer></body></html>"
    )
    pages.append(Page("tests: full-text page", page, park, (), ("Copyright", "Sport")))
    return pages


def _words(text: str) -> Counter[str]:
    return Counter(WORD.findall(text.lower().replace("’", "'")))


def _text(html: str) -> str:
    if not html.strip():
        return ""
    return " ".join(lxml.html.fragment_fromstring(html, create_parent="div").itertext())


def extractors() -> dict[str, Callable[[str], str]]:
    found: dict[str, Callable[[str], str]] = {"ours": readable_html}
    try:
        import trafilatura
    except ImportError:
        print("trafilatura is not installed; left out", file=sys.stderr)
    else:
        found["trafilatura"] = lambda page: (
            trafilatura.extract(
                page,
                output_format="html",
                include_formatting=True,
                include_comments=False,
                include_tables=False,
            )
            or ""
        )
    try:
        from readability import Document
    except ImportError:
        print("readability-lxml is not installed; left out", file=sys.stderr)
    else:
        found["readability-lxml"] = lambda page: Document(page).summary(html_partial=True)
    return found


@dataclass(frozen=True)
class Score:
    recall: float
    precision: float
    questions: int
    furniture: int
    ms: float


def score(page: Page, extract: Callable[[str], str], repeat: int) -> Score:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        html = extract(page.html)
        best = min(best, time.perf_counter() - start)
    text = _text(html)
    got, want = _words(text), _words(" ".join((*page.paragraphs, *page.questions)))
    common = sum((got & want).values())
    flat = " ".join(text.split())
    return Score(
        recall=common / max(1, sum(want.values())),
        precision=common / max(1, sum(got.values())) if got else 0.0,
        questions=sum(q in flat for q in page.questions),
        furniture=sum(f in flat for f in page.furniture),
        ms=best * 1000,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="runs per page; the best time counts")
    args = parser.parse_args(argv)
    pages = suite_pages() + written_pages()
    found = extractors()
    print("| page | extractor | recall | precision | questions kept | furniture left | ms/page |")
    print("|---|---|---|---|---|---|---|")
    totals: dict[str, list[Score]] = {name: [] for name in found}
    for page in pages:
        for name, extract in found.items():
            s = score(page, extract, args.repeat)
            totals[name].append(s)
            print(
                f"| {page.name} | {name} | {s.recall:.2f} | {s.precision:.2f} | {s.questions}/{len(page.questions)} "
                f"| {s.furniture}/{len(page.furniture)} | {s.ms:.2f} |"
            )
    questions = sum(len(p.questions) for p in pages)
    furniture = sum(len(p.furniture) for p in pages)
    print("\n| extractor | mean recall | mean precision | questions kept | furniture left | mean ms/page |")
    print("|---|---|---|---|---|---|")
    for name, scores in totals.items():
        n = len(scores)
        print(
            f"| {name} | {sum(s.recall for s in scores) / n:.3f} | {sum(s.precision for s in scores) / n:.3f} "
            f"| {sum(s.questions for s in scores)}/{questions} | {sum(s.furniture for s in scores)}/{furniture} "
            f"| {sum(s.ms for s in scores) / n:.2f} |"
        )


if __name__ == "__main__":
    main()
