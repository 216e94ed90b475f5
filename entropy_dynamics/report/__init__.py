"""Self-contained HTML reports of runs (plotly.js inlined once, works offline) and run comparisons."""

from entropy_dynamics.report.comparison import render_comparison
from entropy_dynamics.report.run_report import render_report

__all__ = ["render_comparison", "render_report"]
