"""Sweeps: a grid of training runs (arms x seeds) run P at a time and resumable, and their per-arm summary."""

from entropy_dynamics.sweep.plan import Arm, RunSpec, SweepPlan, grid_arms, load_plan, parse_seeds, plan_from_dict
from entropy_dynamics.sweep.runner import SweepResult, run_status, run_sweep
from entropy_dynamics.sweep.summary import (
    RunResult,
    arm_mean_run,
    arm_rows,
    compare_arms,
    run_result,
    summary_payload,
)

__all__ = [
    "Arm", "RunResult", "RunSpec", "SweepPlan", "SweepResult", "arm_mean_run", "arm_rows", "compare_arms", "grid_arms",
    "load_plan",
    "parse_seeds", "plan_from_dict", "run_result", "run_status", "run_sweep", "summary_payload",
]
