"""``analyze_run``: the phase analysis of one metric of one :class:`Run`."""

from __future__ import annotations

from entropy_dynamics.analysis.cycles import find_cycles
from entropy_dynamics.analysis.segmenter import make_options, segment
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


def analyze_run(run: Run, metric: str | None = None, *, cross_metrics: bool = False, **options: object
                ) -> PhaseAnalysis:
    """Phases, change points and cycles of ``metric`` (default ``policy/entropy``) of ``run``.

    ``options``: segmentation and labelling settings (see :class:`SegmenterOptions`,
    :class:`LabelRules`) plus ``time_scale``. ``cross_metrics=True`` also computes
    :func:`cross_metric_stats` into ``analysis.extra["cross_metrics"]``.
    """
    column, warnings = resolve_metric(run, metric)
    series = run.metrics[column].dropna()
    time_scale = options.pop("time_scale", None)
    result = segment(series.index.to_numpy(), series.to_numpy(), make_options(**options),
                     time_scale=time_scale)  # type: ignore[arg-type]
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
        cycles=find_cycles(result.segments, series.index.to_numpy(), series.to_numpy()),
        warnings=warnings + result.warnings,
    )
    if cross_metrics:
        from entropy_dynamics.analysis.cross import cross_metric_stats

        analysis.extra["cross_metrics"] = cross_metric_stats(run, analysis)
    return analysis
