"""`citebot ingest`, `citebot upgrade` and `citebot documents`: putting articles in the store and listing them."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from citebot.settings import Settings

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport
    from vectorstore.store import Store

from citebot.common import fail, load_settings, lock_path, open_store, own_store, server_owning_store


def ingest(
    paths: Annotated[list[str] | None, typer.Argument(
        help="Files, folders or http(s) URLs of article pages (default: seeds/).", show_default=False)] = None,
    feed: Annotated[list[str] | None, typer.Option(
        "--feed", help="An RSS or Atom feed URL: ingest each new or changed entry's page (repeatable).")] = None,
    prune: Annotated[bool, typer.Option(help="Remove stored documents whose files are gone.")] = False,
    reindex: Annotated[bool, typer.Option(help="Drop the collection and rebuild it (after a model change).")] = False,
    wait: Annotated[bool, typer.Option(help="Also build the full-model index before returning (else a "
                                       "background worker does it).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Load, clean, chunk and store articles; searchable at once (static model + BM25), full index behind.

    Files (.txt, .md, .html, .pdf), folders, URLs of pages and feeds. Unchanged files are skipped. New chunks get
    vectors from the static model distilled from MiniLM, so they can be asked about immediately; a background
    `citebot upgrade` then re-embeds them with MiniLM in place. A page fetched from a URL is kept in the fetched
    folder with the URL as its source; private addresses are refused unless CITEBOT_FETCH_ALLOW_PRIVATE=true.
    """
    settings = load_settings()
    urls = [p for p in paths or [] if _is_url(p)]
    files = [Path(p) for p in paths or [] if not _is_url(p)]
    feeds = list(feed or [])
    if not (urls or files or feeds):
        files = [settings.seeds_dir]
    report = _write(settings, files, urls, feeds, prune=prune, reindex=reindex, wait=wait, as_json=as_json)
    if report.errors:
        raise typer.Exit(1)


def watch(
    feeds: Annotated[list[str], typer.Argument(help="RSS or Atom feed URLs.", show_default=False)],
    every: Annotated[str, typer.Option(help="How often to read the feeds: 90s, 15m, 2h.")] = "15m",
    rounds: Annotated[int, typer.Option(help="Stop after this many reads (0: keep going until stopped).")] = 0,
) -> None:
    """Keep an archive fed: read the feeds now and then every --every, ingesting new or changed entries (each
    read asks only for what changed: ETag and Last-Modified, then the entries' stamps and the pages' hashes)."""
    import time

    bad = [f for f in feeds if not _is_url(f)]
    if bad:
        fail(f"not a feed URL: {bad[0]} (give http(s) addresses of RSS or Atom feeds)")
    seconds = _duration(every)
    settings = load_settings()
    n = 0
    while True:
        n += 1
        typer.echo(f"[{time.strftime('%H:%M:%S')}] reading {len(feeds)} feed(s), round {n}", err=True)
        try:
            report = _write(settings, [], [], feeds, prune=False, reindex=False, wait=False, as_json=False,
                            background=False)
        except typer.Exit:
            report = None  # the reason was printed; a watcher keeps going
        if report is not None:
            for err in report.errors:
                typer.echo(f"error: {err.path}: {err.error}", err=True)
        if rounds and n >= rounds:
            return
        time.sleep(seconds)


def _is_url(arg: str) -> bool:
    return "://" in arg[:12]


def _duration(text: str) -> float:
    import re

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*", text.lower())
    if not m:
        fail(f"--every {text!r}: give a number with s, m or h, such as 90s, 15m or 2h")
    value = float(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2) or "s"]
    if value < 1:
        fail("--every must be at least 1s")
    return value


def _write(settings: Settings, files: list[Path], urls: list[str], feeds: list[str], *, prune: bool, reindex: bool,
           wait: bool, as_json: bool, background: bool = True) -> IngestReport:
    """Ingest files, URLs and feeds into the store: through the `citebot serve` that owns it, else here."""
    from vectorstore.owner import StoreOwnedError

    # An embedded store has one writer: while a `citebot serve` owns it, the work goes through that server.
    url = server_owning_store(settings)
    if url is None:
        try:
            claim = own_store(settings, "ingest")
        except StoreOwnedError as exc:
            if not (exc.holder.role == "serve" and exc.holder.url and exc.holder.local):
                fail(str(exc))
            url, claim = exc.holder.url, None
    if url is not None:
        return _ingest_through(url, settings, files, urls, feeds, prune=prune, reindex=reindex, wait=wait,
                               as_json=as_json)
    try:
        report, store = _ingest_here(settings, files, urls, feeds, prune=prune, reindex=reindex, wait=wait,
                                     as_json=as_json)
    finally:
        if claim is not None:
            claim.__exit__(None, None, None)
    # Started once this process let go of the store, so the worker can own it.
    if background and not wait and settings.background_upgrade:
        _upgrade_in_background(settings, store)
    return report


def _ingest_here(settings: Settings, files: list[Path], urls: list[str], feeds: list[str], *, prune: bool,
                 reindex: bool, wait: bool, as_json: bool) -> tuple[IngestReport, Store]:
    from citebot.progress import Progress
    from ingest.pipeline import IngestReport
    from ingest.pipeline import ingest as run_ingest
    from ingest.sources.run import ingest_sources
    from vectorstore.embeddings import EmbeddingError, SentenceTransformerEmbedder
    from vectorstore.static import StaticEmbedder
    from vectorstore.store import StoreError

    store = open_store(settings, check_model=not reindex)
    progress = Progress("searchable", unit="files")
    try:
        embedder = SentenceTransformerEmbedder.from_config(settings.store)
        static = StaticEmbedder.from_config(settings.store, log=lambda m: typer.echo(m, err=True))

        def run(targets: list[Path], prune: bool = prune, reindex: bool = reindex) -> IngestReport:
            return run_ingest(targets, store, lambda: embedder, settings.ingest, prune=prune, reindex=reindex,
                              progress=progress, on_wait=lambda m: typer.echo(m, err=True),
                              static_factory=lambda: static)

        report = run(files) if files or reindex or prune else IngestReport()
        if urls or feeds:
            folder = settings.ingest.fetched_dir or settings.resolved_data_dir / "fetched"
            fetched = ingest_sources(urls, feeds, folder, settings.ingest.fetch_limits(),
                                     lambda targets: run(targets, False, False),
                                     say=lambda m: typer.echo(m, err=True))
            report = _merged(report, fetched)
    except (StoreError, EmbeddingError) as exc:
        fail(str(exc))
    finally:
        progress.close()
    for err in report.errors:
        typer.echo(f"error: {err.path}: {err.error}", err=True)
    if report.added or report.updated or report.removed:
        _save_lexical_index(settings, store)
    typer.echo(json.dumps(report.to_json()) if as_json else report.summary())
    if wait:
        _upgrade_now(settings, store, embedder, quiet=as_json)
    return report, store


def _save_lexical_index(settings: Settings, store: Store) -> None:
    """Bring the saved lexical index in this data folder up to date (reading only what changed when there is
    one), so the next `citebot serve` or `ask` loads it instead of indexing the archive's text."""
    from cachetools import LRUCache

    from citebot.deps import lexical_snapshot

    started = time.perf_counter()
    snapshot = lexical_snapshot(settings, store)
    token = store.change_token()
    corpus, current = snapshot.current(store, LRUCache(maxsize=1))
    if current:
        return
    try:
        snapshot.save(corpus, token)
    except OSError as exc:  # the documents are stored; only the next start is slower
        typer.echo(f"warning: could not save the search index to {snapshot.folder} ({exc}); the documents are "
                   "stored, and the next `citebot serve` indexes them itself", err=True)
        return
    typer.echo(f"search index of {len(corpus.docs)} documents saved in {time.perf_counter() - started:.1f} s",
               err=True)


def _merged(a: IngestReport, b: IngestReport) -> IngestReport:
    from ingest.pipeline import IngestReport

    return IngestReport(added=a.added + b.added, updated=a.updated + b.updated, unchanged=a.unchanged + b.unchanged,
                        removed=a.removed + b.removed, chunks_embedded=a.chunks_embedded + b.chunks_embedded,
                        seconds=a.seconds + b.seconds, errors=a.errors + b.errors)


def _ingest_through(url: str, settings: Settings, paths: list[Path], urls: list[str], feeds: list[str], *,
                    prune: bool, reindex: bool, wait: bool, as_json: bool) -> IngestReport:
    """Send the work to the `citebot serve` that owns the store (POST /api/ingest for paths, /api/documents/urls
    for URLs and feeds, with the admin token); it ingests exactly as this command would, and answers from the new
    documents at once."""
    import httpx

    from ingest.pipeline import IngestReport

    folder = settings.chroma_path
    owner = f"the store at {folder} is owned by the running `citebot serve` at {url}"
    if reindex:
        fail(f"{owner}; --reindex drops the whole store, so stop the server first")
    token = settings.web.admin_token
    if not token:
        fail(f"{owner}, which is the only process that may write to it; set CITEBOT_ADMIN_TOKEN to that server's "
             "admin token so that `citebot ingest` sends the files through it, or stop the server first")
    headers = {"Authorization": f"Bearer {token}"}
    report = IngestReport()
    calls = []
    if paths:
        calls.append(("/api/ingest", {"paths": [str(p.resolve()) for p in paths], "prune": prune}, len(paths)))
    if urls or feeds:
        calls.append(("/api/documents/urls", {"urls": urls, "feeds": feeds}, len(urls) + len(feeds)))
    for route, body, n in calls:
        typer.echo(f"{owner}: sending {n} {'path' if route == '/api/ingest' else 'URL'}(s) to it …", err=True)
        try:
            r = httpx.post(f"{url}{route}", json=body, headers=headers, timeout=httpx.Timeout(10.0, read=None))
        except httpx.HTTPError as exc:
            fail(f"{owner}, but it does not answer ({exc}); wait until it is up, or stop it and ingest again")
        try:
            answer = r.json()
        except ValueError:
            answer = {}
        if r.status_code not in (200, 422) or "documents" not in answer:
            fail(f"{owner}, which refused the ingest ({r.status_code}: {answer.get('error', r.text[:200])})")
        report = _merged(report, IngestReport.from_json(answer))
    for err in report.errors:
        typer.echo(f"error: {err.path}: {err.error}", err=True)
    typer.echo(json.dumps(report.to_json()) if as_json else report.summary())
    if wait:
        _wait_for_full_index(url, headers)
    return report


def _wait_for_full_index(url: str, headers: dict[str, str], timeout_s: float = 3600) -> None:
    """`--wait` through a server: its upgrade worker builds the full index; poll until no document waits."""
    import time

    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        docs = httpx.get(f"{url}/api/documents", headers=headers, timeout=30).json()
        if all(d.get("index") == "full" for d in docs):
            return
        time.sleep(0.5)
    fail(f"the server at {url} did not finish the full index within {timeout_s:.0f} s")


def _upgrade_now(settings: Settings, store: Store, embedder: Any, quiet: bool = False) -> None:
    from citebot.progress import Progress
    from ingest.upgrade import upgrade

    progress = Progress("full index", unit="chunks")
    try:
        report = upgrade(store, lambda: embedder, lock_path(settings), progress=progress,
                         batch_size=settings.ingest.write_batch, wait_for_lock=True)
    finally:
        progress.close()
    if report.documents or report.chunks_embedded:
        typer.echo(report.summary(), err=quiet)
    _export_onnx(settings, embedder)


def _export_onnx(settings: Settings, embedder: Any) -> None:
    """With torch already loaded for the upgrade, export the question encoder for fast starts (once)."""
    from vectorstore.embeddings import EmbeddingError
    from vectorstore.onnx_encoder import export_if_missing

    if not getattr(embedder, "loaded", False):
        return
    try:
        export_if_missing(embedder, settings.store, log=lambda m: typer.echo(m, err=True))
    except (EmbeddingError, OSError, RuntimeError) as exc:
        typer.echo(f"warning: no ONNX export ({exc}); servers keep loading torch to encode questions", err=True)


def _upgrade_in_background(settings: Settings, store: Store) -> None:
    """Start a detached `citebot upgrade` when documents await their full-model vectors."""
    import subprocess

    from ingest.upgrade import index_status

    status = index_status(store)
    if not status.pending:
        return
    log = lock_path(settings).with_name("upgrade.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        # Its own session: the worker outlives this command and a Ctrl-C in the terminal.
        subprocess.Popen([sys.executable, "-m", "citebot", "upgrade"], stdout=out, stderr=out,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    typer.echo(f"{status.pending} documents are searchable now; the full index is being built in the background "
               f"(progress: `citebot documents`, log: {log}).", err=True)


def upgrade() -> None:
    """Give documents that are searchable with the static model their full-model vectors (tier 2), now."""
    from vectorstore.embeddings import EmbeddingError, SentenceTransformerEmbedder
    from vectorstore.owner import StoreOwnedError
    from vectorstore.store import StoreError

    settings = load_settings()
    try:
        claim = own_store(settings, "upgrade")
    except StoreOwnedError as exc:
        if exc.holder.role == "serve":
            # The server runs the same worker on a thread; nothing for this process to do.
            typer.echo(f"{exc.holder.describe()} owns the store and builds its full index; "
                       "`citebot documents` shows how far it is")
            return
        fail(str(exc))
    try:
        store = open_store(settings)
        embedder = SentenceTransformerEmbedder.from_config(settings.store)
        from citebot.progress import Progress
        from ingest.upgrade import upgrade as run_upgrade

        progress = Progress("full index", unit="chunks")
        try:
            report = run_upgrade(store, lambda: embedder, lock_path(settings), progress=progress,
                                 batch_size=settings.ingest.write_batch)
        finally:
            progress.close()
    except (StoreError, EmbeddingError) as exc:
        fail(str(exc))
    finally:
        if claim is not None:
            claim.__exit__(None, None, None)
    typer.echo(report.summary())
    _export_onnx(settings, embedder)


def documents(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List stored documents."""
    store = open_store(load_settings())
    from ingest.upgrade import index_status

    rows = [
        {"doc_id": d.doc_id, "source": d.source, "title": d.title, "author": d.author,
         "published": d.published, "site": d.site, "url": d.url, "description": d.description, "chunks": d.chunks,
         "index": "full" if d.tier == 2 else "static"}
        for d in store.documents()
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        typer.echo(f"No documents in {store.location}. Run `citebot ingest`.")
        return
    for r in rows:
        typer.echo(f"{r['doc_id']}  {r['source']}  {r['chunks']:>3} chunks  {r['index']:6}  "
                   f"{r['published'] or '-':10}  {r['site'] or '-'}  {r['author'] or '-'}  {r['title']}")
    typer.echo(index_status(store).summary())




def prepare() -> None:
    """Build the local model files now instead of on first use: the static tier-1 model and the ONNX question
    encoder (both made from the installed MiniLM, never downloaded)."""
    from vectorstore.embeddings import EmbeddingError, SentenceTransformerEmbedder
    from vectorstore.onnx_encoder import OnnxEmbedder, export_if_missing, onnx_cache_dir
    from vectorstore.static import StaticEmbedder, static_cache_dir

    settings = load_settings()
    say = lambda m: typer.echo(m, err=True)  # noqa: E731
    try:
        StaticEmbedder.from_config(settings.store, log=say).load()
        typer.echo(f"static model: {static_cache_dir(settings.store)}")
        if settings.store.embedding_runtime == "onnx":
            embedder = SentenceTransformerEmbedder.from_config(settings.store)
            export_if_missing(embedder, settings.store, log=say)
            if OnnxEmbedder.from_config(settings.store) is not None:
                typer.echo(f"ONNX question encoder: {onnx_cache_dir(settings.store)}")
            else:
                typer.echo(f"{embedder.model_path} is not a mean-pooled transformer: questions stay on torch")
    except (EmbeddingError, OSError, RuntimeError) as exc:
        fail(f"{exc}. Check that the folders are writable (CITEBOT_STATIC_MODEL_DIR, CITEBOT_ONNX_MODEL_DIR).")
