"""The benchmark corpora: the seeds, and a real haystack from Debian's python3.11-doc HTML pages."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

DOC_ROOT = Path("/usr/share/doc/python3.11/html")


def ensure_python_docs() -> Path:
    """Install python3.11-doc with apt if its HTML pages are missing."""
    if not DOC_ROOT.is_dir():
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "python3.11-doc"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
    return DOC_ROOT


def haystack(dest: Path, pages: int) -> Path:
    """A fixed subset of `pages` HTML pages (every k-th of the sorted library/ and howto/ pages)."""
    root = ensure_python_docs()
    candidates = sorted(p for sub in ("library", "howto", "tutorial", "reference") for p in (root / sub).glob("*.html")
                        if p.stat().st_size > 4000)
    step = max(1, len(candidates) // max(pages, 1))
    chosen = candidates[::step][:pages]
    dest.mkdir(parents=True, exist_ok=True)
    for p in chosen:
        shutil.copy(p, dest / f"{p.parent.name}-{p.name}")
    return dest
