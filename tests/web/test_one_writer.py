"""One writer per embedded store, with real processes: `citebot ingest`, its detached upgrade, `citebot serve`,
uploads through the API and the page, and `kill -9`.

Before the store had one owner, the README's own flow (ingest, serve, upload) made every answer a 500 until the
server was restarted: two processes wrote one embedded Chroma store and the server's in-memory index went stale.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from helpers import free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TOKEN = "one-writer-admin"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
SEED_QUESTIONS = ["When did Putin return to the Kremlin?", "Who won the 2024 election?",
                  "What did the article say about the economy?"]


def article(name: str, place: str, person: str, day: int) -> str:
    """A made-up article whose one fact (who leads `place`) no seed holds."""
    return (f"{place} Names a New Harbourmaster\n\nBy Test Desk\n\n"
            f"The port authority of {place} appointed {person} as its harbourmaster on {day} March 2025. "
            f"{person} previously ran the ferry terminal and will oversee the dredging of the inner basin.\n")


def ask(url: str, question: str, timeout: float = 60) -> httpx.Response:
    return httpx.post(f"{url}/api/ask", json={"question": question}, timeout=timeout)


def cites(resp: httpx.Response, source: str) -> bool:
    return resp.status_code == 200 and any(c["source"] == source for c in resp.json()["citations"])


class Serve:
    """A `citebot serve` subprocess; `kill()` is `kill -9`."""

    def __init__(self, env: dict[str, str], port: int | None = None) -> None:
        self.env, self.port = env, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[str] | None = None
        self.log = Path(env["CITEBOT_DATA_DIR"]) / f"serve-{self.port}.log"

    def start(self, wait: bool = True) -> Serve:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "a")  # noqa: SIM115 - the process owns it
        self.proc = subprocess.Popen([str(BIN / "citebot"), "serve", "--port", str(self.port)], env=self.env,
                                     stdout=out, stderr=out, text=True)
        if wait:
            wait_for(f"{self.url}/readyz", self.proc, timeout=240, what=f"citebot serve (log: {self.log})")
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def env_for(tmp: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "CITEBOT_CHROMA_PATH": str(tmp / "store"), "CITEBOT_DATA_DIR": str(tmp / "data"),
            "GRADIO_ANALYTICS_ENABLED": "False", "CITEBOT_ADMIN_TOKEN": TOKEN, **extra}


def citebot(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "citebot"), *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_readme_flow_ingest_serve_upload_never_500s(tmp_path):
    """`citebot ingest` (its detached upgrade still running), `citebot serve`, an upload within 2 s, then 30
    questions over 15 s: every answer is a 200 and the uploaded article is answered."""
    env = env_for(tmp_path, CITEBOT_BACKGROUND_UPGRADE="true")
    done = citebot(env, "ingest", str(ROOT / "seeds"))
    assert done.returncode == 0, done.stderr
    assert "being built in the background" in done.stderr
    server = Serve(env).start()
    try:
        upload = httpx.post(f"{server.url}/api/documents", headers=ADMIN, timeout=120,
                            files={"files": ("harbour.txt", article("h", "Port Quillan", "Odessa Varga", 4))})
        assert upload.status_code == 200, upload.text
        statuses: Counter[int] = Counter()
        answered = 0
        t0 = time.monotonic()
        for i in range(30):
            q = "Who is the harbourmaster of Port Quillan?" if i % 3 == 0 else SEED_QUESTIONS[i % 3]
            r = ask(server.url, q)
            statuses[r.status_code] += 1
            answered += int(i % 3 == 0 and cites(r, "harbour.txt") and "Odessa Varga" in r.json()["answer"])
            time.sleep(max(0.0, t0 + (i + 1) * 0.5 - time.monotonic()))
        assert statuses == Counter({200: 30}), statuses
        assert answered == 10
        # The server took the upgrade over from the detached worker and finishes it.
        deadline = time.monotonic() + 300
        while any(d["index"] != "full" for d in httpx.get(f"{server.url}/api/documents", timeout=30).json()):
            assert time.monotonic() < deadline, "the full index was never finished"
            time.sleep(1)
        assert ask(server.url, "Who is the harbourmaster of Port Quillan?").status_code == 200
    finally:
        server.stop()


def test_ingest_while_serving_goes_through_the_server_or_names_it(tmp_path):
    """With the admin token, `citebot ingest NEW_FOLDER` sends it to the running server, which answers from it at
    once; without it, the command stops with the owner named and nothing is written."""
    env = env_for(tmp_path)
    assert citebot(env, "ingest", str(ROOT / "seeds")).returncode == 0
    server = Serve(env).start()
    try:
        before = httpx.get(f"{server.url}/api/documents", timeout=30).json()
        new = tmp_path / "new"
        new.mkdir()
        (new / "quay.txt").write_text(article("q", "Lowmere", "Tamsin Okafor", 9))

        refused = citebot({**env, "CITEBOT_ADMIN_TOKEN": ""}, "ingest", str(new))
        assert refused.returncode != 0
        line = refused.stderr.strip().splitlines()[-1]
        assert "owned by the running `citebot serve`" in line and server.url in line
        assert "CITEBOT_ADMIN_TOKEN" in line
        assert httpx.get(f"{server.url}/api/documents", timeout=30).json() == before

        t0 = time.monotonic()
        sent = citebot(env, "ingest", str(new), "--json")
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["documents"]["added"] == 1
        while not cites(r := ask(server.url, "Who is the harbourmaster of Lowmere?"), "quay.txt"):
            assert time.monotonic() - t0 < 5, r.text
            time.sleep(0.2)
        assert "Tamsin Okafor" in r.json()["answer"]
        # Ingesting the same folder again through the server is incremental, as it is without one.
        again = citebot(env, "ingest", str(new), "--json")
        assert json.loads(again.stdout)["documents"] == {"added": 0, "updated": 0, "unchanged": 1, "removed": 0,
                                                          "failed": 0}
        # A second server on the same embedded store is refused at once, naming the owner.
        second = citebot(env, "serve", "--port", str(free_port()), timeout=120)
        assert second.returncode != 0 and f"already served by `citebot serve` (pid {server.proc.pid}" in second.stderr
        # `citebot ask` without CITEBOT_SERVER_URL asks the owner rather than a stale copy of its index.
        asked = citebot(env, "ask", "Who is the harbourmaster of Lowmere?", "--json")
        assert asked.returncode == 0 and "Tamsin Okafor" in json.loads(asked.stdout)["answer"]
    finally:
        server.stop()


def test_path_ingest_is_refused_from_other_machines_and_for_relative_paths(tmp_path):
    env = env_for(tmp_path)
    assert citebot(env, "ingest", str(ROOT / "seeds")).returncode == 0
    server = Serve(env).start()
    try:
        rel = httpx.post(f"{server.url}/api/ingest", headers=ADMIN, json={"paths": ["seeds"]}, timeout=30)
        assert rel.status_code == 422 and "absolute" in rel.json()["error"]
        anon = httpx.post(f"{server.url}/api/ingest", json={"paths": [str(ROOT / "seeds")]}, timeout=30)
        assert anon.status_code == 401
        missing = httpx.post(f"{server.url}/api/ingest", headers=ADMIN, json={"paths": ["/nonexistent/x.txt"]},
                             timeout=30)
        assert missing.status_code == 422 and "/nonexistent/x.txt" in missing.text
    finally:
        server.stop()


def _whole(store_path: Path) -> list[str]:
    """Every manifest entry whose chunks are not all there at its tier (an empty list: every article whole)."""
    from vectorstore.config import StoreConfig
    from vectorstore.store import Store

    store = Store.open(StoreConfig(chroma_path=store_path))
    broken = []
    for doc in store.documents():
        chunks = store.chunks_of(doc, doc.tier)
        if len(chunks) != doc.chunks or any(c.text == "" for c in chunks):
            broken.append(f"{doc.source}: {len(chunks)}/{doc.chunks} chunks at tier {doc.tier}")
    return broken


def test_soak_eight_askers_ingests_by_every_path_and_a_kill(tmp_path):
    """Five minutes: 8 clients ask; every 20 s an article arrives through the CLI, the API or the page, in turn;
    the owner is killed with -9 half-way and restarted. Nothing but 2xx/503 is answered (apart from the killed
    process's requests in flight), and afterwards every article is whole on one tier and none is lost."""
    from playwright.sync_api import sync_playwright

    soak_s = float(os.environ.get("CITEBOT_SOAK_SECONDS", "300"))
    env = env_for(tmp_path, CITEBOT_BACKGROUND_UPGRADE="true")
    assert citebot(env, "ingest", str(ROOT / "seeds")).returncode == 0
    port = free_port()
    server = Serve(env, port).start()
    stop = threading.Event()
    lock = threading.Lock()
    statuses: Counter[int] = Counter()
    bad: list[str] = []
    down = threading.Event()  # set while the owner is dead: connection errors then are the kill's
    lost = [0]

    def asker(i: int) -> None:
        # Eight clients on one address, each known by its own token, as clients behind one proxy would be.
        with httpx.Client(timeout=60, headers={"Authorization": f"Bearer asker-{i}"}) as http:
            j = 0
            while not stop.is_set():
                q = SEED_QUESTIONS[(i + j) % 3]
                j += 1
                try:
                    r = http.post(f"{server.url}/api/ask", json={"question": q})
                except httpx.HTTPError as exc:
                    with lock:
                        if down.is_set():
                            lost[0] += 1
                        else:
                            bad.append(f"connection: {exc!r}")
                    stop.wait(0.5)
                    continue
                with lock:
                    statuses[r.status_code] += 1
                    if not (200 <= r.status_code < 300 or r.status_code == 503):
                        bad.append(f"{r.status_code}: {r.text[:200]}")
                if r.status_code == 503:
                    stop.wait(float(r.headers.get("Retry-After", "1")))
                stop.wait(0.05)  # a person, or a script, reads the answer before asking again

    threads = [threading.Thread(target=asker, args=(i,), daemon=True) for i in range(8)]
    for t in threads:
        t.start()
    ingested: list[tuple[str, str]] = []  # (source, the harbourmaster's name) of each article that was accepted
    paths = ["cli", "api", "page"]
    t0 = time.monotonic()
    killed = False
    n = 0
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update"])
            while time.monotonic() - t0 < soak_s:
                how = paths[n % 3]
                name, person = f"soak-{n:02d}.txt", f"Person{n:02d} Quayle"
                folder = tmp_path / "incoming" / f"{n:02d}"
                folder.mkdir(parents=True)
                (folder / name).write_text(article(name, f"Harbour{n:02d}", person, n % 28 + 1))
                if how == "cli":
                    done = citebot(env, "ingest", str(folder), "--json")
                    ok = done.returncode == 0 and json.loads(done.stdout)["documents"]["added"] == 1
                    assert ok, done.stderr
                elif how == "api":
                    with open(folder / name, "rb") as fh:
                        r = httpx.post(f"{server.url}/api/documents", headers=ADMIN, files={"files": (name, fh)},
                                       timeout=120)
                    assert r.status_code == 200, r.text
                else:
                    _upload_on_page(browser, server.url, folder / name)
                ingested.append((name, person))
                n += 1
                if not killed and time.monotonic() - t0 > soak_s / 2:
                    down.set()
                    server.kill()
                    killed = True
                    server = Serve(env, port).start()
                    down.clear()
                stop.wait(max(0.0, t0 + n * 20 - time.monotonic()))
            browser.close()
        stop.set()
        for t in threads:
            t.join(timeout=90)
        assert killed
        assert not bad, bad[:5]
        assert statuses[200] > 0
        # Every article accepted before or after the kill is answerable, cited from its own file.
        for name, person in ingested:
            r = ask(server.url, f"Who is the harbourmaster of Harbour{name[5:7]}?")
            assert cites(r, name) and person in r.json()["answer"], (name, r.text[:300])
    finally:
        stop.set()
        server.stop()
    assert _whole(tmp_path / "store") == []


def _upload_on_page(browser, url: str, path: Path) -> None:
    """The Articles tab in real Chromium: type the admin token, choose the file, click Upload."""
    from playwright.sync_api import expect

    page = browser.new_page()
    try:
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_selector("#cb-input textarea", timeout=60_000)
        page.get_by_role("tab", name="Articles").click()
        page.locator("#cb-admin-token input").fill(TOKEN)
        page.locator("#cb-upload input[type=file]").set_input_files([str(path)])
        page.locator("#cb-upload-btn").click()
        expect(page.locator("#cb-upload-result")).to_contain_text("1 added", timeout=120_000)
    finally:
        page.close()
