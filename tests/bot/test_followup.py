"""Follow-up questions are resolved from the history before retrieval."""

from __future__ import annotations

from bot.answer import answer
from bot.followup import needs_history, resolve
from bot.models import Message

MONTAZERI = [
    Message(role="user", content="What does Armin Montazeri say about nuclear weapons?"),
    Message(role="assistant", content="He says Russia doesn't want Iran to be equipped with nuclear weapons [1]."),
]


def test_standalone_question_is_left_alone():
    r = resolve("Who is Hamidreza Azizi?", MONTAZERI)
    assert r.query == "Who is Hamidreza Azizi?" and not r.is_followup


def test_no_history_means_no_rewrite():
    r = resolve("Who is he?", [])
    assert r.query == "Who is he?" and not r.is_followup


def test_pronoun_follow_up_carries_the_names():
    r = resolve("Who is he?", MONTAZERI)
    assert r.is_followup
    assert "Armin Montazeri" in r.query
    assert "montazeri" in r.carried_entities


def test_demonstrative_follow_up_carries_the_topic():
    history = [
        Message(role="user", content="Which Iranian president is going to visit Moscow to sign the pact?"),
        Message(role="assistant", content="Masoud Pezeshkian is set to visit Moscow to sign the agreement."),
    ]
    r = resolve("On what date does that visit take place?", history)
    assert "Pezeshkian" in r.query and "Moscow" in r.query


def test_ellipsis_follow_up_keeps_the_earlier_intent():
    history = [Message(role="user", content="Which country has long backed the Syrian opposition?")]
    r = resolve("What about Russia?", history)
    assert r.is_followup
    assert "opposition" in r.query and "Russia" in r.query
    assert r.own_entities == ["russia"]


def test_needs_history_detects_pronouns_ellipsis_and_fragments():
    assert needs_history("What did she say?")
    assert needs_history("And Turkey?")
    assert needs_history("Why?")
    assert not needs_history("Who signed UN Resolution 1929 in 2010?")


def test_who_is_he_retrieves_montazeri(seeded_deps):
    passages = seeded_deps.retriever.search(resolve("Who is he?", MONTAZERI).query)
    assert any("Montazeri" in p.chunk.text for p in passages[:2])
    ans = answer("Who is he?", MONTAZERI, seeded_deps)
    assert not ans.abstained
    assert "Hammihan Daily" in ans.answer


def test_only_words_used_as_pointers_make_a_follow_up():
    # The parse, not the word, decides: the expletive "there", the conjunction or relative "that", and "former"
    # as an adjective point at nothing said before.
    assert not needs_history("Is there a curfew in Lagos tonight?")
    assert not needs_history("Did the mayor say that the bridge would reopen in March?")
    assert not needs_history("Which former minister chaired the Tarvel inquiry?")
    assert not needs_history("Who owns the company that built the Orla dam?")
    # Pointers: personal pronouns, a demonstrative, "there" as a place, "the latter".
    assert needs_history("What did they decide?")
    assert needs_history("How much did that cost?")
    assert needs_history("What happened there afterwards?")
    assert needs_history("Who appointed the latter?")
    assert needs_history("When was this bridge built?")
