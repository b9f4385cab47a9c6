"""The benchmark's pure parts: target checks, the table, the JSON figures, store scale on a tiny size."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.run import _quickstart_texts, bench_store_scale, check_targets, fig, table

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def _results(speedup: float, clients16: bool = True) -> dict:
    res = {
        "config": {"haystack_pages": 3, "quick": True},
        "ingest": {"speedup_vs_quickstart": fig(speedup, "ratio"), "overhead_vs_bare_encode": fig(1.1, "ratio"),
                   "reingest_fraction_of_first": fig(0.01, "ratio")},
        "needle": {"citebot_recall_at_5": fig(1.0, "share"), "quickstart_recall_at_5": fig(0.9, "share")},
        "answers_haystack": {"p50_ms": fig(40, "ms"), "p95_ms": fig(90, "ms")},
        "server": {"server_peak_rss_mb": fig(700, "MB"), "serve_ready_seconds": fig(8, "s")},
    }
    if clients16:
        res["server"]["clients_16"] = {"errors": 0, "p95_ms": fig(1500, "ms")}
    return res


def test_targets_pass_fail_and_unmeasured():
    by_name = {t["target"]: t for t in check_targets(_results(2.5))}
    assert by_name["ingest chunks/s >= 2.0x LangChain quickstart"]["pass"] is True
    assert by_name["needle recall@5 >= quickstart's (same k, same question)"]["limit"] == 0.9
    assert by_name["16 clients: zero errors"]["pass"] is True
    failing = {t["target"]: t for t in check_targets(_results(1.5, clients16=False))}
    assert failing["ingest chunks/s >= 2.0x LangChain quickstart"]["pass"] is False
    assert failing["16 clients: p95 <= 2 s"]["pass"] is None


def test_table_lists_every_figure_with_its_unit_and_the_verdicts():
    res = _results(2.5)
    res["targets"] = check_targets(res)
    md = table(res)
    assert "| ingest | speedup_vs_quickstart | 2.5 | ratio |" in md
    assert "| server.clients_16 | p95_ms | 1500 | ms |" in md
    assert "| ingest chunks/s >= 2.0x LangChain quickstart | 2.5 | 2 | PASS |" in md
    json.dumps(res)  # the whole result is JSON


def test_store_scale_on_a_tiny_collection(tmp_path):
    out = bench_store_scale(tmp_path, [300], dim=16, queries=3)
    assert out["300"]["query_p50_ms"]["unit"] == "ms" and out["300"]["query_p50_ms"]["value"] > 0


def test_quickstart_reads_the_same_cleaned_texts():
    texts = dict(_quickstart_texts([SEEDS]))
    assert set(texts) == {"000_7d831f6347d504d0.txt", "004_3ea41cb918c3c8f6.txt"}
    assert "Post a Comment" not in texts["000_7d831f6347d504d0.txt"]


def _extraction_set(tmp_path: Path) -> Path:
    pages = tmp_path / "web" / "pages"
    pages.mkdir(parents=True)
    body = " ".join(f"The lighthouse keeper logged {i} ships passing the cape before dawn." for i in range(8))
    (pages / "a.html").write_text(
        f"<html><head><title>Keeper's log</title></head><body><nav>Home | Shop | Cookie settings</nav>"
        f"<article><p>{body}</p><p>Read more: Ferries cancelled again</p></article></body></html>")
    (tmp_path / "web" / "expected.json").write_text(json.dumps({
        "https://example.org/a": {"file": "a.html", "with": ["logged 7 ships passing", "not on the page"],
                                  "without": ["Cookie settings", "Read more: Ferries cancelled again"]},
    }))
    return tmp_path / "web"


def test_extraction_scores_recall_and_leakage(tmp_path):
    from bench.extraction import citebot_stored, load_cases, score

    folder = _extraction_set(tmp_path)
    s = score(load_cases(folder), folder / "pages", citebot_stored)
    assert (s.found, s.expected, s.leaked, s.boilerplate) == (1, 2, 0, 2)
    assert s.misses == ["a.html: not on the page"]
    leaky = score(load_cases(folder), folder / "pages", lambda p: "Cookie  settings\nlogged 7 ships passing")
    assert (leaky.recall, leaky.leakage) == (0.5, 0.5)


def test_extraction_section_compares_both_and_skips_when_missing(tmp_path):
    from bench.extraction import bench_extraction

    said: list[str] = []
    assert bench_extraction(tmp_path / "nowhere", said.append) is None
    assert "skipped" in said[0] and "--shared" in said[0]
    out = bench_extraction(_extraction_set(tmp_path), said.append)
    assert out is not None and out["pages"] == 1
    assert out["citebot"]["with_recall"] == fig(0.5, "share")
    assert set(out["bare_trafilatura"]) >= {"with_recall", "without_leakage"}
    by_name = {t["target"]: t for t in check_targets({"extraction": out})}
    assert by_name["web extraction: with recall >= 0.975"]["pass"] is False
    assert by_name["web extraction: leakage below bare trafilatura's"]["limit"] == out["bare_trafilatura"][
        "without_leakage"]["value"]


def test_needle_gives_both_sides_the_same_question_and_k(tmp_path):
    from bench.tiers import NEEDLE_K, needle_questions, needle_recall

    path = tmp_path / "q.jsonl"
    rows = [
        {"id": "a", "question": "When did the ferry resume?", "answerable": True,
         "evidence": [{"quote": "The ferry resumed on Monday."}]},
        {"id": "b", "question": "And the bridge?", "history": [{"role": "user", "content": "x"}],
         "answerable": True, "evidence": [{"quote": "The bridge reopened in May."}]},
        {"id": "c", "question": "Who won?", "answerable": False},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    qs = needle_questions(path)
    assert [q["id"] for q in qs] == ["a", "b"]
    asked: list[tuple[str, int]] = []

    def search(q: str, k: int) -> list[str]:
        asked.append((q, k))
        return ["Officials said the ferry resumed on Monday."] if "ferry" in q else ["Nothing here."]

    assert needle_recall(qs, search) == 0.5
    assert asked == [("When did the ferry resume?", NEEDLE_K), ("And the bridge?", NEEDLE_K)]


def test_levers_time_the_same_sample_with_and_without_each_lever(tmp_path):
    from helpers import HashEmbedder

    from bench.levers import OLD_OVERLAP, bench_levers

    class Counting(HashEmbedder):
        """The fake at the model seam, with the two calls the levers use."""

        def __init__(self) -> None:
            super().__init__()
            self.encoded: list[int] = []
            self._model = self
            self.batch_size = 16

        def encode(self, texts, **_):  # type: ignore[no-untyped-def]
            self.encoded.append(len(texts))
            return self.embed(texts)

        def token_lengths(self, texts):  # type: ignore[no-untyped-def]
            return [len(t.split()) for t in texts]

    # Short sentences, so an overlap of 150 characters repeats whole ones.
    article = "Harbour Cranes Return\n\n" + " ".join(f"Crane {i} was repaired in week {i}." for i in range(120))
    (tmp_path / "cranes.txt").write_text(article)
    emb, lines = Counting(), []
    out = bench_levers([tmp_path], emb, lines.append, every=1, repeats=1)
    assert out["chunks_overlap_150"] > out["chunks_overlap_0"] > 0  # overlap repeats sentences, so more chunks
    assert sum(emb.encoded) == out["chunks_overlap_150"] + out["chunks_overlap_0"]  # both in-order runs
    assert all(0 < n <= 64 for n in emb.encoded)
    for key in ("no_overlap_saving", "length_sorted_saving", "configured_batch_saving", "all_saving"):
        assert out[key]["unit"] == "share"
    assert out["encode_batch"] == emb.batch_size == 16  # the configured batch is restored after the 64 run
    assert f"overlap {OLD_OVERLAP}" in lines[0] and "in batches of 16 instead of 64" in lines[0]


def test_extraction_misses_and_leaks_are_counted_by_class(tmp_path):
    from bench.extraction import load_cases, score

    pages = tmp_path / "web" / "pages"
    pages.mkdir(parents=True)
    body = " ".join(f"The ferry crew counted {i} seals on the sandbank at low tide." for i in range(8))
    (pages / "b.html").write_text(
        '<html><head><title>Seal count</title><meta name="description" content="A summary only the meta holds.">'
        f'</head><body><article><h1>Seal count</h1><p>{body}</p></article><div class="comments"><ul>'
        '<li class="comment"><p>We saw them too from the harbour wall on Sunday!</p></li></ul></div></body></html>')
    (tmp_path / "web" / "expected.json").write_text(json.dumps({"https://example.org/b": {
        "file": "b.html", "with": ["counted 3 seals", "summary only the meta holds", "from the harbour wall",
                                   "not on the page at all"],
        "without": ["Seal count"]}}))
    folder = tmp_path / "web"
    s = score(load_cases(folder), folder / "pages", lambda p: "Seal count. The ferry crew counted 3 seals",
              classes=True)
    assert s.miss_classes == {"description": 1, "comments": 1, "not extracted": 1}
    assert sum(s.leak_classes.values()) == 1


def test_the_archive_generator_is_deterministic_unique_and_plants_findable_facts(tmp_path):
    from bench.archive import generate, paragraphs_from
    from bench.scale import slope

    pool = paragraphs_from(p.read_text() for p in SEEDS.glob("*.txt"))
    assert len(pool) > 20
    a = generate(tmp_path / "a", 300, pool, seed=5, needles=7)
    b = generate(tmp_path / "b", 300, pool, seed=5, needles=7)
    assert a == b and len(a) == 7
    files = sorted((tmp_path / "a").rglob("*.md"))
    assert len(files) == 300 and len({f.read_text() for f in files}) == 300
    assert [f.read_text() for f in files] == [f.read_text() for f in sorted((tmp_path / "b").rglob("*.md"))]
    for needle in a:
        text = (tmp_path / "a" / needle.source).read_text()
        assert needle.sentence in text and needle.answer in needle.sentence
        # The planted subject appears in no other article.
        subject = needle.question.rsplit(" in ", 1)[1].split()[0]
        assert sum(subject in f.read_text() for f in files) == 1
    assert slope([(1000, 50.0), (10_000, 500.0)]) == pytest.approx(1.0)
    assert slope([(1000, 50.0), (10_000, 50.0), (100_000, 50.0)]) == pytest.approx(0.0)
    assert slope([(1000, 50.0)]) is None


@pytest.mark.integration
def test_the_replica_bench_serves_an_archive_from_a_chroma_server_with_two_replicas(tmp_path):
    """The full bench's replica section on a small archive: real `chroma run`, `citebot ingest` into it, two
    `citebot serve` replicas with their own data folders; an upload through one is answered by the other."""
    from bench.archive import paragraphs_from
    from bench.scale import bench_replicas

    pool = paragraphs_from(p.read_text() for p in SEEDS.glob("*.txt"))
    logged: list[str] = []
    out = bench_replicas(60, pool, tmp_path, logged.append, questions=12)
    assert "error" not in out, out
    assert out["articles"] == 60 and out["chunks"] > 60
    for key in ("serve_ready_seconds", "replica_first_start_seconds", "replica_restart_seconds", "answer_p50_ms",
                "answer_p95_ms", "rss_after_12_questions_mb", "chroma_server_rss_mb", "upload_answerable_seconds"):
        assert out[key]["value"] > 0, key
    assert out["needle_cited"]["value"] >= 0.5  # 12 questions: the 12 needles asked once each, round robin
    assert any("upload through A answerable on B" in line for line in logged)
