"""The conversation store on SQLite (a file, as in production): ordering, history, cascade, feedback."""

from __future__ import annotations

import pytest

from bot.models import Answer, Citation
from chats.store import ChatError, ChatStore


def _answer(q: str, text: str = "An answer [1].") -> Answer:
    cite = Citation(n=1, doc_id="d", source="a.txt", title="T", chunk_id="c", start=0, end=5, quote="An an")
    return Answer(question=q, answer=text, abstained=False, citations=[cite], engine="extractive")


def test_turns_history_and_feedback_round_trip(tmp_path):
    store = ChatStore(f"sqlite:///{tmp_path / 'sub' / 'c.db'}")
    conv = store.create()
    t1 = store.add_turn(conv.id, _answer("First question here?"))
    t2 = store.add_turn(conv.id, _answer("Second?", "Second answer [1]."))
    store.rate(conv.id, t2.id, "down", "  wrong date  ")
    got = store.get(conv.id)
    assert got.title == "First question here?" and [t.id for t in got.turns] == [t1.id, t2.id]
    assert got.turns[1].rating == "down" and got.turns[1].comment == "wrong date"
    assert got.turns[0].citations[0].quote == "An an"
    [item] = store.feedback("down")
    assert [m.content for m in item.history] == ["First question here?", "An answer [1]."]
    assert store.feedback("up") == []
    store.close()
    reopened = ChatStore(f"sqlite:///{tmp_path / 'sub' / 'c.db'}")
    assert reopened.get(conv.id).turns[1].comment == "wrong date"


def test_list_rename_delete_cascades(tmp_path):
    store = ChatStore(f"sqlite:///{tmp_path / 'c.db'}")
    a, b = store.create("A"), store.create("B")
    turn = store.add_turn(a.id, _answer("q?"))
    store.rate(a.id, turn.id, "up")
    assert [c.id for c in store.summaries()] == [a.id, b.id]  # most recently used first
    assert store.rename(b.id, "Renamed").title == "Renamed"
    store.delete(a.id)
    assert store.feedback() == [] and [c.id for c in store.summaries()] == [b.id]
    with pytest.raises(ChatError, match="no conversation"):
        store.get(a.id)
    with pytest.raises(ChatError):
        store.rate(b.id, turn.id, "up")
    with pytest.raises(ValueError, match="limit is 200"):
        store.rename(b.id, "x" * 201)
