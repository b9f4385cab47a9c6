"""The embedded store's one owner, with real processes holding the lock (and dying by kill -9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from vectorstore.owner import Ownership, StoreOwnedError, current_holder, generation, stop_detached_upgrade

HOLD = textwrap.dedent("""
    import sys, time
    from vectorstore.owner import Ownership
    with Ownership(sys.argv[1], sys.argv[2], url=sys.argv[3]):
        print("held", flush=True)
        time.sleep(600)
""")


def holder_process(folder: Path, role: str, url: str = "") -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder), role, url], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_server_owner_is_named_and_never_waited_for_and_its_death_frees_the_store(tmp_path):
    proc = holder_process(tmp_path, "serve", "http://127.0.0.1:7999")
    try:
        holder = current_holder(tmp_path)
        assert holder is not None and (holder.role, holder.pid, holder.url) == ("serve", proc.pid,
                                                                                 "http://127.0.0.1:7999")
        t0 = time.monotonic()
        with pytest.raises(StoreOwnedError) as err:
            Ownership(tmp_path, "ingest").__enter__()
        assert time.monotonic() - t0 < 2  # at once, not after a wait
        assert f"`citebot serve` (pid {proc.pid}, http://127.0.0.1:7999)" in str(err.value)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert current_holder(tmp_path) is None  # the kernel let go of the dead owner's lock
    with Ownership(tmp_path, "ingest"):
        assert current_holder(tmp_path).pid == os.getpid()


def test_a_writer_waits_for_an_ingest_and_asks_a_detached_upgrade_to_give_way(tmp_path):
    upgrade = holder_process(tmp_path, "upgrade")
    said: list[str] = []
    with Ownership(tmp_path, "serve", on_wait=said.append, give_way=stop_detached_upgrade, timeout=30):
        assert upgrade.wait(timeout=10) == -signal.SIGTERM
        assert said and "`citebot upgrade`" in said[0] and "waiting" in said[0]
    ingest = holder_process(tmp_path, "ingest")
    try:
        # An ingest is not stopped: the newcomer waits, and gives up at its own deadline.
        with pytest.raises(StoreOwnedError):
            Ownership(tmp_path, "serve", give_way=stop_detached_upgrade, timeout=0.5).__enter__()
        assert ingest.poll() is None
    finally:
        ingest.kill()
        ingest.wait()


def test_claims_in_one_process_nest_and_the_last_one_lets_go(tmp_path):
    assert generation(tmp_path) is None
    with Ownership(tmp_path, "serve") as outer:
        first = generation(tmp_path)
        with Ownership(tmp_path, "ingest") as inner:  # the server's own upload: no second lock, no wait
            assert inner.fresh is False and generation(tmp_path) == first
        assert outer.fresh and current_holder(tmp_path).role == "serve"
    assert generation(tmp_path) is None and current_holder(tmp_path) is None
    with Ownership(tmp_path, "ingest"):
        assert generation(tmp_path) != first  # taken anew: a Store knows to look at the disk again


def test_an_owner_record_still_being_written_is_waited_for(tmp_path):
    """Between taking the lock and writing its record a new owner's file is empty: a waiter that reads it then must
    keep waiting, not give up naming an "unknown" owner."""
    import fcntl
    import os
    import threading
    import time

    from vectorstore.owner import Ownership, owner_path

    folder = tmp_path / "store"
    folder.mkdir()
    fd = os.open(owner_path(folder), os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)  # owned, and no record written yet

    def finish() -> None:
        time.sleep(1.0)
        os.close(fd)

    threading.Thread(target=finish, daemon=True).start()
    with Ownership(folder, "ingest") as claim:
        assert claim.fresh
