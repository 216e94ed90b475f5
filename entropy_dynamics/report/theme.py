"""Colours and shared plotly layout of the reports (light theme)."""

from __future__ import annotations

import html
from typing import Any

PHASE_COLORS: dict[str, str] = {
    "descent": "rgba(59, 130, 246, 0.10)",
    "eruption": "rgba(220, 38, 38, 0.16)",
    "subsidence": "rgba(245, 158, 11, 0.14)",
    "plateau": "rgba(107, 114, 128, 0.07)",
    "rise": "rgba(147, 51, 234, 0.10)",
}
PHASE_SOLID: dict[str, str] = {
    "descent": "#3b82f6", "eruption": "#dc2626", "subsidence": "#f59e0b", "plateau": "#6b7280",
    "rise": "#9333ea",
}
PALETTE: tuple[str, ...] = (
    "#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#4b5563",
    "#65a30d", "#9333ea",
)
FONT = "Inter, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


def esc(text: Any) -> str:
    """Escape a log-derived string for plotly labels (plotly parses some HTML; entities show as text)."""
    return html.escape(str(text), quote=True)


def short_label(text: Any, limit: int = 34) -> str:
    """An escaped label cut to ``limit`` characters (legends stay narrow; hover shows the full name)."""
    text = str(text)
    return esc(text if len(text) <= limit else text[: limit - 1] + "…")


def base_layout(height: int) -> dict[str, Any]:
    """Layout shared by every report figure."""
    return {
        "template": "plotly_white",
        "height": height,
        "margin": {"l": 64, "r": 24, "t": 48, "b": 44},
        "font": {"family": FONT, "size": 12, "color": "#1f2937"},
        "hovermode": "x unified",
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0,
                   "font": {"size": 11}},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
    }
