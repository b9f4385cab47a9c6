"""A real, throw-away Postgres server for integration tests: Debian's `postgresql` package, a temporary cluster
made with initdb and started with pg_ctl, listening on loopback only, removed afterwards. Never a mock."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helpers import free_port

_INSTALL = "install Debian's postgresql package (scripts/install-system-deps does, as root: apt-get install postgresql)"


def _bindir() -> Path:
    """The newest installed server's bin folder (initdb and pg_ctl are not on PATH in Debian's layout)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise RuntimeError(f"no Postgres server found (initdb): {_INSTALL}")


def _runner(root: Path) -> list[str]:
    """How to run the server's programs: initdb and postgres refuse to run as root, so root runs them as the
    package's `postgres` user, which then owns the temporary folder."""
    if os.geteuid() != 0:
        return []
    try:
        shutil.chown(root, user="postgres", group="postgres")
    except LookupError as exc:
        raise RuntimeError(f"no 'postgres' user to run the server as: {_INSTALL}") from exc
    return ["runuser", "-u", "postgres", "--"]


def _run(cmd: list[str], what: str) -> None:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"{what} failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}")


@contextmanager
def temporary_postgres(database: str = "citebot") -> Iterator[str]:
    """Start a cluster on 127.0.0.1 with password authentication; yields a `postgresql+psycopg://` URL of
    `database`. The server is stopped and its files removed on exit."""
    import psycopg

    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="citebot-pg-"))
    as_user = _runner(root)
    data, log = root / "data", root / "server.log"
    password = secrets.token_hex(12)
    pwfile = root / "password"
    pwfile.write_text(password + "\n")
    if as_user:
        shutil.chown(pwfile, user="postgres", group="postgres")
    port = free_port()
    started = False
    try:
        try:
            _run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "citebot", "--auth=scram-sha-256",
                  f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync"], "initdb")
            # Loopback only, the socket in the temporary folder (not /run/postgresql); fsync off: test data.
            options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off"
            _run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t",
                  "60", "start"], "pg_ctl start")
            started = True
            with psycopg.connect(host="127.0.0.1", port=port, user="citebot", password=password,
                                 dbname="postgres", autocommit=True, connect_timeout=10) as conn:
                conn.execute(f'CREATE DATABASE "{database}"')
        except (RuntimeError, psycopg.Error) as exc:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"could not start a temporary Postgres: {exc}\n--- server log ---\n{tail}") from exc
        yield f"postgresql+psycopg://citebot:{password}@127.0.0.1:{port}/{database}"
    finally:
        if started:
            subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def create_database(url: str, name: str) -> str:
    """A new, empty database on the same server; returns its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    with psycopg.connect(host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database,
                         autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return u.set(database=name).render_as_string(hide_password=False)
