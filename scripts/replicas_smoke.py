"""The checks of scripts/replicas-smoke against a running `docker compose --profile replicas` stack (stdlib only).

    python3 scripts/replicas_smoke.py before  --a URL --b URL --proxy URL --token T --state FILE
    python3 scripts/replicas_smoke.py failover --proxy URL --kill "docker compose ... kill citebot" --state FILE
    python3 scripts/replicas_smoke.py after   --a URL --b URL --proxy URL --state FILE

All traffic goes to the published ports on 127.0.0.1. Every wait has a deadline; a failed check exits 1 with what
failed. `before` records what must survive in FILE (JSON) and `after` checks it is all still there.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

ARTICLE = (
    "Harbour Ferry Returns to Velmora\n\nBy Ines Calloway\n\n"
    "The Velmora harbour ferry resumed service on 2 June 2025 after eleven months of repairs. "
    "Its captain, Rosalind Eckhart-Moyo, said the ferry will cross to Dunmere Island four times a day.\n"
)
NEW_QUESTION = "Who is the captain of the Velmora harbour ferry?"
SEED_QUESTION = "Which Iranian president is going to visit Moscow to sign the pact?"
CLIENTS = 8
# A shed request (429/503) is retried this many times, this many seconds apart (the server's Retry-After).
SHED_RETRIES, SHED_BACKOFF = 5, 1.0


def say(msg: str) -> None:
    print(f"replicas-smoke: {msg}", file=sys.stderr, flush=True)


def fail(msg: str) -> None:
    say(f"error: {msg}")
    sys.exit(1)


def call(method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 120,
         raw: bytes | None = None, content_type: str = "application/json") -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"content-type": content_type} if data is not None else {}
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read().decode()
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        text = exc.read().decode(errors="replace")
        try:
            return exc.code, json.loads(text)
        except ValueError:
            return exc.code, text


def ask(base: str, question: str, **extra: Any) -> dict:
    status, ans = call("POST", f"{base}/api/ask", {"question": question, **extra})
    if status != 200:
        fail(f"POST {base}/api/ask answered {status}: {ans}")
    return ans


def sources(ans: dict) -> set[str]:
    return {c["source"] for c in ans["citations"]}


def documents(base: str) -> list[str]:
    status, docs = call("GET", f"{base}/api/documents")
    if status != 200:
        fail(f"GET {base}/api/documents answered {status}: {docs}")
    return sorted(d["source"] for d in docs)


def upload(base: str, name: str, text: str, token: str) -> dict:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n{text}\r\n--{boundary}--\r\n").encode()
    status, report = call("POST", f"{base}/api/documents", raw=body, token=token, timeout=300,
                          content_type=f"multipart/form-data; boundary={boundary}")
    if status != 200:
        fail(f"upload to {base} answered {status}: {report}")
    return report


def until(what: str, check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            fail(f"{what}: not within {timeout:.0f}s")
        time.sleep(0.25)


def stream_through_proxy(proxy: str) -> None:
    """/api/chat/stream through nginx: token events arrive, then the answer event (buffering is off)."""
    req = urllib.request.Request(f"{proxy}/api/chat/stream", method="POST",
                                 data=json.dumps({"question": NEW_QUESTION}).encode(),
                                 headers={"content-type": "application/json"})
    events: list[str] = []
    with urllib.request.urlopen(req, timeout=120) as r:
        if r.headers.get("content-type", "").split(";")[0] != "text/event-stream":
            fail(f"the stream through the proxy is {r.headers.get('content-type')}, not text/event-stream")
        for line in r:
            if line.startswith(b"event: "):
                events.append(line[7:].decode().strip())
    if "token" not in events or events[-1] != "answer":
        fail(f"the event stream through the proxy carried {events}, not tokens and then the answer")
    say(f"event stream through the proxy: {events.count('token')} token events, then the answer")


def before(args: argparse.Namespace) -> None:
    name = f"velmora-ferry-{uuid.uuid4().hex[:6]}.txt"
    report = upload(args.a, name, ARTICLE, args.token)
    if report["documents"]["added"] != 1:
        fail(f"replica A did not add the article: {report}")
    say(f"ingested {name} through replica A")
    # Through the proxy either replica may answer; B follows the store within CITEBOT_REFRESH_SECONDS.
    ans = until("a cited answer from the new article through the proxy",
                lambda: (a := ask(args.proxy, NEW_QUESTION)) and name in sources(a) and a, timeout=30)
    if "Eckhart-Moyo" not in ans["answer"]:
        fail(f"the answer through the proxy does not name the captain: {ans}")
    say(f"through the proxy: {ans['answer']!r} ({len(ans['citations'])} citation(s))")
    stream_through_proxy(args.proxy)
    page = urllib.request.urlopen(f"{args.proxy}/", timeout=60)
    if page.status != 200 or b"gradio" not in page.read().lower():
        fail(f"the chat page through the proxy answered {page.status} without the Gradio app")
    say("the chat page loads through the proxy")
    status, conv = call("POST", f"{args.proxy}/api/conversations", {})
    if status != 201:
        fail(f"POST /api/conversations answered {status}: {conv}")
    first = ask(args.a, SEED_QUESTION, conversation_id=conv["id"])
    second = ask(args.b, "When exactly is that visit?", conversation_id=conv["id"])
    if "January 17" not in second["answer"]:
        fail(f"replica B did not continue the conversation started on A: {second}")
    say("a conversation started on replica A continued on replica B")
    docs = documents(args.proxy)
    if documents(args.a) != docs or documents(args.b) != docs or name not in docs:
        fail("the replicas do not list the same documents")
    with open(args.state, "w") as f:
        json.dump({"source": name, "documents": docs, "conversation": conv["id"],
                   "turns": [first["turn_id"], second["turn_id"]], "answers": [first["answer"], second["answer"]]}, f)


def failover(args: argparse.Namespace) -> None:
    """8 clients ask through the proxy; replica A is killed in the middle; then they go on for a while."""
    results: list[tuple[float, float, bool, str]] = []  # (start, end, ok, detail)
    shed = [0]  # 429/503 answers that were retried after Retry-After
    lock = threading.Lock()
    stop = threading.Event()
    questions = [SEED_QUESTION, NEW_QUESTION, "When did Vladimir Putin return to the Kremlin?"]

    def client(i: int) -> None:
        n = 0
        while not stop.is_set():
            q = questions[(i + n) % len(questions)]
            n += 1
            t0 = time.monotonic()
            for _attempt in range(SHED_RETRIES + 1):
                try:
                    status, ans = call("POST", f"{args.proxy}/api/ask", {"question": q}, timeout=60)
                    ok = status == 200 and bool(ans.get("citations"))
                    detail = "" if ok else f"HTTP {status}: {str(ans)[:200]}"
                except OSError as exc:
                    status, ok, detail = 0, False, f"{type(exc).__name__}: {exc}"
                if status not in (429, 503):
                    break
                # Load shedding is the server asking the client to come back: a well-behaved client honours
                # Retry-After, as the README's limits section says.
                with lock:
                    shed[0] += 1
                time.sleep(SHED_BACKOFF)
            with lock:
                results.append((t0, time.monotonic(), ok, detail))

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    time.sleep(args.warmup)
    kill_start = time.monotonic()
    out = subprocess.run(shlex.split(args.kill), capture_output=True, text=True, timeout=60)
    kill_end = time.monotonic()
    if out.returncode != 0:
        stop.set()
        fail(f"killing replica A failed: {out.stderr.strip()}")
    say(f"killed replica A under {CLIENTS}-client load")
    time.sleep(args.after)
    stop.set()
    for t in threads:
        t.join(timeout=90)
    if any(t.is_alive() for t in threads):
        fail("a client was still waiting 90s after the load stopped")

    before_kill = [r for r in results if r[1] <= kill_start]
    in_flight = [r for r in results if r[0] < kill_end and r[1] > kill_start]
    after_kill = [r for r in results if r[0] >= kill_end]
    lost = [r for r in in_flight if not r[2]]
    errors_before = [r for r in before_kill if not r[2]]
    errors_after = [r for r in after_kill if not r[2]]
    say(f"before the kill: {len(before_kill)} requests, {len(errors_before)} errors; in flight at the kill: "
        f"{len(in_flight)}, {len(lost)} lost; after: {len(after_kill)} requests, {len(errors_after)} errors; "
        f"{shed[0]} shed (429/503) and retried")
    for r in errors_before + lost + errors_after:
        say(f"  failed request ({r[0] - kill_start:+.2f}s .. {r[1] - kill_start:+.2f}s from the kill): {r[3]}")
    if errors_before:
        fail("requests failed before replica A was killed")
    if len(lost) > CLIENTS:
        fail(f"{len(lost)} requests lost, more than the {CLIENTS} that can be in flight")
    if errors_after:
        fail(f"{len(errors_after)} requests failed after the kill; the proxy did not fail over")
    if len(after_kill) < CLIENTS:
        fail(f"only {len(after_kill)} requests completed after the kill; replica B did not carry the load")


def after(args: argparse.Namespace) -> None:
    with open(args.state) as f:
        state = json.load(f)
    for base, label in ((args.a, "replica A"), (args.b, "replica B"), (args.proxy, "the proxy")):
        if documents(base) != state["documents"]:
            fail(f"{label} lists other documents than before the kill: {documents(base)}")
        status, conv = call("GET", f"{base}/api/conversations/{state['conversation']}")
        if status != 200:
            fail(f"{label}: the conversation is gone ({status}: {conv})")
        if [t["id"] for t in conv["turns"]] != state["turns"] or \
                [t["answer"] for t in conv["turns"]] != state["answers"]:
            fail(f"{label}: the conversation's turns changed: {conv['turns']}")
        if state["source"] not in sources(ask(base, NEW_QUESTION)):
            fail(f"{label} no longer answers from {state['source']}")
    say(f"after the restart: {len(state['documents'])} documents and the conversation's "
        f"{len(state['turns'])} turns on both replicas and through the proxy; the new article still answers")
    ok = sum(1 for _ in range(2 * CLIENTS) if sources(ask(args.proxy, SEED_QUESTION)))
    if ok != 2 * CLIENTS:
        fail("answers through the proxy after the restart were not all cited")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("step", choices=["before", "failover", "after"])
    p.add_argument("--a", default="")
    p.add_argument("--b", default="")
    p.add_argument("--proxy", required=True)
    p.add_argument("--token", default="")
    p.add_argument("--state", required=True)
    p.add_argument("--kill", default="", help="the command that kills replica A")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds of load before the kill")
    p.add_argument("--after", type=float, default=15.0, help="seconds of load after the kill")
    args = p.parse_args()
    {"before": before, "failover": failover, "after": after}[args.step](args)


if __name__ == "__main__":
    main()
