"""Names the CLI needs without importing the benchmarks (which pull in numpy, Chroma and the model)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The shared folder beside the project (benchmark pages, the news dev set); read in place, never copied.
SHARED = ROOT.parent / "shared"
SECTIONS = ("extraction", "levers", "ingest", "tiers", "answers", "store", "server", "cold", "scale")
