"""Read, clean and chunk files on every core: HTML extraction (trafilatura) is most of tier-1 ingest time.

Each job loads one file and either reports it unchanged (same input key as the stored document, so nothing is
parsed) or prepares it. Results come back in file order, so duplicate-name detection and reports are the same
as in one process. The pool forks from a fork server that has already imported the pipeline, so a worker costs
milliseconds, and no worker inherits the parent's threads (Chroma's, a server's).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from ingest.config import IngestConfig
from ingest.loaders import Loaded, LoadError, load_file

if TYPE_CHECKING:
    from ingest.pipeline import Prepared

# Below this many files a pool costs more than it saves.
MIN_FILES_FOR_POOL = 8


@dataclass
class Job:
    """One file to read, with the stored document's input key when there is one."""

    path: Path
    root: Path
    known_key: str | None


@dataclass
class Unchanged:
    """The file has the stored document's input key: nothing to parse."""

    path: Path
    root: Path


Result: TypeAlias = "Prepared | Unchanged | LoadError"


def run_job(job: Job, config: IngestConfig, max_bytes: int) -> Result:
    """Load one file; prepare it unless it is unchanged. A bad file is a LoadError result, not an exception."""
    from ingest.pipeline import input_key, prepare

    try:
        loaded: Loaded = load_file(job.path, max_bytes)
        if job.known_key is not None and job.known_key == input_key(loaded, config):
            return Unchanged(job.path, job.root)
        return prepare(loaded, job.root, config)
    except LoadError as exc:
        return exc


def worker_count(config: IngestConfig) -> int:
    """Configured processes, or one per core the process may use."""
    if config.ingest_workers:
        return config.ingest_workers
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


_context: multiprocessing.context.BaseContext | None = None


def _pool_context() -> multiprocessing.context.BaseContext:
    global _context
    if _context is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["ingest.preload"])
        _context = ctx
    return _context


def _uses_pool(jobs: int, config: IngestConfig) -> bool:
    return min(worker_count(config), jobs) > 1 and jobs >= MIN_FILES_FOR_POOL


def start_pool_early(jobs: int, config: IngestConfig) -> None:
    """Start the fork server (and its preload) now, while the caller still reads the store, when `jobs` files
    will need the pool; a no-op once it runs."""
    if _uses_pool(jobs, config):
        from multiprocessing import forkserver

        _pool_context()
        forkserver.ensure_running()


def run_jobs(jobs: Sequence[Job], config: IngestConfig, max_bytes: int) -> Iterator[Result]:
    """Each job's result, in job order; on a pool of worker processes when there are enough files."""
    workers = min(worker_count(config), len(jobs))
    if not _uses_pool(len(jobs), config):
        for job in jobs:
            yield run_job(job, config, max_bytes)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
        yield from pool.map(run_job, jobs, [config] * len(jobs), [max_bytes] * len(jobs), chunksize=2)
