"""The update: no loss on prompt tokens, SEAL wiring, gradient accumulation exactness."""

from __future__ import annotations

import copy

import pytest
import torch

from entropy_dynamics.train.algorithms.credit import Credit
from entropy_dynamics.train.models.builder import build_optimizer
from entropy_dynamics.train.rollout.play import TurnSample
from entropy_dynamics.train.rollout.sampling import sample_replies
from entropy_dynamics.train.run.batching import collate
from entropy_dynamics.train.run.update import micro_batch_loss, split_minibatches, update_policy
from tests.train.conftest import tiny_model


def make_samples(policy, tok, n: int = 6, seed: int = 0, repeated: bool = False) -> list[TurnSample]:
    """Real replies of the tiny model to prompts of different lengths (old log-probs from sampling);
    ``repeated``: prompts in pairs (two replies per prompt) after a common prefix, as in a rollout."""
    gen = torch.Generator().manual_seed(seed)
    prompts = [torch.randint(10, len(tok), (4 + 3 * i,), generator=gen).tolist() for i in range(n)]
    if repeated:
        prompts = [prompts[-1][:6] + prompts[i - i % 2] for i in range(n)]
    out = sample_replies(policy.lm, prompts, eos_id=tok.eos_token_id, pad_id=tok.pad_token_id, max_new_tokens=6,
                         temperature=1.0, generator=gen)
    return [
        TurnSample(episode=i, group=i // 2, turn=0, prompt_ids=p, response_ids=out.tokens[i, : out.lengths[i]],
                   old_logp=out.logp[i, : out.lengths[i]], entropy=out.entropy[i, : out.lengths[i]], reward=0.0,
                   valid=True, format_ok=True, truncated=False, observation="", response_text="", action="")
        for i, p in enumerate(prompts)
    ]


def credit_for(samples, sample_adv: list[float]) -> Credit:
    adv = [torch.full((len(s.response_ids),), a) for s, a in zip(samples, sample_adv, strict=True)]
    return Credit(adv, adv, None, torch.tensor(sample_adv))


def _norms(samples):
    lengths = [len(s.response_ids) for s in samples]
    return {"global_tokens": float(sum(lengths)), "global_seqs": float(len(lengths)), "seq_len_constant": 8.0}


def test_prompt_and_padding_positions_get_no_gradient():
    # the reference (full-sequence) layout; the shared-prompt path is checked against it below
    cfg, policy, tok = tiny_model(["seal=on", "shared_prompts=false"])
    samples = make_samples(policy, tok)
    credit = credit_for(samples, [1.0, -1.0, 0.5, -0.5, 2.0, -2.0])
    mb = collate(samples, list(range(6)), credit.advantages, credit.seal_target, None, tok.pad_token_id)
    captured = {}

    def keep_logits(_module, _inputs, output):
        output.retain_grad()
        captured["logits"] = output

    def keep_hidden(_module, _inputs, output):
        output.retain_grad()
        captured["hidden"] = output

    handles = [policy.lm.lm_head.register_forward_hook(keep_logits),
               policy.lm.model.norm.register_forward_hook(keep_hidden)]
    loss, _ = micro_batch_loss(policy, None, mb, cfg, _norms(samples))
    loss.backward()
    for h in handles:
        h.remove()
    width_p, width_t = mb.prompt_width, mb.response.shape[1]
    logits_grad = captured["logits"].grad  # only the T+1 last positions are ever projected to logits
    assert logits_grad.shape[1] == width_t + 1
    per_row = logits_grad.abs().sum(-1)[:, :-1]  # row t predicts reply token t
    assert bool((per_row[mb.mask == 0] == 0).all())
    assert bool((per_row[mb.mask == 1] > 0).all())
    assert bool(logits_grad[:, -1].abs().sum() == 0)
    # SEAL reads the states AT the reply tokens: prompt states get gradient only through attention,
    # never as SEAL inputs, and padded reply positions get none at all
    hidden_grad = captured["hidden"].grad.abs().sum(-1)
    reply_grad = hidden_grad[:, width_p:]
    assert bool((reply_grad[mb.mask == 0] == 0).all())
    assert bool((reply_grad[mb.mask == 1] > 0).all())


def test_seal_coefficient_scales_the_bce_and_is_logged_scaled():
    values = {}
    for coef in (0.02, 0.04):
        cfg, policy, tok = tiny_model([f"seal.coef={coef}", "seal.dropout=0.0"])
        samples = make_samples(policy, tok)
        credit = credit_for(samples, [1.0, -1.0, 0.5, -0.5, 0.0, -2.0])
        mb = collate(samples, list(range(6)), credit.advantages, credit.seal_target, None, tok.pad_token_id)
        _, stats = micro_batch_loss(policy, None, mb, cfg, _norms(samples))
        assert stats["loss/seal"] == pytest.approx(coef * stats["seal/bce"], rel=1e-5)
        values[coef] = stats["loss/seal"]
        assert 0.0 <= stats["seal/head_acc"] <= 1.0
    assert values[0.04] == pytest.approx(2 * values[0.02], rel=1e-5)  # same seed -> same head and backbone


def _changed(before: dict, module: torch.nn.Module) -> bool:
    return any(not torch.equal(before[n], p) for n, p in module.named_parameters())


@pytest.mark.parametrize("detach", [False, True])
def test_seal_trains_head_and_backbone_unless_detached(detach):
    # all advantages are zero, so the policy loss has no gradient: any backbone change comes from SEAL
    cfg, policy, tok = tiny_model(["seal.coef=0.5", f"seal.detach_backbone={str(detach).lower()}", "lr=1e-2"])
    samples = make_samples(policy, tok)
    credit = credit_for(samples, [0.0] * 6)
    credit.seal_target = [torch.full_like(a, 1.0 if i % 2 else -1.0) for i, a in enumerate(credit.advantages)]
    head_before = {n: p.detach().clone() for n, p in policy.seal_head.named_parameters()}
    lm_before = {n: p.detach().clone() for n, p in policy.lm.named_parameters()}
    optimizer, scheduler = build_optimizer(policy, cfg.lr, 0.0, 0)
    result = update_policy(policy, None, optimizer, scheduler, samples, credit, cfg, tok.pad_token_id,
                           torch.Generator().manual_seed(0))
    assert result.metrics["loss/pg"] == 0.0 and result.metrics["loss/seal"] > 0
    assert _changed(head_before, policy.seal_head)
    assert _changed(lm_before, policy.lm) is (not detach)


def test_micro_batching_equals_the_full_batch():
    params = {}
    for micro in (1, 16):
        cfg, policy, tok = tiny_model(["seal=on", "seal.dropout=0.0", "minibatches=1", f"micro_batch_size={micro}",
                                       "loss_agg_mode=seq-mean-token-mean"])
        samples = make_samples(policy, tok)
        credit = credit_for(samples, [1.0, -1.0, 0.5, -0.5, 2.0, -2.0])
        optimizer = torch.optim.SGD(policy.parameters(), lr=0.5)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
        result = update_policy(policy, None, optimizer, scheduler, samples, credit, cfg, tok.pad_token_id,
                               torch.Generator().manual_seed(0))
        params[micro] = (copy.deepcopy(policy.state_dict()), result.metrics)
    for name, value in params[1][0].items():
        torch.testing.assert_close(value, params[16][0][name], atol=2e-6, rtol=1e-5)
    assert params[1][1]["loss/total"] == pytest.approx(params[16][1]["loss/total"], rel=1e-5)


def test_non_finite_loss_skips_the_optimizer_step():
    cfg, policy, tok = tiny_model()
    samples = make_samples(policy, tok)
    credit = credit_for(samples, [1.0, -1.0, 0.5, -0.5, 2.0, -2.0])
    with torch.no_grad():
        policy.lm.model.norm.weight[0] = float("nan")
    before = {n: p.detach().clone() for n, p in policy.named_parameters()}
    optimizer, scheduler = build_optimizer(policy, 1e-2, 0.0, 0)
    result = update_policy(policy, None, optimizer, scheduler, samples, credit, cfg, tok.pad_token_id,
                           torch.Generator().manual_seed(0))
    assert result.nan_skips == cfg.minibatches and result.metrics["optim/steps"] == 0.0
    for name, p in policy.named_parameters():
        assert torch.equal(p, before[name]) or bool(torch.isnan(p).any())


@pytest.mark.parametrize("extra", [["seal=on", "seal.dropout=0.0"], ["seal.coef=0.1", "seal.position_offset=-1",
                                   "seal.dropout=0.0", "entropy_coef=0.01"], ["algorithm=ppo"]])
def test_shared_prompt_update_equals_the_full_sequence_path(extra):
    """Same loss terms and gradients whether each distinct prompt is encoded once or every sample in full."""
    results = {}
    for shared in (True, False):
        cfg, policy, tok = tiny_model([*extra, f"shared_prompts={str(shared).lower()}"])
        samples = make_samples(policy, tok, repeated=True)
        credit = credit_for(samples, [1.0, -1.0, 0.5, -0.5, 2.0, -2.0])
        credit.returns = credit.advantages if cfg.algorithm == "ppo" else None
        mb = collate(samples, list(range(6)), credit.advantages, credit.seal_target, credit.returns,
                     tok.pad_token_id)
        ref_lm = copy.deepcopy(policy.lm).requires_grad_(False)
        with torch.no_grad():  # a reference model that differs from the policy, for the KL term
            ref_lm.model.norm.weight.mul_(1.1)
        cfg.kl_coef = 0.05
        loss, stats = micro_batch_loss(policy, ref_lm, mb, cfg, _norms(samples))
        loss.backward()
        results[shared] = (stats, {n: p.grad.clone() for n, p in policy.named_parameters() if p.grad is not None})
    (stats, grads), (ref_stats, ref_grads) = results[True], results[False]
    assert stats.keys() == ref_stats.keys()
    for key, value in ref_stats.items():
        assert stats[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key
    assert grads.keys() == ref_grads.keys()
    for name, grad in ref_grads.items():
        torch.testing.assert_close(grads[name], grad, atol=1e-5, rtol=1e-4)


def test_fixed_seed_gives_identical_updates():
    states = []
    for _ in range(2):
        cfg, policy, tok = tiny_model(["seal=on"])
        samples = make_samples(policy, tok, repeated=True)
        credit = credit_for(samples, [1.0, -1.0, 0.5, -0.5, 2.0, -2.0])
        optimizer, scheduler = build_optimizer(policy, 1e-2, 0.0, 0)
        torch.manual_seed(0)  # SEAL dropout
        result = update_policy(policy, None, optimizer, scheduler, samples, credit, cfg, tok.pad_token_id,
                               torch.Generator().manual_seed(0))
        states.append((policy.state_dict(), result.metrics))
    assert states[0][1] == states[1][1]
    for name, value in states[0][0].items():
        assert torch.equal(value, states[1][0][name]), name


def conversation_samples(policy, tok, episodes: int = 2, turns: int = 3) -> list[TurnSample]:
    """Multi-turn samples whose prompts extend each other (prompt + reply + observation tokens), as
    ``trajectory_prompts`` builds them; the last episode's last prompt is cut from the left (no prefix)."""
    gen = torch.Generator().manual_seed(3)
    prompts = [torch.randint(10, len(tok), (6 + e,), generator=gen).tolist() for e in range(episodes)]
    samples = []
    for turn in range(turns):
        out = sample_replies(policy.lm, prompts, eos_id=tok.eos_token_id, pad_id=tok.pad_token_id, max_new_tokens=5,
                             temperature=1.0, generator=gen)
        for e, prompt in enumerate(prompts):
            n = int(out.lengths[e])
            samples.append(TurnSample(
                episode=e, group=0, turn=turn, prompt_ids=prompt, response_ids=out.tokens[e, :n],
                old_logp=out.logp[e, :n], entropy=out.entropy[e, :n], reward=0.0, valid=True, format_ok=True,
                truncated=False, observation="", response_text="", action=""))
        observation = torch.randint(10, len(tok), (4,), generator=gen).tolist()
        prompts = [[*p, *out.tokens[e, : out.lengths[e]].tolist(), *observation] for e, p in enumerate(prompts)]
        if turn == turns - 2:
            prompts[-1] = prompts[-1][3:]
    return samples


def test_one_sequence_per_trajectory_gives_the_per_turn_loss_and_gradients():
    results = {}
    for trajectory in (True, False):
        cfg, policy, tok = tiny_model(["seal=on", "seal.dropout=0.0", f"trajectory_prompts={str(trajectory).lower()}"])
        samples = conversation_samples(policy, tok)
        advantages = [1.0, -1.0, 0.5, -0.5, 2.0, -2.0]
        credit = credit_for(samples, advantages)
        mb = collate(samples, list(range(len(samples))), credit.advantages, credit.seal_target, None,
                     tok.pad_token_id)
        loss, stats = micro_batch_loss(policy, None, mb, cfg, _norms(samples))
        loss.backward()
        results[trajectory] = (stats, {n: p.grad.clone() for n, p in policy.named_parameters() if p.grad is not None})
    (stats, grads), (ref_stats, ref_grads) = results[True], results[False]
    for key, value in ref_stats.items():
        assert stats[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key
    for name, grad in ref_grads.items():
        torch.testing.assert_close(grads[name], grad, atol=1e-5, rtol=1e-4)


def test_mixed_precision_forwards_use_the_weights_of_the_latest_optimizer_step():
    """Under ``mixed_precision: bf16`` every forward multiplies by the bf16 copy of the CURRENT weights: autocast
    caches its weight casts for the life of its context, so one context around several optimizer steps would
    run the later minibatches on stale weights (checked here layer by layer against the cast weights)."""
    cfg, policy, tok = tiny_model(["mixed_precision=bf16", "epochs=2", "minibatches=2", "lr=0.05"])
    samples = make_samples(policy, tok)
    credit = credit_for(samples, [1.0, -1.0, 0.5, -0.5, 2.0, -2.0])
    optimizer, scheduler = build_optimizer(policy, cfg.lr, 0.0, 0)
    gaps: list[float] = []

    def check(module, args, out):
        want = torch.nn.functional.linear(args[0].to(torch.bfloat16), module.weight.to(torch.bfloat16))
        gaps.append(float((out.float() - want.float()).detach().abs().max()))

    layer = policy.lm.model.layers[-1].mlp.down_proj
    handle = layer.register_forward_hook(check)
    before = layer.weight.detach().clone()
    try:
        result = update_policy(policy, None, optimizer, scheduler, samples, credit, cfg, tok.pad_token_id,
                               torch.Generator().manual_seed(0))
    finally:
        handle.remove()
    assert result.metrics["optim/steps"] == 4 and not torch.equal(before, layer.weight)
    assert len(gaps) >= 4 and max(gaps) == 0.0


def test_group_split_deals_whole_groups_and_every_sample_once():
    _, policy, tok = tiny_model()
    samples = make_samples(policy, tok, n=8, repeated=True)  # groups 0-3, two samples each
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        parts = split_minibatches(samples, 2, "groups", gen)
        assert sorted(i for part in parts for i in part) == list(range(8))
        assert all(len({samples[i].group for i in part}) == 2 for part in parts)
        assert not {samples[i].group for i in parts[0]} & {samples[i].group for i in parts[1]}
    # 'samples' draws the permutation it always drew (runs keep their numbers)
    before = torch.Generator().manual_seed(1)
    order = torch.randperm(8, generator=before).tolist()
    assert split_minibatches(samples, 2, "samples", torch.Generator().manual_seed(1)) == [order[0::2], order[1::2]]


def test_group_split_with_one_minibatch_is_the_sample_split():
    results = []
    for how in ("samples", "groups"):
        cfg, policy, tok = tiny_model(["minibatches=1", "epochs=2", f"minibatch_split={how}"])
        samples = make_samples(policy, tok, repeated=True)
        credit = credit_for(samples, [1.0, -1.0, 0.5, -0.5, 2.0, -2.0])
        optimizer, scheduler = build_optimizer(policy, 1e-2, 0.0, 0)
        result = update_policy(policy, None, optimizer, scheduler, samples, credit, cfg, tok.pad_token_id,
                               torch.Generator().manual_seed(0))
        results.append((policy.state_dict(), result.metrics))
    assert results[0][1] == pytest.approx(results[1][1], rel=1e-6, abs=1e-9)
    for name, value in results[0][0].items():
        torch.testing.assert_close(value, results[1][0][name], rtol=1e-5, atol=1e-7)


def test_group_split_needs_a_group_per_minibatch():
    from entropy_dynamics.errors import ConfigError
    from entropy_dynamics.train.config_io import load_config

    with pytest.raises(ConfigError, match="needs games_per_step"):
        load_config(None, ["minibatch_split=groups", "games_per_step=1", "minibatches=2"])
    with pytest.raises(ConfigError, match="'minibatch_split' must be samples or groups"):
        load_config(None, ["minibatch_split=prompts"])
