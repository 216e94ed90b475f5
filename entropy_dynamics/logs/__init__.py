"""Run logs: the model, canonical metric names, readers for every common source, the JSONL writer."""

from entropy_dynamics.logs.jsonl import MetricLogWriter, truncate_after_step
from entropy_dynamics.logs.model import ReadStats, Run, build_run, frame_to_run
from entropy_dynamics.logs.names import ALIASES, CANONICAL, canonical_name, is_canonical, map_names
from entropy_dynamics.logs.readers import READERS, available_formats, detect_format, read_many, read_runs

__all__ = [
    "ALIASES",
    "CANONICAL",
    "READERS",
    "MetricLogWriter",
    "ReadStats",
    "Run",
    "available_formats",
    "build_run",
    "canonical_name",
    "detect_format",
    "frame_to_run",
    "is_canonical",
    "map_names",
    "read_many",
    "read_runs",
    "truncate_after_step",
]
