"""SEAL inside TRL's GRPOTrainer: the same loss as ours on the same batch, gradients, a real run, checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoTokenizer, TrainerCallback

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.integrations.trl_seal import SealGRPOConfig, SealGRPOTrainer, seal_aggregation
from entropy_dynamics.train.algorithms.seal import seal_loss
from tests.tiny_llama import save_tiny_hub_model

PROMPTS = [f"you are in a {room} exits north actions : go north take key >"
           for room in ("kitchen", "hall", "garden", "kitchen")]
ACTIONS = ("go north", "take key", "open door", "eat apple")


def _admissible_reward(completions: list[str], **_: object) -> list[float]:
    return [float(any(action in text for action in ACTIONS)) for text in completions]


def _trainer(tmp_path: Path, callbacks: tuple = (), **overrides: object) -> SealGRPOTrainer:
    from datasets import Dataset

    model_dir = tmp_path / "model"
    if not model_dir.is_dir():
        save_tiny_hub_model(model_dir)
    settings = {"output_dir": str(tmp_path / "out"), "per_device_train_batch_size": 4, "num_generations": 4,
                "max_completion_length": 6, "max_steps": 3, "logging_steps": 1, "report_to": [], "use_cpu": True,
                "save_strategy": "no", "disable_tqdm": True, "learning_rate": 1e-3, "seed": 0, "seal_dropout": 0.0,
                "bf16": False}
    settings.update(overrides)
    return SealGRPOTrainer(model=str(model_dir), reward_funcs=_admissible_reward, args=SealGRPOConfig(**settings),
                           train_dataset=Dataset.from_dict({"prompt": PROMPTS}),
                           processing_class=AutoTokenizer.from_pretrained(model_dir), callbacks=list(callbacks))


def _batch() -> dict[str, torch.Tensor]:
    """A hand-made micro-batch in TRL's layout: left-padded prompts, right-padded completions, advantages [B]."""
    generator = torch.Generator().manual_seed(3)
    prompt_ids = torch.randint(3, 26, (4, 5), generator=generator)
    prompt_mask = torch.ones_like(prompt_ids)
    prompt_mask[0, :2] = 0
    completion_ids = torch.randint(3, 26, (4, 6), generator=generator)
    completion_mask = torch.ones_like(completion_ids)
    completion_mask[1, 4:] = 0
    completion_mask[3, 2:] = 0
    return {"prompt_ids": prompt_ids, "prompt_mask": prompt_mask, "completion_ids": completion_ids,
            "completion_mask": completion_mask, "advantages": torch.tensor([1.2, -0.4, 0.0, -0.8]),
            "num_items_in_batch": completion_mask.sum()}


def _seal_term(trainer: SealGRPOTrainer, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    """TRL's loss with SEAL minus TRL's loss without it, on one training micro-batch (no accumulation)."""
    model = trainer.model.train()
    trainer.current_gradient_accumulation_steps = 1
    with_seal = trainer._compute_loss(model, inputs)
    trainer.seal_coef = 0.0
    return with_seal - trainer._compute_loss(model, inputs)


@pytest.mark.parametrize(("loss_type", "agg_mode", "normalisers"), [
    ("dapo", "token-mean", {}),
    ("grpo", "seq-mean-token-mean", {"global_seqs": 4.0}),
    ("dr_grpo", "seq-sum-constant", {"global_seqs": 4.0, "seq_len_constant": 6.0}),
])
def test_seal_term_equals_our_seal_loss_on_the_same_batch(tmp_path: Path, loss_type: str, agg_mode: str,
                                                          normalisers: dict) -> None:
    trainer = _trainer(tmp_path, loss_type=loss_type)
    inputs = _batch()
    term = _seal_term(trainer, inputs)

    input_ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], dim=1)
    attention = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], dim=1)
    hidden = trainer.model.model(input_ids=input_ids, attention_mask=attention).last_hidden_state[:, -6:]
    ours, stats = seal_loss(trainer.seal_head, hidden, inputs["completion_mask"],
                            inputs["advantages"][:, None].expand(4, 6), agg_mode=agg_mode, **normalisers)
    assert float(ours.detach()) > 0
    torch.testing.assert_close(term, 0.02 * ours, rtol=1e-5, atol=1e-7)
    logged = trainer._metrics["train"]
    assert logged["loss/seal"] == [pytest.approx(0.02 * float(ours.detach()), rel=1e-5)]
    assert logged["seal/bce"] == [pytest.approx(stats["seal/bce"], rel=1e-5)]
    assert logged["seal/coef"] == [0.02]


def test_seal_loss_logged_per_micro_batch_under_a_global_token_count(tmp_path: Path) -> None:
    """dapo divides by the tokens of the whole accumulation window; the logged loss/seal is the micro-batch's own."""
    trainer = _trainer(tmp_path)
    inputs = _batch()
    own = _seal_term(trainer, inputs)
    trainer = _trainer(tmp_path)
    window = {**inputs, "num_items_in_batch": 2 * inputs["num_items_in_batch"]}
    torch.testing.assert_close(_seal_term(trainer, window), own / 2)
    assert trainer._metrics["train"]["loss/seal"] == [pytest.approx(float(own.detach()), rel=1e-5)]


@pytest.mark.parametrize("detach", [False, True])
def test_seal_gradient_reaches_the_backbone_unless_detached(tmp_path: Path, detach: bool) -> None:
    trainer = _trainer(tmp_path, seal_detach_backbone=detach)
    _seal_term(trainer, _batch()).backward()

    head_grad = sum(float(p.grad.abs().sum()) for p in trainer.seal_head.parameters())
    layer_grads = [p.grad for p in trainer.model.model.layers[-1].parameters()]
    backbone_grad = sum(float(g.abs().sum()) for g in layer_grads if g is not None)
    assert head_grad > 0
    assert (backbone_grad == 0) if detach else (backbone_grad > 0)


def test_seal_aggregation_covers_trl_loss_types() -> None:
    assert seal_aggregation("bnpo", batch_size=2, max_completion_length=8, accumulation=4) == ("token-mean", {}, 4.0)
    assert seal_aggregation("dapo", batch_size=2, max_completion_length=8, accumulation=4,
                            global_tokens=30) == ("token-mean", {"global_tokens": 30.0}, 1.0)
    with pytest.raises(ConfigError, match="global token count"):
        seal_aggregation("cispo", batch_size=2, max_completion_length=8, accumulation=1)
    with pytest.raises(ConfigError, match="not supported"):
        seal_aggregation("nope", batch_size=2, max_completion_length=8, accumulation=1)


def test_config_rejects_bad_seal_settings(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="seal_coef"):
        SealGRPOConfig(output_dir=str(tmp_path), seal_coef=-1.0, use_cpu=True, report_to=[])
    with pytest.raises(ConfigError, match="seal_zero_adv_label"):
        SealGRPOConfig(output_dir=str(tmp_path), seal_zero_adv_label="maybe", use_cpu=True, report_to=[])


class _Logs(TrainerCallback):
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def on_log(self, args, state, control, logs=None, **kwargs) -> None:
        self.rows.append(dict(logs or {}))


def test_grpo_run_with_seal_trains_logs_and_checkpoints_the_head(tmp_path: Path) -> None:
    logs = _Logs()
    trainer = _trainer(tmp_path, callbacks=(logs,), save_strategy="steps", save_steps=3, seal_dropout=0.1)
    before = {k: v.clone() for k, v in trainer.seal_head.state_dict().items()}
    backbone_before = trainer.model.model.layers[0].self_attn.q_proj.weight.detach().clone()
    trainer.train()

    steps = [row for row in logs.rows if "loss/seal" in row]
    assert len(steps) == 3
    for row in steps:
        assert row["loss/seal"] > 0 and 0 <= row["seal/head_acc"] <= 1 and row["seal/coef"] == 0.02
        assert row["seal/bce"] == pytest.approx(row["loss/seal"] / 0.02, rel=1e-6)
    after = trainer.seal_head.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before), "the head did not train"
    assert not torch.equal(backbone_before, trainer.model.model.layers[0].self_attn.q_proj.weight)

    saved = load_file(str(tmp_path / "out" / "checkpoint-3" / "model.safetensors"))
    assert {f"seal_head.{k}" for k in after} <= set(saved)
    torch.testing.assert_close(saved["seal_head.net.0.weight"], after["net.0.weight"])

    resumed = _trainer(tmp_path, seal_dropout=0.1)
    assert not torch.equal(resumed.seal_head.state_dict()["net.0.weight"], after["net.0.weight"])
    resumed.train(resume_from_checkpoint=str(tmp_path / "out" / "checkpoint-3"))
    torch.testing.assert_close(resumed.seal_head.state_dict()["net.0.weight"], after["net.0.weight"])
