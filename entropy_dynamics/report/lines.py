"""Metric curves as W&B draws them: the raw series faint, its smoothed version on top; the page's smoothing
slider recomputes the smoothed one in the browser (``templates/smoothing.js``)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import plotly.graph_objects as go

from entropy_dynamics.report.downsample import compact_values
from entropy_dynamics.report.smoothing import ema

#: Opacity of the raw series under its smoothed curve.
RAW_OPACITY = 0.22
#: Trace ids must be unique on the page: the smoothed trace names its raw trace by id.
_ids = itertools.count()


def hex_to_rgba(color: str, alpha: float) -> str:
    """``#2563eb`` -> ``rgba(37, 99, 235, 0.22)``."""
    value = color.lstrip("#")
    r, g, b = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r}, {g}, {b}, {alpha})"


def smoothed_lines(
    steps: np.ndarray, values: np.ndarray, gap: float, weight: float, *, name: str, color: str, width: float = 1.6,
    hover: str | None = None, **common: Any,
) -> list[go.Scatter]:
    """The raw series (faint, no legend entry of its own) and its EMA (legend, hover) as two traces.

    ``gap``: the series' logging interval before downsampling (``smoothing.logging_gap``), so that the slider
    smooths over the same number of steps whatever the plotted point count. ``common``: trace attributes both
    share (``legendgroup``, ``legend``, ``xaxis``...). The smoothed trace's ``meta`` names the raw trace's
    ``uid`` and the gap; the page script reads them.
    """
    uid = f"raw{next(_ids)}"
    group = common.pop("legendgroup", uid)
    legend = common.pop("showlegend", True)
    template = hover or f"{name}: %{{y:.4g}}<extra></extra>"
    raw = go.Scatter(x=steps, y=values, mode="lines", uid=uid, name=name, legendgroup=group, showlegend=False,
                     line={"color": hex_to_rgba(color, RAW_OPACITY), "width": 1},
                     hoverinfo="skip", **common)
    smooth = go.Scatter(x=steps, y=compact_values(ema(steps, values, weight, gap)), mode="lines",
                        name=name, legendgroup=group, showlegend=legend, line={"color": color, "width": width},
                        meta={"smooth_of": uid, "gap": gap}, hovertemplate=template, **common)
    return [raw, smooth]
