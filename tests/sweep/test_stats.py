"""Per-arm statistics: t intervals, Fisher's exact test, Mann-Whitney U, and the arm rows built from them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from entropy_dynamics.sweep.stats import diff_ci, fisher_p, mann_whitney_p, mean_ci, rank_direction, runs_needed
from entropy_dynamics.sweep.summary import RunResult, arm_rows, compare_arms


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


def test_diff_ci_is_the_welch_interval():
    a, b = [0.30, 0.25, 0.40, 0.10], [0.0, 0.05, 0.0]
    got = diff_ci(a, b)
    welch = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert got["diff"] == pytest.approx(sum(a) / 4 - sum(b) / 3)
    assert (got["low"], got["high"]) == (pytest.approx(welch.low), pytest.approx(welch.high))
    assert math.isnan(diff_ci([1.0], [0.0, 1.0])["low"]) and diff_ci([1.0], [0.0, 1.0])["diff"] == 0.5
    assert math.isnan(diff_ci([2, 2], [0, 0])["high"]) and diff_ci([2, 2], [0, 0])["diff"] == 2
    assert math.isnan(diff_ci([], [1.0])["diff"])


def test_compare_arms_answers_one_question_with_differences_and_tests():
    results = ([_result("grpo", s, 2) for s in (0.3, 0.2, 0.25, 0.1)]
               + [_result("seal", s, c) for s, c in ((0.0, 0), (0.0, 1), (0.05, 0))])
    got = compare_arms(results, "seal", "grpo", "SEAL vs GRPO")
    assert got["name"] == "SEAL vs GRPO" and got["n"] == {"seal": 3, "grpo": 4}
    assert got["collapsed"] == {"seal": [2, 3], "grpo": [0, 4]}
    assert got["collapse_fisher_p"] == pytest.approx(fisher_p(2, 3, 0, 4))
    success = got["final_success"]
    assert success["difference"]["diff"] == pytest.approx(0.05 / 3 - 0.85 / 4)
    assert success["difference"]["high"] < 0  # every SEAL run below every GRPO run: the interval excludes 0
    assert success["mannwhitney_p"] == pytest.approx(mann_whitney_p([0.0, 0.0, 0.05], [0.3, 0.2, 0.25, 0.1]))
    assert got["eruptions"]["arm"]["mean"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="no finished run of arm 'ppo'"):
        compare_arms(results, "ppo", "grpo")


@pytest.mark.parametrize(("d", "expected"), [(0.5, 64), (0.8, 26), (1.0, 17)])
def test_runs_needed_matches_the_textbook_sample_sizes_of_the_t_test(d, expected):
    # Cohen's d of 0.5 / 0.8 / 1.0 at alpha 0.05 and power 0.8 needs 64 / 26 / 17 runs per arm (the noncentral-t
    # figures 63.8 / 25.5 / 16.7 of standard power tables, rounded up); two points per arm with sd sqrt(2)
    shift = d * math.sqrt(2)
    assert runs_needed([-1 + shift, 1 + shift], [-1, 1]) == expected
    assert runs_needed([-1, 1], [-1 + shift, 1 + shift]) == expected  # the sign of the difference does not matter


def test_runs_needed_is_none_without_spread_difference_or_runs():
    assert runs_needed([0.0, 0.0, 0.0], [0.0, 0.0]) is None
    assert runs_needed([1.0, 2.0], [1.0, 2.0]) is None
    assert runs_needed([1.0], [1.0, 2.0]) is None
    assert runs_needed([1.001, 3.001], [1.0, 3.0], max_runs=100) is None  # a tiny difference: more than the cap


def test_mann_whitney_is_exact_at_sweep_sizes_with_and_without_ties():
    rng = np.random.default_rng(0)
    for _ in range(5):  # no ties: scipy's exact distribution
        x, y = rng.normal(size=6), rng.normal(0.8, size=6)
        assert mann_whitney_p(x, y) == pytest.approx(stats.mannwhitneyu(x, y, method="exact").pvalue)
    # ties (collapsed runs at 0): a full permutation test, where scipy's default normal approximation says 0.048
    x, y = [0, 0, 0, 0, 0, 0.2], [0.1, 0.2, 0.3, 0.0, 0.1, 0.25]
    assert stats.mannwhitneyu(x, y).pvalue < 0.05
    assert mann_whitney_p(x, y) == pytest.approx(stats.mannwhitneyu(x, y, method=stats.PermutationMethod()).pvalue)
    assert mann_whitney_p(x, y) > 0.05
    # one run against six equal ones: no split is rarer than 1 in 7 per tail
    assert mann_whitney_p([1.0], [0.0] * 6) == pytest.approx(2 / 7)
    # large samples fall back to the normal approximation
    big_x, big_y = list(rng.normal(size=40)), list(rng.normal(size=40))
    assert mann_whitney_p(big_x, big_y) == pytest.approx(stats.mannwhitneyu(big_x, big_y).pvalue)


def test_rank_direction_follows_the_ranks_not_one_far_out_value():
    # three of four SEAL runs erupt less, one erupts 200x: the means say higher, the ranks say lower
    seal, grpo = [2.0, 3.0, 4.0, 209.0], [5.0, 6.0, 7.0, 8.0]
    assert sum(seal) / 4 > sum(grpo) / 4
    assert rank_direction(seal, grpo) == -1 and rank_direction(grpo, seal) == 1
    assert rank_direction([1.0, 2.0], [2.0, 1.0]) == 0
    assert rank_direction([], [1.0]) == 0
