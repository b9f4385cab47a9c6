"""The Markdown report for people: the headline table, then failures grouped by bucket."""

from __future__ import annotations

from typing import Any

from evals.run import BUCKETS


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown(report: dict[str, Any]) -> str:
    """Render the JSON report as Markdown."""
    lines = [
        f"# citebot evaluation — {report['n']} questions, engine `{report['engine']}`",
        "",
        f"dataset sha256 `{report['dataset_sha256'][:16]}…`, judge `{report['config']['judge']}`",
        "",
        "| metric | value | 95% CI |",
        "|---|---:|---|",
    ]
    for name, m in report["metrics"].items():
        lines.append(f"| {name} | {m['value']:.3f} | {m['ci_low']:.3f} – {m['ci_high']:.3f} |")
    if "misses_by_class" in report:
        lines += ["", "| miss class | questions |", "|---|---:|"]
        lines += [f"| {k.replace('_', ' ')} | {v} |" for k, v in report["misses_by_class"].items()]
    by_type = report.get("misses_by_expected_type") or {}
    if by_type:
        names = [k for k in next(iter(by_type.values())) if k != "questions"]
        lines += ["", "| expected answer type | questions | " + " | ".join(n.replace("_", " ") for n in names) + " |",
                  "|---|---:|" + "---:|" * len(names)]
        lines += [f"| {kind} | {cell['questions']} | " + " | ".join(str(cell[n]) for n in names) + " |"
                  for kind, cell in by_type.items()]
    failures = [r for r in report["per_question"] if r["failure"]]
    lines += ["", f"## Failures ({len(failures)})", ""]
    if not failures:
        lines.append("None.")
    for bucket in BUCKETS:
        rows = [r for r in failures if r["failure"] == bucket]
        if not rows:
            continue
        lines += [f"### {bucket} ({len(rows)})", "", "| id | question | statement | cited quote |", "|---|---|---|---|"]
        for r in rows:
            quotes = {c["n"]: c["quote"] for c in r["citations"]}
            stmts = r["statements"] or [{"text": r["answer"], "cited": []}]
            for s in stmts:
                cited = " / ".join(f"[{n}] {quotes.get(n, '(not retrieved)')}" for n in s["cited"]) or "—"
                lines.append(f"| {r['id']} | {_cell(r['question'])} | {_cell(s['text'])} | {_cell(cited)} |")
        lines.append("")
    return "\n".join(lines) + "\n"
