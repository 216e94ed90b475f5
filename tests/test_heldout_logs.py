"""The held-out real curves (``benchmarks/real_runs/labels_heldout.json``) read, and their labels fit them.

The labels were written by eye before the analyzer ran on these curves; these tests only check that every labelled
log reads with the readers, holds the labelled series, and that every labelled step range lies inside the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from entropy_dynamics.analysis.labelled import load_labels
from entropy_dynamics.logs import read_runs

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = ROOT / "sample_logs" / "public"
CURVES = load_labels(ROOT / "benchmarks" / "real_runs" / "labels_heldout.json")
HELD_OUT_SOURCES = ("verl_async_reward_agent", "verl_dapo_pr2676", "gail_ppo", "sb3_job_shop", "trl_toolathlon",
                    "areal_gsm8k")


def test_every_held_out_source_is_labelled_and_documented():
    readme = (PUBLIC / "README.md").read_text()
    labelled = {Path(c["path"]).relative_to(PUBLIC).parts[0] for c in CURVES}
    assert labelled == set(HELD_OUT_SOURCES)
    for source in HELD_OUT_SOURCES:
        assert f"`{source}/`" in readme
    assert len({c["name"] for c in CURVES}) == len(CURVES)


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c["name"].split(" (")[0])
def test_every_held_out_curve_reads_and_its_labels_lie_inside_it(curve):
    runs = read_runs(curve["path"])
    run = runs[int(curve.get("run", 0))]
    series = run.series(curve.get("metric", "policy/entropy"))  # a source name resolves too
    assert len(series) >= 20
    assert (series > 0).all()
    first, last = int(series.index[0]), int(series.index[-1])
    for eruption in curve["eruptions"]:
        lo, hi = eruption["onset"]
        assert first <= lo <= hi <= last
    for lo, hi, accepted in curve["phases"]:
        assert first <= lo <= hi <= last and accepted


def test_sb3_entropy_loss_is_read_as_the_entropy_and_gail_entropy_loss_is_left_alone():
    (sb3,) = read_runs(PUBLIC / "sb3_job_shop" / "progress.csv")
    entropy = sb3.metrics["policy/entropy"].dropna()
    assert entropy.index[0] == 2 and entropy.iloc[0] == pytest.approx(1.3761401019990445)  # minus train/entropy_loss
    (gail,) = read_runs(PUBLIC / "gail_ppo" / "ppo" / "progress.csv")
    assert "policy/entropy" not in gail.metrics  # its "entropy loss" is the entropy itself, not minus it
    assert gail.metrics["entropy loss"].iloc[0] == pytest.approx(0.685299)
