"""``entropy-dynamics demo``: the README's main job on the embedded default, end to end on a CPU.

1. SFT warm start of the `tiny` preset on TextWorld cooking expert demonstrations (games generated and
   cached on first use);
2. GRPO + SEAL from that model with every instrument and live phase detection, from the config's
   ``instruments`` and ``phase`` sections as for ``entropy-dynamics train`` (phase events in the log and on the
   console, samples and a checkpoint at an eruption),
   for ``minutes`` of wall time or ``steps`` steps, with a progress bar (step, reward, entropy, phase);
3. the HTML report of the run (:func:`entropy_dynamics.report.render_report`).

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
from entropy_dynamics.train.callbacks import Callback, TrainState
from entropy_dynamics.train.config import TrainConfig
from entropy_dynamics.train.config_io import load_config
from entropy_dynamics.train.progress import ProgressBar, print_above_progress

#: The embedded default (mirrored by configs/demo.yaml): the tiny preset on one-room cooking games, an SFT
#: warm start that leaves room to learn, then an aggressive GRPO (Dr. GRPO scaling, 2 epochs at lr 5e-4:
#: the knob that brings an eruption forward, shared/research/feasibility.md section 7.5) with SEAL 0.02.
DEMO_SETTINGS: dict[str, Any] = {
    "model": "tiny",
    "env": "textworld-cooking",
    "env_settings": {"recipe": 1, "take": 1, "go": 1, "open": True, "cook": False, "cut": False},
    "seed": 0,
    "game_seed_start": 0,
    "game_pool_size": 40,
    "group_size": 8,
    "games_per_step": 2,
    "max_turns": 12,
    "max_new_tokens": 40,
    "algorithm": "grpo",
    "adv_scale": "none",
    "invalid_action_penalty": 0.02,
    "lr": 5.0e-4,
    "epochs": 2,
    "minibatches": 2,
    "seal": {"coef": 0.02},
    "checkpoint_every": 25,
    "samples_every": 10,
    "torch_threads": 1,
    "instruments": {"enabled": True, "every": 5, "max_samples": 32},
    "phase": {"enabled": True, "on_eruption": ["samples", "checkpoint"]},
    "sft": {"epochs": 16, "lr": 2.0e-3, "batch_size": 32, "n_games": 40, "eval_games": 8, "eval_every": 4},
}
#: Steps when only a time budget bounds the run.
UNBOUNDED_STEPS = 100_000


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


def demo_configs(out: Path, steps: int | None, overrides: Sequence[str] = ()) -> tuple[TrainConfig, TrainConfig]:
    """(SFT config, GRPO config) of a demo writing under ``out``; ``overrides`` are ``key=value`` strings.

    Without ``steps`` (a time-bounded run) the detector judges a rise against the steps seen so far."""
    base = [*settings_overrides(DEMO_SETTINGS), *overrides]
    sft = load_config(None, [*base, f"output_dir={out / 'sft'}"])
    length = [f"steps={steps}"] if steps is not None else [f"steps={UNBOUNDED_STEPS}", "phase.total_steps=null"]
    rl = load_config(None, [*base, f"output_dir={out / 'train'}", f"init_from={out / 'sft' / 'model'}", *length])
    return sft, rl


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
    minutes: float | None = 5.0,
    steps: int | None = None,
    overrides: Sequence[str] = (),
    progress: bool = True,
    echo: Callable[[str], None] | None = print_above_progress,
) -> DemoResult:
    """Run the demo into ``out`` (see the module docstring); GRPO stops after ``minutes`` or ``steps``,
    whichever comes first (at least one of them must be given)."""
    if minutes is None and steps is None:
        raise ConfigError("demo: give --minutes or --steps (or both)")
    if minutes is not None and not minutes > 0:
        raise ConfigError(f"demo: --minutes must be > 0, got {minutes}")
    if steps is not None and steps < 1:
        raise ConfigError(f"demo: --steps must be >= 1, got {steps}")
    out = Path(out)
    if (out / "sft" / "metrics.jsonl").exists() or (out / "train" / "metrics.jsonl").exists():
        raise ConfigError(f"{out} already holds a demo run: choose another --out")
    sft_cfg, rl_cfg = demo_configs(out, steps, overrides)
    from entropy_dynamics.logs import read_runs
    from entropy_dynamics.report import render_report
    from entropy_dynamics.train.loop import train
    from entropy_dynamics.train.sft import run_sft

    say = echo or (lambda line: None)

    say(f"[demo] 1/3 SFT warm start of the {sft_cfg.model} preset on {sft_cfg.sft.n_games} {sft_cfg.env} games")
    run_sft(sft_cfg, callbacks=[ProgressBar("sft", sft_cfg.sft.epochs)] if progress else [])

    say(f"[demo] 2/3 {rl_cfg.algorithm.upper()}+SEAL({rl_cfg.seal.coef:g}) with live phase detection, "
        + (f"{minutes:g} min" if minutes is not None else "") + (" / " if minutes and steps else "")
        + (f"{steps} steps" if steps is not None else ""))
    last = _LastMetrics()
    callbacks: list[Callback] = [last]  # the instruments and live detection come from rl_cfg, as for `train`
    if minutes is not None:
        callbacks.append(TimeBudget(minutes))
    if progress:
        callbacks.append(ProgressBar("grpo", steps))
    started = time.monotonic()
    state = train(rl_cfg, callbacks=callbacks, echo=echo)
    elapsed = (time.monotonic() - started) / 60.0

    say("[demo] 3/3 report")
    log = Path(rl_cfg.output_dir) / "metrics.jsonl"
    runs = read_runs(log, format="jsonl")
    report = render_report(runs, out / "report.html", title="entropy-dynamics demo")
    final = {k: last.metrics[k] for k in ("reward/mean", "env/success_rate", "policy/entropy") if k in last.metrics}
    phases = [{k: e[k] for k in ("phase", "start_step", "confirmed_at_step")}
              for e in runs[0].events if e.get("event") == "phase"]
    return DemoResult(out_dir=str(out), sft_model=str(out / "sft" / "model"), log=str(log), report=str(report),
                      steps=state.step, minutes=elapsed, phases=phases, final=final)
