"""Entropy against reward, coloured by phase, with the fitted R = -a·exp(H) + b (Cui et al. 2025)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from entropy_dynamics.analysis.types import PhaseAnalysis
from entropy_dynamics.report.downsample import compact_steps, compact_values
from entropy_dynamics.report.theme import PHASE_SOLID, base_layout, esc

MAX_SCATTER_POINTS = 3000


def phase_of_steps(analysis: PhaseAnalysis, steps: np.ndarray) -> np.ndarray:
    """Phase name of each step (object[N]); ``"unlabelled"`` outside every segment."""
    if not analysis.segments:
        return np.full(len(steps), "unlabelled", dtype=object)
    starts = np.array([s.start_step for s in analysis.segments])
    ends = np.array([s.end_step for s in analysis.segments])
    phases = np.array([s.phase for s in analysis.segments], dtype=object)
    idx = np.clip(np.searchsorted(starts, steps, side="right") - 1, 0, len(starts) - 1)
    inside = (steps >= starts[idx]) & (steps <= ends[idx])
    return np.where(inside, phases[idx], "unlabelled")


def paired_points(entropy: pd.Series, reward: pd.Series) -> pd.DataFrame:
    """Steps where both series have a point: columns ``entropy``, ``reward`` (index = step)."""
    return pd.concat({"entropy": entropy, "reward": reward}, axis=1, join="inner").dropna()


def entropy_reward_figure(
    pairs: pd.DataFrame, analysis: PhaseAnalysis, fit: Mapping[str, Any], reward_name: str
) -> go.Figure:
    """Scatter of ``pairs`` (from :func:`paired_points`) by phase, plus the fitted curve if there is a fit."""
    stride = max(1, -(-len(pairs) // MAX_SCATTER_POINTS))
    shown = pairs.iloc[::stride]
    steps = shown.index.to_numpy()
    phases = phase_of_steps(analysis, steps)
    fig = go.Figure()
    for phase in dict.fromkeys(phases):
        mask = phases == phase
        fig.add_trace(go.Scatter(
            x=compact_values(shown["entropy"].to_numpy()[mask]), y=compact_values(shown["reward"].to_numpy()[mask]),
            customdata=compact_steps(steps[mask]), mode="markers", name=esc(phase),
            marker={"size": 6, "opacity": 0.65, "color": PHASE_SOLID.get(phase, "#9ca3af")},
            hovertemplate="step %{customdata}<br>H %{x:.4g}<br>R %{y:.4g}<extra></extra>"))
    a, b = fit.get("a"), fit.get("b")
    title = f"Entropy vs {esc(reward_name)}"
    if a is not None and b is not None and np.isfinite(a) and np.isfinite(b):
        grid = np.linspace(float(pairs["entropy"].min()), float(pairs["entropy"].max()), 200)
        fig.add_trace(go.Scatter(x=grid, y=-a * np.exp(grid) + b, mode="lines", name="fit",
                                 line={"color": "#111827", "width": 2}, hoverinfo="skip"))
        r2 = fit.get("r2")
        r2_text = "—" if r2 is None else f"{r2:.3f}"
        title += f" — fit R = −a·exp(H) + b: a = {a:.3g}, b = {b:.3g}, R² = {r2_text}, n = {fit.get('n')}"
    fig.update_layout(base_layout(420))
    fig.update_layout(title={"text": title, "font": {"size": 14}, "x": 0, "xanchor": "left"},
                      hovermode="closest")
    fig.update_layout(legend={"y": -0.18, "yanchor": "top", "x": 0, "orientation": "h"},
                      margin={"t": 56, "b": 70})
    fig.update_xaxes(title_text="entropy H")
    fig.update_yaxes(title_text=esc(reward_name), tickformat=".4~g")
    return fig
