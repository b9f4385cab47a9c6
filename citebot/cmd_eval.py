"""`citebot eval`: citation-checked evaluation over a JSONL question file, with CI gates."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Annotated

import typer

from citebot.common import deps_or_fail, fail, load_settings


def _gate(kind: str, metric: str) -> typing.Any:
    """An option accepted both as --min-answer_accuracy and --min-answer-accuracy."""
    words = "below" if kind == "min" else "above"
    return typer.Option(f"--{kind}-{metric}", f"--{kind}-{metric.replace('_', '-')}",
                        help=f"Exit 1 when {metric} is {words} this.")


def _cross_validate(questions: typing.Any, deps: typing.Any, sha: str, engine: str | None, specs: list[str],
                    folds: int) -> dict[str, typing.Any]:
    """Evaluate every setting of the grid on the same deps (the engine reads `deps.config` live), then
    cross-validate the choice across articles (evals.cv)."""
    from dataclasses import asdict

    from citebot.progress import Progress
    from evals.cv import cross_validate, parse_grid
    from evals.run import run_eval

    try:
        grid = parse_grid(specs)
        for setting in grid:
            for name in setting:
                if name not in type(deps.config).model_fields:
                    raise ValueError(f"--cv: {name!r} is not a bot setting (see `citebot settings`)")
    except ValueError as exc:
        fail(str(exc))
    original = deps.config.model_dump()
    rows = []
    try:
        for setting in grid:
            for name, value in setting.items():
                field = type(deps.config).model_fields[name]
                setattr(deps.config, name, type(original[name])(value) if field.annotation is not str else value)
            progress = Progress(f"cv {setting}", unit="q")
            rows.append(run_eval(questions, deps, dataset_sha256=sha, engine=engine, progress=progress)["per_question"])
            progress.close()
    finally:
        for name, value in original.items():
            setattr(deps.config, name, value)
    return asdict(cross_validate(questions, rows, grid, k=folds))


def evaluate(
    file: Annotated[Path, typer.Argument(help="JSONL questions (see evals/data/dev_questions.jsonl).")],
    engine: Annotated[str | None, typer.Option(help="extractive, openai or llamacpp.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    markdown_out: Annotated[Path | None, typer.Option("--markdown", help="Write the Markdown report here.")] = None,
    calibrate: Annotated[bool, typer.Option(help="Also report the support judge's accuracy on "
                                                   "evals/data/calibration.jsonl.")] = False,
    min_answer_accuracy: Annotated[float | None, _gate("min", "answer_accuracy")] = None,
    min_abstention_accuracy: Annotated[float | None, _gate("min", "abstention_accuracy")] = None,
    min_citation_recall: Annotated[float | None, _gate("min", "citation_recall")] = None,
    min_citation_precision: Annotated[float | None, _gate("min", "citation_precision")] = None,
    min_evidence_recall_retrieved: Annotated[float | None, _gate("min", "evidence_recall_retrieved")] = None,
    min_evidence_recall_cited: Annotated[float | None, _gate("min", "evidence_recall_cited")] = None,
    min_short_answer_rate: Annotated[float | None, _gate("min", "short_answer_rate")] = None,
    max_invalid_citation_rate: Annotated[float | None, _gate("max", "invalid_citation_rate")] = None,
    max_latency_p95_ms: Annotated[float | None, _gate("max", "latency_p95_ms")] = None,
    cv: Annotated[list[str] | None, typer.Option(
        "--cv", help="NAME=V1,V2,...: also evaluate each value of this BotConfig setting (repeat for a grid; "
        "list the default first) and print the out-of-fold accuracy of choosing among them, by cross-validation "
        "across articles, beside the in-sample figure.")] = None,
    folds: Annotated[int, typer.Option(help="Folds of articles for --cv.")] = 5,
) -> None:
    """Run every question through the bot and score answers and citations (ALCE-style)."""
    from citebot.progress import Progress
    from evals.dataset import DatasetError, load_questions
    from evals.report import markdown
    from evals.run import run_eval

    try:
        questions, sha = load_questions(file)
    except DatasetError as exc:
        fail(str(exc))
    settings = load_settings()
    deps = deps_or_fail(settings)
    progress = Progress("questions", unit="q")
    report = run_eval(questions, deps, dataset_sha256=sha, engine=engine, progress=progress)
    progress.close()
    if cv:
        report["cv"] = _cross_validate(questions, deps, sha, engine, cv, folds)
    if calibrate:
        from evals.calibration import CALIBRATION, judge_accuracy

        report["judge_calibration"] = judge_accuracy(CALIBRATION, deps.judge)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    if markdown_out:
        markdown_out.parent.mkdir(parents=True, exist_ok=True)
        markdown_out.write_text(markdown(report))
    m = report["metrics"]
    typer.echo(f"{'metric':28} {'value':>8}   95% CI")
    for name, v in m.items():
        typer.echo(f"{name:28} {v['value']:8.3f}   [{v['ci_low']:.3f}, {v['ci_high']:.3f}]")
    misses = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in report["misses_by_class"].items())
    typer.echo(f"misses by class: {misses}")
    for kind, cell in (report.get("misses_by_expected_type") or {}).items():
        missed = sum(v for k, v in cell.items() if k != "questions")
        typer.echo(f"  expected {kind:12} {cell['questions']:3} questions, {missed:3} missed")
    if cv:
        r = report["cv"]
        typer.echo(f"{'cv_in_sample_accuracy':28} {r['in_sample']:8.3f}   (best of {len(r['settings'])} settings "
                   f"on every question: {r['in_sample_setting']})")
        typer.echo(f"{'cv_out_of_fold_accuracy':28} {r['out_of_fold']:8.3f}   ({r['folds']} folds of articles; "
                   f"chosen per fold: {r['chosen_per_fold']})")
    if calibrate:
        cal = report["judge_calibration"]
        typer.echo(f"{'judge_accuracy':28} {cal['accuracy']:8.3f}   ({cal['n']} labelled pairs)")
    gates = {
        "answer_accuracy": (min_answer_accuracy, 1), "abstention_accuracy": (min_abstention_accuracy, 1),
        "citation_recall": (min_citation_recall, 1), "citation_precision": (min_citation_precision, 1),
        "evidence_recall_retrieved": (min_evidence_recall_retrieved, 1),
        "evidence_recall_cited": (min_evidence_recall_cited, 1), "short_answer_rate": (min_short_answer_rate, 1),
        "invalid_citation_rate": (max_invalid_citation_rate, -1), "latency_p95_ms": (max_latency_p95_ms, -1),
    }
    failed = [
        f"{name} = {m[name]['value']:.3f} is {'below' if sign > 0 else 'above'} {limit}"
        for name, (limit, sign) in gates.items()
        if limit is not None and (m[name]["value"] < limit if sign > 0 else m[name]["value"] > limit)
    ]
    for line in failed:
        typer.echo(f"gate failed: {line}", err=True)
    if failed:
        raise typer.Exit(1)
