"""Phase analysis of entropy curves: offline segmentation, cycles, cross-metric statistics, live detection."""

from entropy_dynamics.analysis.cross import cross_metric_stats
from entropy_dynamics.analysis.cycles import find_cycles
from entropy_dynamics.analysis.fit import fit_entropy_reward
from entropy_dynamics.analysis.online import OnlineDetector
from entropy_dynamics.analysis.options import PhaseOptions
from entropy_dynamics.analysis.run_analysis import analyze_run
from entropy_dynamics.analysis.segmenter import SegmenterOptions, segment, segment_series
from entropy_dynamics.analysis.types import PHASES, Cycle, Phase, PhaseAnalysis, PhaseEvent, Segment

__all__ = [
    "PHASES",
    "Cycle",
    "OnlineDetector",
    "Phase",
    "PhaseAnalysis",
    "PhaseEvent",
    "PhaseOptions",
    "Segment",
    "SegmenterOptions",
    "analyze_run",
    "cross_metric_stats",
    "find_cycles",
    "fit_entropy_reward",
    "segment",
    "segment_series",
]
