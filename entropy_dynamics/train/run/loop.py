"""The GRPO-family (+ SEAL) training loop: :func:`start_run` (setup, resume) then :func:`train_step` per step,
top to bottom: rollout -> credit -> update -> log -> checkpoint."""

from __future__ import annotations

import copy
import resource
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.logs import truncate_after_step
from entropy_dynamics.train.algorithms.credit import assign_credit
from entropy_dynamics.train.config import TrainConfig
from entropy_dynamics.train.config_io import to_dict
from entropy_dynamics.train.models.builder import build_model, build_optimizer
from entropy_dynamics.train.models.policy import autocast_context
from entropy_dynamics.train.rollout.games import EnvPool, GameSampler, group_layout
from entropy_dynamics.train.rollout.play import RolloutSettings, play
from entropy_dynamics.train.run.callbacks import Callback, CallbackList, JsonlSink, TrainState, WandbSink
from entropy_dynamics.train.run.checkpoint import (
    find_checkpoint,
    load_checkpoint,
    restore_rng,
    rng_state,
    save_checkpoint,
)
from entropy_dynamics.train.run.default_callbacks import with_default_callbacks
from entropy_dynamics.train.run.distributed import (
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
from entropy_dynamics.train.run.progress import print_above_progress
from entropy_dynamics.train.run.step_metrics import batch_metrics, sample_trajectories
from entropy_dynamics.train.run.tensorboard_sink import TensorBoardSink
from entropy_dynamics.train.run.update import predict_values, update_policy
from entropy_dynamics.versions import run_versions

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
    :func:`~entropy_dynamics.train.run.default_callbacks.with_default_callbacks`); ``echo`` prints phase transitions.

    Launched by ``accelerate launch`` / ``torchrun`` (WORLD_SIZE > 1), each process plays its share of the
    step's games and the gradients are summed over processes; only rank 0 runs the callbacks and writes the
    log, samples, checkpoints and the model (see :mod:`~entropy_dynamics.train.run.distributed`)."""
    dist = init_distributed(cfg.device)
    try:
        return _train(cfg, resume, callbacks, echo, dist)
    finally:
        close_distributed(dist)


@dataclass
class Run:
    """What a training run holds from one step to the next (built by :func:`start_run`)."""

    cfg: TrainConfig
    dist: Dist
    out: Path
    policy: Any
    tokenizer: Any
    ref_lm: torch.nn.Module | None
    optimizer: torch.optim.Optimizer
    scheduler: Any
    generators: dict[str, torch.Generator]
    games: GameSampler
    state: TrainState
    hooks: CallbackList
    envs: EnvPool
    settings: RolloutSettings
    start_step: int = 0
    nan_streak: int = 0

    @property
    def device(self) -> torch.device:
        return next(self.policy.parameters()).device


def _check_output(cfg: TrainConfig, resume: bool, dist: Dist) -> Path | None:
    """The checkpoint to resume from (None for a new run), after checking the output folder suits the run."""
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
    return ckpt


def _restore(run: Run, ckpt: Path) -> None:
    """Load a checkpoint into the run: weights, optimizer, scheduler, this rank's generators, the game draw;
    rank 0 cuts the log back to the checkpoint's step."""
    saved = load_checkpoint(ckpt)
    run.policy.load_state_dict(saved["policy"])
    run.optimizer.load_state_dict(saved["optimizer"])
    run.scheduler.load_state_dict(saved["scheduler"])
    rngs = saved.get("rng_by_rank", [saved["rng"]])
    if len(rngs) != run.dist.world_size:
        raise ConfigError(f"{ckpt} was written by {len(rngs)} process(es); resume it with as many, "
                          f"not {run.dist.world_size}")
    restore_rng(rngs[run.dist.rank], run.generators)
    run.games.load_state_dict(saved["games"])
    run.start_step, run.nan_streak = int(saved["step"]), int(saved["nan_streak"])
    if run.dist.is_main:
        truncate_after_step(run.out / LOG_NAME, run.start_step)


def _callbacks(cfg: TrainConfig, out: Path, callbacks: Iterable[Callback], echo: Callable[[str], None] | None,
               dist: Dist) -> CallbackList:
    """Rank 0: the config's default callbacks around the caller's, then the sinks (every callback runs before
    the sinks, so metrics they add reach the log). Other ranks: none."""
    if not dist.is_main:
        return CallbackList([])
    sinks: list[Callback] = [JsonlSink(out / LOG_NAME)]
    if cfg.wandb != "disabled":
        sinks.append(WandbSink(cfg.wandb, cfg.wandb_project, alerts=cfg.wandb_alerts))
    if cfg.tensorboard:
        sinks.append(TensorBoardSink(out / "tensorboard"))
    return CallbackList([*with_default_callbacks(cfg, callbacks, echo), *sinks])


def start_run(cfg: TrainConfig, resume: bool, callbacks: Iterable[Callback], echo: Callable[[str], None] | None,
              dist: Dist) -> Run:
    """Setup and resume: model (+ frozen reference), optimizer, generators, game choice, then the checkpoint
    when resuming; the callbacks are told the run starts (the log's header)."""
    ckpt = _check_output(cfg, resume, dist)
    out = Path(cfg.output_dir)
    policy, tokenizer = build_model(cfg, tokenizer_dir=ckpt / "tokenizer" if ckpt else None)
    ref_lm = copy.deepcopy(policy.lm).eval().requires_grad_(False) if cfg.use_ref_model else None
    optimizer, scheduler = build_optimizer(policy, cfg.lr, cfg.weight_decay, cfg.warmup_steps)
    rank_seed = cfg.seed + RANK_SEED_STRIDE * dist.rank
    if dist.active:  # the weights are built alike on every rank; from here on (e.g. dropout) each has its own
        torch.manual_seed(rank_seed)
    generators = {"sampling": torch.Generator().manual_seed(rank_seed),
                  "update": torch.Generator().manual_seed(rank_seed + 1)}
    games = GameSampler(cfg.seed, cfg.game_seed_start, cfg.game_pool_size)
    run_name = cfg.run_name or out.resolve().name
    state = TrainState(config=cfg, run_name=run_name, output_dir=out, total_steps=cfg.steps, policy=policy,
                       tokenizer=tokenizer)
    # the callbacks and the environments come after the restore: the log is cut back before a sink opens it
    run = Run(cfg, dist, out, policy, tokenizer, ref_lm, optimizer, scheduler, generators, games, state,
              hooks=CallbackList([]), envs=None, settings=rollout_settings(cfg))  # type: ignore[arg-type]
    if ckpt is not None:
        _restore(run, ckpt)
        state.step = state.resumed_from_step = run.start_step
    run.hooks = _callbacks(cfg, out, callbacks, echo, dist)
    run.hooks.train_start(run.state, {"run": run_name, "config": to_dict(cfg), "versions": run_versions(),
                                      "resumed_from_step": run.state.resumed_from_step})
    run.envs = EnvPool(cfg.env, cfg.env_settings)
    return run


def save_run_checkpoint(run: Run, step: int) -> None:
    """An atomic checkpoint of everything :func:`_restore` reads (every rank's generators); rank 0 writes it."""
    rng = rng_state(run.generators)
    rng_by_rank = {"rng_by_rank": gather_objects(rng, run.dist)} if run.dist.active else {}
    if run.dist.is_main:
        path = save_checkpoint(run.out, {
            "step": step, "nan_streak": run.nan_streak, "policy": run.policy.state_dict(),
            "optimizer": run.optimizer.state_dict(), "scheduler": run.scheduler.state_dict(),
            "rng": rng, **rng_by_rank, "games": run.games.state_dict(), "config": to_dict(run.cfg),
        }, run.tokenizer)
        run.hooks.event(run.state, "checkpoint", path=str(path))
    barrier(run.dist)


def train_step(run: Run, step: int) -> bool:
    """One training step; False when the run must stop (NaN streak, or a callback asked)."""
    cfg, state, hooks, dist = run.cfg, run.state, run.hooks, run.dist
    state.step = step
    started = time.perf_counter()
    # 1. rollout: G episodes of each of the step's games, one sample per turn
    episode_seeds, groups = group_layout(rank_share(run.games.draw(cfg.games_per_step), dist), cfg.group_size)
    with autocast_context(cfg, run.device):  # bf16 matrix products under mixed_precision: bf16 (no weight changes)
        batch = play(run.policy.lm, run.tokenizer, run.envs.take(len(episode_seeds)), episode_seeds, groups,
                     run.settings, run.generators["sampling"])
        # 2. credit: advantages per reply token (estimators that use values: from the value head)
        values = None
        if run.policy.value_head is not None:
            values = predict_values(run.policy, batch.samples, cfg, run.tokenizer.pad_token_id)
    credit = assign_credit(batch, cfg, values)
    # 3. update: epochs x minibatches of clipped-surrogate (+ SEAL, KL, entropy, value) steps
    update_started = time.perf_counter()
    result = update_policy(run.policy, run.ref_lm, run.optimizer, run.scheduler, batch.samples, credit, cfg,
                           run.tokenizer.pad_token_id, run.generators["update"], dist)
    finished = time.perf_counter()
    # 4. log
    step_s = finished - started
    metrics = {**batch_metrics(batch, credit), **result.metrics,
               "perf/rollout_s": batch.rollout_s, "perf/update_s": finished - update_started,
               "perf/step_s": step_s,
               "perf/tokens_per_s": (batch.generated_tokens + result.trained_tokens) / max(step_s, 1e-9),
               "perf/peak_mem_mb": peak_mem_mb(run.device)}
    metrics = merge_metrics(metrics, dist)
    state.last_rollout, state.last_credit = batch, credit
    run.nan_streak = run.nan_streak + 1 if result.nan_skips else 0
    actions = broadcast_object(hooks.step_end(state, metrics), dist)
    if result.nan_skips:
        hooks.event(state, "nan_skip", skipped_optimizer_steps=result.nan_skips, in_a_row=run.nan_streak)
    for event, fields in state.pending_events:
        hooks.event(state, event, **fields)
    state.pending_events.clear()
    if (cfg.samples_every and step % cfg.samples_every == 0) or "samples" in actions:
        hooks.samples(state, sample_trajectories(batch, credit, cfg.n_sample_trajectories))
    # 5. checkpoint (atomic), then stop if asked
    nan_stop = run.nan_streak >= cfg.max_nan_skips
    if (cfg.checkpoint_every and step % cfg.checkpoint_every == 0) or step == cfg.steps \
            or actions & {"checkpoint", "stop"} or nan_stop:
        save_run_checkpoint(run, step)
    if nan_stop:
        hooks.event(state, "stopped", reason=f"{run.nan_streak} NaN/inf steps in a row")
        return False
    if "stop" in actions:
        hooks.event(state, "stopped", reason="a callback asked to stop")
        return False
    return True


def _train(cfg: TrainConfig, resume: bool, callbacks: Iterable[Callback], echo: Callable[[str], None] | None,
           dist: Dist) -> TrainState:
    run = start_run(cfg, resume, callbacks, echo, dist)
    try:
        for step in range(run.start_step + 1, cfg.steps + 1):
            if not train_step(run, step):
                break
        if dist.is_main:
            run.policy.export(run.out / "model", run.tokenizer)
    finally:
        run.envs.close()
        run.hooks.train_end(run.state)
    return run.state
