"""The policy update of one training step: minibatches x epochs of optimizer steps over length-sorted
micro-batches with gradient accumulation, the loss terms of :mod:`losses` and :mod:`seal`.

Every term is normalised by counts over the whole minibatch (the optimizer step), so summing the
micro-batch losses equals the full-batch loss. Samples whose advantage is all zero add nothing to the
policy loss; their forward is skipped when no other term (SEAL, KL, entropy bonus, value) needs them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import torch
from torch import Tensor

from entropy_dynamics.metrics.entropy import token_logprobs_and_entropy
from entropy_dynamics.train.algorithms.credit import Credit
from entropy_dynamics.train.algorithms.losses import aggregate, entropy_bonus_loss, kl_k3, policy_loss
from entropy_dynamics.train.algorithms.seal import response_hidden_states, seal_loss
from entropy_dynamics.train.config import TrainConfig
from entropy_dynamics.train.models.policy import Policy, autocast_context
from entropy_dynamics.train.models.prompt_cache import forward_contained, forward_replies
from entropy_dynamics.train.rollout.play import TurnSample
from entropy_dynamics.train.run.batching import MicroBatch, collate, plan_micro_batches
from entropy_dynamics.train.run.distributed import Dist, all_reduce_grads, sum_counts


@dataclass
class UpdateResult:
    metrics: dict[str, float] = field(default_factory=dict)
    nan_skips: int = 0  # optimizer steps skipped for a non-finite loss or gradient
    trained_tokens: int = 0


def uses_shared_prompts(cfg: TrainConfig) -> bool:
    """Whether the update runs the shared-prompt forward (it needs the KV cache, which gradient checkpointing
    turns off, and covers SEAL/value states at offsets 0 and -1)."""
    return cfg.shared_prompts and not cfg.gradient_checkpointing and cfg.seal.position_offset >= -1


def reply_logits(lm: torch.nn.Module, mb: MicroBatch, cfg: TrainConfig,
                 need_hidden: bool) -> tuple[Tensor, Tensor | None]:
    """(logits[B, T, V] predicting each reply token, final hidden states[B, S, d] | None) of ``lm``; the
    hidden states end with the reply tokens' (S = T + 1 on the shared-prompt and trajectory paths, the full
    sequence else). ``trajectory_prompts``: the turns of a conversation are read off its longest turn."""
    width_t = mb.response.shape[1]
    if cfg.trajectory_prompts and cfg.seal.position_offset >= -1:
        lengths = mb.mask.sum(-1).long().tolist()
        replies = [r[:n] for r, n in zip(mb.response, lengths, strict=True)]
        logits, hidden, _ = forward_contained(lm, mb.prompt_ids, replies, width_t, mb.pad_id, need_hidden=need_hidden)
        return logits, hidden
    if uses_shared_prompts(cfg):
        logits, hidden, last, _ = forward_replies(lm, mb.prompt_ids, mb.response, mb.mask, mb.pad_id,
                                                  need_hidden=need_hidden)
        return logits, (torch.cat([last[:, None], hidden], dim=1) if need_hidden else None)
    out = lm(input_ids=mb.input_ids, attention_mask=mb.attention_mask, position_ids=mb.position_ids,
             output_hidden_states=need_hidden, logits_to_keep=width_t + 1, use_cache=False)
    return out.logits[:, :-1], (out.hidden_states[-1] if need_hidden else None)


def forward_micro_batch(policy: Policy, mb: MicroBatch, cfg: TrainConfig, need_hidden: bool, entropy_grad: bool):
    """(logp[B,T], entropy[B,T], hidden[B,S,d] | None) of the current policy on a micro-batch."""
    logits, hidden = reply_logits(policy.lm, mb, cfg, need_hidden)
    logp, entropy = token_logprobs_and_entropy(logits, mb.response, temperature=cfg.temperature,
                                               entropy_grad=entropy_grad)
    return logp, entropy, hidden


@torch.no_grad()
def reference_logp(ref_lm: torch.nn.Module, mb: MicroBatch, cfg: TrainConfig) -> Tensor:
    logits, _ = reply_logits(ref_lm, mb, cfg, need_hidden=False)
    return token_logprobs_and_entropy(logits, mb.response, temperature=cfg.temperature)[0]


def micro_batch_loss(
    policy: Policy, ref_lm: torch.nn.Module | None, mb: MicroBatch, cfg: TrainConfig, norms: dict[str, float],
    generator: torch.Generator | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """Total loss of one micro-batch (already scaled for accumulation) and its per-term values."""
    need_hidden = cfg.seal_on or policy.value_head is not None
    logp, entropy, hidden = forward_micro_batch(policy, mb, cfg, need_hidden, cfg.entropy_coef > 0)
    terms: dict[str, Tensor] = {}
    pg, stats = policy_loss(
        logp, mb.old_logp, mb.advantages, mb.mask, eps_low=cfg.clip_eps_low, eps_high=cfg.clip_eps_high,
        dual_clip_c=cfg.dual_clip_c, agg_mode=cfg.loss_agg_mode, clip_cov=cfg.clip_cov, kl_cov=cfg.kl_cov,
        generator=generator, loss=cfg.policy_loss, **norms,
    )
    terms["loss/pg"] = pg
    if cfg.seal_on:
        states = response_hidden_states(hidden, mb.response.shape[1], cfg.seal.position_offset)
        bce, seal_stats = seal_loss(policy.seal_head, states, mb.mask, mb.seal_target, agg_mode=cfg.loss_agg_mode,
                                    zero_adv_label=cfg.seal.zero_adv_label, detach_backbone=cfg.seal.detach_backbone,
                                    pooling=cfg.seal.pooling, **norms)
        terms["loss/seal"] = cfg.seal.coef * bce
        stats.update(seal_stats)
    if ref_lm is not None and cfg.kl_coef > 0:
        kl_tokens = kl_k3(logp, reference_logp(ref_lm, mb, cfg))
        terms["loss/kl"] = cfg.kl_coef * aggregate(kl_tokens, mb.mask, cfg.loss_agg_mode, **norms)
        stats["policy/kl_ref"] = float((kl_tokens.detach() * mb.mask).sum() / mb.mask.sum().clamp(min=1))
    if cfg.entropy_coef > 0:
        terms["loss/entropy"] = entropy_bonus_loss(entropy, mb.mask, cfg.entropy_coef, cfg.loss_agg_mode, **norms)
    if policy.value_head is not None:
        values = policy.value_head(response_hidden_states(hidden, mb.response.shape[1], -1)).float()
        terms["loss/value"] = cfg.value_coef * aggregate(0.5 * (values - mb.returns) ** 2, mb.mask,
                                                         cfg.loss_agg_mode, **norms)
    total = sum(terms.values())
    values_out = {k: float(v.detach()) for k, v in terms.items()}
    return total, {**values_out, **stats}


@torch.no_grad()
def predict_values(policy: Policy, samples: list[TurnSample], cfg: TrainConfig, pad_id: int) -> list[Tensor]:
    """PPO: the value head's prediction for every reply token (rollout-time critic)."""
    zeros = [torch.zeros(len(s.response_ids)) for s in samples]
    device = next(policy.parameters()).device
    values: list[Tensor] = [torch.zeros(0)] * len(samples)
    for chunk in plan_micro_batches(samples, list(range(len(samples))), cfg.micro_batch_size):
        mb = collate(samples, chunk, zeros, zeros, None, pad_id).to(device)
        out = policy.lm(input_ids=mb.input_ids, attention_mask=mb.attention_mask, position_ids=mb.position_ids,
                        output_hidden_states=True, logits_to_keep=1, use_cache=False)
        pred = policy.value_head(response_hidden_states(out.hidden_states[-1], mb.response.shape[1], -1)).float()
        for row, i in enumerate(chunk):
            values[i] = pred[row, : len(samples[i].response_ids)].cpu()
    return values


def split_minibatches(samples: list[TurnSample], minibatches: int, how: str,
                      generator: torch.Generator) -> list[list[int]]:
    """One epoch's minibatches (sample indices): ``how='samples'`` deals a random permutation of the samples
    round-robin; ``'groups'`` deals a random permutation of the groups, each group whole (its samples in their
    rollout order)."""
    if how == "samples":
        order = torch.randperm(len(samples), generator=generator).tolist()
        return [order[k::minibatches] for k in range(minibatches)]
    groups = sorted({s.group for s in samples})
    dealt = [groups[j] for j in torch.randperm(len(groups), generator=generator).tolist()]
    dealt_sets = [set(dealt[k::minibatches]) for k in range(minibatches)]
    return [[i for i, s in enumerate(samples) if s.group in chosen] for chosen in dealt_sets]


def update_policy(
    policy: Policy,
    ref_lm: torch.nn.Module | None,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    samples: list[TurnSample],
    credit: Credit,
    cfg: TrainConfig,
    pad_id: int,
    generator: torch.Generator,
    dist: Dist | None = None,
) -> UpdateResult:
    """Run ``epochs x minibatches`` optimizer steps on the step's samples; returns averaged metrics.

    Under several processes (``dist``) each rank holds its own samples; the normalising counts and the
    accumulated gradients are summed over ranks before clipping, so every rank takes the same step."""
    dist = dist or Dist()
    device = next(policy.parameters()).device
    params = [p for p in policy.parameters() if p.requires_grad]
    needs_every_sample = cfg.seal_on or cfg.kl_coef > 0 or cfg.entropy_coef > 0 or policy.value_head is not None
    sums: dict[str, float] = defaultdict(float)
    weights: dict[str, float] = defaultdict(float)
    result = UpdateResult()
    n_opt_steps = 0
    policy.train()
    for _ in range(cfg.epochs):
        for minibatch in split_minibatches(samples, cfg.minibatches, cfg.minibatch_split, generator):
            lengths = [len(samples[i].response_ids) for i in minibatch]
            n_samples, n_tokens, n_seqs = sum_counts(
                [float(len(minibatch)), float(sum(lengths)), float(sum(n > 0 for n in lengths))], dist, device)
            if not n_samples:
                continue
            norms = {"global_tokens": n_tokens, "global_seqs": n_seqs, "seq_len_constant": float(cfg.max_new_tokens)}
            chosen = [i for i in minibatch if len(samples[i].response_ids) and
                      (needs_every_sample or bool(credit.advantages[i].abs().sum() > 0))]
            optimizer.zero_grad(set_to_none=True)
            finite = True
            step_terms = defaultdict(float, {"loss/pg": 0.0} | ({"loss/seal": 0.0} if cfg.seal_on else {}))
            for chunk in plan_micro_batches(samples, chosen, cfg.micro_batch_size, cfg.trajectory_prompts):
                mb = collate(samples, chunk, credit.advantages, credit.seal_target, credit.returns, pad_id).to(device)
                # autocast around the forward only: its bf16 weight copies are cached for the whole context and
                # would be stale after optimizer.step()
                with autocast_context(cfg, device):
                    loss, stats = micro_batch_loss(policy, ref_lm, mb, cfg, norms, generator=None)
                if not torch.isfinite(loss):
                    finite = False
                    break
                loss.backward()
                tokens = float(mb.mask.sum())
                result.trained_tokens += int(tokens)
                for key, value in stats.items():
                    if key.startswith("loss/"):
                        step_terms[key] += value
                    elif not math.isnan(value):
                        sums[key] += value * tokens
                        weights[key] += tokens
            finite = not all_reduce_grads(params, not finite, dist)
            grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip if cfg.grad_clip > 0 else math.inf)
            if not finite or not torch.isfinite(grad_norm):
                optimizer.zero_grad(set_to_none=True)
                result.nan_skips += 1
                continue
            optimizer.step()
            scheduler.step()
            n_opt_steps += 1
            sums["optim/grad_norm"] += float(grad_norm)
            weights["optim/grad_norm"] += 1.0
            for key, value in step_terms.items():
                sums[key] += value
                weights[key] += 1.0
    optimizer.zero_grad(set_to_none=True)
    metrics = {k: sums[k] / weights[k] for k in sums if weights[k] > 0}
    for key in ("loss/pg", "loss/seal", "loss/kl", "loss/entropy", "loss/value"):
        if key in metrics:
            metrics["loss/total"] = metrics.get("loss/total", 0.0) + metrics[key]
    metrics.setdefault("loss/total", float("nan") if result.nan_skips else 0.0)
    metrics["optim/lr"] = float(scheduler.get_last_lr()[0])
    metrics["optim/steps"] = float(n_opt_steps)
    result.metrics = metrics
    return result

