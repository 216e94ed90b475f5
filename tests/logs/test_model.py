import math

import numpy as np
import pytest

from entropy_dynamics.errors import MetricNotFoundError
from entropy_dynamics.logs import build_run


def test_build_run_coerces_counts_and_later_values_win():
    records = [
        (1, {"actor/entropy": 0.5, "flag": True, "s": "0.25", "note": "hi"}),
        (2, {"actor/entropy": None, "flag": False, "s": "inf"}),
        (3, {"actor/entropy": 0.3, "other": float("nan")}),
        (2, {"actor/entropy": 0.45, "s": "bad"}),  # resumed: step 2 again
        (4, {}),
    ]
    run = build_run("r", "src", "test", records)
    assert run.steps.tolist() == [1, 2, 3, 4]
    assert run.series("policy/entropy").to_dict() == {1: 0.5, 2: 0.45, 3: 0.3}
    assert run.series("flag").to_dict() == {1: 1.0, 2: 0.0}
    assert run.series("s").to_dict() == {1: 0.25}
    assert "note" not in run.metrics.columns and "other" not in run.metrics.columns
    assert run.stats.non_numeric == 2  # "hi", "bad"
    assert run.stats.non_finite == 3  # null, "inf", NaN
    assert run.stats.duplicate_steps == 1 and run.stats.backwards_steps == 1
    assert run.source_names == {"policy/entropy": "actor/entropy", "flag": "flag", "s": "s"}
    assert math.isnan(run.metrics.loc[4, "policy/entropy"])


def test_build_run_empty_and_resolve():
    empty = build_run("e", "src", "test", [])
    assert empty.first_step is None and empty.points() == {}
    run = build_run("r", "src", "test", [(s, {"train/entropy": 1.0 / s, "x_entropy": 2.0}) for s in range(1, 6)])
    assert run.resolve("actor/entropy") == "policy/entropy"
    assert run.resolve("train/entropy") == "policy/entropy"
    np.testing.assert_allclose(run.series("policy/entropy").to_numpy(), 1.0 / np.arange(1, 6))
    with pytest.raises(MetricNotFoundError, match="available: policy/entropy, x_entropy"):
        run.resolve("reward/mean")
