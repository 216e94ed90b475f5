"""The paper's instruments inside our training loop: the canonical metrics the loop itself does not log.

:class:`Instruments` is a :class:`~entropy_dynamics.train.run.callbacks.Callback`. On every step it adds the
degeneration (``degen/*``) and hallucination (``halluc/*``) rates of the step's rollout texts; every
``every`` steps (steps 1, 1 + every, ...) it measures gradient interference (``interference/*``) and
representation separation (``repr/*``) on a bounded subset of the step's samples, with one forward pass
(hidden states kept) and ``torch.autograd.grad`` per term on the default parameter subset (LM head + last
block, or the LoRA parameters; a head tied to the input embeddings is left out, see :func:`measured_params`).
With SEAL on it also measures, EVERY step, where SEAL's labels come from (``seal/label_all_fail_share``,
``seal/label_pos_share``) and the SEAL/PG gradient ratio on the same subset and parameters
(``interference/grad_norm_pg``, ``grad_norm_seal``, ``grad_cos_pg_seal``, ``seal/grad_ratio``).
Its own cost is ``perf/diagnostics_s``. A key that is due is always written,
NaN where undefined (one advantage sign only, no SEAL head): the JSONL writer stores NaN as null.

The loop already logs the entropy summaries, Cui's covariance (``policy/cov_logp_adv``,
``policy/cov_neg_frac``) and, with SEAL on, the head's accuracy and AUROC; ``seal/head_acc`` and
``seal/head_auroc`` are only filled with NaN here when the update left them out.

Diagnostics never change training: the measuring forward runs in eval mode (no dropout, so no random
numbers drawn) and its gradients are taken with ``autograd.grad``, never accumulated into ``.grad``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import Tensor

from entropy_dynamics.envs.registry import make_env
from entropy_dynamics.envs.reply import parse_reply
from entropy_dynamics.metrics.degeneration import average_metrics, degeneration_metrics, episode_degeneration
from entropy_dynamics.metrics.embeddings import response_embeddings
from entropy_dynamics.metrics.entropy import token_logprobs_and_entropy
from entropy_dynamics.metrics.hallucination import TurnRecord, hallucination_metrics
from entropy_dynamics.metrics.interference import (
    default_interference_params,
    gradient_interference,
    loss_term_gradients,
)
from entropy_dynamics.metrics.representation import separation_metrics
from entropy_dynamics.train.algorithms.credit import Credit
from entropy_dynamics.train.algorithms.losses import policy_loss
from entropy_dynamics.train.algorithms.seal import label_shares, response_hidden_states, seal_loss
from entropy_dynamics.train.models.policy import autocast_context
from entropy_dynamics.train.rollout.play import RolloutBatch
from entropy_dynamics.train.run.batching import MicroBatch, collate
from entropy_dynamics.train.run.callbacks import Callback, TrainState
from entropy_dynamics.train.run.update import reply_logits

#: Written every step.
TEXT_KEYS = (
    "degen/sentence_dup_rate", "degen/rep5_ratio", "degen/rep10_ratio", "degen/unique_token_ratio",
    "degen/loop_rate", "degen/cross_turn_dup_rate", "degen/repeat_action_rate",
    "halluc/fake_observation_rate", "halluc/invalid_action_rate", "halluc/ungrounded_entity_rate",
    "halluc/format_error_rate", "halluc/rate",
)
#: Written on measuring steps (``interference/grad_norm_seal`` and ``grad_cos_pg_seal`` only with SEAL on).
INTERFERENCE_KEYS = (
    "interference/grad_cos_pos_neg", "interference/displacement_neg_on_pos",
    "interference/grad_norm_pos", "interference/grad_norm_neg", "interference/grad_norm_pg",
)
SEAL_INTERFERENCE_KEYS = ("interference/grad_norm_seal", "interference/grad_cos_pg_seal")
REPR_KEYS = (
    "repr/inter_cos", "repr/intra_pos_cos", "repr/intra_neg_cos", "repr/sep_ratio", "repr/centroid_dist",
    "repr/silhouette", "repr/probe_auroc", "repr/n_pos", "repr/n_neg",
)
SEAL_HEAD_KEYS = ("seal/head_acc", "seal/head_auroc")
#: Written EVERY step with SEAL on: the SEAL/PG gradient measurement and where the labels come from.
SEAL_STEP_KEYS = ("interference/grad_norm_pg", *SEAL_INTERFERENCE_KEYS, "seal/grad_ratio",
                  "seal/label_all_fail_share", "seal/label_pos_share")


def text_metrics(batch: RolloutBatch, markers: Sequence[str]) -> dict[str, float]:
    """``degen/*`` and ``halluc/*`` of a rollout's replies.

    Per-reply degeneration is averaged over the batch's turns; the cross-turn rates (duplicated sentences
    across turns, repeated-action loops) over its episodes. Hallucination grounds each episode's actions in
    its observations. The admissible set of a turn is ``sample.admissible`` when the rollout records it, plus
    the sent action when the game carried it out (validity is the game's verdict, not a text match, see
    :func:`~entropy_dynamics.envs.actions.game_accepted`).
    """
    samples = batch.samples
    parsed = [parse_reply(s.response_text).action for s in samples]
    metrics = degeneration_metrics([s.response_text for s in samples], parsed)
    by_episode: dict[int, list[int]] = {}
    for k, s in enumerate(samples):
        by_episode.setdefault(s.episode, []).append(k)
    episodes = [episode_degeneration([samples[k].response_text for k in ks], [parsed[k] for k in ks])
                for ks in by_episode.values()]
    cross = average_metrics(episodes)
    for key in ("degen/cross_turn_dup_rate", "degen/repeat_action_rate"):
        metrics[key] = cross.get(key, math.nan)
    turns = [
        TurnRecord(observation=s.observation, reply=s.response_text, action=action,
                   admissible_actions=_admissible(s), format_ok=s.format_ok, episode_id=s.episode)
        for s, action in zip(samples, parsed, strict=True)
    ]
    metrics.update(hallucination_metrics(turns, markers))
    return metrics


def _admissible(sample: Any) -> list[str]:
    accepted = [sample.action] if sample.valid else []  # the game carried it out, whatever its wording
    if sample.admissible is not None:
        return list(sample.admissible) + accepted
    return accepted


def measured_subset(sample_adv: Tensor, lengths: Sequence[int], max_samples: int) -> list[int]:
    """Indices of at most ``max_samples`` samples with a reply: up to half with advantage > 0, up to half
    with advantage < 0 (each spread evenly over the batch), the rest filled with zero-advantage samples.

    Tensor[S] advantages, S lengths -> sorted list of indices."""
    has_reply = torch.tensor([n > 0 for n in lengths], dtype=torch.bool)
    classes = [torch.nonzero(has_reply & cond).flatten() for cond in (sample_adv > 0, sample_adv < 0)]
    half = max_samples // 2
    picks = [_spread(idx, min(half, len(idx))) for idx in classes]
    room = max_samples - sum(len(p) for p in picks)
    if room > 0:  # a class short of half: give its room to the other, then to zero-advantage samples
        for k, idx in enumerate(classes):
            extra = min(room, len(idx) - len(picks[k]))
            picks[k] = _spread(idx, len(picks[k]) + extra)
            room -= extra
        zero = torch.nonzero(has_reply & (sample_adv == 0)).flatten()
        picks.append(_spread(zero, min(room, len(zero))))
    return sorted(int(i) for p in picks for i in p)


def _spread(idx: Tensor, n: int) -> Tensor:
    if n <= 0:
        return idx[:0]
    return idx[torch.linspace(0, len(idx) - 1, n).round().long()]


def measured_params(lm: torch.nn.Module) -> list[torch.nn.Parameter]:
    """The parameters interference is measured on: :func:`default_interference_params` (LM head + last block,
    or LoRA) without a LM head tied to the input embeddings. A tied head's gradient also flows through the
    input embedding, so every ``autograd.grad`` would run back through the whole network; without it each one
    stops at the last block (the measured cosines then describe the last block alone)."""
    params = default_interference_params(lm)
    get_input = getattr(lm, "get_input_embeddings", None)
    embedding = get_input() if callable(get_input) else None
    tied = {id(p) for p in embedding.parameters()} if embedding is not None else set()
    kept = [p for p in params if id(p) not in tied]
    return kept or params


def _diagnostic_forward(policy, mb: MicroBatch, cfg) -> tuple[Tensor, Tensor]:
    """(logp[B, T] with graph to the parameters, final hidden states ending with the reply tokens') of one
    forward, on the update's path (:func:`~entropy_dynamics.train.run.update.reply_logits`: each distinct prompt
    encoded once under ``shared_prompts``)."""
    logits, hidden = reply_logits(policy.lm, mb, cfg, need_hidden=True)
    logp, _ = token_logprobs_and_entropy(logits, mb.response, temperature=cfg.temperature)
    return logp, hidden


def _measured_batch(batch: RolloutBatch, credit: Credit, pad_id: int, max_samples: int, device) -> tuple:
    lengths = [len(s.response_ids) for s in batch.samples]
    subset = measured_subset(credit.sample_adv, lengths, max_samples)
    if not subset:
        return subset, None
    return subset, collate(batch.samples, subset, credit.advantages, credit.seal_target, None, pad_id).to(device)


def _loss_terms(policy, mb: MicroBatch, cfg, logp: Tensor, states: Tensor) -> dict[str, Tensor]:
    """The clipped surrogate ``pg`` and, with SEAL on, the scaled SEAL term of a measured micro-batch."""
    norms = {"global_tokens": float(mb.mask.sum()), "global_seqs": float(mb.mask.shape[0]),
             "seq_len_constant": float(cfg.max_new_tokens)}
    pg, _ = policy_loss(logp, mb.old_logp, mb.advantages, mb.mask, eps_low=cfg.clip_eps_low,
                        eps_high=cfg.clip_eps_high, dual_clip_c=cfg.dual_clip_c, agg_mode=cfg.loss_agg_mode, **norms)
    terms = {"pg": pg}
    if cfg.seal_on and policy.seal_head is not None:
        bce, _ = seal_loss(policy.seal_head, states, mb.mask, mb.seal_target, agg_mode=cfg.loss_agg_mode,
                           zero_adv_label=cfg.seal.zero_adv_label, detach_backbone=cfg.seal.detach_backbone,
                           pooling=cfg.seal.pooling, **norms)
        terms["seal"] = cfg.seal.coef * bce
    return terms


def grad_ratio(norms: dict[str, float]) -> float:
    """``seal/grad_ratio``: the SEAL term's gradient norm over the policy gradient's (NaN when PG's is 0)."""
    pg, seal = norms.get("interference/grad_norm_pg", math.nan), norms.get("interference/grad_norm_seal", math.nan)
    return seal / pg if pg > 0 else math.nan


def interference_and_separation(
    policy, batch: RolloutBatch, credit: Credit, cfg, pad_id: int, max_samples: int, seed: int = 0,
    params: Sequence[Tensor] | None = None, separation: bool = True,
) -> dict[str, float]:
    """``interference/*`` and ``repr/*`` on a bounded subset of a step's samples (see :func:`measured_subset`).

    One forward with hidden states; gradients of the A > 0 / A < 0 policy-gradient objectives and of the
    loss terms (the clipped surrogate ``pg`` and, with SEAL on, the scaled SEAL term, with their ratio
    ``seal/grad_ratio``) w.r.t. ``params`` (default: :func:`measured_params` of the LM). Separation compares
    the mean final hidden state over each sample's reply of samples with advantage > 0 and < 0 (SEAL's input
    alignment). ``separation=False`` measures only the loss terms' gradients (``interference/grad_norm_*``,
    ``grad_cos_pg_seal`` and ``seal/grad_ratio``: the per-step SEAL/PG measurement).
    """
    seal_keys = (*SEAL_INTERFERENCE_KEYS, "seal/grad_ratio") if cfg.seal_on else ()
    keys = (INTERFERENCE_KEYS + seal_keys + REPR_KEYS) if separation else ("interference/grad_norm_pg", *seal_keys)
    metrics = dict.fromkeys(keys, math.nan)
    device = next(policy.parameters()).device
    subset, mb = _measured_batch(batch, credit, pad_id, max_samples, device)
    if mb is None:
        return metrics
    params = list(params) if params is not None else measured_params(policy.lm)
    was_training = policy.training
    policy.eval()
    try:
        with torch.enable_grad(), autocast_context(cfg, device):
            logp, hidden = _diagnostic_forward(policy, mb, cfg)
            if separation:
                metrics.update(gradient_interference(logp, mb.advantages, mb.mask, params))
            states = response_hidden_states(hidden, mb.response.shape[1], cfg.seal.position_offset)
            metrics.update(loss_term_gradients(_loss_terms(policy, mb, cfg, logp, states), params))
    finally:
        policy.train(was_training)
    if cfg.seal_on:
        metrics["seal/grad_ratio"] = grad_ratio(metrics)
    if not separation:
        return metrics
    adv = credit.sample_adv[subset]
    signed = adv != 0
    embeddings = response_embeddings(states.detach(), mb.mask)[signed.to(states.device)]
    metrics.update(separation_metrics(embeddings.cpu(), (adv[signed] > 0).numpy(), seed=seed))
    return metrics


def seal_label_metrics(batch: RolloutBatch, credit: Credit, zero_adv_label: float | str) -> dict[str, float]:
    """``seal/label_all_fail_share`` and ``seal/label_pos_share`` of a step (see :func:`label_shares`)."""
    if not credit.seal_target:
        return label_shares(torch.zeros(0), torch.zeros(0, dtype=torch.bool), zero_adv_label)
    all_fail = credit.all_fail if credit.all_fail is not None else torch.zeros(len(batch.samples), dtype=torch.bool)
    lengths = torch.tensor([len(t) for t in credit.seal_target])
    return label_shares(torch.cat(credit.seal_target), all_fail.repeat_interleave(lengths), zero_adv_label)


class Instruments(Callback):
    """Adds the instruments to every step's metrics (see the module docstring).

    Args:
        every: measure interference and separation on steps 1, 1 + every, ... (0 = never).
        max_samples: the bounded subset those measurements use (half A > 0, half A < 0 when available).
        markers: environment-only phrases for the fake-observation rate; None = the configured env's
            ``observation_markers``.
        params: the parameters interference is measured on; None = :func:`measured_params` (last block and
            an untied LM head, or the LoRA parameters).
        seal_every: with SEAL on, the SEAL/PG gradient measurement's interval (1 = every step; 0 = only on the
            interference steps).
    """

    def __init__(self, every: int = 10, max_samples: int = 32, markers: Iterable[str] | None = None,
                 params: Sequence[Tensor] | None = None, seal_every: int = 1) -> None:
        if every < 0 or max_samples < 2 or seal_every < 0:
            raise ValueError(f"Instruments: need every >= 0, max_samples >= 2 and seal_every >= 0 (got {every}, "
                             f"{max_samples}, {seal_every})")
        self.every, self.max_samples, self.seal_every = every, max_samples, seal_every
        self.markers = None if markers is None else list(markers)
        self.params = params

    def on_train_start(self, state: TrainState, header) -> None:
        if self.markers is None:
            env = make_env(state.config.env, **state.config.env_settings)
            try:
                self.markers = list(getattr(env, "observation_markers", []))
            finally:
                env.close()

    def due(self, step: int) -> bool:
        """Whether ``step`` measures interference and separation."""
        return self.every > 0 and (step - 1) % self.every == 0

    def seal_due(self, step: int) -> bool:
        """Whether ``step`` measures the SEAL/PG gradient ratio (with SEAL on)."""
        return self.due(step) or (self.seal_every > 0 and (step - 1) % self.seal_every == 0)

    def on_step_end(self, state: TrainState, metrics: dict[str, float]) -> None:
        started = time.perf_counter()
        cfg, batch = state.config, state.last_rollout
        metrics.update(text_metrics(batch, self.markers or ()))
        if cfg.seal_on:
            for key in SEAL_HEAD_KEYS:
                metrics.setdefault(key, math.nan)
            metrics.update(seal_label_metrics(batch, state.last_credit, cfg.seal.zero_adv_label))
        if self.due(state.step) or (cfg.seal_on and self.seal_due(state.step)):
            metrics.update(interference_and_separation(
                state.policy, batch, state.last_credit, cfg, state.tokenizer.pad_token_id, self.max_samples,
                seed=state.step, params=self.params, separation=self.due(state.step)))
        metrics["perf/diagnostics_s"] = time.perf_counter() - started
