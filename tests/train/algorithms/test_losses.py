"""Aggregation, clipped surrogate, k3 KL, entropy bonus and Clip-Cov / KL-Cov."""

from __future__ import annotations

import math

import pytest
import torch

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.train.algorithms.losses import (
    AGG_MODES,
    aggregate,
    clip_cov_mask,
    entropy_bonus_loss,
    kl_cov_mask,
    kl_k3,
    policy_loss,
    step_normalisers,
    token_covariance,
)

# Two samples: 3 action tokens and 1 action token (then padding with junk values that must not count).
VALUES = torch.tensor([[1.0, 2.0, 3.0, 100.0], [4.0, -50.0, 7.0, 9.0]])
MASK = torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])


def test_aggregate_hand_examples() -> None:
    assert float(aggregate(VALUES, MASK, "token-mean")) == pytest.approx((1 + 2 + 3 + 4) / 4)
    assert float(aggregate(VALUES, MASK, "seq-mean-token-mean")) == pytest.approx((2.0 + 4.0) / 2)
    assert float(aggregate(VALUES, MASK, "seq-sum-constant")) == pytest.approx(10 / (2 * 4))
    assert float(aggregate(VALUES, MASK, "seq-sum-constant", seq_len_constant=10)) == pytest.approx(0.5)
    # global normalisers replace the local counts
    assert float(aggregate(VALUES, MASK, "token-mean", global_tokens=20)) == pytest.approx(0.5)
    assert float(aggregate(VALUES, MASK, "seq-mean-token-mean", global_seqs=4)) == pytest.approx(1.5)


def test_aggregate_empty_rows_and_bad_mode() -> None:
    mask = MASK.clone()
    mask[1] = 0.0  # a sample without action tokens neither adds nor counts
    assert float(aggregate(VALUES, mask, "seq-mean-token-mean")) == pytest.approx(2.0)
    assert float(aggregate(VALUES, torch.zeros_like(MASK), "token-mean")) == 0.0
    with pytest.raises(ConfigError, match="aggregation mode"):
        aggregate(VALUES, MASK, "sum")
    with pytest.raises(ValueError, match="shape"):
        aggregate(VALUES, MASK[:, :3], "token-mean")


def _random_batch(gen: torch.Generator, rows: int, width: int):
    logits_param = torch.randn(rows, width, generator=gen, requires_grad=True)
    old = torch.randn(rows, width, generator=gen) * 0.1 - 1.0
    adv = torch.randn(rows, width, generator=gen)
    lengths = torch.randint(0, width + 1, (rows,), generator=gen)
    mask = (torch.arange(width)[None, :] < lengths[:, None]).float()
    return logits_param, old, adv, mask


@pytest.mark.parametrize("mode", AGG_MODES)
def test_gradient_accumulation_equals_full_batch(mode: str) -> None:
    """Summed micro-batch losses with the step's global counts give the full batch's gradient."""
    gen = torch.Generator().manual_seed(4)
    param, old, adv, mask = _random_batch(gen, rows=7, width=6)
    mask[3] = 0.0  # one sample without action tokens

    def loss_of(rows: slice, **normalisers):
        logp = torch.nn.functional.logsigmoid(param[rows])  # any differentiable log-prob
        loss, _ = policy_loss(logp, old[rows], adv[rows], mask[rows], agg_mode=mode, **normalisers)
        return loss

    full = loss_of(slice(0, 7), seq_len_constant=6.0)
    (full_grad,) = torch.autograd.grad(full, param)

    micro = [slice(0, 2), slice(2, 5), slice(5, 7)]
    norms = step_normalisers(mask[s] for s in micro)
    assert norms == {"global_tokens": float(mask.sum()), "global_seqs": 6.0}
    summed = sum(loss_of(s, seq_len_constant=6.0, **norms) for s in micro)
    (acc_grad,) = torch.autograd.grad(summed, param)
    assert float(summed.detach()) == pytest.approx(float(full.detach()), rel=1e-6)
    torch.testing.assert_close(acc_grad, full_grad)

    # Without the global counts the sum is not the full-batch loss (the test can fail).
    local = sum(loss_of(s, seq_len_constant=6.0) for s in micro)
    assert float(local.detach()) != pytest.approx(float(full.detach()), rel=1e-3)


def _one_token_loss(ratio: float, adv: float, **kwargs):
    logp = torch.tensor([[math.log(ratio)]], requires_grad=True)
    old = torch.zeros(1, 1)
    loss, stats = policy_loss(logp, old, torch.tensor([[adv]]), torch.ones(1, 1), **kwargs)
    (grad,) = torch.autograd.grad(loss, logp)
    return float(loss.detach()), stats, float(grad)


@pytest.mark.parametrize(
    ("ratio", "adv", "expected_loss", "clipped", "has_grad"),
    [
        (1.5, 1.0, -1.2, True, False),  # positive advantage, ratio above 1 + eps: clipped, no gradient
        (0.5, 1.0, -0.5, False, True),  # positive advantage, ratio below 1 - eps: not clipped
        (0.5, -1.0, 0.8, True, False),  # negative advantage, ratio below 1 - eps: clipped
        (1.5, -1.0, 1.5, False, True),  # negative advantage, ratio above 1 + eps: not clipped (dual: 3)
        (1.1, 2.0, -2.2, False, True),  # inside the trust region
    ],
)
def test_clipped_surrogate_hand_cases(ratio, adv, expected_loss, clipped, has_grad) -> None:
    loss, stats, grad = _one_token_loss(ratio, adv)
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert stats["policy/clip_frac"] == (1.0 if clipped else 0.0)
    assert (grad != 0.0) == has_grad
    assert stats["policy/approx_kl"] == pytest.approx(-math.log(ratio), rel=1e-5)


def test_dual_clip_bounds_negative_advantage_loss() -> None:
    loss, stats, grad = _one_token_loss(5.0, -1.0)
    assert loss == pytest.approx(3.0)
    assert stats["policy/clip_frac_lower"] == 1.0 and grad == 0.0
    loss, stats, grad = _one_token_loss(5.0, -1.0, dual_clip_c=None)
    assert loss == pytest.approx(5.0) and stats["policy/clip_frac_lower"] == 0.0 and grad != 0.0
    loss, _, _ = _one_token_loss(5.0, 1.0)  # positive advantages are never dual-clipped
    assert loss == pytest.approx(-1.2)
    with pytest.raises(ConfigError, match="dual_clip_c"):
        _one_token_loss(1.0, 1.0, dual_clip_c=0.5)


def test_asymmetric_clip_range() -> None:
    # clip-higher: eps_high 0.28 lets a positive-advantage ratio of 1.25 through, cuts 1.3 at 1.28
    assert _one_token_loss(1.25, 1.0, eps_high=0.28)[0] == pytest.approx(-1.25)
    assert _one_token_loss(1.3, 1.0, eps_high=0.28)[0] == pytest.approx(-1.28)
    # eps_low 0.1: a negative-advantage ratio of 0.85 is clipped at 0.9
    loss, stats, _ = _one_token_loss(0.85, -1.0, eps_low=0.1)
    assert loss == pytest.approx(0.9) and stats["policy/clip_frac"] == 1.0


def test_clip_frac_counts_only_action_tokens() -> None:
    logp = torch.log(torch.tensor([[1.5, 1.0, 0.5, 1.5]]))
    adv = torch.tensor([[1.0, 1.0, 1.0, 1.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])  # the masked 4th token would be clipped
    _, stats = policy_loss(logp, torch.zeros(1, 4), adv, mask)
    assert stats["policy/clip_frac"] == pytest.approx(1 / 3)


def test_kl_k3_values_and_gradient() -> None:
    logp = torch.log(torch.tensor([[0.5, 0.3, 0.2]])).requires_grad_()
    ref = torch.log(torch.tensor([[0.25, 0.3, 0.6]]))
    kl = kl_k3(logp, ref)
    expected = [0.5 - math.log(0.5) - 1, 0.0, 3.0 - math.log(3.0) - 1]
    assert kl.tolist()[0] == pytest.approx(expected, abs=1e-6)
    kl.sum().backward()
    assert logp.grad is not None and logp.grad[0, 0] != 0 and logp.grad[0, 1] == 0
    extreme = kl_k3(torch.tensor([[0.0]]), torch.tensor([[-100.0]]))  # log-ratio clamped to -20
    assert float(extreme) == pytest.approx(math.exp(-20) + 20 - 1)


def test_entropy_bonus_carries_gradient_and_refuses_detached_entropy() -> None:
    logits = torch.randn(2, 3, 5, requires_grad=True)
    entropy = torch.distributions.Categorical(logits=logits).entropy()
    mask = torch.ones(2, 3)
    loss = entropy_bonus_loss(entropy, mask, coef=0.01)
    assert float(loss.detach()) == pytest.approx(-0.01 * float(entropy.detach().mean()), rel=1e-6)
    loss.backward()
    assert logits.grad is not None and float(logits.grad.abs().sum()) > 0
    with pytest.raises(ValueError, match="no gradient"):
        entropy_bonus_loss(entropy.detach(), mask, coef=0.01)
    assert float(entropy_bonus_loss(entropy.detach(), mask, coef=0.0)) == 0.0


# Hand-built covariances: x and A both have mean 0 over the 6 action tokens of row 0, so
# cov = A * x = (6, 6, 2, 2, 0, 0). Row 1 is masked out and holds an enormous would-be covariance.
X = torch.tensor([2.0, -2.0, 2.0, -2.0, 0.5, -0.5])
A = torch.tensor([3.0, -3.0, 1.0, -1.0, 0.0, 0.0])
COV_LOGP = torch.stack([X - 3.0, torch.full((6,), 50.0)])
COV_ADV = torch.stack([A, torch.full((6,), 50.0)])
COV_MASK = torch.stack([torch.ones(6), torch.zeros(6)])


def test_token_covariance_hand_example() -> None:
    cov = token_covariance(COV_LOGP, COV_ADV, COV_MASK)
    assert cov[0].tolist() == pytest.approx([6.0, 6.0, 2.0, 2.0, 0.0, 0.0])
    assert cov[1].tolist() == [0.0] * 6


def test_clip_cov_picks_only_in_band_tokens() -> None:
    seen = set()
    for seed in range(20):
        gen = torch.Generator().manual_seed(seed)
        picked = clip_cov_mask(COV_LOGP, COV_ADV, COV_MASK, ratio=0.2, low=1.0, high=5.0, generator=gen)
        assert int(picked.sum()) == 1  # floor(0.2 * 6) = 1
        seen |= set(picked.view(-1).nonzero().view(-1).tolist())
    assert seen == {2, 3}  # cov 2 is in (1, 5); cov 6 and 0 are not; both candidates get drawn
    # at least one token even when ratio * N < 1 (veRL); never more than the candidates
    assert int(clip_cov_mask(COV_LOGP, COV_ADV, COV_MASK, 1e-4, 1.0, 5.0).sum()) == 1
    both = clip_cov_mask(COV_LOGP, COV_ADV, COV_MASK, 0.9, 1.0, 5.0)
    assert both.view(-1).nonzero().view(-1).tolist() == [2, 3]
    # tokens already clipped by PPO are not eligible
    exclude = torch.zeros(2, 6, dtype=torch.bool)
    exclude[0, 2] = True
    only = clip_cov_mask(COV_LOGP, COV_ADV, COV_MASK, 0.9, 1.0, 5.0, exclude=exclude)
    assert only.view(-1).nonzero().view(-1).tolist() == [3]
    # a band that holds nothing picks nothing
    assert int(clip_cov_mask(COV_LOGP, COV_ADV, COV_MASK, 0.5, 10.0, 20.0).sum()) == 0


def test_kl_cov_picks_top_covariance_tokens() -> None:
    picked = kl_cov_mask(COV_LOGP, COV_ADV, COV_MASK, ratio=2 / 6)
    assert picked.view(-1).nonzero().view(-1).tolist() == [0, 1]
    assert int(kl_cov_mask(COV_LOGP, COV_ADV, COV_MASK, ratio=0.1).sum()) == 0  # floor(0.6) = 0


def test_policy_loss_with_clip_cov_drops_the_picked_tokens() -> None:
    logp = COV_LOGP.clone().requires_grad_()
    loss, stats = policy_loss(
        logp, COV_LOGP, COV_ADV, COV_MASK, clip_cov={"ratio": 0.9}, generator=torch.Generator().manual_seed(0)
    )
    # ratio 1 everywhere: plain loss -A per token; tokens 2, 3 (A = 1, -1) are dropped; 6 tokens count
    assert float(loss.detach()) == pytest.approx((-3.0 + 3.0 + 0.0 + 0.0) / 6)
    loss.backward()
    assert logp.grad[0].tolist() == pytest.approx([-3 / 6, 3 / 6, 0.0, 0.0, 0.0, 0.0])
    assert stats["policy/cov_selected_frac"] == pytest.approx(2 / 6)
    with pytest.raises(ConfigError, match="unknown key"):
        policy_loss(logp, COV_LOGP, COV_ADV, COV_MASK, clip_cov={"fraction": 0.1})
    with pytest.raises(ConfigError, match="at most one"):
        policy_loss(logp, COV_LOGP, COV_ADV, COV_MASK, clip_cov={}, kl_cov={})


def test_policy_loss_with_kl_cov_penalises_the_picked_tokens() -> None:
    shift = torch.tensor([[0.5, 0.5, 0.5, 0.0, 0.0, 0.0], [0.0] * 6])  # ratio e^0.5 on tokens 0..2
    logp = (COV_LOGP + shift).requires_grad_()
    loss, stats = policy_loss(logp, COV_LOGP, COV_ADV, COV_MASK, kl_cov={"ratio": 2 / 6, "coef": 2.0})
    r = math.exp(0.5)
    # no PPO clip under KL-Cov: -A r on every token, + 2 |0.5| on the two top-covariance tokens 0, 1
    per_token = [-3 * r + 1.0, 3 * r + 1.0, -1 * r, 1.0, 0.0, 0.0]
    assert float(loss.detach()) == pytest.approx(sum(per_token) / 6, rel=1e-6)
    assert stats["policy/clip_frac"] == 0.0 and stats["policy/cov_selected_frac"] == pytest.approx(2 / 6)
