"""Range and choice checks of a ``TrainConfig`` (run by its ``__post_init__``; torch-free).

The algorithm and policy-loss names come from the registry
(:mod:`~entropy_dynamics.train.algorithms.registry`), so a registered estimator is a valid ``algorithm``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.phase_watch import ERUPTION_REACTIONS, REACTION_ALIASES
from entropy_dynamics.train.algorithms.registry import (
    ADV_ESTIMATORS,
    AGG_MODES,
    CREDIT_MODES,
    CREDIT_STATS,
    GRPO_SCALES,
    adv_estimator,
    policy_loss_entry,
    policy_loss_name,
)


def _choices(names: Iterable[str], last: str = "or") -> str:
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {last} {names[-1]}"


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def validate(cfg: Any) -> None:
    """Range and choice checks of a ``TrainConfig`` (called by its ``__post_init__``). Algorithm and policy
    loss names are checked against the registry (:mod:`~entropy_dynamics.train.algorithms.registry`)."""
    estimator = adv_estimator(cfg.algorithm)
    policy_loss_entry(policy_loss_name(cfg.policy_loss, cfg.clip_cov, cfg.kl_cov))
    _check(cfg.adv_scale in GRPO_SCALES, f"'adv_scale' must be {_choices(GRPO_SCALES)} (got {cfg.adv_scale!r})")
    _check(cfg.loss_agg_mode in AGG_MODES,
           f"'loss_agg_mode' must be one of {', '.join(AGG_MODES)} (got {cfg.loss_agg_mode!r})")
    for name in ("steps", "group_size", "games_per_step", "game_pool_size", "max_turns", "max_new_tokens",
                 "max_prompt_tokens", "epochs", "minibatches", "micro_batch_size", "max_nan_skips"):
        _check(getattr(cfg, name) >= 1, f"'{name}' must be >= 1 (got {getattr(cfg, name)!r})")
    for name in ("history_length", "checkpoint_every", "samples_every", "warmup_steps", "game_seed_start"):
        _check(getattr(cfg, name) >= 0, f"'{name}' must be >= 0 (got {getattr(cfg, name)!r})")
    for name in ("lr", "temperature"):
        _check(getattr(cfg, name) > 0, f"'{name}' must be > 0 (got {getattr(cfg, name)!r})")
    for name in ("kl_coef", "entropy_coef", "invalid_action_penalty", "weight_decay", "grad_clip", "value_coef"):
        _check(getattr(cfg, name) >= 0, f"'{name}' must be >= 0 (got {getattr(cfg, name)!r})")
    _check(cfg.minibatch_split in ("samples", "groups"),
           f"'minibatch_split' must be samples or groups (got {cfg.minibatch_split!r})")
    _check(cfg.minibatch_split == "samples" or cfg.games_per_step >= cfg.minibatches,
           f"'minibatch_split: groups' needs games_per_step ({cfg.games_per_step}) >= minibatches "
           f"({cfg.minibatches}): each minibatch takes whole groups")
    _check(cfg.group_size >= 2 or estimator.uses_values,
           f"'group_size' must be >= 2 for {cfg.algorithm} (group baselines need several trajectories)")
    _check(cfg.wandb in ("online", "offline", "disabled"), f"'wandb' must be online, offline or disabled "
                                                            f"(got {cfg.wandb!r})")
    _check(not cfg.wandb_alerts or cfg.wandb != "disabled", "'wandb_alerts' needs wandb online or offline")
    _check(cfg.dtype in ("auto", "float32", "bfloat16", "float16"), f"'dtype' must be auto, float32, bfloat16 "
                                                                     f"or float16 (got {cfg.dtype!r})")
    _check(cfg.mixed_precision in ("auto", "no", "bf16"),
           f"'mixed_precision' must be auto, no or bf16 (got {cfg.mixed_precision!r})")
    _check(cfg.device == "auto" or cfg.device == "cpu" or cfg.device.startswith("cuda"),
           f"'device' must be auto, cpu or cuda[:N] (got {cfg.device!r})")
    _check(cfg.kl_coef == 0 or cfg.use_ref_model, "'kl_coef' > 0 needs use_ref_model: true")
    _check(cfg.credit in CREDIT_MODES, f"'credit' must be {_choices(CREDIT_MODES)} (got {cfg.credit!r})")
    _check(cfg.credit_stats in CREDIT_STATS,
           f"'credit_stats' must be {_choices(CREDIT_STATS)} (got {cfg.credit_stats!r})")
    _check(cfg.credit == "trajectory" or not estimator.uses_values,
           f"'credit: turn' needs a group estimator, not {cfg.algorithm} (PPO credits each turn through GAE)")
    counting = [e.name for e in ADV_ESTIMATORS.values() if e.counted_stats]
    _check(cfg.credit_stats == "turns" or estimator.counted_stats,
           f"'credit_stats: trajectories' works with {_choices(counting, 'and')}, not {cfg.algorithm}")
    seal = cfg.seal
    _check(seal.penalty_only in ("label", "ignore"),
           f"'seal.penalty_only' must be label or ignore (got {seal.penalty_only!r})")
    _check(seal.coef >= 0, f"'seal.coef' must be >= 0 (got {seal.coef!r})")
    _check(seal.num_layers >= 1, f"'seal.num_layers' must be >= 1 (got {seal.num_layers!r})")
    _check(seal.zero_adv_label in (0, 1, 0.0, 1.0, "ignore"),
           f"'seal.zero_adv_label' must be 1.0, 0.0 or 'ignore' (got {seal.zero_adv_label!r})")
    _check(seal.label_source in ("adv_sign", "episode_success"),
           f"'seal.label_source' must be adv_sign or episode_success (got {seal.label_source!r})")
    _check(seal.pooling in ("token", "turn_mean"), f"'seal.pooling' must be token or turn_mean (got {seal.pooling!r})")
    _check(seal.position_offset in (0, -1), f"'seal.position_offset' must be 0 or -1 (got {seal.position_offset!r})")
    _validate_live_sections(cfg)
    for name in ("clip_cov", "kl_cov"):
        _check(getattr(cfg, name) is None or isinstance(getattr(cfg, name), dict),
               f"'{name}' must be a mapping or null")
    _check(cfg.max_turns_slack is None or (isinstance(cfg.max_turns_slack, int) and cfg.max_turns_slack >= 0),
           f"'max_turns_slack' must be null or an integer >= 0 (got {cfg.max_turns_slack!r})")
    _check(cfg.dual_clip_c is None or (isinstance(cfg.dual_clip_c, (int, float)) and cfg.dual_clip_c > 1),
           f"'dual_clip_c' must be null or a number > 1 (got {cfg.dual_clip_c!r})")


def _validate_live_sections(cfg: Any) -> None:
    """Checks of the ``instruments`` and ``phase`` sections."""
    inst, phase = cfg.instruments, cfg.phase
    _check(inst.every >= 1, f"'instruments.every' must be >= 1 (got {inst.every!r})")
    _check(inst.max_samples >= 2, f"'instruments.max_samples' must be >= 2 (got {inst.max_samples!r})")
    _check(inst.seal_every >= 0, f"'instruments.seal_every' must be >= 0 (got {inst.seal_every!r})")
    _check(bool(phase.metric), "'phase.metric' must name a metric, e.g. policy/entropy")
    unknown = [r for r in phase.on_eruption if r not in ERUPTION_REACTIONS and r not in REACTION_ALIASES]
    _check(not unknown, f"'phase.on_eruption': unknown reaction {unknown[0]!r}; choose from "
                        f"{', '.join(ERUPTION_REACTIONS)}" if unknown else "")
    _check(phase.seal_factor > 1, f"'phase.seal_factor' must be > 1 (got {phase.seal_factor!r})")
    _check(phase.seal_max > 0, f"'phase.seal_max' must be > 0 (got {phase.seal_max!r})")
    total = phase.total_steps
    _check(total in ("auto", None) or (isinstance(total, int) and not isinstance(total, bool) and total >= 1),
           f"'phase.total_steps' must be auto, null or an integer >= 1 (got {total!r})")
    _check(not (phase.enabled and "raise_seal" in phase.on_eruption and not cfg.seal_on),
           "'phase.on_eruption' raise_seal needs SEAL on (seal.coef > 0): there is no head to weight")
