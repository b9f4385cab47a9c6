"""How the benchmark reports a figure: a value with its unit; percentiles come from the evaluation's helper."""

from __future__ import annotations

from typing import Any

from evals.metrics import percentile

__all__ = ["fig", "percentile"]


def fig(value: float, unit: str) -> dict[str, Any]:
    """A figure with its unit."""
    return {"value": round(float(value), 4), "unit": unit}
