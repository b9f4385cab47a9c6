"""`citebot bench`: the benchmark suite; writes JSON and prints a table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bench.sections import SECTIONS, SHARED


def bench(
    out: Annotated[Path, typer.Option(help="Where to write the JSON results.")] = Path("bench.json"),
    pages: Annotated[int, typer.Option(help="Haystack size: python3.11-doc HTML pages.")] = 150,
    quick: Annotated[bool, typer.Option(help="A small, fast run (CI keeps it from rotting).")] = False,
    shared: Annotated[Path, typer.Option(help="The shared folder holding bench/web-extraction/ (read in place).")]
    = SHARED,
    only: Annotated[str, typer.Option(help=f"Comma-separated sections to run, of: {', '.join(SECTIONS)}. "
                                      "Every section but extraction also runs the ingest one.")]
    = ",".join(SECTIONS),
    scale_sizes: Annotated[str | None, typer.Option(help="Archive sizes (articles) for the scale section, e.g. "
                                                    "1000,10000 (default: 1000, 10000 and 100000; --quick: 1000).")]
    = None,
) -> None:
    """Web-extraction, ingest, answer, needle, store-scale, server and cold-start benchmarks against the baselines."""
    from bench.run import run_bench, table

    chosen = tuple(s.strip() for s in only.split(",") if s.strip())
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        raise typer.BadParameter(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}",
                                 param_hint="--only")
    try:
        sizes = [int(x) for x in scale_sizes.split(",") if x.strip()] if scale_sizes else None
    except ValueError:
        raise typer.BadParameter("give whole numbers of articles, e.g. 1000,10000", param_hint="--scale-sizes") \
            from None
    results = run_bench(pages=10 if quick and pages == 150 else pages, quick=quick,
                        log=lambda m: typer.echo(m, err=True), shared=shared, only=chosen, scale_sizes=sizes)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    md = table(results)
    out.with_suffix(".md").write_text(md)
    typer.echo(md)
