"""Cross-metric statistics: what else moved with the entropy phases.

* ``per_phase``: mean of every other metric over the steps of each phase;
* ``per_cycle``: mean of every other metric from each eruption onset to its subsidence end;
* ``lead_lag``: for ``interference/*`` and ``repr/*`` metrics, the step at which the metric leaves
  its baseline (the segment before the eruption) around each onset, minus the onset
  (negative = the metric moved first);
* ``persistence``: for ``degen/*`` and ``halluc/*``, the level at the end of each subsidence minus
  the level at the end of the first descent, and a Spearman test of accumulation across cycles;
* ``entropy_reward_fit``: R = -a exp(H) + b on the steps where both are logged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from entropy_dynamics.analysis.fit import fit_entropy_reward
from entropy_dynamics.analysis.types import PHASES, Cycle, PhaseAnalysis, Segment
from entropy_dynamics.logs.jsonl import finite_or_none
from entropy_dynamics.logs.model import Run

LEAD_LAG_PREFIXES = ("interference/", "repr/")
PERSISTENCE_PREFIXES = ("degen/", "halluc/")
#: Points averaged for a level "at" a step (the last ones up to and including it).
LEVEL_POINTS = 5
#: Departure from baseline, in robust standard deviations, held for DEPART_RUN points.
DEPART_Z = 3.0
DEPART_RUN = 3


def _mean(x: pd.Series) -> float | None:
    return float(x.mean()) if x.notna().any() else None


def phase_labels(analysis: PhaseAnalysis, steps: np.ndarray) -> np.ndarray:
    """The phase of every step in ``steps`` (shape (n,), object; None outside the segments)."""
    labels = np.full(steps.shape, None, dtype=object)
    for seg in analysis.segments:
        labels[(steps >= seg.start_step) & (steps <= seg.end_step)] = seg.phase
    return labels


def level_at(series: pd.Series, step: int) -> float | None:
    """Median of the last LEVEL_POINTS finite points up to ``step``."""
    before = series[series.index <= step].dropna().tail(LEVEL_POINTS)
    return float(before.median()) if before.size else None


def departure_lag(series: pd.Series, baseline: Segment | None, cycle: Cycle) -> int | None:
    """Steps from the eruption onset to the metric's departure from its baseline (None if none)."""
    series = series.dropna()
    if baseline is None:
        return None
    base = series[(series.index >= baseline.start_step) & (series.index <= baseline.end_step)]
    base = base.iloc[: max(3, 2 * base.size // 3)]
    if base.size < 5:
        return None
    centre = float(base.median())
    spread = 1.4826 * float((base - centre).abs().median()) or float(base.std()) or 1e-12
    scan = series[(series.index > base.index[-1]) & (series.index <= cycle.peak_step)]
    out = ((scan - centre).abs() > DEPART_Z * spread).to_numpy()
    if out.size < DEPART_RUN:
        return None
    held = np.convolve(out.astype(int), np.ones(DEPART_RUN, dtype=int), mode="valid") == DEPART_RUN
    hits = np.flatnonzero(held)
    return int(scan.index[hits[0]]) - cycle.eruption_start_step if hits.size else None


def _persistence(series: pd.Series, analysis: PhaseAnalysis) -> dict[str, Any]:
    first_eruption = next((i for i, s in enumerate(analysis.segments) if s.phase == "eruption"), None)
    before = analysis.segments[:first_eruption] if first_eruption is not None else analysis.segments
    descents = [s for s in before if s.phase == "descent"]
    reference = descents[0] if descents else (before[-1] if before else None)
    m0 = level_at(series, reference.end_step) if reference else None
    ends = [(c.subsidence_end_step if c.subsidence_end_step is not None else analysis.last_step)
            for c in analysis.cycles]
    levels = [level_at(series, e) for e in ends if e is not None]
    deltas = [None if (m is None or m0 is None) else m - m0 for m in levels]
    result: dict[str, Any] = {"reference_step": reference.end_step if reference else None,
                              "reference_level": m0, "cycle_end_steps": ends, "levels": levels,
                              "persistence": deltas, "spearman_rho": None, "p_value": None}
    finite = [(i, d) for i, d in enumerate(deltas) if d is not None]
    if len(finite) >= 3 and len({d for _, d in finite}) > 1:
        rho, p = spearmanr([i for i, _ in finite], [d for _, d in finite])
        result["spearman_rho"], result["p_value"] = float(rho), float(p)
    result["accumulates"] = bool(result["spearman_rho"] is not None and result["spearman_rho"] > 0
                                 and result["p_value"] < 0.05)
    return result


def cross_metric_stats(run: Run, analysis: PhaseAnalysis) -> dict[str, Any]:
    """Statistics of every other metric of ``run`` against the phases of ``analysis`` (see module)."""
    frame = run.metrics
    others = [c for c in frame.columns if c != analysis.metric]
    labels = phase_labels(analysis, frame.index.to_numpy())
    per_phase = {c: {p: _mean(frame[c][labels == p]) for p in PHASES if (labels == p).any()} for c in others}
    per_cycle = []
    for c in analysis.cycles:
        end = c.subsidence_end_step if c.subsidence_end_step is not None else analysis.last_step
        window = frame[(frame.index >= c.eruption_start_step) & (frame.index <= end)]
        per_cycle.append({"eruption_start_step": c.eruption_start_step, "end_step": end,
                          "means": {m: _mean(window[m]) for m in others}})
    onsets = {s.start_step: i for i, s in enumerate(analysis.segments) if s.phase == "eruption"}
    lead_lag = {}
    for m in (c for c in others if c.startswith(LEAD_LAG_PREFIXES)):
        lags = []
        for cycle in analysis.cycles:
            k = onsets.get(cycle.eruption_start_step)
            baseline = analysis.segments[k - 1] if k else None
            lags.append(departure_lag(frame[m], baseline, cycle))
        known = [g for g in lags if g is not None]
        lead_lag[m] = {"lags": lags, "median_lag": float(np.median(known)) if known else None}
    persistence = {m: _persistence(frame[m].dropna(), analysis)
                   for m in others if m.startswith(PERSISTENCE_PREFIXES)}
    result: dict[str, Any] = {"per_phase": per_phase, "per_cycle": per_cycle, "lead_lag": lead_lag,
                              "persistence": persistence, "entropy_reward_fit": None}
    if "reward/mean" in frame.columns:
        both = frame[[analysis.metric, "reward/mean"]].dropna()
        result["entropy_reward_fit"] = fit_entropy_reward(both[analysis.metric].to_numpy(),
                                                          both["reward/mean"].to_numpy())
    return finite_or_none(result)

