"""Behaviour unchanged: credit, update, a short run and `analyze` give the numbers recorded before the refactor.

The fixture ``tests/fixtures/behaviour_baseline.json`` was written by ``benchmarks/behaviour_baseline.py
--record`` before the registry / package-layout refactor (issue 18); the script compares every case, these tests
a quick subset of them. A small relative tolerance absorbs float rounding of other BLAS builds; an absolute one
absorbs it in statistics that are differences of fp32 log-probs near 0 (``policy/approx_kl``, ``loss/pg``: a
log-prob of magnitude ~1-10 carries ~1e-7 of rounding, which another batch layout of the same maths moves).
"""

from __future__ import annotations

import json

import pytest

from benchmarks.behaviour_baseline import (
    FIXTURE,
    TRAIN_CASES,
    analyze_case,
    credit_case,
    differences,
    sample_log_paths,
    train_case,
    update_case,
)
from benchmarks.behaviour_baseline import ROOT as BASE_ROOT

EXPECTED = json.loads(FIXTURE.read_text())
TOL = 1e-5
ATOL = 1e-7


@pytest.mark.parametrize("name", list(TRAIN_CASES))
def test_credit_of_every_algorithm_and_credit_mode_is_unchanged(name):
    assert differences(EXPECTED["credit"][name], credit_case(TRAIN_CASES[name]), name, TOL, ATOL) == []


@pytest.mark.parametrize("name", ["grpo_seal", "ppo", "clip_cov", "kl_cov", "seq_mean_token_mean_kl",
                                  "seq_sum_constant_entropy"])
def test_update_of_every_policy_loss_variant_is_unchanged(name):
    assert differences(EXPECTED["update"][name], update_case(TRAIN_CASES[name]), name, TOL, ATOL) == []


@pytest.mark.parametrize("name", ["grpo_seal", "ppo"])
def test_a_short_fixed_seed_run_logs_the_recorded_metrics(name):
    assert differences(EXPECTED["train"][name], train_case(TRAIN_CASES[name]), name, TOL, ATOL) == []


def test_analyze_gives_the_recorded_result_on_every_shipped_log():
    got = {str(p.relative_to(BASE_ROOT)): analyze_case(p) for p in sample_log_paths()}
    assert differences(EXPECTED["analyze"], got, "analyze", TOL, ATOL) == []
