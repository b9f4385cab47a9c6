"""One owner per embedded store: the only process that writes to it.

Chroma's embedded client keeps each collection's vector index in the memory of the process that opened it. A
second process that writes to the same folder leaves the first one's index stale, and its next query fails
("Error finding id") until it reopens the store. So one process at a time owns an embedded store for writing:

* the owner holds an exclusive `flock` on `owner.lock` in the store's folder, which the kernel drops when the
  process ends, even by `kill -9`; the file says who holds it (role, pid, and a server's URL);
* `citebot serve` owns its store for its whole life; `citebot ingest` and `citebot upgrade` while they run;
* a process that would write while a server owns the store goes through the server or stops with a line naming
  it; one that finds an ingest or an upgrade there waits (and may ask a detached upgrade to give way).

Inside one process every `Store` of a folder shares one claim (counted), as Chroma shares one client per folder.
A Chroma server (`CITEBOT_CHROMA_URL`) needs none of this: it serialises every client's writes itself.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType

from vectorstore.errors import StoreError

OWNER_FILE = "owner.lock"
# How often a waiting process looks at the lock again (it re-reads the holder, which may have changed role).
_POLL_S = 0.2
_UNREADABLE_S = 5.0  # how long an empty owner record is taken for one being written
# Roles a writer waits for by default: both finish by themselves. A server never does.
FINITE_ROLES = frozenset({"ingest", "upgrade"})


@dataclass(frozen=True)
class Holder:
    """Who owns a store: what it is (`serve`, `ingest`, `upgrade` or `script`), its pid and host, a server's URL."""

    role: str
    pid: int
    host: str
    url: str = ""
    since: float = 0.0

    def describe(self) -> str:
        """For messages: "`citebot serve` (pid 4121, http://127.0.0.1:7860)"."""
        what = f"`citebot {self.role}`" if self.role in ("serve", "ingest", "upgrade") else "a citebot script"
        where = f"pid {self.pid}" + (f" on {self.host}" if self.host != socket.gethostname() else "")
        return f"{what} ({where}{', ' + self.url if self.url else ''})"

    @property
    def local(self) -> bool:
        return self.host == socket.gethostname()


class StoreOwnedError(StoreError):
    """Another process owns the embedded store and will not give it up by itself (a server)."""

    def __init__(self, folder: Path, holder: Holder) -> None:
        self.folder, self.holder = folder, holder
        super().__init__(
            f"the store at {folder} is owned by {holder.describe()}; only its owner writes to an embedded store. "
            + ("Send articles through it (`citebot ingest` does so when CITEBOT_ADMIN_TOKEN is set), or stop "
               "it first." if holder.role == "serve" else "Wait for it to finish, or stop it.")
        )


def owner_path(folder: Path) -> Path:
    return Path(folder) / OWNER_FILE


def _read_holder(fd: int) -> Holder | None:
    raw = os.pread(fd, 4096, 0).decode(errors="replace").strip()
    try:
        data = json.loads(raw)
        return Holder(role=str(data["role"]), pid=int(data["pid"]), host=str(data.get("host", "")),
                      url=str(data.get("url", "")), since=float(data.get("since", 0.0)))
    except (ValueError, KeyError, TypeError):
        return Holder(role="unknown", pid=0, host="", url="") if raw else None


@dataclass
class _Claim:
    fd: int
    holder: Holder
    count: int = 0
    # Bumped every time this process takes the store anew, so a Store knows its client may have gone stale.
    generation: int = 0


_claims: dict[str, _Claim] = {}
_claims_mutex = threading.Lock()
_generation = [0]


def _key(folder: Path) -> str:
    return str(Path(folder).resolve())


def current_holder(folder: Path) -> Holder | None:
    """The process that owns the store now, or None when nobody does (this process included, if it owns it)."""
    with _claims_mutex:
        claim = _claims.get(_key(folder))
        if claim is not None:
            return claim.holder
    path = owner_path(folder)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd) or Holder(role="unknown", pid=0, host="")
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def generation(folder: Path) -> int | None:
    """This process's current claim generation on the folder, or None when it does not own it."""
    with _claims_mutex:
        claim = _claims.get(_key(folder))
        return claim.generation if claim is not None else None


class Ownership:
    """`with Ownership(folder, "ingest", on_wait=print):` owns the store for the block (nested claims share one).

    `wait_for` lists the roles worth waiting for; any other holder (a server) raises StoreOwnedError at once.
    `give_way(holder)` is called once per holder that is waited for, e.g. to ask a detached upgrade to stop.
    """

    def __init__(self, folder: Path, role: str, *, url: str = "", wait_for: Collection[str] = FINITE_ROLES,
                 on_wait: Callable[[str], None] | None = None,
                 give_way: Callable[[Holder], None] | None = None, timeout: float | None = None) -> None:
        self.folder = Path(folder)
        self.role, self.url = role, url
        self.wait_for = frozenset(wait_for)
        self.on_wait = on_wait or (lambda _m: None)
        self.give_way = give_way
        self.timeout = timeout
        self.fresh = False  # True when this block took the store anew (not nested in an earlier claim)

    def __enter__(self) -> Ownership:
        key = _key(self.folder)
        with _claims_mutex:
            claim = _claims.get(key)
            if claim is not None:
                claim.count += 1
                return self
        holder = Holder(role=self.role, pid=os.getpid(), host=socket.gethostname(), url=self.url,
                        since=time.time())
        fd = self._lock()
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(asdict(holder)).encode(), 0)
        os.fsync(fd)
        with _claims_mutex:
            _generation[0] += 1
            _claims[key] = _Claim(fd=fd, holder=holder, count=1, generation=_generation[0])
        self.fresh = True
        return self

    def _lock(self) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(owner_path(self.folder), os.O_RDWR | os.O_CREAT, 0o644)
        told: Holder | None = None
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        unreadable_since = [time.monotonic()]
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    pass
                read = _read_holder(fd)
                if read is None and time.monotonic() - unreadable_since[0] < _UNREADABLE_S:
                    # A new owner writes its record just after it takes the lock: between the two the file is
                    # empty, which is no reason to give up (a waiter used to fail with "unknown" right then).
                    time.sleep(_POLL_S)
                    continue
                holder = read or Holder(role="unknown", pid=0, host="")
                unreadable_since[0] = time.monotonic()
                if holder.role not in self.wait_for:
                    raise StoreOwnedError(self.folder, holder)
                if holder != told:
                    self.on_wait(f"the store is owned by {holder.describe()}; waiting for it to finish …")
                    if self.give_way is not None:
                        self.give_way(holder)
                    told = holder
                if deadline is not None and time.monotonic() > deadline:
                    raise StoreOwnedError(self.folder, holder)
                time.sleep(_POLL_S)
        except BaseException:
            os.close(fd)
            raise

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        key = _key(self.folder)
        with _claims_mutex:
            claim = _claims.get(key)
            if claim is None:
                return
            claim.count -= 1
            if claim.count > 0:
                return
            del _claims[key]
        # Emptied first, so a reader never names a holder that is gone; closing the file drops the lock.
        os.ftruncate(claim.fd, 0)
        os.close(claim.fd)


def stop_detached_upgrade(holder: Holder) -> None:
    """Ask a detached `citebot upgrade` to stop so that a writer can take the store; the upgrade is kill-safe
    and the new owner finishes it."""
    import signal

    if holder.role == "upgrade" and holder.local and holder.pid > 0:
        try:
            os.kill(holder.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):  # gone already, or another user's: then wait for it
            pass
