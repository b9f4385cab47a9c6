"""Two ingests at once into one store, as real processes: one waits for the other and says so, and no file
is embedded twice. Embedded store (file lock) and a real Chroma server (lease record)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import free_port, wait_for

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
SEEDS = Path(__file__).resolve().parents[2] / "seeds"


# A third real process holds the store's ingest lock (as a long first ingest would) until told to let go,
# so both ingests below are certain to start while the store is busy.
_HOLDER = """
import sys
from citebot.common import load_settings, open_store
store = open_store(load_settings())
with store.ingest_lock():
    print("held", flush=True)
    sys.stdin.read()
"""


def _two_ingests(env: dict[str, str], folder: Path) -> list[subprocess.CompletedProcess[str]]:
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER], env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "held", holder.stderr.read() if holder.stderr else ""
    cmd = [str(BIN / "citebot"), "ingest", str(folder), "--json"]
    runs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    errs: list[list[str]] = [[], []]

    def read(i: int) -> None:
        stream = runs[i].stderr
        assert stream is not None
        errs[i].extend(iter(stream.readline, ""))

    readers = [threading.Thread(target=read, args=(i,), daemon=True) for i in range(2)]
    for t in readers:
        t.start()
    # Let go only once both runs have said that they are waiting for the lock.
    deadline = time.monotonic() + 120
    while not all(any("waiting" in line for line in e) for e in errs):
        assert time.monotonic() < deadline, errs
        assert all(p.poll() is None for p in runs), errs  # neither may finish while the store is held
        time.sleep(0.2)
    holder.stdin.close()
    holder.wait(timeout=60)
    out = []
    for p, t, e in zip(runs, readers, errs, strict=True):
        stdout = p.stdout.read() if p.stdout else ""
        p.wait(timeout=600)
        t.join(timeout=30)
        out.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, "".join(e)))
    return out


def _check(runs: list[subprocess.CompletedProcess[str]]) -> None:
    import json

    assert [r.returncode for r in runs] == [0, 0], [r.stderr[-2000:] for r in runs]
    assert all("waiting" in r.stderr for r in runs), [r.stderr[-500:] for r in runs]
    reports = sorted((json.loads(r.stdout) for r in runs), key=lambda r: -r["chunks_embedded"])
    # One run embedded the files; the other, let in after it, found them stored: nothing embedded twice.
    assert reports[0]["documents"]["added"] == 2 and reports[0]["chunks_embedded"] > 0
    assert reports[1]["documents"]["unchanged"] == 2 and reports[1]["chunks_embedded"] == 0


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "CITEBOT_DATA_DIR": str(tmp_path / "data"), "CITEBOT_BACKGROUND_UPGRADE": "false"}


def test_two_ingests_into_one_embedded_store(env, tmp_path):
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    _check(_two_ingests({**env, "CITEBOT_CHROMA_PATH": str(tmp_path / "chroma")}, folder))


def test_two_ingests_into_one_chroma_server(env, tmp_path):
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    port = free_port()
    server = subprocess.Popen([str(BIN / "chroma"), "run", "--path", str(tmp_path / "server"), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/api/v2/heartbeat", server, what="chroma run")
        _check(_two_ingests({**env, "CITEBOT_CHROMA_URL": f"http://127.0.0.1:{port}"}, folder))
    finally:
        server.terminate()
        server.wait(timeout=30)
