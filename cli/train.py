"""``entropy-dynamics sft`` and ``entropy-dynamics train``: parse arguments, run the library, show progress."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.common import emit_json, err, out
from entropy_dynamics.train.callbacks import Callback


def register(app: typer.Typer) -> None:
    app.command("sft")(sft)
    app.command("train")(train)


class ProgressBar(Callback):
    """A rich progress bar on stderr: step, reward, entropy (and success) after every step."""

    def __init__(self, label: str, keys: tuple[str, ...]) -> None:
        self.label, self.keys = label, keys
        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=err, transient=False)
        self.task = None

    def on_train_start(self, state, header) -> None:
        self.progress.start()
        self.task = self.progress.add_task(self.label, total=state.total_steps, completed=state.step, info="")

    def on_step_end(self, state, metrics: dict[str, float]) -> None:
        info = "  ".join(f"{k.split('/')[-1]} {_fmt(metrics[k])}" for k in self.keys if k in metrics)
        self.progress.update(self.task, completed=state.step, info=info)

    def on_train_end(self, state) -> None:
        self.progress.stop()


def _fmt(value: Any) -> str:
    return "nan" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3g}"


def _config(config: Path | None, overrides: list[str] | None):
    from entropy_dynamics.train.config_io import load_config

    return load_config(config, overrides or [])


def _summary(state, kind: str) -> dict[str, Any]:
    return {"command": kind, "run": state.run_name, "output_dir": str(state.output_dir), "last_step": state.step,
            "log": str(state.output_dir / "metrics.jsonl"), "model": str(state.output_dir / "model")}


def _finish(payload: dict[str, Any], format: str, out_file: Path | None) -> None:
    if format == "json":
        emit_json(payload, out_file)
    else:
        out.print(f"{payload['command']}: {payload['last_step']} steps; log {payload['log']}; model {payload['model']}",
                  markup=False, highlight=False)


ConfigArg = Annotated[Path | None, typer.Argument(help="YAML config (optional: defaults apply without it).")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override a key: --set lr=1e-4 --set seal.coef=0.02")]
FormatOpt = Annotated[str, typer.Option("--format", help="Output: text or json.")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Write the JSON summary to a file.")]


def sft(config: ConfigArg = None, set_: SetOpt = None, format: FormatOpt = "text", out_file: OutOpt = None) -> None:
    """SFT warm start on the environment's expert demonstrations; writes OUTPUT_DIR/model for `init_from`."""
    from entropy_dynamics.train.sft import run_sft

    cfg = _config(config, set_)
    state = run_sft(cfg, callbacks=[ProgressBar("sft", ("loss/sft", "eval/success_rate"))])
    _finish(_summary(state, "sft"), format, out_file)


def train(
    config: ConfigArg = None,
    set_: SetOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from OUTPUT_DIR/checkpoint.")] = False,
    format: FormatOpt = "text",
    out_file: OutOpt = None,
) -> None:
    """RL training (GRPO family, PPO, optional SEAL) with a JSONL log, checkpoints and --resume."""
    from entropy_dynamics.train.loop import train as run_train

    cfg = _config(config, set_)
    bar = ProgressBar("train", ("reward/mean", "env/success_rate", "policy/entropy"))
    state = run_train(cfg, resume=resume, callbacks=[bar])
    _finish(_summary(state, "train"), format, out_file)
