"""Question analysis on the real spaCy pipeline and the real MiniLM: the expected answer type comes from the parse,
on questions made up for this test (no dev question)."""

from __future__ import annotations

import pytest

from bot.read.analysis import QuestionAnalyser
from bot.read.nlp import NlpUnavailableError, pipeline

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def analyser():
    return QuestionAnalyser(pipeline())


@pytest.mark.parametrize(("question", "kind"), [
    ("Who repaired the lighthouse lamp?", "person"),
    ("Whose tractor blocked the road?", "person"),
    ("When did the bakery reopen?", "date"),
    ("Where was the regatta held?", "place"),
    ("Why did the council close the pool?", "reason"),
    ("How did the goats escape?", "manner"),
    ("How many sheep were lost in the flood?", "count"),
    ("How much did the new roof cost?", "money"),  # a price word is the predicate
    ("How far did the balloon drift?", "quantity"),
    ("Did the ferry run on Sunday?", "yesno"),
    ("Is there a toll on the bridge?", "yesno"),
    ("What did the harbourmaster promise the fishermen?", "description"),
])
def test_the_wh_word_and_its_head_give_the_kind(analyser, question, kind):
    assert analyser.analyse(question).expected.kind == kind


def test_when_inside_the_question_does_not_make_it_a_date_question(analyser):
    assert analyser.analyse("What happened when the dam overflowed?").expected.kind == "description"


def test_a_which_noun_asks_for_a_named_thing_of_that_class(analyser):
    assert analyser.analyse("Which microscope did the lab buy?").expected.head == "microscope"
    got = analyser.analyse("In which harbour town did the choir perform?").expected
    assert (got.kind, got.head) == ("place", "harbour town")  # a class noun of the place type
    assert analyser.analyse("What share of the orchard was flooded?").expected.head == "share"
    assert analyser.analyse("How much grain did the silo hold?").expected.head == "grain"


def test_a_missing_model_says_how_to_install_it():
    with pytest.raises(NlpUnavailableError, match="make install"):
        pipeline("no_such_spacy_pipeline")


def test_a_numeral_in_the_question_is_an_entity_not_the_answer_type(analyser):
    got = analyser.analyse("What did one farmer say about the drought?")
    assert got.expected.kind == "description" and ("one", "CARDINAL") in got.entities
