"""Two-tier ingest figures: time to searchable (tier 1) and to the full index (tier 2) against the quickstart,
needle recall with tier 1 alone and with the full index, and dev-set accuracy on both.

The needle comparison is fair: citebot and the quickstart get the same question text (the question as asked,
without citebot's follow-up resolution) and the same k.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest.config import IngestConfig
from ingest.pipeline import ingest
from ingest.upgrade import upgrade
from vectorstore.config import StoreConfig
from vectorstore.store import Store

NEEDLE_K = 5
Log = Callable[[str], None]


def _fig(value: float, unit: str) -> dict[str, Any]:
    return {"value": round(float(value), 4), "unit": unit}


def needle_questions(path: Path) -> list[dict[str, Any]]:
    """Answerable questions with gold evidence quotes."""
    rows = [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]
    return [q for q in rows if q.get("answerable") and q.get("evidence")]


def needle_recall(questions: list[dict[str, Any]], search: Callable[[str, int], list[str]]) -> float:
    """Share of questions whose gold evidence is in the top NEEDLE_K passages for the bare question."""
    from evals.metrics import overlaps

    if not questions:
        return 0.0
    hits = 0
    for q in questions:
        got = search(q["question"], NEEDLE_K)
        hits += any(overlaps(e["quote"], t) for e in q["evidence"] for t in got)
    return hits / len(questions)


def _dev_accuracy(path: Path, deps: Any) -> float:
    from evals.dataset import load_questions
    from evals.run import run_eval

    questions, sha = load_questions(path)
    return float(run_eval(questions, deps, dataset_sha256=sha)["metrics"]["answer_accuracy"]["value"])


def bench_tiers(folders: list[Path], work: Path, embedder: Any, static: Any, quickstart: Any,
                quickstart_seconds: float, question_sets: dict[str, Path], dev_sets: dict[str, Path],
                log: Log, quickstart_extraction_seconds: float = 0.0) -> dict[str, Any]:
    """Tier-1 ingest, figures on tier 1 alone, the tier-2 upgrade, the same figures on the full index."""
    from citebot.deps import build_deps
    from citebot.settings import Settings

    static.load()  # distilled once at install or first use and cached; not part of the ingest timing
    cfg = StoreConfig(chroma_path=work / "tiered", collection="bench")
    store = Store.open(cfg)
    t0 = time.perf_counter()
    report = ingest(folders, store, lambda: embedder, IngestConfig(), static_factory=lambda: static)
    searchable_s = time.perf_counter() - t0
    log(f"tier 1: {report.added} documents searchable in {searchable_s:.1f}s "
        f"({searchable_s / quickstart_seconds:.3f}x the quickstart's {quickstart_seconds:.1f}s)")

    def figures(label: str) -> dict[str, Any]:
        deps = build_deps(Settings(chroma_path=cfg.chroma_path, collection=cfg.collection), embedder=embedder,
                          static=static)
        out: dict[str, Any] = {}
        for name, path in question_sets.items():
            qs = needle_questions(path)
            ours = needle_recall(qs, lambda q, k: [p.chunk.text for p in deps.retriever.search(q, k=k)])
            out[f"needle_{name}_recall_at_{NEEDLE_K}"] = _fig(ours, "share")
            log(f"{label}: needle recall@{NEEDLE_K} on {name}: {ours:.3f} ({len(qs)} questions)")
        for name, path in dev_sets.items():
            acc = _dev_accuracy(path, deps)
            out[f"dev_{name}_answer_accuracy"] = _fig(acc, "share")
            log(f"{label}: {name} dev-set answer accuracy {acc:.3f}")
        return out

    tier1 = figures("tier 1")
    lock = work / "tiered" / "upgrade.lock"
    t1 = time.perf_counter()
    up = upgrade(store, lambda: embedder, lock)
    upgrade_s = time.perf_counter() - t1
    full_s = searchable_s + upgrade_s
    log(f"tier 2: {up.documents} documents upgraded in {upgrade_s:.1f}s; full index {full_s:.1f}s after start "
        f"({full_s / quickstart_seconds:.3f}x the quickstart)")
    full = figures("full index")
    baseline = {}
    for name, path in question_sets.items():
        qs = needle_questions(path)
        theirs = needle_recall(qs, lambda q, k: [d.page_content for d in quickstart.similarity_search(q, k=k)])
        baseline[f"needle_{name}_recall_at_{NEEDLE_K}"] = _fig(theirs, "share")
        log(f"quickstart: needle recall@{NEEDLE_K} on {name}: {theirs:.3f}")
    out: dict[str, Any] = {
        "documents": report.added,
        "chunks": report.chunks_embedded,
        "searchable_seconds": _fig(searchable_s, "s"),
        "searchable_vs_quickstart": _fig(searchable_s / quickstart_seconds, "ratio"),
        "upgrade_seconds": _fig(upgrade_s, "s"),
        "full_index_seconds": _fig(full_s, "s"),
        "full_index_vs_quickstart": _fig(full_s / quickstart_seconds, "ratio"),
        # Beside the targets: the quickstart charged for reading and cleaning the same files too, as citebot is.
        "searchable_vs_quickstart_with_extraction": _fig(
            searchable_s / (quickstart_seconds + quickstart_extraction_seconds), "ratio"),
        "full_index_vs_quickstart_with_extraction": _fig(
            full_s / (quickstart_seconds + quickstart_extraction_seconds), "ratio"),
        "tier1": tier1,
        "full": full,
        "quickstart": baseline,
    }
    for key in tier1:
        if key.startswith("dev_") and key in full:
            out[f"{key}_tier1_minus_full"] = _fig(tier1[key]["value"] - full[key]["value"], "share")
    return out
