"""Question topics and wordings, one rule a test, on small texts written for these tests.

A topic is a noun phrase naming a thing of the story (never a quote's inner words, a verb, a vague
noun or a listener); a question's form comes from what its answer's first sentence does (a finding,
a decision, a reaction, a reason, a person introduced, a plan with its date, a change in a figure).
"""

from __future__ import annotations

import re
from collections import Counter

from test_condense_rules import briefing_of

from digest.condense.extractive.cast import Cast
from digest.condense.extractive.questions import Framed, Topics, frame, topic_phrase
from digest.condense.extractive.units import Unit, paragraph_units, quoted_tokens, unquoted
from digest.types import Briefing


def units_of(paragraphs: list[str]) -> list[Unit]:
    return [u for number, p in enumerate(paragraphs) for u in paragraph_units(p, 0, number)]


def framed(
    paragraphs: list[str], headline: str = "Rivermouth news", before: list[str] | None = None
) -> Framed:
    """The question of a one-section story whose lede was ``before``."""
    lede = units_of(before or [])
    section = [
        Unit(u.parts, (0, u.order[1] + len(before or []), u.order[2]), u.end, u.words)
        for u in units_of(paragraphs)
    ]
    cast = Cast([*lede, *section], headline, "")
    return frame(section, 0, Topics.of([section], headline), cast, 2026, set())


def topic_of(sentence: str, story: list[str] | None = None, exclude: set[str] | None = None) -> str | None:
    section = units_of([sentence, *(story or [])])
    return topic_phrase(sentence, 0, Topics.of([section], ""), exclude or set())


# --- topics -----------------------------------------------------------------------------------


def test_a_quotes_inner_words_are_no_topic() -> None:
    sentence = "Ola Brenn posted the comment 'See you at the quay, lads!' under a photo of the harbour wall."
    topic = topic_of(sentence, exclude={"ola", "brenn"})
    assert topic is not None and "lads" not in topic and "quay" not in topic
    # Which words stand inside the quote.
    tokens = sentence.split(" ")
    inside = [t for t, q in zip(tokens, quoted_tokens(tokens), strict=True) if q]
    assert inside == ["'See", "you", "at", "the", "quay,", "lads!'"]
    assert unquoted('"We will reopen," the mayor said.') == "the mayor said."


def test_a_name_a_quote_mentions_is_a_topic_when_the_writer_names_it_too() -> None:
    quote = '"Nobody comes to Quarry Street any more," said Ana Duarte.'
    story = ["The shops of Quarry Street lost half their trade when the ferry stopped."]
    assert topic_of(quote, story, exclude={"ana", "duarte"}) == "Quarry Street"
    assert topic_of(quote, exclude={"ana", "duarte"}) is None
    # So is a common noun the writer uses too.
    pipes = '"The old pipes burst every winter," said Ana Duarte.'
    assert topic_of(pipes, ["The utility will replace old pipes soon."], {"ana", "duarte"}) == "the old pipes"


def test_a_name_modifying_a_quotes_noun_is_no_topic() -> None:
    quote = '"The Keldaran economy is strong enough," said Ana Duarte.'
    story = ["Exports from Keldaran ports rose."]
    topic = topic_of(quote, story, exclude={"ana", "duarte"})
    assert topic is None or "Keldaran" not in topic


def test_who_acts_inside_a_quote_is_not_the_speaker() -> None:
    question = framed(
        ["'Hanoi and Nova Lisboa are full of bikes, and the commute here seems easy,' Lund said."]
    ).question
    assert "Lisboa" not in question, question


def test_a_verb_after_its_subject_is_not_part_of_the_topic() -> None:
    topic = topic_of(
        "Once installed, the program replaces all the icons.", ["The program spread.", "Icons went."]
    )
    assert topic is not None and "replaces" not in topic
    # A plural noun after an adjective stays a noun.
    assert topic_of("The charity ran a course for young drivers.", ["Young drivers crash most."]) == (
        "young drivers"
    )
    # "the" only where the phrase had a determiner of its own, not one of an earlier clause.
    assert (
        topic_of("Over the summer, ferry ticket sales rose.", ["Ticket sales fell."]) == "ferry ticket sales"
    )


def test_a_vague_head_makes_no_topic() -> None:
    assert topic_of("Fans are using the new players in novel ways.", ["Ways differ."]) != "novel ways"
    assert topic_of("Phones can now show background images on their screens.") != "background images"


def test_a_name_with_of_stays_whole_and_a_role_before_a_name_goes() -> None:
    sentence = "Shares in the Bank of Rivermouth fell after the storm."
    assert topic_of(sentence) == "the Bank of Rivermouth"
    assert topic_of("He praised Rovers boss Mark Hughes for his patience.") == "Mark Hughes"


def test_who_a_claim_is_according_to_is_not_its_topic() -> None:
    topic = topic_of("According to Mr Lund, the ferry schedule will change in spring.", exclude=set())
    assert topic is not None and "Lund" not in topic


def test_an_owner_in_the_plural_keeps_its_apostrophe_and_article() -> None:
    topic = topic_of("The minister rejected the Greens' levy on diesel cars.", ["The levy is new."])
    assert topic == "the Greens' levy"


def test_a_name_written_in_lower_case_is_no_topic() -> None:
    story = [
        "The crossing is run by Brenn Ferries.",
        "The Brenn boats are old.",
        "Staff at Brenn went on strike.",
    ]
    topic = topic_of("Passengers praised the brenn crossing on the forum.", story)
    assert topic is None or "brenn" not in topic


# --- wordings ---------------------------------------------------------------------------------


def test_a_finding_asks_what_the_study_found() -> None:
    question = framed(
        ["An audit by the regional roads office found rust in three of the five spans."]
    ).question
    assert question.startswith("What did the audit find"), question


def test_a_decision_asks_what_was_decided() -> None:
    question = framed(["The town council voted on Tuesday to close the toll bridge to cars."]).question
    assert question.startswith("What did the town council decide"), question


def test_a_reaction_asks_how_they_reacted() -> None:
    question = framed(["Residents welcomed the closure of the old bridge at a meeting on Friday."]).question
    assert question.startswith("How did residents react to"), question


def test_a_cause_asks_why() -> None:
    passive = framed(["The cup final was postponed after heavy snow covered the pitch at Dunmore."])
    assert passive.question == "Why was the cup final postponed?"
    active = framed(
        ["Keldara closed its border with Norvasse because of fighting near the crossing."],
        before=["The mountain state of Keldara is small.", "Few roads cross Keldara."],
    )
    assert active.question == "Why has Keldara closed its border with Norvasse?", active.question


def test_a_person_introduced_asks_who_they_are() -> None:
    question = framed(
        ["Maria Lopez, a nurse at the harbour clinic, saw the ferry strike the pier in the fog."]
    ).question
    assert question == "Who is Maria Lopez?"
    # Named before, they are no newcomer.
    again = framed(
        ["Maria Lopez, a nurse at the harbour clinic, saw the ferry strike the pier in the fog."],
        before=["Maria Lopez called the coastguard."],
    ).question
    assert again != "Who is Maria Lopez?"


def test_a_plan_with_a_date_asks_when() -> None:
    question = framed(["The new tram line will open in March after two years of building work."]).question
    assert question == "When will the new tram line open?"
    passive = framed(["The new prizes will be awarded in May at a dinner in the old town hall."]).question
    assert passive == "When will the new prizes be awarded?"
    # A verb with an object asks about the object, not when its subject acts; a capital that only
    # opens the sentence is not kept.
    transitive = framed(["Engineers will fit sensors to every cable next year.", "Sensors are cheap."])
    assert not transitive.question.startswith("When will"), transitive.question
    common = framed(["Trams will return in March after two years away from the town.", "Trams are quiet."])
    assert common.question == "When will trams return?", common.question


def test_a_figure_that_moved_asks_how_it_changed() -> None:
    question = framed(
        ["Over the summer, ferry ticket sales rose 12% to 40,000.", "Ticket sales in winter were flat."]
    ).question
    assert question == "How have ferry ticket sales changed?", question


def test_what_a_speaker_said_is_asked_in_the_tense_of_the_text() -> None:
    said = framed(['"The pier will reopen in May," said Mayor Helen Vasquez, who visited the harbour.'])
    assert said.question.startswith("What did Mayor Helen Vasquez say"), said.question
    says = framed(['"The pier will reopen in May," says Mayor Helen Vasquez, who visited the harbour.'])
    assert says.question.startswith("What does Mayor Helen Vasquez say"), says.question


def test_an_outlet_that_reported_is_not_the_actor() -> None:
    question = framed(
        ["Two guards posted insults about the detainees on the forum, the Harbour Gazette reported."]
    ).question
    assert "Gazette" not in question, question


def test_the_speaker_of_a_quote_is_the_one_named_outside_it() -> None:
    quote = '"Keldara has the best harbour in the north," Brenn Ferries chief Ola Sand said.'
    units = units_of([f'{quote} "We will add boats," he said.'])
    cast = Cast(units, "Ferries expand", "")
    assert [a.text for a in cast.speakers(units)] == ["Ola Sand"]


def test_a_courtesy_title_before_a_speaker_after_said_keeps_the_speaker() -> None:
    units = units_of(
        [
            "Ola Brenn runs the ferry company.",
            '"The crossing is safe and the boats are new," said Mr Brenn.',
        ]
    )
    cast = Cast(units, "Ferries expand", "")
    assert [a.text for a in cast.speakers(units[1:])] == ["Ola Brenn"]


def test_a_name_set_off_after_a_role_is_the_speaker() -> None:
    units = units_of(["The ferry firm's lawyer, Ana Duarte, said the fines would be appealed."])
    cast = Cast(units, "Ferry firm fined", "")
    assert [a.text for a in cast.speakers(units)] == ["Ana Duarte"]
    # A role word opening the sentence before the name ("Witness") is no part of it.
    witness = units_of(["Witness Teodor Lind told the court that the ferry left late.", "Lind was on deck."])
    assert [a.text for a in Cast(witness, "Ferry late", "").speakers(witness[:1])] == ["Teodor Lind"]


def test_a_role_after_a_bodys_name_is_a_speaker() -> None:
    units = units_of(["A Harbour Board spokesperson said the ferry would return in May."])
    cast = Cast(units, "Ferry to return", "")
    assert [a.text for a in cast.speakers(units)] == ["a Harbour Board spokesperson"]


def test_a_forename_opening_a_sentence_stays_with_the_surname() -> None:
    units = units_of(["Katrin Solberg battled the wind to finish second in the harbour race."])
    cast = Cast(units, "Harbour race", "")
    assert [n.words for n in cast.names(units[0].parts[0])] == [("Katrin", "Solberg")]
    # A participle or a role opening the sentence is no forename.
    speaking = units_of(["Speaking Solberg said little.", "Solberg won."])
    assert [n.words for n in Cast(speaking, "x", "").names(speaking[0].parts[0])] == [("Solberg",)]


def test_names_glued_together_come_apart() -> None:
    story = [
        "Rivermouth won the cup.",
        "Teodor Lind scored for Rivermouth and Lind was named man of the match.",
        "Lind said Rivermouth deserved it.",
        "In Rivermouth Lind signed shirts for an hour.",
    ]
    units = units_of(story)
    cast = Cast(units, "Cup final", "")
    assert [n.words for n in cast.names(story[3])] == [("Lind",)]


def test_something_announced_asks_what_was_announced() -> None:
    question = framed(["The harbour board announced a new timetable for the winter ferries on Monday."])
    assert question.question == "What did the harbour board announce?", question.question
    suggested = framed(
        ["Meanwhile, the head of the ferry union, Ana Duarte, has suggested a second crossing."],
        before=["Ana Duarte leads the union.", "Duarte is new."],
    )
    assert suggested.question == "What has Ana Duarte suggested?", suggested.question


def test_a_deed_of_a_person_or_a_body_asks_what_they_did() -> None:
    question = framed(["The family recently started a fund to rebuild the pier at Port Sella."])
    assert question.question == "What did the family do?", question.question
    # A thing that "did" something reads oddly: no such question.
    thing = framed(["The storm brought down the pier at Port Sella on Monday night."])
    assert thing.question != "What did the storm do?", thing.question


def test_a_subject_doing_something_now_asks_what_it_does() -> None:
    question = framed(["The complaint describes several meetings between the two ferry owners."])
    assert question.question == "What does the complaint describe?", question.question
    firm = framed(["The firm works on software for harbour cranes and ferry ramps."])
    assert firm.question == "What does the firm work on?", firm.question
    # A noun in -s after a name is no verb: a verb has its object or a particle after it.
    systems = framed(["Early HSDPA systems typically offer two megabits per second to each phone."])
    assert not systems.question.startswith("What does Early"), systems.question


def test_a_sentence_saying_what_its_subject_is_asks_what_or_who_it_is() -> None:
    thing = framed(["Harbour fever is a rare infection carried by gulls at the quay."])
    assert thing.question == "What is harbour fever?", thing.question
    person = framed(
        ["Teodor Lind was a ferry captain for forty years before he retired."],
        before=["Teodor Lind died on Monday.", "Mr Lind was 90."],
    )
    assert person.question == "Who was Teodor Lind?", person.question
    # A name the story never marks as a person's is not asked "Who".
    acronym = framed(["IPTV is a way of sending television over the net.", "IPTV is cheap."])
    assert not acronym.question.startswith("Who"), acronym.question


def test_a_death_asks_what_happened() -> None:
    question = framed(
        ["Teodor Lind died in March after a long illness, aged 90."],
        before=["Crews remember Lind as a calm captain."],
    )
    assert question.question == "What happened to Teodor Lind?", question.question


def test_a_speaker_whose_plan_fits_no_wording_is_asked_what_they_said() -> None:
    question = framed(["Ola Brenn, economist at Harbour Bank, said rates may rise again next spring."])
    assert question.question.startswith("What did Ola Brenn say"), question.question


def test_words_in_quotation_marks_nobody_speaks_make_no_speaker() -> None:
    question = framed(
        ['Keldara could also ease a shortage of crews in "the old ports" once its colleges grow.'],
        before=["Keldara wants to join the ferry league.", "Keldara has many sailors."],
    ).question
    assert not question.startswith("What does Keldara say"), question


def test_a_person_the_story_marks_as_one_is_asked_who_they_are() -> None:
    story = [
        "Among the crowd at the quay stood the harbour master Ola Brenn and two pilots.",
        "Mr Brenn waved.",
    ]
    question = framed(story[:1], before=story[1:]).question
    assert question == "Who is Ola Brenn?", question


def test_an_event_told_in_the_past_asks_what_happened_at_it() -> None:
    question = framed(
        [
            "Hundreds of people marched along the quay during the rally, waving flags in the wind.",
            "The rally ended at noon near the pier.",
        ]
    ).question
    assert question == "What happened at the rally?", question


def test_what_an_actor_did_is_asked_only_when_it_is_the_sentences_subject() -> None:
    question = framed(
        ["Almunia dived to save a shot at the far post, while Ashdown palmed away a late header."],
        before=["Ashdown kept goal for the visitors.", "Almunia kept goal at home."],
    ).question
    assert question != "What did Ashdown do?", question


def test_a_word_in_s_closing_a_phrase_after_a_noun_is_a_plural_noun() -> None:
    sentence = "Some players can share radio shows, called podcasts, with other listeners."
    assert topic_of(sentence, ["Radio shows are popular.", "The shows are free."]) == "radio shows"
    # After a name it is the name's verb.
    leaves = "He fears that if Keldara leaves, the ferry league could make crossings dearer."
    assert topic_of(leaves, ["Keldara is small.", "Keldara leaves soon."]) != "Keldara leaves"


# --- a whole briefing -------------------------------------------------------------------------

PIER = [
    "The island of Fallow lost its only ferry link on Monday when a storm tore away the end of the main "
    "pier at Port Sella, leaving about 2,000 people without a crossing to the mainland.",
    "The transport agency said the damage was worse than first thought. Waves of up to six metres struck "
    "the pier during the night, and two of its steel piles cracked.",
    "An inspection by agency engineers found that the deck had shifted by half a metre and that the "
    "concrete under the ticket office had split. Their report said the pier could not be used safely.",
    "The agency decided on Tuesday to charter two smaller passenger boats from a mainland operator, which "
    "will sail from the fishing harbour twice a day until the pier is repaired.",
    "Island shopkeepers welcomed the charter but said the boats could carry no freight. Deliveries of "
    "fresh food have already slowed, and the island's only supermarket has rationed milk.",
    "Petra Morland, a baker on Harbour Street, said she had closed two days this week for lack of flour. "
    '"Without the ferry there is no one on the street at all," she said.',
    "The school term was shortened after teachers who live on the mainland could not reach the island.",
    "Repairs will begin in April and are expected to cost about 14 million euros, the agency said. The "
    "regional government has promised to pay half.",
    "Ticket sales for the charter boats rose 40% in their first week to 3,100, according to the operator.",
    "The pier was built in 1958 and was last strengthened in 1994. Engineers had warned in 2021 that its "
    "piles were corroding, but a repair plan was shelved when its cost doubled.",
    "Opposition councillors blamed the agency for the delay. Councillor Anton Reyes said the island had "
    "been promised a new pier three times in ten years and had been let down each time.",
    "The agency said it would publish a timetable for the repairs by the end of the month and would hold "
    "a public meeting on the island next week.",
    "Doctors at the island clinic said patients who need hospital care would be flown to the mainland by "
    "helicopter. The clinic has postponed eight planned operations until the crossing reopens.",
    "The fishing fleet has offered its harbour as a landing place for freight. Skippers said they could "
    "unload small cargoes at high tide if the agency paid for the extra crew.",
]


def pier_briefing() -> Briefing:
    return briefing_of(PIER, title="Storm cuts Fallow off from the mainland")


def test_a_briefings_questions_take_several_forms_each_naming_what_its_answer_says() -> None:
    briefing = pier_briefing()
    questions = [s.question for s in briefing.sections]
    assert len(questions) >= 3 and len(set(questions)) == len(questions)
    # No one wording heads most of the briefing.
    forms = Counter(" ".join(q.split()[:3]) for q in questions)
    assert forms.most_common(1)[0][1] <= len(questions) // 2, questions
    assert not any(q.startswith("What is known about") for q in questions[:2]), questions
    for section in briefing.sections:
        answer = " ".join(section.answer)
        # Every capitalised name a question shows is written in its answer (a person by surname).
        for name in re.findall(r"(?<!^)\b[A-Z][a-z]+(?: [A-Z][a-z]+)*", section.question):
            assert name.split()[-1] in answer, (section.question, answer)
        assert len(section.question.split()) <= 12
