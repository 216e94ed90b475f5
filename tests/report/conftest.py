"""Fixtures of the report tests: a realistic full-metric JSONL log and a matching hand-made analysis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from entropy_dynamics.analysis.types import Cycle, PhaseAnalysis, Segment
from entropy_dynamics.logs import MetricLogWriter, Run, read_runs

#: Phase plan of the generated run: (phase, start, end) over steps 1..300, two eruptions.
PLAN = [("descent", 1, 60), ("plateau", 61, 100), ("eruption", 101, 120), ("subsidence", 121, 170),
        ("plateau", 171, 200), ("eruption", 201, 215), ("subsidence", 216, 300)]
STEPS = 300


def entropy_curve(steps: np.ndarray) -> np.ndarray:
    """float[N] entropy following PLAN: descent 0.9 -> 0.3, eruptions to x3 / x4, slow subsidence."""
    h = np.interp(steps, [1, 60, 100, 120, 170, 200, 215, 300], [0.9, 0.3, 0.3, 0.95, 0.4, 0.35, 1.3, 0.45])
    return h


def write_full_log(path: Path, name: str = "grpo-seed0", seed: int = 0, samples: bool = True) -> Path:
    """A JSONL log with every metric family of the contract, phase events and samples near onsets."""
    rng = np.random.default_rng(seed)
    steps = np.arange(1, STEPS + 1)
    h = entropy_curve(steps) * np.exp(rng.normal(0, 0.03, STEPS))
    erupting = np.isin(steps, np.r_[101:121, 201:216])
    dup = np.clip(0.02 + 0.10 * (steps > 110) + 0.12 * (steps > 205) + rng.normal(0, 0.01, STEPS), 0, 1)
    learning = 0.1 + 0.6 * (1 - np.exp(-steps / 80))
    success = np.clip(learning - 0.25 * erupting + rng.normal(0, 0.03, STEPS), 0, 1)
    with MetricLogWriter(path) as log:
        log.header(name, config={"model": "tiny", "env": "textworld-cooking", "algorithm": "grpo",
                                 "seal": {"coef": 0.02}, "group_size": 8, "seed": seed, "steps": STEPS},
                   versions={"python": "3.11.9", "torch": "2.13.0", "entropy_dynamics": "0.1.0"})
        for i, step in enumerate(steps):
            m = {
                "policy/entropy": h[i], "policy/entropy/pos": h[i] * 0.9, "policy/entropy/neg": h[i] * 1.15,
                "policy/entropy/turn_0": h[i] * 0.8, "policy/entropy/turn_1": h[i] * 1.0,
                "policy/entropy/turn_2": h[i] * 1.2, "policy/cov_logp_adv": -0.01 - 0.02 * erupting[i],
                "policy/clip_frac": 0.05 + 0.1 * erupting[i], "policy/approx_kl": 0.001 + 0.004 * erupting[i],
                "reward/mean": success[i] * 2 - 0.5, "env/success_rate": success[i],
                "env/valid_action_ratio": 0.9 - 0.2 * erupting[i],
                "interference/grad_cos_pos_neg": 0.2 + 0.5 * erupting[i] + rng.normal(0, 0.05),
                "interference/displacement_neg_on_pos": -0.01 - 0.05 * erupting[i],
                "interference/grad_norm_pg": 1.0 + 2.0 * erupting[i], "interference/grad_norm_seal": 0.2,
                "repr/inter_cos": 0.6 + 0.3 * erupting[i], "repr/intra_pos_cos": 0.7,
                "repr/intra_neg_cos": 0.72,
                "repr/sep_ratio": 2 * (0.6 + 0.3 * erupting[i]) - 1.42,
                "seal/head_acc": 0.6 + 0.3 * step / STEPS,
                "loss/seal": 0.02 * (0.7 - 0.3 * step / STEPS), "degen/sentence_dup_rate": dup[i],
                "degen/rep5_ratio": dup[i] * 0.8, "halluc/rate": 0.05 + 0.5 * dup[i],
                "halluc/invalid_action_rate": 0.1 - 0.05 * step / STEPS,
            }
            log.metrics(int(step), m, wall_time=1.7e9 + i)
            if samples and step in (95, 105, 195, 210):
                log.samples(int(step), [{"turns": [
                    {"observation": f"You are in the kitchen. Step {step}.",
                     "response": "I open the fridge. " * 3,
                     "action": "open fridge", "valid": True, "reward": 0.0, "advantage": 0.4},
                    {"observation": "The fridge is open.", "response": "<think>take milk</think> take milk",
                     "action": "take milk", "valid": step < 200, "reward": 1.0, "advantage": -0.2}]}])
        log.event(101, "phase", phase="eruption", start_step=101, confirmed_at_step=108)
    return path


def plan_analysis(run: Run) -> PhaseAnalysis:
    """The true phases of :func:`write_full_log` as an analysis (what a perfect analyzer returns)."""
    h = run.series("policy/entropy")
    segs = [Segment(a, b, p, (h[b] - h[a]) / max(1, b - a), float(h[a]), float(h[b])) for p, a, b in PLAN]
    cycles = [
        Cycle(101, 120, 170, 0.3, float(h[120]), float(h[120]) / 0.3, 19, 50, None),
        Cycle(201, 215, None, 0.35, float(h[215]), float(h[215]) / 0.35, 14, None, 100),
    ]
    return PhaseAnalysis(run=run.name, source=run.source, metric="policy/entropy",
                         source_metric="policy/entropy",
                         n_points=len(h), first_step=1, last_step=STEPS,
                         change_points=[61, 101, 121, 171, 201, 216], segments=segs, cycles=cycles)


@pytest.fixture
def full_run(tmp_path: Path) -> Run:
    return read_runs(write_full_log(tmp_path / "grpo" / "metrics.jsonl"))[0]
