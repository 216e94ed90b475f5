"""SEAL and the metrics hook against verl's REAL classes (``DataParallelPPOActor.update_policy``, ``Tracking``).

verl is not a dependency of this project (it pins ``transformers<5.11`` and pulls in ray), so this check lives
outside ``tests/`` and the README's test command: ``bash .ci/verl/run`` makes a throwaway venv with verl 0.7.1
beside the project's ``.venv`` and runs it there. tests/integrations/test_verl.py covers the same functions on
tensors of verl's shapes in every environment.
"""

from __future__ import annotations

import copy
import os

import pytest
import torch
from tensordict import TensorDict
from verl import DataProto
from verl.trainer.ppo import core_algos
from verl.utils.tracking import Tracking
from verl.workers.actor import dp_actor
from verl.workers.config.actor import FSDPActorConfig, PolicyLossConfig

from entropy_dynamics.integrations import verl as seal_verl
from entropy_dynamics.train.algorithms.seal import seal_loss
from tests.tiny_llama import tiny_llama

B, P, R = 4, 5, 6


@pytest.fixture(scope="module", autouse=True)
def process_group():
    if not torch.distributed.is_initialized():
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="29533", RANK="0", WORLD_SIZE="1")
        torch.distributed.init_process_group("gloo")
    yield


def _actor(remove_padding: bool, loss_mode: str = seal_verl.LOSS_MODE):
    cfg = FSDPActorConfig(strategy="fsdp", ppo_mini_batch_size=B, ppo_micro_batch_size_per_gpu=2, ppo_epochs=1,
                          use_dynamic_bsz=False, use_torch_compile=False, rollout_n=1,
                          use_remove_padding=remove_padding, policy_loss=PolicyLossConfig(loss_mode=loss_mode))
    model = tiny_llama()
    return dp_actor.DataParallelPPOActor(cfg, model, torch.optim.AdamW(model.parameters(), lr=1e-3))


def _batch() -> DataProto:
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(3, 60, (B, P + R), generator=generator)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[0, :2] = 0  # left-padded prompt
    attention_mask[1, -2:] = 0  # right-padded response
    response_mask = attention_mask[:, P:].clone()
    advantages = torch.tensor([1.0, -1.0, 0.5, -0.5])[:, None] * response_mask
    batch = TensorDict({
        "responses": input_ids[:, P:], "response_mask": response_mask, "input_ids": input_ids,
        "attention_mask": attention_mask, "position_ids": (attention_mask.cumsum(-1) - 1).clamp(min=0),
        "old_log_probs": torch.zeros(B, R), "advantages": advantages.float(),
    }, batch_size=[B])
    return DataProto(batch=batch, meta_info={"temperature": 1.0})


def _expected_seal_losses(actor, head, data: DataProto, coef: float) -> list[float]:
    """coef x our seal_loss per micro-batch, from copies of the model and head before the update."""
    model = copy.deepcopy(actor.actor_module).eval()
    out = []
    for start in (0, 2):
        rows = slice(start, start + 2)
        with torch.no_grad(), torch.autocast(device_type="cpu", dtype=actor.param_dtype):
            hidden = model.model(input_ids=data.batch["input_ids"][rows],
                                 attention_mask=data.batch["attention_mask"][rows],
                                 position_ids=data.batch["position_ids"][rows]).last_hidden_state
        with torch.no_grad():
            loss, _ = seal_loss(head, hidden[:, -R:], data.batch["response_mask"][rows],
                                data.batch["advantages"][rows])
        out.append(coef * float(loss))
    return out


def test_update_policy_with_seal_trains_the_head_and_logs_seal_metrics() -> None:
    # use_remove_padding=True needs flash_attn (GPU only): that path is tested on tensors in test_verl.py
    actor = _actor(remove_padding=False)
    patch = seal_verl.install_seal(actor, coef=0.05, dropout=0.0)
    head_before = copy.deepcopy(patch.head)
    data = _batch()
    expected = _expected_seal_losses(actor, head_before, data, 0.05)
    backbone_before = actor.actor_module.model.layers[-1].mlp.down_proj.weight.detach().clone()

    metrics = actor.update_policy(data)

    assert metrics["actor/seal_loss"] == pytest.approx(expected, rel=2e-2)
    assert len(metrics["seal/head_acc"]) == 2 and metrics["seal/coef"] == [0.05, 0.05]
    assert not torch.equal(head_before.net[0].weight, patch.head.net[0].weight)  # the head is in the optimizer
    assert not torch.equal(backbone_before, actor.actor_module.model.layers[-1].mlp.down_proj.weight)
    assert patch.capture.states == []  # nothing held between micro-batches


def test_the_seal_term_is_coef_times_our_loss_inside_verls_policy_loss() -> None:
    actor = _actor(remove_padding=False)
    patch = seal_verl.install_seal(actor, coef=0.0, dropout=0.0)
    data = _batch()
    plain = actor.update_policy(copy.deepcopy(data))["actor/pg_loss"]
    actor = _actor(remove_padding=False)
    patch = seal_verl.install_seal(actor, coef=0.02, dropout=0.0)
    expected = _expected_seal_losses(actor, patch.head, data, 0.02)
    with_seal = actor.update_policy(data)["actor/pg_loss"]
    # verl sums pg_loss x 1/grad-accumulation over the micro-batches; SEAL adds its term to each
    assert with_seal - plain == pytest.approx(sum(expected) / 2, rel=2e-2)
    assert "seal" in core_algos.POLICY_LOSS_REGISTRY


def test_metrics_hook_runs_on_verls_tracking_log(capsys) -> None:
    hook = seal_verl.VerlInstruments(detector_options={"confirm": 1})
    undo = seal_verl.install_metrics_hook(hook)
    try:
        tracker = Tracking("p", "e", default_backend="console")
        for step in range(1, 41):
            tracker.log(data={"actor/entropy": 1.0 - 0.01 * step}, step=step)
    finally:
        undo()
    assert Tracking.log is not None and "phase" in capsys.readouterr().out
    assert hook.detector.current_phase == "descent" and hook.events
