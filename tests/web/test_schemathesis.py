"""The OpenAPI document is a contract: schemathesis, with every check, against a real `citebot serve` on loopback.

Bounded in examples and time so the suite stays fast. Zero failures is the bar; the few expected statuses that
a schema cannot express (a file's contents, which engines this server configured) are declared in
`tests/web/schemathesis.toml` with the reason beside each.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import free_port, wait_for

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
CONFIG = Path(__file__).with_name("schemathesis.toml")
ADMIN = "schemathesis-admin"


@pytest.fixture(scope="module")
def server(seeded_store_factory, tmp_path_factory):
    cfg = seeded_store_factory()
    tmp = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(cfg.chroma_path, tmp / "chroma")
    env = {**os.environ, "CITEBOT_CHROMA_PATH": str(tmp / "chroma"), "CITEBOT_COLLECTION": cfg.collection,
           "CITEBOT_DATA_DIR": str(tmp / "data"), "CITEBOT_ADMIN_TOKEN": ADMIN}
    port = free_port()
    proc = subprocess.Popen([str(BIN / "citebot"), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_for(f"http://127.0.0.1:{port}/readyz", proc, what="citebot serve")
    yield f"http://127.0.0.1:{port}", proc
    proc.terminate()
    proc.wait(timeout=30)


def test_every_operation_conforms_to_the_schema(server, tmp_path):
    url, proc = server
    cmd = [str(BIN / "schemathesis"), "--config-file", str(CONFIG), "run", f"{url}/openapi.json",
           "--checks", "all", "--max-examples", "12", "--workers", "1", "--seed", "1",
           "--header", f"Authorization: Bearer {ADMIN}", "--request-timeout", "60",
           # It ingests folders of the server's own disk: fuzzed, it would walk whatever path it made up (say /).
           # tests/web/test_one_writer.py covers it.
           "--exclude-path", "/api/ingest"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-12000:] + run.stderr[-3000:]
    assert " passed" in run.stdout  # it generated and ran cases, rather than finding nothing to test
    assert proc.poll() is None  # the fuzzing did not take the server down
