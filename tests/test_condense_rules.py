"""The extractive condenser's rules, one at a time, on small texts written for these tests.

Each test pins one rule of ``digest/condense/extractive/`` (cleaning, quotes, openers, segmentation,
questions) or of plain-text input (headline, dateline, headings), so a change that breaks one says
which.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import needs
import pytest
from click.testing import CliRunner

from digest.cli import main
from digest.condense import get_condenser
from digest.condense.extractive.cast import Cast
from digest.condense.extractive.clean import (
    clean_paragraphs,
    is_furniture,
    without_captions,
    without_trailing_caption,
)
from digest.condense.extractive.lede import lede_units
from digest.condense.extractive.questions import Topics, _phrases, frame, story_words, topic_phrase
from digest.condense.extractive.roles import Actor
from digest.condense.extractive.sections import segment
from digest.condense.extractive.units import (
    Repeats,
    distinct_units,
    misleading_opener,
    paragraph_units,
    points_back,
    quote_open_after,
)
from digest.config import CondenseConfig
from digest.extract import extract
from digest.ingest import text_headline, text_to_html
from digest.text import content_words, split_sentences
from digest.types import Briefing, Entry, Story

SEED = needs.SHARED / "seed" / "qa-briefing-example.txt"
PUBLISHED = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def entry(content_html: str, title: str = "Council closes the toll bridge", dated: bool = True) -> Entry:
    return Entry(
        id="urn:test:rules",
        feed="Rules Desk",
        feed_url="https://rules.example/rss",
        title=title,
        link="https://rules.example/a",
        published=PUBLISHED,
        dated=dated,
        summary_html="",
        content_html=content_html,
    )


def briefing_of(paragraphs: list[str], title: str = "Council closes the toll bridge") -> Briefing:
    article = extract(entry("".join(f"<p>{p}</p>" for p in paragraphs), title=title))
    briefing = get_condenser(CondenseConfig()).condense(Story(article.entry.id, (article,)), UTC)
    assert briefing is not None
    return briefing


def all_sentences(briefing: Briefing) -> list[str]:
    paragraphs = [*briefing.lede, *(p for s in briefing.sections for p in s.answer)]
    return [s for p in paragraphs for s in split_sentences(p)]


# --- cleaning ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Read more: Council to vote on bridge",
        "Share this article",
        "Sign up for our morning newsletter",
        "Photograph: Lena Holt/Getty Images",
        "WATCH THE VIDEO:",
        "Advertisement",
        "TOO FAST TOO FURIOUS (DIGITAL BRIDGES)",
    ],
)
def test_furniture_lines_are_recognised(line: str) -> None:
    assert is_furniture(line)


def test_news_lines_are_not_furniture() -> None:
    assert not is_furniture("Read more carefully, the report shows the bridge was never safe.")
    assert not is_furniture("The council voted nine to four to close the bridge.")
    assert not is_furniture("NATO AGREES.")


def test_inline_markers_go_and_the_sentence_stays() -> None:
    cleaned = clean_paragraphs(
        [
            "(CNN) The mayor (pictured) opened the bridge on Tuesday. Scroll down for video",
            "Anna Kovacs, left, cut the ribbon with the mayor.",
            "Share this withEmailFacebookTwitterWhatsAppCopy this linkThe bridge reopened at noon.",
        ]
    )
    assert cleaned == [
        "The mayor opened the bridge on Tuesday.",
        "Anna Kovacs cut the ribbon with the mayor.",
        "The bridge reopened at noon.",
    ]


def test_a_fused_caption_goes_and_the_sentence_after_it_stays() -> None:
    fused = "The striker poses with the trophy on his Instagram account He joined the club in 2011."
    assert without_captions(fused) == "He joined the club in 2011."
    # A run with a sentence end before the fuse keeps that sentence.
    two = "The club confirmed the deal. The striker poses in his new shirt He joined in 2011."
    assert without_captions(two) == "The club confirmed the deal. He joined in 2011."
    # Inside an open quotation the capital is the speaker's, not a new sentence.
    quoted = '"We trained all week and the team was ready He said nothing," the coach said.'
    assert without_captions(quoted) == quoted
    # "A" or "An" before a lower-case word opens the sentence after a caption too.
    article = "The ferry waits at the quay in Rivermouth A storm closed the crossing on Monday."
    assert without_captions(article) == "A storm closed the crossing on Monday."
    leaning = "The ferry waits at the quay For instance, the crossing closed on Monday."
    assert without_captions(leaning) == "For instance, the crossing closed on Monday."


def test_a_caption_opening_on_a_name_and_a_picture_verb_goes() -> None:
    # A name glued to a word with no stop, then a picture's verb in the present: a caption starts.
    glued = (
        "Wardens closed the harbour road on Monday. Teodor Lind clears the fallen wall near the quay "
        "Anna Kovacs poses with a shovel beside the wreck 'We lost the whole road,' said the mayor."
    )
    assert (
        without_captions(glued)
        == "Wardens closed the harbour road on Monday. 'We lost the whole road,' said the mayor."
    )
    # A word of grammar before the name, or "appears to", is the story's own sentence.
    prose = "The storm passed where Kovacs appears in the old photographs of the quay."
    assert without_captions(prose) == prose
    seems = "Rivermouth council appears to have run out of money for the harbour road."
    assert without_captions(seems) == seems


def test_a_fused_run_that_reads_as_prose_keeps_its_place_with_a_full_stop() -> None:
    # Leaning on the sentence before ("Instead,") and reporting speech: the story's own sentence.
    lost = (
        "The mayor feared the bridge would split the town. Instead, the mayor said, it has brought "
        "both banks together In return, the council has named the bridge after the town's founders."
    )
    assert without_captions(lost) == (
        "The mayor feared the bridge would split the town. Instead, the mayor said, it has brought "
        "both banks together. In return, the council has named the bridge after the town's founders."
    )
    court = "The court was told that the driver had fallen asleep Yesterday he was banned for a year."
    assert without_captions(court) == (
        "The court was told that the driver had fallen asleep. Yesterday he was banned for a year."
    )
    # A caption in the present tense, naming who it shows, still goes.
    caption = "The driver leaves the court in Rivermouth In January, he had admitted the charge."
    assert without_captions(caption) == "In January, he had admitted the charge."


def test_words_trailing_a_paragraph_s_last_sentence_end_are_a_caption() -> None:
    assert (
        without_trailing_caption(
            "The council voted to close the bridge. The mayor poses on the rusted deck in Rivermouth"
        )
        == "The council voted to close the bridge."
    )
    # A tail that reads as prose is a sentence that lost its full stop.
    assert (
        without_trailing_caption(
            "The survey was published on Monday. It found that half of drivers said they avoid the bridge"
        )
        == "The survey was published on Monday. It found that half of drivers said they avoid the bridge."
    )
    kept = [
        "The council voted to close the bridge.",
        "The mayor named three reasons:",
        "A line with no sentence end at all",
        '"The bridge stays shut. We have no choice" the mayor told the hall',
    ]
    assert [without_trailing_caption(p) for p in kept] == kept


def test_caption_labels_go_and_titles_with_colons_stay() -> None:
    assert clean_paragraphs(
        [
            "Behind bars: The suspects were named on Sunday. The trial opens in May.",
            "Sgt Lee Daniels, 31, was shot Musical team: The Gavers played outside a store A senior "
            "officer said the band had camped there for days.",
            "Above, a picture of the band from their page. The band formed in 2009.",
        ]
    ) == [
        # A caption that ends on a full stop is a sentence once its label goes.
        "The suspects were named on Sunday. The trial opens in May.",
        # One without a stop, fused to the next sentence, goes up to where that sentence starts; so
        # does the unlabelled caption before it, fused to "A senior officer".
        "A senior officer said the band had camped there for days.",
        "The band formed in 2009.",
    ]
    kept = [
        "The final episode of Star Trek: Enterprise will air in May.",
        "Prince of Persia: Warrior Within won the award.",
        "He said: They will pay.",
        "Two films are out. They are: Hellboy and Ray.",
    ]
    assert clean_paragraphs(kept) == kept


def test_newsroom_credits_go() -> None:
    assert clean_paragraphs(
        [
            "The inquiry opened. CNN's Rob Frehse and Laura Ly contributed to this report.",
            "Additional reporting by Ana Duarte.",
            "Nurses contributed to the rescue effort.",
        ]
    ) == ["The inquiry opened.", "Nurses contributed to the rescue effort."]


def test_copyright_lines_follow_prompts_and_an_outlet_tag_go() -> None:
    assert clean_paragraphs(
        [
            "(The Valmora Courier)The ferry service resumed on Monday.",
            "Crews worked overnight. ©2026 The Valmora Courier. All rights reserved.",
            "The harbour reopened. You can follow the Courier on Twitter and Facebook.",
            "Fishermen follow the tides on the estuary.",
        ]
    ) == [
        "The ferry service resumed on Monday.",
        "Crews worked overnight.",
        "The harbour reopened.",
        "Fishermen follow the tides on the estuary.",
    ]


def test_a_briefing_shows_no_caption_of_its_source() -> None:
    paragraphs = [
        "The town council of Rivermouth voted on Tuesday to close the old toll bridge to cars from March, "
        "after engineers found corrosion in three of its five steel spans.",
        "Engineers inspect the rusted beams under the deck of the bridge The ring road bridge two "
        "kilometres upstream will take the traffic, adding ten minutes to a trip into town.",
        "The vote passed by nine votes to four after a four-hour debate in the town hall.",
        'Shopkeepers on Harbour Lane fear losing passing trade. "Half my customers come over that bridge '
        'in their cars," said Ana Duarte, who runs a hardware shop there.',
        "The council will ask for bids to repair the bridge in January and expects work to begin in the "
        "summer. Repairs are expected to cost about 14 million euros.",
    ]
    text = " ".join(all_sentences(briefing_of(paragraphs)))
    assert "rusted beams" not in text
    assert "The ring road bridge two kilometres upstream will take the traffic" in text


# --- quotes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "paragraph",
    [
        "'We are ready. We will act. Nobody will stop us,' said Ada Obi, the union's leader.",
        "‘We are ready. We will act. Nobody will stop us,’ said Ada Obi, the union's leader.",
        "Ada Obi, the union's leader, said: “We are ready. We will act. Nobody will stop us.”",
    ],
)
def test_a_quote_in_single_or_double_marks_stays_whole_with_its_speaker(paragraph: str) -> None:
    units = paragraph_units(paragraph, 0, 0)
    assert len(units) == 1 and units[0].text == paragraph


def test_a_straight_quote_mark_opening_a_word_reopens_rather_than_closes() -> None:
    # 'He said: "Not good. "Posters done by them.': a quotation running on, left open at the end.
    assert quote_open_after('He said: "Not very good at this. "Posters done by them according to brief.')
    assert not quote_open_after('He said: "Not very good at this." Then he left.')


def test_a_paragraph_continuing_an_open_quote_does_not_stand_alone() -> None:
    article = extract(
        entry(
            '<p>The union leader wrote to members on Friday. She said: "We will not accept this offer. '
            '"The pay rise is too small.</p><p>Nobody should sign it before the vote in March."</p>'
            "<p>The city said the offer was final and that talks would not resume.</p>"
        )
    )
    units = distinct_units(Story(article.entry.id, (article,)), Repeats())
    continued = [u for u in units if u.text.startswith("Nobody should sign")]
    assert continued and points_back(continued[0])


def test_an_apostrophe_is_no_quote_mark() -> None:
    paragraph = "The union's offer stands. The '90s were different. Workers' pay has fallen since 2015."
    assert len(paragraph_units(paragraph, 0, 0)) == 3


# --- openers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "misleading"),
    [
        ("But the council said no.", True),
        ("However, the vote passed.", True),
        ("They closed the bridge on Tuesday.", True),
        ("It was the first closure since 1994.", True),
        ('" he said.', True),
        ("and then it closed.", True),
        ("As a result, trade fell by a quarter.", True),
        ("One of them was injured.", True),
        ("One took place outside the embassy in 2013.", True),
        ("One man was injured.", False),
        ("The council closed the bridge on Tuesday.", False),
        ('"We are ready," said Ada Obi.', False),
        ("There were no injuries.", False),
    ],
)
def test_misleading_openers(sentence: str, misleading: bool) -> None:
    assert misleading_opener(sentence) is misleading


def test_the_lede_takes_a_sentence_opening_on_a_connective_only_after_the_one_it_answers() -> None:
    paragraphs = [
        "The town council of Rivermouth voted on Tuesday to close the old toll bridge to cars from March.",
        "Engineers found corrosion in three of its five steel spans during an inspection last autumn.",
        "The bridge was opened in 1932 and carried about nine thousand cars a day before the inspection.",
        "Shopkeepers on the east bank said trade had already fallen since the speed limit was cut last year.",
        "The operator of the river service had asked for help in December.",
        # Central to the headline, but "But" answers the operator's request, not the bridge's spans.
        "But the council refused the ferry subsidy for the crossings on the river on Tuesday.",
        "The town's two schools will change their bus routes from the first week of March.",
        "A public meeting on the closure will be held in the town hall next Thursday evening.",
    ]
    units = [u for i, p in enumerate(paragraphs) for u in paragraph_units(p, 0, i)]
    lede = [
        u.text for p in lede_units(units, "Council refuses ferry subsidy for the crossings", 75) for u in p
    ]
    for before, sentence in itertools.pairwise(lede):
        if misleading_opener(sentence):
            assert paragraphs.index(before) == paragraphs.index(sentence) - 1
    assert paragraphs[5] not in lede or paragraphs[4] in lede


# --- segmentation -----------------------------------------------------------------------------

#: Three topics of one story, four paragraphs each: the cuts must fall between them.
TOPICS = [
    [
        "Flood water reached the first floor of the Brae Valley hospital on Monday night.",
        "Hospital staff moved forty patients from the flooded hospital wards to the upper floors.",
        "The hospital cancelled all planned operations until the flood water is pumped out.",
        "Nurses at the hospital worked double shifts to care for the patients moved upstairs.",
    ],
    [
        "Farmers along the valley lost most of their winter barley to the flood water.",
        "The farmers' union said barley fields on the valley floor will not be sown again this season.",
        "Several farmers moved their cattle to higher pasture before the river burst its banks.",
        "Barley prices at the regional market rose by a tenth after the farmers' losses.",
    ],
    [
        "The regional government promised 30 million euros in emergency aid for repairs.",
        "Governor Lia Santos said the emergency aid would reach households within a month.",
        "Opposition members of the regional government called the aid too small and too late.",
        "The regional parliament will vote on the emergency aid budget next Thursday.",
    ],
]


def test_sections_are_cut_where_the_topic_changes() -> None:
    units = [
        u
        for number, paragraph in enumerate(p for t in TOPICS for p in t)
        for u in paragraph_units(paragraph, 0, number)
    ]
    cast = Cast(units, "Flood hits Brae Valley", "")
    sections = segment(units, 6, 600, cast)
    assert [[u.order[1] for u in section] for section in sections] == [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9, 10, 11],
    ]


def test_a_section_never_starts_on_a_sentence_that_points_back() -> None:
    paragraphs = [p for t in TOPICS for p in t]
    paragraphs[4] = "They lost most of their winter barley to the flood water, the farmers said."
    units = [u for number, p in enumerate(paragraphs) for u in paragraph_units(p, 0, number)]
    sections = segment(units, 6, 600, Cast(units, "Flood hits Brae Valley", ""))
    assert all(not section[0].text.startswith("They") for section in sections[1:])


# --- questions --------------------------------------------------------------------------------


def topic_of(sentence: str, exclude: set[str] | None = None, after: int = 0) -> str | None:
    units = paragraph_units(sentence, 0, 0)
    return topic_phrase(sentence, 0, Topics.of([units], ""), exclude or set(), after=after)


def test_a_topic_is_a_noun_phrase_not_a_verb_after_to() -> None:
    topic = topic_of("The charity launched a campaign to raise awareness among young drivers.")
    assert topic is not None and not topic.startswith("raise")


def test_a_topic_keeps_an_ing_noun_after_its_modifier() -> None:
    assert topic_of("Inspectors flagged faulty wiring in the building in 2019.") == "faulty wiring"


def test_a_role_before_a_name_gives_the_name() -> None:
    assert topic_of("The club plans to sell the striker Karim Benz next summer.") == "Karim Benz"


def test_a_topic_skips_the_actor_s_own_noun_phrase() -> None:
    sentence = (
        "Foreign Minister Sergei Lavrov noted worries the conflict could spread, as the conflict did in 2015."
    )
    assert topic_of(sentence, exclude={"minister"}, after=5) == "the conflict"
    # Without skipping the actor's phrase, the name would win.
    assert "Lavrov" in (topic_of(sentence) or "")


def test_a_lone_word_the_story_says_once_is_no_topic() -> None:
    assert topic_of("The council said it would not rid the town of its old bridge soon.") != "the rid"
    assert topic_of("The bridge is old, and the bridge is closing.") == "the bridge"


def test_a_verb_in_s_after_the_subject_ends_its_noun() -> None:
    topic = topic_of("The game rewards replay because the game has a time limit on every level.")
    assert topic is not None and "rewards" not in topic


def test_a_bare_verb_after_a_plural_subject_ends_its_noun() -> None:
    topic = topic_of("The trams handle steep hills badly in winter, the operator admits.")
    assert topic is not None and "handle" not in topic
    # A noun only ever plural still modifies the next one.
    phrases = _phrases(["The", "rights", "group", "leaders", "met", "the", "mayor."], [1, 2, 3], frozenset())
    assert phrases[0] == [1, 2, 3]
    # Anywhere in a sentence: "as more patients reach treatment centres".
    tokens = ["Deaths", "fell", "as", "more", "patients", "reach", "treatment", "centres."]
    assert _phrases(tokens, [4, 5, 6, 7], frozenset()) == [[4], [6, 7]]
    # A word the story uses as a noun ("the reach of the river") stays in the phrase.
    assert _phrases(tokens, [4, 5, 6, 7], frozenset({"reach"})) == [[4, 5, 6, 7]]


def test_a_shouted_label_is_no_topic() -> None:
    assert topic_of("RIDICULOUSLY TALENTED dancers filled the square on Sunday.") != "RIDICULOUSLY TALENTED"


@pytest.fixture(scope="module")
def bridge_briefing() -> Briefing:
    return briefing_of(BRIDGE, title="Rivermouth closes its toll bridge to cars")


BRIDGE = [
    "The town council of Rivermouth voted on Tuesday to close the old toll bridge over the Brae river to "
    "cars from March, after engineers found corrosion in three of its five steel spans.",
    "The vote passed by nine votes to four after a four-hour debate. Drivers will have to use the ring road "
    "bridge two kilometres upstream, which adds about ten minutes to a trip into the town centre.",
    "Engineers from the regional roads office inspected the bridge in October and reported that rust had "
    "eaten into the beams that carry the deck. Their report said the bridge could carry pedestrians and "
    "cyclists safely but not the weight of daily traffic.",
    "The roads office first warned about the beams in 2018, when it found flaking paint and early rust on "
    "the northern span. The council postponed repairs twice to pay for a new school.",
    'Shopkeepers on Harbour Lane, at the town end of the bridge, fear losing passing trade. "Half my '
    'customers come over that bridge in their cars," said Ana Duarte, who runs a hardware shop there. '
    '"If they stop coming, I will have to close."',
    "The chamber of commerce asked the council to cut parking fees on Harbour Lane while the bridge is "
    "shut. The council said it would consider the request in January.",
    'Mayor Piet Vermeer defended the decision. "Nobody wants to close a bridge, but nobody wants to see '
    'one fall down either," he said at the end of the debate.',
    "The council will ask for bids to repair the bridge in January and expects work to begin in the "
    "summer. Repairs are expected to cost about 14 million euros, of which the regional government has "
    "promised half.",
    "The bridge was built in 1911 and carried about 9,000 cars a day before the vote. Tolls were "
    "abolished in 1987, but the name stayed.",
    "Cyclists welcomed the closure. The Rivermouth cycling club said the bridge would become the safest "
    "route into the town centre, and asked the council to paint a cycle lane across it in the spring.",
    "Bus operators said the detour would add a quarter of an hour to the number 4 route, and that they "
    "would ask the council for a bus lane on the ring road while the bridge is shut.",
    "The school board said children who walk to the two schools on the far bank could still use the "
    "bridge on foot, and that crossing guards would stand at both ends in the mornings.",
]


def test_questions_name_their_story_and_are_short_and_unique(bridge_briefing: Briefing) -> None:
    questions = [s.question for s in bridge_briefing.sections]
    assert len(questions) >= 3 and len(set(questions)) == len(questions)
    story = {w for p in BRIDGE for w in content_words(p)}
    for question in questions:
        assert question.endswith("?") and len(question.split()) <= 12, question
        assert set(story_words(question)) & story, f"generic: {question}"


def test_each_answer_opens_on_what_its_question_asks(bridge_briefing: Briefing) -> None:
    for section in bridge_briefing.sections:
        asked = set(story_words(section.question))
        first = set(content_words(split_sentences(section.answer[0])[0]))
        assert len(asked & first) * 2 >= len(asked), section


def test_no_lede_or_answer_opens_misleadingly_and_nothing_is_told_twice(bridge_briefing: Briefing) -> None:
    openings = [bridge_briefing.lede[0], *(s.answer[0] for s in bridge_briefing.sections)]
    assert not [o for o in openings if misleading_opener(split_sentences(o)[0])]
    sentences = all_sentences(bridge_briefing)
    assert len(sentences) == len(set(sentences))


WATER_PRICES = [
    "The island's only water supplier, Almera Water, will raise its prices by nine percent from January.",
    "The rise is the largest in a decade and will add about forty euros to a typical household bill.",
    "On Monday, Almera Water said the cost of repairing the reservoir dam, which cracked in last winter's "
    "storms, was to blame.",
    "The regulator said it would review the rise this month and could order a smaller increase.",
    "Consumer groups called the increase unfair to pensioners and asked the regulator to block it entirely.",
    "The company said the dam repairs would cost about twelve million euros and take two years to finish.",
    "It also plans to replace old pipes in the harbour district, where leaks waste a fifth of the supply.",
    "Households on low incomes can apply for a discount scheme that the supplier runs with the council.",
    "The scheme helped about two thousand households last year, according to the council's figures.",
]


def test_the_company_is_asked_about_by_the_name_the_headline_gives_it() -> None:
    briefing = briefing_of(WATER_PRICES, title="Almera Water raises prices for the winter")
    questions = [s.question for s in briefing.sections]
    assert any("Almera Water" in q for q in questions), questions
    assert not any("the company" in q for q in questions), questions


def test_the_company_is_not_resolved_to_a_person_the_headline_names() -> None:
    # "Mr Almera": the headline names a person, so "the company" is some other body.
    paragraphs = [p.replace("Almera Water", "Mr Almera") for p in WATER_PRICES]
    units = [u for i, p in enumerate(paragraphs) for u in paragraph_units(p, 0, i)]
    cast = Cast(units, "Almera raises prices for the winter", "")
    company = Actor("the company")
    assert cast.resolved(company) == company


def test_a_speaker_reporting_an_act_is_asked_what_they_did() -> None:
    paragraphs = [
        "The transport agency said it had ordered a full survey of the pier and asked the navy for divers.",
        "Waves of up to six metres struck the pier during the night, and two of its piles cracked.",
    ]
    units = [u for number, p in enumerate(paragraphs) for u in paragraph_units(p, 0, number)]
    framed = frame(units, 0, Topics.of([units], "Storm closes the pier"), Cast(units, "", ""), 2026, set())
    assert framed.question.startswith("What has the") and "agency done about" in framed.question
    assert framed.opener is units[0]


# --- plain text and Markdown ------------------------------------------------------------------


def test_a_plain_text_first_line_is_its_headline() -> None:
    assert text_headline("Council closes bridge\n\nThe council voted on Tuesday.\n") == (
        "Council closes bridge",
        "\nThe council voted on Tuesday.",
    )
    assert text_headline("# Council closes bridge\n\nThe council voted.\n")[0] == "Council closes bridge"
    # A sentence, a line with no blank after it, or a dateline is no headline.
    assert text_headline("The council voted on Tuesday.\n\nIt was close.\n")[0] == ""
    assert text_headline("Council closes bridge\nThe council voted.\n\nMore.\n")[0] == ""
    assert text_headline("RIVERMOUTH - The council voted\n\nMore text.\n")[0] == ""


def test_markdown_headings_and_question_lines_become_headings() -> None:
    html = text_to_html("Intro line.\n\n## Why now?\n\nBecause.\n\nWho pays?\n\nThe town.\n")
    assert html == "<p>Intro line.</p><h2>Why now?</h2><p>Because.</p><h2>Who pays?</h2><p>The town.</p>"
    # A hard-wrapped paragraph whose line happens to end in a question is not a heading.
    wrapped = text_to_html("The mayor asked the crowd whether\nanyone had seen the report?\nNobody had.\n")
    assert "<h2>" not in wrapped
    # A quoted question is speech, not a heading.
    assert "<h2>" not in text_to_html('Intro.\n\n"Who pays?"\n\nThe town.\n')


def test_a_dateline_with_place_and_date_is_read() -> None:
    article = extract(
        entry("<p>RIVERMOUTH, 2 December 2026 - The council voted to close the bridge.</p>", dated=False)
    )
    assert article.place == "RIVERMOUTH"
    assert article.dateline_date == date(2026, 12, 2)
    assert article.intro[0] == "The council voted to close the bridge."
    country = extract(entry("<p>DUSHANBE, Tajikistan — Tajikistan sent more guards to the border.</p>"))
    assert country.place == "DUSHANBE" and country.intro[0].startswith("Tajikistan sent")


def test_a_markdown_file_keeps_its_structure_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "bridge.md"
    body = "\n\n".join(BRIDGE[:2])
    answers = "\n\n".join(BRIDGE[2:4])
    source.write_text(
        "# Rivermouth closes its toll bridge\n\n"
        f"RIVERMOUTH, 2 December 2026 - {body}\n\n"
        f"## Why is the bridge closing?\n\n{answers}\n\n"
        f"What happens next?\n\n{BRIDGE[7]}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["condense", "--json", str(source)])
    assert result.exit_code == 0, result.output
    story = json.loads(result.stdout.splitlines()[0])
    assert story["headline"] == "Rivermouth closes its toll bridge"
    assert [s["question"] for s in story["sections"]] == ["Why is the bridge closing?", "What happens next?"]
    assert story["dateline"]["place"] == "RIVERMOUTH" and story["dateline"]["date"] == "2026-12-02"
    assert story["lede"][0].startswith("The town council of Rivermouth voted")


# --- the seed example without its headings ----------------------------------------------------


def test_the_seed_without_its_headings_finds_its_own_topics() -> None:
    needs.shared(
        "seed/qa-briefing-example.txt", "finding the reference example's topics without its headings"
    )
    lines = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    own: dict[str, list[str]] = {}
    question = ""
    for line in lines[1:]:
        if line == "- - -":
            continue
        if line.endswith("?"):
            question = line
        elif question:
            own.setdefault(question, []).extend(split_sentences(line))
    body = [line for line in lines[1:] if line != "- - -" and not line.endswith("?")]
    article = extract(entry("".join(f"<p>{p}</p>" for p in [lines[0], *body]), dated=False))
    briefing = get_condenser(CondenseConfig()).condense(Story(article.entry.id, (article,)), UTC)
    assert briefing is not None
    assert 4 <= len(briefing.sections) <= 6
    where = {s: i for i, sec in enumerate(briefing.sections) for p in sec.answer for s in split_sentences(p)}
    # A topic comes back when most of what the briefing keeps of it sits in one section.
    kept = 0
    for sentences in own.values():
        placed = Counter(where[s] for s in sentences if s in where)
        if placed and placed.most_common(1)[0][1] >= 0.6 * sum(placed.values()):
            kept += 1
    assert kept >= 4, briefing.sections
    for section in briefing.sections:
        asked = set(story_words(section.question))
        answer = {w for p in section.answer for w in content_words(p)}
        assert asked and len(asked & answer) * 2 > len(asked), section.question


def test_whom_a_speaker_told_is_not_the_topic() -> None:
    # "What does McGuire say about the BBC?" asked about the listener, not the story.
    told = "Mike Hale told the Harbour Gazette that the ferry company had done well."
    assert topic_of(told, exclude={"mike", "hale"}) == "the ferry company"
    told = "Anna Berg told the Harbour Gazette that Brenn Ferries would use the quay."
    assert topic_of(told, exclude={"anna", "berg"}) == "Brenn Ferries"
