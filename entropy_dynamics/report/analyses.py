"""The analyses a report shows: given by the caller, or computed with the phase analyzer; each with its
cross-metric statistics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from entropy_dynamics.analysis import analyze_run, cross_metric_stats
from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.errors import EntropyDynamicsError
from entropy_dynamics.logs import Run


def analyses_for(
    runs: Sequence[Run], analyses: Sequence[PhaseAnalysis] | None, metric: str | None, options: dict[str, Any]
) -> list[PhaseAnalysis]:
    """One analysis per run, with ``extra["cross_metrics"]``: ``analyses`` when given (same order as
    ``runs``; cross-metric statistics are added where missing), else ``analyze_run(run, metric, **options)``."""
    if not runs:
        raise EntropyDynamicsError("no runs to report")
    if analyses is None:
        return [analyze_run(run, metric=metric, cross_metrics=True, **options) for run in runs]
    if len(analyses) != len(runs):
        raise EntropyDynamicsError(f"got {len(analyses)} analyses for {len(runs)} runs")
    for run, analysis in zip(runs, analyses, strict=True):
        if "cross_metrics" not in analysis.extra:
            analysis.extra["cross_metrics"] = cross_metric_stats(run, analysis)
    return list(analyses)


def cross_stats(analysis: PhaseAnalysis, key: str) -> Any:
    """One part of the analysis' cross-metric statistics (``{}`` when absent)."""
    return (analysis.extra.get("cross_metrics") or {}).get(key) or {}
