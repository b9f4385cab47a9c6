"""Conversations over the API: the server supplies the history, turns survive a restart, feedback is stored."""

from __future__ import annotations

import json

import pytest
from conftest import make_client

ADMIN = {"Authorization": "Bearer admin-secret"}


@pytest.fixture(scope="module")
def api(fresh_settings, real_embedder):
    client, services = make_client(fresh_settings, real_embedder, admin_token="admin-secret")
    with client:
        yield client


def test_conversation_supplies_the_history_and_keeps_every_turn(api, fresh_settings, real_embedder):
    conv = api.post("/api/conversations", json={}).json()
    cid = conv["id"]
    assert len(cid) >= 20 and conv["title"] == "New chat" and conv["turns"] == 0
    first = api.post("/api/ask", json={"question": "Which Iranian president is going to visit Moscow to sign the pact?",
                                       "conversation_id": cid}).json()
    assert "Pezeshkian" in first["answer"] and first["conversation_id"] == cid and first["turn_id"]
    follow = api.post("/api/ask", json={"question": "When exactly is that visit?", "conversation_id": cid}).json()
    assert "January 17" in follow["answer"]

    stored = api.get(f"/api/conversations/{cid}").json()
    assert stored["title"].startswith("Which Iranian president")
    assert [t["question"] for t in stored["turns"]] == [
        "Which Iranian president is going to visit Moscow to sign the pact?", "When exactly is that visit?"]
    turn = stored["turns"][1]
    assert turn["answer"] == follow["answer"] and turn["engine"] == "extractive"
    assert turn["citations"] == follow["citations"]  # everything needed to show the answer again

    # A new server process over the same database still has it.
    again, _ = make_client(fresh_settings, real_embedder)
    with again:
        assert again.get(f"/api/conversations/{cid}").json()["turns"] == stored["turns"]


def test_stream_records_the_turn(api):
    cid = api.post("/api/conversations", json={"title": "Kremlin"}).json()["id"]
    with api.stream("POST", "/api/chat/stream",
                    json={"question": "When did Vladimir Putin return to the Kremlin?", "conversation_id": cid}) as r:
        raw = "".join(r.iter_text())
    final = json.loads(raw.strip().split("\n\n")[-1].split("\n")[1].removeprefix("data: "))
    assert final["conversation_id"] == cid and final["turn_id"]
    conv = api.get(f"/api/conversations/{cid}").json()
    assert conv["title"] == "Kremlin" and conv["turns"][0]["id"] == final["turn_id"]


def test_rename_delete_and_unknown_ids(api):
    cid = api.post("/api/conversations").json()["id"]
    r = api.patch(f"/api/conversations/{cid}", json={"title": "  Iran \n and Russia  "})
    assert r.status_code == 200 and r.json()["title"] == "Iran and Russia"
    assert api.patch(f"/api/conversations/{cid}", json={"title": "   "}).json()["error"] == "title is empty"
    assert api.delete(f"/api/conversations/{cid}").status_code == 204
    for r in (api.get(f"/api/conversations/{cid}"), api.delete(f"/api/conversations/{cid}"),
              api.post("/api/ask", json={"question": "Who is Armin Montazeri?", "conversation_id": cid})):
        assert r.status_code == 404 and f"no conversation with id {cid!r}" in r.json()["error"]
    both = api.post("/api/ask", json={"question": "Who?", "conversation_id": "x",
                                      "history": [{"role": "user", "content": "hi"}]})
    assert both.status_code == 422 and "either history or conversation_id" in both.json()["error"]


def test_feedback_is_stored_and_listed_for_the_admin(api):
    cid = api.post("/api/conversations").json()["id"]
    ans = api.post("/api/ask", json={"question": "Who is Armin Montazeri?", "conversation_id": cid}).json()
    url = f"/api/conversations/{cid}/turns/{ans['turn_id']}/feedback"
    r = api.post(url, json={"rating": "down", "comment": "Too short."})
    assert r.status_code == 200 and r.json()["rating"] == "down" and r.json()["comment"] == "Too short."
    assert api.post(url, json={"rating": "meh"}).status_code == 422
    assert api.post(f"/api/conversations/{cid}/turns/999999/feedback", json={"rating": "up"}).status_code == 404
    assert api.get("/api/feedback").status_code == 401
    items = api.get("/api/feedback", headers=ADMIN, params={"rating": "down"}).json()
    mine = [i for i in items if i["turn_id"] == ans["turn_id"]]
    assert mine and mine[0]["comment"] == "Too short." and mine[0]["answer"] == ans["answer"]
    assert mine[0]["conversation_id"] == cid and mine[0]["history"] == []
    everyone = api.get("/api/conversations", headers=ADMIN).json()
    assert cid in {c["id"] for c in everyone}
