"""SEAL: labels, head depth, masking and aggregation, and gradients through a tiny real Llama."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn
from transformers import LlamaForCausalLM

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.metrics import token_logprobs_and_entropy
from entropy_dynamics.train.algorithms.losses import policy_loss
from entropy_dynamics.train.algorithms.seal import (
    SealHead,
    binary_auroc,
    response_hidden_states,
    seal_labels,
    seal_loss,
)
from tests.tiny_llama import tiny_llama


def test_labels_follow_the_advantage_sign() -> None:
    adv = torch.tensor([[-2.0, -1e-9, 0.0, 1e-9, 3.0]])
    labels, valid = seal_labels(adv)
    assert labels.tolist() == [[0.0, 0.0, 1.0, 1.0, 1.0]] and valid.tolist() == [[1.0] * 5]
    labels, valid = seal_labels(adv, zero_adv_label=0.0)
    assert labels.tolist() == [[0.0, 0.0, 0.0, 1.0, 1.0]] and valid.tolist() == [[1.0] * 5]
    labels, valid = seal_labels(adv, zero_adv_label="ignore")
    assert labels.tolist() == [[0.0, 0.0, 1.0, 1.0, 1.0]] and valid.tolist() == [[1.0, 1.0, 0.0, 1.0, 1.0]]
    for bad in (0.5, "skip", True):
        with pytest.raises(ConfigError, match="zero_adv_label"):
            seal_labels(adv, zero_adv_label=bad)


@pytest.mark.parametrize("num_layers", [1, 3, 6])
def test_head_depth_counts_linear_layers(num_layers: int) -> None:
    d = 8
    head = SealHead(d, num_layers=num_layers, dropout=0.1)
    kinds = [type(m) for m in head.net]
    assert kinds.count(nn.Linear) == num_layers
    assert kinds.count(nn.GELU) == kinds.count(nn.LayerNorm) == kinds.count(nn.Dropout) == num_layers - 1
    assert kinds[-1] is nn.Linear and head.net[-1].out_features == 1
    # blocks are Linear(d, d) -> GELU -> LayerNorm(d) -> Dropout, in that order
    assert kinds[: 4 * (num_layers - 1)] == [nn.Linear, nn.GELU, nn.LayerNorm, nn.Dropout] * (num_layers - 1)
    linear_params = sum(p.numel() for m in head.net if isinstance(m, nn.Linear) for p in m.parameters())
    assert linear_params == (num_layers - 1) * (d * d + d) + d + 1
    assert head(torch.randn(2, 5, d)).shape == (2, 5)
    with pytest.raises(ConfigError, match="num_layers"):
        SealHead(d, num_layers=0)


def _manual_bce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    prob = torch.sigmoid(logits)
    return -(labels * torch.log(prob) + (1 - labels) * torch.log(1 - prob))


@torch.no_grad()
def test_token_loss_is_masked_bce_aggregated_like_the_policy_loss() -> None:
    torch.manual_seed(0)
    head = SealHead(6).eval()  # no dropout: deterministic logits
    hidden = torch.randn(2, 4, 6)
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    adv = torch.tensor([[0.5, 0.5, 0.5, 9.0], [-1.0, -1.0, -1.0, -1.0]])
    labels = torch.tensor([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    per_token = _manual_bce(head(hidden), labels)

    loss, stats = seal_loss(head, hidden, mask, adv)
    assert float(loss) == pytest.approx(float((per_token * mask).sum() / 5), rel=1e-5)
    assert stats["seal/bce"] == pytest.approx(float(loss), rel=1e-5)
    loss_seq, _ = seal_loss(head, hidden, mask, adv, agg_mode="seq-mean-token-mean")
    expected_seq = (per_token[0, :3].mean() + per_token[1, :2].mean()) / 2
    assert float(loss_seq) == pytest.approx(float(expected_seq), rel=1e-5)
    loss_global, _ = seal_loss(head, hidden, mask, adv, global_tokens=20.0)
    assert float(loss_global) == pytest.approx(float((per_token * mask).sum() / 20), rel=1e-5)

    # padding positions do not matter
    junk = hidden.clone()
    junk[0, 3] = 1e3
    junk[1, 2:] = -1e3
    assert float(seal_loss(head, junk, mask, adv)[0]) == pytest.approx(float(loss), rel=1e-6)

    # "ignore": zero-advantage tokens add nothing, but still count in the denominator
    adv_zero = adv.clone()
    adv_zero[0, 1] = 0.0
    ignored, _ = seal_loss(head, hidden, mask, adv_zero, zero_adv_label="ignore")
    keep = mask.clone()
    keep[0, 1] = 0.0
    assert float(ignored) == pytest.approx(float((per_token * keep).sum() / 5), rel=1e-5)


@torch.no_grad()
def test_turn_mean_pooling_is_one_bce_per_sample() -> None:
    torch.manual_seed(1)
    head = SealHead(6).eval()
    hidden = torch.randn(3, 4, 6)
    mask = torch.tensor([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    adv = torch.tensor([[2.0] * 4, [-1.0] * 4, [5.0] * 4])
    pooled = torch.stack([hidden[0, :2].mean(0), hidden[1].mean(0)])
    per_sample = _manual_bce(head(pooled), torch.tensor([1.0, 0.0]))
    loss, _ = seal_loss(head, hidden, mask, adv, pooling="turn_mean")
    assert float(loss) == pytest.approx(float(per_sample.mean()), rel=1e-5)  # the empty sample is left out
    loss, _ = seal_loss(head, hidden, mask, adv, pooling="turn_mean", global_seqs=4.0)
    assert float(loss) == pytest.approx(float(per_sample.sum() / 4), rel=1e-5)
    with pytest.raises(ConfigError, match="pooling"):
        seal_loss(head, hidden, mask, adv, pooling="max")


@torch.no_grad()
def test_head_accuracy_and_auroc_stats() -> None:
    head = SealHead(1, num_layers=1)
    with torch.no_grad():
        head.net[0].weight.fill_(1.0)
        head.net[0].bias.fill_(0.0)
    # logit = the hidden value itself
    hidden = torch.tensor([[[2.0], [-1.0], [0.5], [-3.0]]])
    adv = torch.tensor([[1.0, 1.0, -1.0, -1.0]])  # labels 1, 1, 0, 0
    _, stats = seal_loss(head, hidden, torch.ones(1, 4), adv)
    assert stats["seal/head_acc"] == pytest.approx(0.5)  # 2.0 right, -1.0 wrong, 0.5 wrong, -3.0 right
    assert stats["seal/head_auroc"] == pytest.approx(0.75)  # pairs (pos, neg): 2>0.5, 2>-3, -1<0.5, -1>-3
    _, stats = seal_loss(head, hidden, torch.ones(1, 4), torch.ones(1, 4))
    assert stats["seal/head_auroc"] != stats["seal/head_auroc"]  # NaN: one class only


def test_binary_auroc_matches_pairwise_count_with_ties() -> None:
    gen = torch.Generator().manual_seed(2)
    scores = torch.randint(0, 5, (40,), generator=gen).float()  # many ties
    labels = torch.randint(0, 2, (40,), generator=gen).float()
    pos, neg = scores[labels == 1].tolist(), scores[labels == 0].tolist()
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    assert binary_auroc(scores, labels) == pytest.approx(wins / (len(pos) * len(neg)))


def test_response_hidden_states_alignment() -> None:
    states = torch.arange(10.0).view(1, 10, 1)
    assert response_hidden_states(states, 3).view(-1).tolist() == [7.0, 8.0, 9.0]
    assert response_hidden_states(states, 3, position_offset=-1).view(-1).tolist() == [6.0, 7.0, 8.0]
    with pytest.raises(ConfigError, match="position_offset"):
        response_hidden_states(states, 3, position_offset=1)
    with pytest.raises(ConfigError, match="position_offset"):
        response_hidden_states(states, 10, position_offset=-1)


PROMPT, RESPONSE = 6, 5


def _tiny_llama() -> LlamaForCausalLM:
    return tiny_llama(hidden_size=32, intermediate_size=64, num_attention_heads=4)


def _losses(model: LlamaForCausalLM, head: SealHead, detach_backbone: bool):
    """PG loss and unscaled SEAL loss on 4 random [prompt | response] samples (2 above, 2 below average)."""
    gen = torch.Generator().manual_seed(5)
    ids = torch.randint(0, 64, (4, PROMPT + RESPONSE), generator=gen)
    mask = torch.ones(4, RESPONSE)
    mask[1, 3:] = 0.0  # a shorter response
    adv = torch.tensor([1.0, -1.0, 0.5, -0.5])[:, None].expand(4, RESPONSE)
    out = model(input_ids=ids, output_hidden_states=True)
    logp, _ = token_logprobs_and_entropy(out.logits[:, -RESPONSE - 1 : -1], ids[:, -RESPONSE:])
    old_logp = logp.detach() - 0.05
    pg, _ = policy_loss(logp, old_logp, adv, mask)
    hidden = response_hidden_states(out.hidden_states[-1], RESPONSE)
    seal, stats = seal_loss(head, hidden, mask, adv, detach_backbone=detach_backbone)
    return pg, seal, stats


def _backbone_grads(model: nn.Module, loss: torch.Tensor) -> list[torch.Tensor]:
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads, strict=True)]


def test_one_step_on_a_tiny_llama_changes_head_and_backbone() -> None:
    model = _tiny_llama()
    head = SealHead(model.config.hidden_size, num_layers=3)
    # the hidden states the head reads are the final ones, after the model's final norm
    ids = torch.randint(0, 64, (2, 7))
    out = model(input_ids=ids, output_hidden_states=True)
    torch.testing.assert_close(out.hidden_states[-1], model.model(input_ids=ids).last_hidden_state)

    pg, seal, stats = _losses(model, head, detach_backbone=False)
    assert 0.0 <= stats["seal/head_acc"] <= 1.0 and stats["seal/bce"] > 0
    total = pg + 0.02 * seal
    # SEAL's own gradient reaches the backbone (compare with the PG-only gradient)
    with_seal, pg_only = _backbone_grads(model, total), _backbone_grads(model, pg)
    seal_part = sum(float((a - b).abs().sum()) for a, b in zip(with_seal, pg_only, strict=True))
    assert seal_part > 0

    before_lm = {n: p.detach().clone() for n, p in model.named_parameters()}
    before_head = {n: p.detach().clone() for n, p in head.named_parameters()}
    optimizer = torch.optim.AdamW([*model.parameters(), *head.parameters()], lr=1e-2)
    optimizer.zero_grad()
    total.backward()
    optimizer.step()
    assert all(not torch.equal(p, before_head[n]) for n, p in head.named_parameters())
    changed = [n for n, p in model.named_parameters() if not torch.equal(p, before_lm[n])]
    assert any(".layers.0." in n for n in changed) and any(".layers.1." in n for n in changed)
    assert "model.norm.weight" in changed


def test_detach_backbone_keeps_seal_gradient_out_of_the_backbone() -> None:
    model = _tiny_llama()
    head = SealHead(model.config.hidden_size, num_layers=3)
    pg, seal, _ = _losses(model, head, detach_backbone=True)
    total = pg + 0.02 * seal
    for with_seal, pg_only in zip(_backbone_grads(model, total), _backbone_grads(model, pg), strict=True):
        torch.testing.assert_close(with_seal, pg_only, rtol=0, atol=0)
    head_grads = torch.autograd.grad(total, list(head.parameters()))
    assert all(float(g.abs().sum()) > 0 for g in head_grads)
