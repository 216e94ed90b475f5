"""A whole project (a W&B project, a folder of runs) as one sweep table: a row per run.

Each row holds the run's name and source, its config columns (nested configs flattened with ``.``; only the
keys whose values differ between runs, unless asked for all) and its phase statistics
(:func:`phase_statistics`, the same numbers as ``compare`` and ``sweep summary``). The table is a
``pandas.DataFrame`` written as text, JSON, CSV or a sortable HTML page (:mod:`entropy_dynamics.report.project_page`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from entropy_dynamics.analysis import PhaseOptions, analyze_run
from entropy_dynamics.errors import MetricNotFoundError
from entropy_dynamics.logs import Run
from entropy_dynamics.report.tables import summarize

#: A run has collapsed when its final success is below this (it has, at the end, almost stopped winning).
COLLAPSE_BELOW = 0.02
#: The statistics columns of a row, with what they mean (the JSON output carries this as ``definitions``).
STATISTICS: dict[str, str] = {
    "last_step": "last logged step",
    "eruptions": "eruption cycles the phase analyzer finds in the entropy curve",
    "max_amplitude": "peak / base ratio of the largest eruption (empty without one)",
    "eruption_share": "share of the run's steps inside eruption phases",
    "mean_entropy": "mean of the analysed entropy metric over the whole run",
    "final_success": "mean success rate over the last 10 logged points (empty without a success metric)",
    "collapsed": f"final success < {COLLAPSE_BELOW}",
}


def phase_statistics(run: Run, metric: str | None = None, options: PhaseOptions | None = None,
                     collapse_below: float = COLLAPSE_BELOW) -> dict[str, Any]:
    """The :data:`STATISTICS` of one run (``metric`` and ``options`` as for
    :func:`~entropy_dynamics.analysis.analyze_run`); a run without that metric gets no phase values (None)."""
    try:
        row = summarize(run.name, run, analyze_run(run, metric, options=options))
    except MetricNotFoundError:
        return {"last_step": run.last_step, **dict.fromkeys(list(STATISTICS)[1:])}
    final = row.final_success
    return {"last_step": run.last_step, "eruptions": row.cycles, "max_amplitude": row.largest_ratio,
            "eruption_share": row.eruption_share, "mean_entropy": row.mean_value, "final_success": final,
            "collapsed": None if final is None else bool(final < collapse_below)}


@functools.lru_cache(maxsize=1)
def analyzer_fingerprint() -> str:
    """A hash of the analyzer's own source (``entropy_dynamics/analysis`` and the statistics table): cached
    statistics from another analyzer version are never read back, even when the package version is the same."""
    import entropy_dynamics.analysis as package
    from entropy_dynamics.report import tables

    files = [*sorted(Path(package.__file__).parent.glob("*.py")), Path(tables.__file__)]
    digest = hashlib.sha1()
    for path in files:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def statistics_key(run: Run, metric: str | None, options: PhaseOptions | None) -> str:
    """What a run's statistics depend on, hashed: its source, last step and point count, metric and options, and
    the analyzer's version (:func:`analyzer_fingerprint`)."""
    payload = [run.source, run.last_step, int(run.metrics.notna().to_numpy().sum()), metric,
               asdict(options or PhaseOptions()), COLLAPSE_BELOW, analyzer_fingerprint()]
    return hashlib.sha1(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def cached_statistics(runs: Sequence[Run], metric: str | None = None, options: PhaseOptions | None = None,
                      folder: Path | None = None) -> list[dict[str, Any]]:
    """:func:`phase_statistics` of each run; with ``folder``, those of W&B runs are kept there as
    ``<statistics_key>.json`` and read back while the run and the options are unchanged."""
    out = []
    for run in runs:
        path = None if folder is None or not run.source.startswith("wandb://") else \
            folder / f"{statistics_key(run, metric, options)}.json"
        if path is not None and path.is_file():
            try:
                out.append(json.loads(path.read_text()))
                continue
            except ValueError:
                pass
        stats = phase_statistics(run, metric, options)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(stats))
        out.append(stats)
    return out


def flatten_config(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; W&B's ``{"value": x}`` wrappers unwrapped; lists as text."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and set(value) == {"value"}:
            value = value["value"]
        if isinstance(value, Mapping):
            flat.update(flatten_config(value, f"{name}."))
        elif isinstance(value, (list, tuple)):
            flat[name] = str(list(value))
        else:
            flat[name] = value
    return flat


def varying_columns(configs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Config keys (first-seen order) whose value is not the same in every run (missing counts as a value)."""
    keys = list(dict.fromkeys(k for c in configs for k in c))
    return [k for k in keys if len({repr(c.get(k)) for c in configs}) > 1]


def project_table(runs: Iterable[Run], config_columns: str | Sequence[str] = "varying",
                  statistics: Sequence[Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """One row per run: ``run``, ``source``, config columns, then :data:`STATISTICS`.

    Args:
        runs: the runs (their ``config`` dicts give the config columns).
        config_columns: ``"varying"`` (keys that differ between runs; all keys when there is one run),
            ``"all"``, or the keys to show (flattened names such as ``optimizer.lr``).
        statistics: precomputed :func:`phase_statistics` per run (e.g. from a cache), in ``runs``' order.
    """
    runs = list(runs)
    configs = [flatten_config(r.config or {}) for r in runs]
    if config_columns == "varying":
        columns = varying_columns(configs) if len(runs) > 1 else list(dict.fromkeys(k for c in configs for k in c))
    elif config_columns == "all":
        columns = list(dict.fromkeys(k for c in configs for k in c))
    else:
        columns = list(config_columns)
    stats = list(statistics) if statistics is not None else [phase_statistics(r) for r in runs]
    rows = [{"run": r.name, "source": r.source, **{f"config.{k}": c.get(k) for k in columns}, **s}
            for r, c, s in zip(runs, configs, stats, strict=True)]
    return pd.DataFrame(rows, columns=["run", "source", *(f"config.{k}" for k in columns), *STATISTICS])


def sort_table(table: pd.DataFrame, by: str | None, descending: bool = False) -> pd.DataFrame:
    """``table`` sorted by column ``by`` (``config.`` may be left off); empty cells last."""
    if by is None:
        return table
    column = by if by in table.columns else f"config.{by}"
    if column not in table.columns:
        raise KeyError(f"no column {by!r}; columns: {', '.join(table.columns)}")
    return table.sort_values(column, ascending=not descending, na_position="last", kind="stable")


def finite_cells(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as JSON-ready dicts (NaN and inf as None, numpy scalars as Python ones)."""
    def clean(value: Any) -> Any:
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value

    return [{k: clean(v) for k, v in row.items()} for row in table.to_dict(orient="records")]


def setting_effects(table: pd.DataFrame, max_values: int = 20) -> pd.DataFrame:
    """Which settings erupt: per config column and value (columns with at most ``max_values`` values), the runs
    with that value, the share of them with an eruption, their mean eruption count, collapse share and mean final
    success. Sorted by column, then by erupting share (highest first)."""
    rows = []
    for column in (c for c in table.columns if c.startswith("config.")):
        values = table[column].map(repr)
        if values.nunique() > max_values:
            continue
        for _, members in table.groupby(values, sort=False):
            eruptions = pd.to_numeric(members["eruptions"], errors="coerce").dropna()
            collapsed = members["collapsed"].dropna().astype(float)
            rows.append({"column": column.removeprefix("config."), "value": members[column].iloc[0],
                         "runs": len(members),
                         "erupting_share": float((eruptions > 0).mean()) if len(eruptions) else None,
                         "mean_eruptions": float(eruptions.mean()) if len(eruptions) else None,
                         "collapse_share": float(collapsed.mean()) if len(collapsed) else None,
                         "mean_final_success": pd.to_numeric(members["final_success"], errors="coerce").mean()})
    effects = pd.DataFrame(rows, columns=["column", "value", "runs", "erupting_share", "mean_eruptions",
                                          "collapse_share", "mean_final_success"])
    return effects.sort_values(["column", "erupting_share"], ascending=[True, False], na_position="last",
                               kind="stable").reset_index(drop=True)
