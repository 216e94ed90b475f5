"""The GRPO-family (+ SEAL) training loop, top to bottom: rollout -> credit -> update -> log -> checkpoint."""

from __future__ import annotations

import copy
import resource
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import torch

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.logs import truncate_after_step
from entropy_dynamics.train.builder import build_model, build_optimizer, versions
from entropy_dynamics.train.callbacks import Callback, CallbackList, JsonlSink, TrainState, WandbSink
from entropy_dynamics.train.checkpoint import (
    find_checkpoint,
    load_checkpoint,
    restore_rng,
    rng_state,
    save_checkpoint,
)
from entropy_dynamics.train.config import TrainConfig
from entropy_dynamics.train.config_io import to_dict
from entropy_dynamics.train.credit import assign_credit
from entropy_dynamics.train.default_callbacks import with_default_callbacks
from entropy_dynamics.train.distributed import (
    Dist,
    barrier,
    broadcast_object,
    check_game_share,
    close_distributed,
    gather_objects,
    init_distributed,
    merge_metrics,
    rank_share,
)
from entropy_dynamics.train.games import EnvPool, GameSampler, group_layout
from entropy_dynamics.train.progress import print_above_progress
from entropy_dynamics.train.rollout import RolloutSettings, play
from entropy_dynamics.train.step_metrics import batch_metrics, sample_trajectories
from entropy_dynamics.train.tensorboard_sink import TensorBoardSink
from entropy_dynamics.train.update import predict_values, update_policy

LOG_NAME = "metrics.jsonl"
#: Offset between the sampling/update generator seeds of consecutive ranks (rank 0 uses ``cfg.seed``).
RANK_SEED_STRIDE = 1_000_003


def rollout_settings(cfg: TrainConfig) -> RolloutSettings:
    return RolloutSettings(cfg.max_turns, cfg.max_turns_slack, cfg.history_length, cfg.max_prompt_tokens,
                           cfg.max_new_tokens, cfg.temperature, cfg.invalid_action_penalty, cfg.shared_prompts,
                           cfg.trajectory_prompts)


def peak_mem_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train(cfg: TrainConfig, resume: bool = False, callbacks: Iterable[Callback] = (),
          echo: Callable[[str], None] | None = print_above_progress) -> TrainState:
    """Train ``cfg.steps`` steps (resuming from ``output_dir/checkpoint`` when ``resume``); returns the state.

    The config's instruments run before ``callbacks`` and its live phase detection after them (see
    :func:`~entropy_dynamics.train.default_callbacks.with_default_callbacks`); ``echo`` prints phase transitions.

    Launched by ``accelerate launch`` / ``torchrun`` (WORLD_SIZE > 1), each process plays its share of the
    step's games and the gradients are summed over processes; only rank 0 runs the callbacks and writes the
    log, samples, checkpoints and the model (see :mod:`~entropy_dynamics.train.distributed`)."""
    dist = init_distributed(cfg.device)
    try:
        return _train(cfg, resume, callbacks, echo, dist)
    finally:
        close_distributed(dist)


def _train(cfg: TrainConfig, resume: bool, callbacks: Iterable[Callback], echo: Callable[[str], None] | None,
           dist: Dist) -> TrainState:
    out = Path(cfg.output_dir)
    log_path = out / LOG_NAME
    ckpt = find_checkpoint(out) if resume else None
    if resume and ckpt is None:
        raise ConfigError(f"--resume: no checkpoint in {out}")
    if not resume and log_path.is_file() and log_path.stat().st_size > 0:
        raise ConfigError(f"{log_path} exists: pass --resume to continue that run, or choose another output_dir")
    if dist.active:
        check_game_share(min(cfg.games_per_step, cfg.game_pool_size), dist)
    barrier(dist)  # every rank has checked the output folder before rank 0 writes to it
    out.mkdir(parents=True, exist_ok=True)

    # --- setup: model (+ frozen reference), optimizer, generators, game choice; then the checkpoint, if any
    policy, tokenizer = build_model(cfg, tokenizer_dir=ckpt / "tokenizer" if ckpt else None)
    device = next(policy.parameters()).device
    ref_lm = copy.deepcopy(policy.lm).eval().requires_grad_(False) if cfg.use_ref_model else None
    optimizer, scheduler = build_optimizer(policy, cfg.lr, cfg.weight_decay, cfg.warmup_steps)
    rank_seed = cfg.seed + RANK_SEED_STRIDE * dist.rank
    if dist.active:  # the weights are built alike on every rank; from here on (e.g. dropout) each has its own
        torch.manual_seed(rank_seed)
    generators = {"sampling": torch.Generator().manual_seed(rank_seed),
                  "update": torch.Generator().manual_seed(rank_seed + 1)}
    games = GameSampler(cfg.seed, cfg.game_seed_start, cfg.game_pool_size)
    start_step, nan_streak = 0, 0
    if ckpt is not None:
        saved = load_checkpoint(ckpt)
        policy.load_state_dict(saved["policy"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        rngs = saved.get("rng_by_rank", [saved["rng"]])
        if len(rngs) != dist.world_size:
            raise ConfigError(f"{ckpt} was written by {len(rngs)} process(es); resume it with as many, "
                              f"not {dist.world_size}")
        restore_rng(rngs[dist.rank], generators)
        games.load_state_dict(saved["games"])
        start_step, nan_streak = int(saved["step"]), int(saved["nan_streak"])
        if dist.is_main:
            truncate_after_step(log_path, start_step)

    run_name = cfg.run_name or out.resolve().name
    state = TrainState(config=cfg, run_name=run_name, output_dir=out, step=start_step, total_steps=cfg.steps,
                       resumed_from_step=start_step if ckpt else None, policy=policy, tokenizer=tokenizer)
    hooks = CallbackList([])
    if dist.is_main:
        sinks: list[Callback] = [JsonlSink(log_path)]
        if cfg.wandb != "disabled":
            sinks.append(WandbSink(cfg.wandb, cfg.wandb_project, alerts=cfg.wandb_alerts))
        if cfg.tensorboard:
            sinks.append(TensorBoardSink(out / "tensorboard"))
        # every callback before the sinks: metrics they add reach the log
        hooks = CallbackList([*with_default_callbacks(cfg, callbacks, echo), *sinks])
    hooks.train_start(state, {"run": run_name, "config": to_dict(cfg), "versions": versions(),
                              "resumed_from_step": state.resumed_from_step})
    envs = EnvPool(cfg.env, cfg.env_settings)
    settings = rollout_settings(cfg)

    def checkpoint(step: int) -> None:
        rng = rng_state(generators)
        rng_by_rank = {"rng_by_rank": gather_objects(rng, dist)} if dist.active else {}
        if dist.is_main:
            path = save_checkpoint(out, {
                "step": step, "nan_streak": nan_streak, "policy": policy.state_dict(),
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "rng": rng, **rng_by_rank, "games": games.state_dict(), "config": to_dict(cfg),
            }, tokenizer)
            hooks.event(state, "checkpoint", path=str(path))
        barrier(dist)

    try:
        for step in range(start_step + 1, cfg.steps + 1):
            state.step = step
            started = time.perf_counter()
            # 1. rollout: G episodes of each of the step's games, one sample per turn
            episode_seeds, groups = group_layout(rank_share(games.draw(cfg.games_per_step), dist), cfg.group_size)
            batch = play(policy.lm, tokenizer, envs.take(len(episode_seeds)), episode_seeds, groups, settings,
                         generators["sampling"])
            # 2. credit: advantages per reply token (PPO: from the value head)
            values = None
            if cfg.algorithm == "ppo":
                values = predict_values(policy, batch.samples, cfg, tokenizer.pad_token_id)
            credit = assign_credit(batch, cfg, values)
            # 3. update: epochs x minibatches of clipped-surrogate (+ SEAL, KL, entropy, value) steps
            update_started = time.perf_counter()
            result = update_policy(policy, ref_lm, optimizer, scheduler, batch.samples, credit, cfg,
                                   tokenizer.pad_token_id, generators["update"], dist)
            finished = time.perf_counter()
            # 4. log
            step_s = finished - started
            metrics = {**batch_metrics(batch, credit), **result.metrics,
                       "perf/rollout_s": batch.rollout_s, "perf/update_s": finished - update_started,
                       "perf/step_s": step_s,
                       "perf/tokens_per_s": (batch.generated_tokens + result.trained_tokens) / max(step_s, 1e-9),
                       "perf/peak_mem_mb": peak_mem_mb(device)}
            metrics = merge_metrics(metrics, dist)
            state.last_rollout, state.last_credit = batch, credit
            nan_streak = nan_streak + 1 if result.nan_skips else 0
            actions = broadcast_object(hooks.step_end(state, metrics), dist)
            if result.nan_skips:
                hooks.event(state, "nan_skip", skipped_optimizer_steps=result.nan_skips, in_a_row=nan_streak)
            for event, fields in state.pending_events:
                hooks.event(state, event, **fields)
            state.pending_events.clear()
            if (cfg.samples_every and step % cfg.samples_every == 0) or "samples" in actions:
                hooks.samples(state, sample_trajectories(batch, credit, cfg.n_sample_trajectories))
            # 5. checkpoint (atomic), then stop if asked
            if (cfg.checkpoint_every and step % cfg.checkpoint_every == 0) or step == cfg.steps \
                    or actions & {"checkpoint", "stop"} or nan_streak >= cfg.max_nan_skips:
                checkpoint(step)
            if nan_streak >= cfg.max_nan_skips:
                hooks.event(state, "stopped", reason=f"{nan_streak} NaN/inf steps in a row")
                break
            if "stop" in actions:
                hooks.event(state, "stopped", reason="a callback asked to stop")
                break
        if dist.is_main:
            policy.export(out / "model", tokenizer)
    finally:
        envs.close()
        hooks.train_end(state)
    return state
