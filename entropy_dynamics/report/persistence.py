"""Degeneration persistence across cycles: the analyzer's level of each ``degen/*`` / ``halluc/*`` metric at
the end of the first descent and at the end of each cycle's subsidence, with its accumulation test."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go

from entropy_dynamics.report.theme import PALETTE, base_layout, esc


def _usable(stats: Mapping[str, Any]) -> bool:
    return stats.get("reference_level") is not None and any(v is not None for v in stats.get("levels") or [])


def persistence_figure(persistence: Mapping[str, Mapping[str, Any]]) -> go.Figure | None:
    """Lines of each metric's level: first descent end, then C1, C2, ... subsidence ends.

    ``persistence`` is ``cross_metrics["persistence"]`` of the analyzer. None when no metric has both a
    reference level and at least one cycle level.
    """
    usable = {name: stats for name, stats in persistence.items() if _usable(stats)}
    if not usable:
        return None
    fig = go.Figure()
    for i, (name, stats) in enumerate(usable.items()):
        ends = stats.get("cycle_end_steps") or []
        labels = [f"first descent end<br>step {stats['reference_step']}"] + [
            f"C{k} subsided<br>step {end}" for k, end in enumerate(ends, start=1)]
        fig.add_trace(go.Scatter(x=labels, y=[stats["reference_level"], *stats["levels"]], mode="lines+markers",
                                 name=esc(name), line={"color": PALETTE[i % len(PALETTE)], "width": 2},
                                 marker={"size": 8},
                                 hovertemplate=f"{esc(name)}<br>%{{x}}: %{{y:.4g}}<extra></extra>"))
    fig.update_layout(base_layout(380))
    fig.update_layout(hovermode="closest", margin={"t": 30, "b": 90},
                      legend={"y": -0.25, "yanchor": "top", "x": 0, "orientation": "h"})
    fig.update_yaxes(title_text="level (median of last 5 points)")
    return fig


def persistence_rows(persistence: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    """One table row per metric: change at each cycle end vs the first descent, and the Spearman test."""
    rows = []
    for name, stats in persistence.items():
        deltas = stats.get("persistence") or []
        rho, p = stats.get("spearman_rho"), stats.get("p_value")
        rows.append({
            "metric": name,
            "reference": "—" if stats.get("reference_level") is None else f"{stats['reference_level']:.3g}",
            "deltas": ", ".join("—" if d is None else f"{d:+.3g}" for d in deltas) or "—",
            "spearman": "—" if rho is None else f"ρ = {rho:+.2f}, " + ("p < 0.001" if p < 1e-3 else f"p = {p:.3g}"),
            "accumulates": "yes" if stats.get("accumulates") else "no",
        })
    return rows
