"""The conversation store on a real Postgres server (Debian's package, a temporary cluster on loopback): the same
behaviour as on SQLite, two stores (as two replicas would hold) sharing one database, concurrent schema creation,
surviving a server restart, and an unreachable server named without its password."""

from __future__ import annotations

import subprocess
import threading
import uuid

import pytest
from pg_cluster import create_database, temporary_postgres
from sqlalchemy.engine import make_url

from bot.models import Answer, Citation
from chats.store import ChatError, ChatStore, ChatStoreError

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server_url():
    with temporary_postgres() as url:
        yield url


@pytest.fixture
def db_url(server_url):
    """A fresh database per test on the module's server."""
    return create_database(server_url, f"t_{uuid.uuid4().hex[:12]}")


def _answer(q: str, text: str = "An answer [1].") -> Answer:
    cite = Citation(n=1, doc_id="d", source="a.txt", title="T", chunk_id="c", start=0, end=5, quote="An an")
    return Answer(question=q, answer=text, abstained=False, citations=[cite], engine="extractive")


def test_a_conversation_started_through_one_store_continues_through_another(db_url):
    a, b = ChatStore(db_url), ChatStore(db_url)  # two replicas' stores, one database
    assert a.engine.dialect.name == "postgresql"
    conv = a.create()
    t1 = a.add_turn(conv.id, _answer("Who wrote the article about Pezeshkian?"))
    t2 = b.add_turn(conv.id, _answer("And when?", "In 2024 [1]."))
    assert t2.id > t1.id
    got = a.get(conv.id)
    assert got.title == "Who wrote the article about Pezeshkian?"
    assert [m.content for m in got.history()] == ["Who wrote the article about Pezeshkian?", "An answer [1].",
                                                  "And when?", "In 2024 [1]."]
    assert got.turns[0].created_at.tzinfo is not None and got.turns[0].citations[0].quote == "An an"
    b.rate(conv.id, t2.id, "down", "  wrong year ")
    [item] = a.feedback("down")
    assert item.turn_id == t2.id and item.comment == "wrong year" and len(item.history) == 2
    assert b.rename(conv.id, "Renamed").title == "Renamed" and a.summaries([conv.id])[0].turns == 2
    a.delete(conv.id)
    with pytest.raises(ChatError):
        b.get(conv.id)
    assert b.feedback() == []  # the turns and their feedback went with the conversation
    a.close()
    b.close()


def test_replicas_starting_together_create_the_schema_once(db_url):
    stores: list[ChatStore] = []
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            stores.append(ChatStore(db_url))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and len(stores) == 6
    conv = stores[0].create("one")
    assert all(s.exists(conv.id) for s in stores)
    for s in stores:
        s.close()


def test_the_store_outlives_a_database_restart(db_url):
    store = ChatStore(db_url)
    conv = store.create("before")
    # Every pooled connection dies, as when the database restarts under a running replica.
    admin = make_url(db_url).set(drivername="postgresql")
    subprocess.run(["psql", admin.set(database="postgres").render_as_string(hide_password=False), "-qAtc",
                    f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{admin.database}'"],
                   check=True, capture_output=True, timeout=30)
    assert store.get(conv.id).title == "before"  # the dead connection was replaced, not handed out
    store.close()


def test_an_unreachable_server_says_what_to_check_without_the_password(server_url):
    from helpers import free_port

    url = make_url(server_url).set(port=free_port(), password="s3cret-pw")
    with pytest.raises(ChatStoreError) as err:
        ChatStore(url.render_as_string(hide_password=False))
    msg = str(err.value)
    assert "s3cret-pw" not in msg and "***" in msg
    assert "database server is running" in msg and "CITEBOT_DATABASE_URL" in msg


def test_a_wrong_password_is_reported(server_url):
    url = make_url(server_url).set(password="not-the-password")
    with pytest.raises(ChatStoreError) as err:
        ChatStore(url.render_as_string(hide_password=False))
    assert "password authentication failed" in str(err.value)
