"""Polarity: a passage that says the asked-for thing did not happen is no answer; 'not known' is one."""

from __future__ import annotations

import pytest

from bot.judge.polarity import denies_answer, question_predicates
from bot.judge.support import Evidence, LexicalJudge
from bot.read.analysis import QuestionAnalyser
from bot.read.extractive import analyse_question
from bot.read.nlp import pipeline


def analyse(question: str):
    """The analysis the reader gives the judge: names and figures from the question, the kind from spaCy's parse."""
    return analyse_question(question, QuestionAnalyser(pipeline()))[0]


def covers(question: str, text: str) -> bool:
    ev = Evidence(text=text, answer_part=text, title="", document=text)
    return LexicalJudge().covers(ev, analyse(question)).supported


def denies(question: str, answer: str, leaned_on: str = "") -> bool:
    a = analyse(question)
    return denies_answer(answer, leaned_on, question, set(a.terms), quantity=a.kind == "number")


def test_predicates_are_the_question_verbs():
    assert question_predicates("Which band won the regional trophy?") == {"win"}
    assert question_predicates("When did Smith win the mayoral race?") == {"win"}
    assert {"stop"} <= question_predicates("Why did the ferry stop running?")
    assert question_predicates("Which phones support the feature?") == set()


@pytest.mark.parametrize(
    "question, answer, leaned_on",
    [
        ("Which band won the regional trophy in March?",
         "Several favourites for the regional trophy in March were not shortlisted by the jury.", ""),
        ("Which band won the regional trophy in March?", "Those left out include the Larks and the Owls.",
         "Several favourites for the regional trophy in March were not shortlisted by the jury."),
        ("Which company bought the factory?", "Acme did not buy the factory.", ""),
        ("When did the tunnel open?", "The tunnel never opened to traffic.", ""),
    ],
)
def test_a_denial_about_the_question_is_not_an_answer(question, answer, leaned_on):
    assert denies(question, answer, leaned_on)


@pytest.mark.parametrize(
    "question, answer, leaned_on",
    [
        # The answering clause affirms the question's verb; a side clause's "not" does not matter.
        ("Which band won the regional trophy in March?",
         "The Larks won the regional trophy in March, although they had not rehearsed.", ""),
        ("When did Smith win the mayoral race?", "He won it in 2014.", "Smith did not win the mayoral race in 2010."),
        # Not known / not disclosed is the honest answer.
        ("Why did the ferry stop running?", "The operator had not issued an official explanation.", ""),
        ("Who bought the old mill?", "The buyer of the old mill was not disclosed.", ""),
        # Zero is a quantity.
        ("How many people were hurt in the blast?", "No one was hurt in the blast, police said.", ""),
        # The question asks about the negative itself.
        ("Which films were not nominated?", "Several films were not nominated.", ""),
        # A passing "never" in the other clause does not deny the clause that answers.
        ("Around what time did the lake freeze, according to the ranger?",
         "The ranger said the lake froze around 6 a.m. He had never seen ice like that.", ""),
    ],
)
def test_affirmed_unknown_or_asked_negatives_still_answer(question, answer, leaned_on):
    assert not denies(question, answer, leaned_on)


def test_coverage_rejects_a_denial_and_keeps_not_known():
    assert not covers("Which company bought the factory in 2019?", "Acme did not buy the factory in 2019.")
    assert covers("Why did the ferry stop running?", "The operator had not issued an official explanation.")
