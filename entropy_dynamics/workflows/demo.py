"""``entropy-dynamics demo``: the main job of the README's two commands, end to end on a CPU.

1. SFT warm start of the `tiny` preset on TextWorld cooking expert demonstrations (games generated and
   cached on first use);
2. GRPO + SEAL from that model with every instrument and live phase detection, from the config's
   ``instruments`` and ``phase`` sections as for ``entropy-dynamics train`` (phase events in the log and on the
   console, samples and a checkpoint at an eruption),
   for a fixed number of steps (:data:`DEMO_STEPS`), with a progress bar (step, reward, entropy, phase);
3. the HTML report of the run (:func:`entropy_dynamics.report.render_report`) and a summary in plain words of
   what happened (:func:`plain_summary`: the eruption, success, repetition).

The games are generated first, two at a time, with a progress bar (cached: a second demo starts training at once).

The settings are :data:`DEMO_SETTINGS` (the same as ``configs/demo.yaml``), overridable with ``key=value``.
Layout of ``out``: ``sft/`` (its log and ``model/``), ``train/`` (``metrics.jsonl``, checkpoint, ``model/``),
``report.html``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.train.config import TrainConfig
from entropy_dynamics.train.config_io import load_config
from entropy_dynamics.train.run.callbacks import Callback, TrainState
from entropy_dynamics.train.run.progress import ProgressBar, print_above_progress

#: The embedded default (mirrored by configs/demo.yaml): the tiny preset on one-room cooking games, an SFT
#: warm start good enough to win games (15 epochs at lr 3e-3 on 60 games, the epoch-15 start of the cycle
#: search in docs/results.md), then an aggressive GRPO (Dr. GRPO scaling, penalty 0.05, lr 6e-4 x 2 epochs x
#: 2 minibatches: lr x optimizer steps per batch is the knob that brings an eruption forward) with SEAL 0.02.
DEMO_SETTINGS: dict[str, Any] = {
    "model": "tiny",
    "env": "textworld-cooking",
    "env_settings": {"recipe": 1, "take": 1, "go": 1, "open": True, "cook": False, "cut": False},
    "seed": 0,
    "game_seed_start": 0,
    "game_pool_size": 60,
    "group_size": 8,
    "games_per_step": 4,
    "max_turns": 12,
    "max_new_tokens": 40,
    "algorithm": "grpo",
    "adv_scale": "none",
    "invalid_action_penalty": 0.05,
    "lr": 6.0e-4,
    "epochs": 2,
    "minibatches": 2,
    "seal": {"coef": 0.02},
    "checkpoint_every": 25,
    "samples_every": 10,
    "torch_threads": 1,
    "instruments": {"enabled": True, "every": 5, "max_samples": 32},
    "phase": {"enabled": True, "on_eruption": ["samples", "checkpoint"]},
    "sft": {"epochs": 15, "lr": 3.0e-3, "batch_size": 32, "n_games": 60, "eval_games": 0},
}
#: GRPO steps of the demo: a fixed number, so every run tells the same story (``--steps`` changes it). 12 steps
#: keep the whole demo, game generation included, under 5 minutes on 2 idle cores (4 min 19 s measured) and hold
#: the eruption at step 5; 30 steps show it keep rising (8.9 min).
DEMO_STEPS = 12


@dataclass
class DemoResult:
    """Where the demo wrote its outputs and what it saw."""

    out_dir: str
    sft_model: str
    log: str
    report: str
    steps: int
    minutes: float
    phases: list[dict[str, Any]] = field(default_factory=list)
    final: dict[str, float] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)
    """What happened, in plain words (one sentence a line): eruption, success, repetition."""
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def settings_overrides(settings: Mapping[str, Any], prefix: str = "") -> list[str]:
    """``{"a": {"b": 1}}`` -> ``["a.b=1"]`` (JSON values, which YAML reads), the form ``load_config`` takes."""
    items: list[str] = []
    for key, value in settings.items():
        if isinstance(value, Mapping) and key not in ("env_settings", "detector"):
            items += settings_overrides(value, f"{prefix}{key}.")
        else:
            items.append(f"{prefix}{key}={json.dumps(value)}")
    return items


def demo_configs(out: Path, steps: int, overrides: Sequence[str] = ()) -> tuple[TrainConfig, TrainConfig]:
    """(SFT config, GRPO config) of a demo of ``steps`` GRPO steps writing under ``out``; ``overrides`` are
    ``key=value`` strings."""
    base = [*settings_overrides(DEMO_SETTINGS), *overrides]
    sft = load_config(None, [*base, f"output_dir={out / 'sft'}"])
    rl = load_config(None, [*base, f"output_dir={out / 'train'}", f"init_from={out / 'sft' / 'model'}",
                            f"steps={steps}"])
    return sft, rl


def demo_game_seeds(sft: TrainConfig) -> list[int]:
    """Every game an SFT run and the RL run after it play: the SFT games, the RL pool and the SFT's held-out
    evaluation games."""
    pool = range(sft.game_seed_start, sft.game_seed_start + max(sft.game_pool_size, sft.sft.n_games))
    eval_start = pool.stop
    return [*pool, *range(eval_start, eval_start + sft.sft.eval_games)]


class TimeBudget(Callback):
    """Asks the loop to stop once ``minutes`` of wall time have passed since the run started."""

    def __init__(self, minutes: float) -> None:
        self.seconds = 60.0 * minutes
        self.started = math.inf

    def on_train_start(self, state: TrainState, header: Mapping[str, Any]) -> None:
        self.started = time.monotonic()

    def on_step_end(self, state: TrainState, metrics: dict[str, float]) -> set[str]:
        if time.monotonic() - self.started < self.seconds:
            return set()
        state.emit("time_budget", minutes=self.seconds / 60.0)
        return {"stop"}


class _LastMetrics(Callback):
    def __init__(self) -> None:
        self.metrics: dict[str, float] = {}

    def on_step_end(self, state: TrainState, metrics: dict[str, float]) -> None:
        self.metrics = dict(metrics)


def run_demo(
    out: str | Path = "runs/demo",
    steps: int = DEMO_STEPS,
    minutes: float | None = None,
    overrides: Sequence[str] = (),
    progress: bool = True,
    echo: Callable[[str], None] | None = print_above_progress,
) -> DemoResult:
    """Run the demo into ``out`` (see the module docstring): ``steps`` GRPO steps, or fewer if ``minutes``
    (an optional wall-time cap on the GRPO part) run out first."""
    if steps < 1:
        raise ConfigError(f"demo: --steps must be >= 1, got {steps}")
    if minutes is not None and not minutes > 0:
        raise ConfigError(f"demo: --minutes must be > 0, got {minutes}")
    out = Path(out)
    if (out / "sft" / "metrics.jsonl").exists() or (out / "train" / "metrics.jsonl").exists():
        raise ConfigError(f"{out} already holds a demo run: choose another --out")
    sft_cfg, rl_cfg = demo_configs(out, steps, overrides)
    quiet_libraries()
    from entropy_dynamics.logs import read_runs
    from entropy_dynamics.report import render_report
    from entropy_dynamics.train.run.loop import train
    from entropy_dynamics.train.sft import run_sft

    say = echo or (lambda line: None)
    seconds: dict[str, float] = {}
    clock = time.monotonic()

    seeds = demo_game_seeds(sft_cfg)
    say(f"[demo] 1/4 {len(seeds)} {sft_cfg.env} games (generated once, then cached)")
    prepare_games(sft_cfg.env, sft_cfg.env_settings, seeds, progress=progress)
    seconds["games"], clock = time.monotonic() - clock, time.monotonic()

    say(f"[demo] 2/4 SFT warm start of the {sft_cfg.model} preset on {sft_cfg.sft.n_games} games, "
        f"{sft_cfg.sft.epochs} epochs")
    run_sft(sft_cfg, callbacks=[ProgressBar("sft", sft_cfg.sft.epochs, unit="epoch")] if progress else [])
    seconds["sft"], clock = time.monotonic() - clock, time.monotonic()

    say(f"[demo] 3/4 {rl_cfg.algorithm.upper()}+SEAL({rl_cfg.seal.coef:g}) with live phase detection, {steps} steps"
        + (f" (at most {minutes:g} min)" if minutes is not None else ""))
    last = _LastMetrics()
    callbacks: list[Callback] = [last]  # the instruments and live detection come from rl_cfg, as for `train`
    if minutes is not None:
        callbacks.append(TimeBudget(minutes))
    if progress:
        callbacks.append(ProgressBar("grpo", steps))
    state = train(rl_cfg, callbacks=callbacks, echo=echo)
    seconds["grpo"], clock = time.monotonic() - clock, time.monotonic()

    say("[demo] 4/4 analysis and report")
    log = Path(rl_cfg.output_dir) / "metrics.jsonl"
    runs = read_runs(log, format="jsonl")
    report = render_report(runs, out / "report.html", title="entropy-dynamics demo")
    seconds["report"] = time.monotonic() - clock
    final = {k: last.metrics[k] for k in ("reward/mean", "env/success_rate", "policy/entropy") if k in last.metrics}
    phases = [{k: e[k] for k in ("phase", "start_step", "confirmed_at_step")}
              for e in runs[0].events if e.get("event") == "phase"]
    return DemoResult(out_dir=str(out), sft_model=str(out / "sft" / "model"), log=str(log), report=str(report),
                      steps=state.step, minutes=seconds["grpo"] / 60.0, phases=phases, final=final,
                      summary=plain_summary(runs[0]), stage_seconds={k: round(v, 1) for k, v in seconds.items()})


def quiet_libraries() -> None:
    """No "Loading weights" / "Writing model shards" bars or info lines from transformers: the demo shows
    its own progress."""
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def prepare_games(env: str, settings: Mapping[str, Any], seeds: Sequence[int], progress: bool = True,
                  workers: int = 2) -> None:
    """Generate (or find in the cache) the games ``seeds`` of ``env``, ``workers`` at a time, with a bar."""
    from concurrent.futures import ProcessPoolExecutor

    from tqdm.auto import tqdm

    from entropy_dynamics.envs import make_env
    from entropy_dynamics.envs.textworld_games import ensure_game

    game = make_env(env, **settings)
    if not hasattr(game, "challenge"):  # not a generated TextWorld game: nothing to prepare
        return
    args = (game.challenge, game.game_settings)
    with ProcessPoolExecutor(max_workers=workers) as pool, tqdm(
            total=len(seeds), desc="games", unit="game", disable=not progress, dynamic_ncols=True) as bar:
        for _ in pool.map(ensure_game, *zip(*[(*args, seed, game.cache_dir) for seed in seeds], strict=True)):
            bar.update()


def plain_summary(run: Any) -> list[str]:
    """What the run did, in plain words: the largest eruption (onset, size, how fast, whether it subsided),
    success from the start to the end, and 5-gram repetition (the paper's degeneration signal)."""
    from entropy_dynamics.analysis import analyze_run

    analysis = analyze_run(run, None)
    lines = []
    if analysis.cycles:
        big = max(analysis.cycles, key=lambda c: c.amplitude_ratio)
        rise = "" if big.rise_steps is None else f" in {big.rise_steps} step{'' if big.rise_steps == 1 else 's'}"
        after = (f"subsided by step {big.subsidence_end_step}" if big.subsidence_end_step is not None
                 else "not subsided by the end")
        n = len(analysis.cycles)
        count = f" (the largest of {n} eruptions)" if n > 1 else ""
        lines.append(f"entropy erupted at step {big.eruption_start_step}: x{big.amplitude_ratio:.1f}{rise}, "
                     f"from {big.base_value:.2f} to {big.peak_value:.2f} nats; {after}{count}")
    else:
        shape = ", ".join(f"{s.phase} {s.start_step}-{s.end_step}" for s in analysis.segments) or "no phases"
        lines.append(f"no eruption in {analysis.n_points} steps (entropy phases: {shape})")
    lines += [line for line in (_start_to_end(run, "env/success_rate", "success", "{:.2f}"),
                                _start_to_end(run, "reward/mean", "reward", "{:.3f}"),
                                _start_to_end(run, "policy/entropy", "entropy", "{:.2f}"),
                                _start_to_end(run, "degen/rep5_ratio", "5-gram repetition", "{:.3f}")) if line]
    return lines


#: Points averaged for "at the start" and "at the end" (single steps are noisy).
ENDS = 5


def _start_to_end(run: Any, metric: str, name: str, fmt: str) -> str | None:
    if metric not in run.metrics:
        return None
    values = run.metrics[metric].dropna()
    if len(values) < 2:
        return None
    n = min(ENDS, len(values) // 2)
    start, end, peak = float(values.iloc[:n].mean()), float(values.iloc[-n:].mean()), float(values.max())
    line = f"{name} {fmt.format(start)} -> {fmt.format(end)} (first -> last {n} steps"
    if start > 0 and end / start >= 1.5:
        line += f"; x{end / start:.1f}, still up at the end"
    elif peak > max(start, end) * 1.5 and peak > 0:
        line += f"; peaked at {fmt.format(peak)} on the way"
    return line + ")"
