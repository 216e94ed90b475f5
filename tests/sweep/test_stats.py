"""Per-arm statistics: t intervals, Fisher's exact test, Mann-Whitney U, and the arm rows built from them."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from entropy_dynamics.sweep.stats import fisher_p, mann_whitney_p, mean_ci
from entropy_dynamics.sweep.summary import RunResult, arm_rows


def test_mean_ci_is_the_t_interval_and_skips_missing_values():
    got = mean_ci([1.0, 2.0, 3.0, None, math.nan])
    assert got["n"] == 3 and got["mean"] == 2.0
    assert got["ci"] == pytest.approx(stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3))
    assert mean_ci([]) == {"n": 0, "mean": pytest.approx(math.nan, nan_ok=True), "ci": pytest.approx(math.nan,
                                                                                                        nan_ok=True)}
    assert math.isnan(mean_ci([4.0])["ci"])


def test_fisher_matches_the_issue_example_and_mann_whitney_handles_ties():
    # 3 of 3 SEAL runs collapsed against 1 of 3 GRPO runs: p = 0.4 two-sided
    assert fisher_p(3, 3, 1, 3) == pytest.approx(0.4)
    assert math.isnan(fisher_p(0, 0, 1, 3))
    assert mann_whitney_p([0, 0, 0], [0, 0]) == 1.0
    assert mann_whitney_p([1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]) == pytest.approx(0.002165, abs=1e-5)
    assert math.isnan(mann_whitney_p([], [1.0]))


def _result(arm: str, success: float, cycles: int) -> RunResult:
    return RunResult(arm=arm, label=f"{arm}/{success}", path="", last_step=10, final_success=success,
                     mean_entropy=1.0, eruptions=cycles, amplitude=2.0 if cycles else None,
                     collapsed=success < 0.02)


def test_arm_rows_give_rates_cis_and_tests_against_the_reference():
    results = [_result("grpo", s, 2) for s in (0.3, 0.2, 0.0)] + [_result("seal", s, 0) for s in (0.0, 0.0, 0.0)]
    rows = arm_rows(results)
    grpo, seal = rows
    assert grpo["tests_vs"] is None and grpo["tests"] == {} and grpo["collapsed"] == 1
    assert seal["tests_vs"] == "grpo" and seal["collapse_rate"] == 1.0
    assert seal["tests"]["collapse_fisher_p"] == pytest.approx(0.4)
    assert seal["amplitude"]["n"] == 0 and grpo["amplitude"]["n"] == 3
    assert arm_rows(results, reference="seal")[0]["tests_vs"] == "seal"
    with pytest.raises(ValueError, match="reference arm"):
        arm_rows(results, reference="ppo")
