"""The algorithm registry: config validation reads it, a registered estimator / policy loss trains a step."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.train.algorithms.losses import LossSettings, policy_loss
from entropy_dynamics.train.algorithms.policy_losses import vanilla_policy_loss
from entropy_dynamics.train.algorithms.registry import (
    ADV_ESTIMATORS,
    POLICY_LOSSES,
    register_adv_est,
    register_policy_loss,
    unregister,
)
from entropy_dynamics.train.config_io import load_config
from entropy_dynamics.train.run.loop import train
from tests.train.conftest import FAST


@pytest.fixture
def toy_names():
    yield "toy_sign", "toy_half_loss"
    unregister("toy_sign")
    unregister("toy_half_loss")


def test_every_builtin_entry_resolves_to_its_function():
    for entry in [*ADV_ESTIMATORS.values(), *POLICY_LOSSES.values()]:
        assert callable(entry.function()), entry.name
    assert ADV_ESTIMATORS["gigpo"].step_function() is not None and ADV_ESTIMATORS["ppo"].uses_values


def test_the_table_and_config_validation_import_no_torch():
    code = ("import sys; from entropy_dynamics.train.config_io import load_config; "
            "load_config(None, ['algorithm=rloo', 'policy_loss=kl_cov']); print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_unknown_names_list_the_registered_ones(toy_names):
    with pytest.raises(ConfigError, match="'algorithm' must be one of grpo, dr_grpo, rloo"):
        load_config(None, ["algorithm=toy_sign"])
    with pytest.raises(ConfigError, match="'policy_loss' must be one of vanilla, clip_cov, kl_cov"):
        load_config(None, ["policy_loss=nope"])
    register_adv_est("toy_sign")(lambda scores, group_ids, counted, cfg: scores)
    assert load_config(None, ["algorithm=toy_sign"]).algorithm == "toy_sign"
    with pytest.raises(ConfigError, match="registered already"):
        register_adv_est("grpo")(lambda *a: None)
    with pytest.raises(ConfigError, match="credit_stats: trajectories' works with grpo, dr_grpo and gigpo"):
        load_config(None, ["algorithm=toy_sign", "credit=turn", "credit_stats=trajectories"])


def test_a_registered_estimator_and_policy_loss_train_a_step(toy_names, tmp_path):
    estimator_calls, loss_calls = [], []

    @register_adv_est("toy_sign", help="the sign of the score minus the group's first score")
    def toy_sign(scores, group_ids, counted, cfg):
        estimator_calls.append(scores.shape)
        return torch.sign(scores - scores[0]) + 0.5

    @register_policy_loss("toy_half_loss")
    def toy_half_loss(logp, old_logp, advantages, mask, settings, generator=None, **normalisers):
        loss_calls.append(settings.agg_mode)
        loss, stats = vanilla_policy_loss(logp, old_logp, advantages, mask, settings, generator, **normalisers)
        return 0.5 * loss, {**stats, "policy/toy": 1.0}

    cfg = load_config(None, [*FAST, f"output_dir={tmp_path / 'run'}", "steps=1", "algorithm=toy_sign",
                             "policy_loss=toy_half_loss"])
    train(cfg, echo=None)
    assert estimator_calls and loss_calls == ["token-mean"] * len(loss_calls)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    (metrics,) = [r["metrics"] for r in records if r["type"] == "metrics"]
    assert metrics["adv/mean"] == pytest.approx(0.5) and metrics["policy/toy"] == 1.0
    assert records[0]["config"]["algorithm"] == "toy_sign"


def test_policy_loss_variants_give_the_dispatcher_numbers():
    gen = torch.Generator().manual_seed(0)
    logp, old = torch.randn(3, 5, generator=gen), torch.randn(3, 5, generator=gen)
    adv, mask = torch.randn(3, 5, generator=gen), (torch.rand(3, 5, generator=gen) > 0.2).float()
    direct, _ = vanilla_policy_loss(logp, old, adv, mask, LossSettings(0.1, 0.3, 2.0))
    via, _ = policy_loss(logp, old, adv, mask, eps_low=0.1, eps_high=0.3, dual_clip_c=2.0)
    assert float(direct) == float(via)
