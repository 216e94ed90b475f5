"""``analyze_run``: the phase analysis of one metric of one :class:`Run`."""

from __future__ import annotations

from dataclasses import asdict

from entropy_dynamics.analysis.cycles import find_cycles
from entropy_dynamics.analysis.options import PhaseOptions
from entropy_dynamics.analysis.segmenter import segment
from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.logs.model import Run

DEFAULT_METRIC = "policy/entropy"


def resolve_metric(run: Run, metric: str | None) -> tuple[str, list[str]]:
    """The column to analyse and warnings about how it was chosen.

    With no ``metric``, ``policy/entropy`` (through the aliases) or else the column with most points
    whose name ends in ``entropy``; an explicit metric must exist (MetricNotFoundError otherwise).
    """
    if metric is not None:
        return run.resolve(metric), []
    column = run.resolve(DEFAULT_METRIC, fallback_suffix="entropy")
    if column == DEFAULT_METRIC:
        return column, []
    source = run.source_names.get(column, column)
    return column, [f"no {DEFAULT_METRIC} (or alias) in the log: analysed {source!r} instead"]


def analyze_run(run: Run, metric: str | None = None, *, cross_metrics: bool = False,
                options: PhaseOptions | None = None, **overrides: object) -> PhaseAnalysis:
    """Phases, change points and cycles of ``metric`` (default ``policy/entropy``) of ``run``.

    ``options`` (or single fields of :class:`PhaseOptions` as keywords) set the phase definitions.
    ``cross_metrics=True`` also computes :func:`cross_metric_stats` into ``analysis.extra["cross_metrics"]``.
    """
    column, warnings = resolve_metric(run, metric)
    series = run.metrics[column].dropna()
    opts = (options or PhaseOptions()).updated(**overrides)
    result = segment(series.index.to_numpy(), series.to_numpy(), opts)
    analysis = PhaseAnalysis(
        run=run.name,
        source=run.source,
        metric=column,
        source_metric=run.source_names.get(column, column),
        n_points=int(series.size),
        first_step=int(series.index[0]) if series.size else None,
        last_step=int(series.index[-1]) if series.size else None,
        change_points=result.change_points,
        segments=result.segments,
        cycles=find_cycles(result.segments, result.steps, result.smooth),
        warnings=warnings + result.warnings,
        extra={"options": asdict(opts)},
    )
    if cross_metrics:
        from entropy_dynamics.analysis.cross import cross_metric_stats

        analysis.extra["cross_metrics"] = cross_metric_stats(run, analysis)
    return analysis
