"""SEAL on verl's tensors and the verl metrics hook, without verl (its real classes: test_verl_actor.py).

The reference for each ``loss_agg_mode`` is verl's ``agg_loss`` formula (verl 0.7.1, core_algos.py) written out
on the per-token BCE.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from transformers import AutoTokenizer

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.integrations.verl import (
    VerlInstruments,
    repad_hidden,
    seal_loss_verl,
    verl_aggregation,
)
from entropy_dynamics.train.algorithms.seal import SealHead
from entropy_dynamics.train.run.run_phase import PHASE_CODES
from tests.tiny_llama import HUB_WORDS, save_tiny_hub_model, tiny_llama

BSZ, PROMPT, R = 4, 5, 6


def _verl_batch() -> dict[str, torch.Tensor]:
    """A micro-batch as verl's dp_actor sees it: input_ids [bsz, prompt + R], response_mask/advantages [bsz, R]."""
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(3, 60, (BSZ, PROMPT + R), generator=generator)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[0, :2] = 0
    attention_mask[1, -2:] = 0
    attention_mask[3, -4:] = 0
    response_mask = attention_mask[:, PROMPT:].clone()
    advantages = torch.tensor([1.0, -1.0, 0.0, -0.5])[:, None] * response_mask
    return {"input_ids": input_ids, "attention_mask": attention_mask, "response_mask": response_mask,
            "advantages": advantages.float(), "position_ids": (attention_mask.cumsum(-1) - 1).clamp(min=0)}


def _verl_agg(loss_mat: torch.Tensor, mask: torch.Tensor, mode: str) -> torch.Tensor:
    """verl 0.7.1 ``agg_loss`` (one rank, no global batch info)."""
    mask = mask.float()
    if mode == "token-mean":
        return (loss_mat * mask).sum() / mask.sum()
    seq_mask = (mask.sum(-1) > 0).float()
    if mode == "seq-mean-token-mean":
        per_seq = (loss_mat * mask).sum(-1) / (mask.sum(-1) + 1e-8)
        return (per_seq * seq_mask).sum() / seq_mask.sum()
    loss = ((loss_mat * mask).sum(-1) * seq_mask).sum() / seq_mask.sum()
    return loss / mask.shape[-1] if mode == "seq-mean-token-sum-norm" else loss


@pytest.mark.parametrize("mode", ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum",
                                  "seq-mean-token-sum-norm"])
def test_seal_loss_matches_verls_aggregation_and_reaches_the_backbone(mode: str) -> None:
    torch.manual_seed(0)
    model, head = tiny_llama(), SealHead(16, dropout=0.0)
    batch = _verl_batch()
    hidden = model.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                         position_ids=batch["position_ids"]).last_hidden_state
    loss, metrics = seal_loss_verl(head, hidden, batch["response_mask"], batch["advantages"], mode, coef=0.02)

    logits = head(hidden[:, -R:]).float()
    bce = F.binary_cross_entropy_with_logits(logits, (batch["advantages"] >= 0).float(), reduction="none")
    torch.testing.assert_close(loss, 0.02 * _verl_agg(bce, batch["response_mask"], mode))
    assert metrics["actor/seal_loss"] == pytest.approx(float(loss.detach())) and metrics["seal/coef"] == 0.02
    assert 0 <= metrics["seal/head_acc"] <= 1
    loss.backward()
    assert model.model.layers[0].self_attn.q_proj.weight.grad.abs().sum() > 0


def test_global_batch_info_gives_verls_global_normalisers() -> None:
    info = {"dp_size": 4, "batch_num_tokens": 400, "global_batch_size": 32}
    assert verl_aggregation("token-mean", 6, global_batch_info=info) == ("token-mean", {"global_tokens": 100.0})
    assert verl_aggregation("seq-mean-token-sum-norm", 6, 8.0, info) == (
        "seq-sum-constant", {"global_seqs": 8.0, "seq_len_constant": 8.0})
    with pytest.raises(ConfigError, match="not supported"):
        verl_aggregation("seq-sum", 6)


def test_repad_hidden_undoes_verls_remove_padding_with_gradient() -> None:
    batch = _verl_batch()
    full = torch.randn(BSZ, PROMPT + R, 3, requires_grad=True)
    keep = batch["attention_mask"].bool()
    unpadded = full[keep].unsqueeze(0)  # verl's (1, total_nnz, d)
    padded = repad_hidden(unpadded, batch["attention_mask"])
    torch.testing.assert_close(padded[keep], full[keep])
    assert float(padded[~keep].detach().abs().sum()) == 0.0
    padded.sum().backward()
    torch.testing.assert_close(full.grad, keep.float()[..., None].expand_as(full))
    with pytest.raises(ValueError, match="unpadded states"):
        repad_hidden(unpadded[:, 1:], batch["attention_mask"])


def test_metrics_hook_adds_phase_covariance_and_degeneration(tmp_path) -> None:
    save_tiny_hub_model(tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    hook = VerlInstruments(tokenizer=tokenizer, detector_options={"confirm": 1})
    batch = _verl_batch()
    batch["responses"] = torch.full((BSZ, R), HUB_WORDS.index("north"))  # "north north ...": all repeats
    batch["old_log_probs"] = -torch.rand(BSZ, R, generator=torch.Generator().manual_seed(1))
    seen = []
    for step in range(1, 41):
        metrics = {"actor/entropy": 1.0 - 0.015 * step}
        seen += hook(metrics, step, batch if step == 40 else None)
    assert hook.detector.current_phase == "descent" and seen == hook.events
    assert metrics["phase"] == PHASE_CODES["descent"]
    assert -1 <= metrics["policy/cov_neg_frac"] <= 1 and "policy/cov_logp_adv" in metrics
    assert metrics["degen/unique_token_ratio"] < 0.5
    first = {"actor/entropy": float("nan")}
    VerlInstruments()(first, 1)
    assert first["phase"] == PHASE_CODES[None]
