"""Phase analysis of entropy curves: offline segmentation, cycles, cross-metric statistics, live detection."""

from entropy_dynamics.analysis.types import PHASES, Cycle, Phase, PhaseAnalysis, PhaseEvent, Segment

__all__ = ["PHASES", "Cycle", "Phase", "PhaseAnalysis", "PhaseEvent", "Segment"]
