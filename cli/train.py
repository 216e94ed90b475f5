"""``entropy-dynamics sft`` and ``entropy-dynamics train``: parse arguments, run the library, show progress."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from entropy_dynamics.cli.common import emit_json, out


def register(app: typer.Typer) -> None:
    app.command("sft")(sft)
    app.command("train")(train)


def _stop_on_sigterm() -> None:
    """Treat SIGTERM (``kill``, a batch scheduler) like Ctrl-C: the loop's ``finally`` closes the log and W&B."""

    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)


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
    from entropy_dynamics.train.run.progress import ProgressBar
    from entropy_dynamics.train.sft import run_sft

    cfg = _config(config, set_)
    _stop_on_sigterm()
    state = run_sft(cfg, callbacks=[ProgressBar("sft")])
    _finish(_summary(state, "sft"), format, out_file)


def train(
    config: ConfigArg = None,
    set_: SetOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from OUTPUT_DIR/checkpoint.")] = False,
    format: FormatOpt = "text",
    out_file: OutOpt = None,
) -> None:
    """RL training (GRPO family, PPO, optional SEAL) with a JSONL log, checkpoints and --resume; the
    instruments and live phase detection of the config's `instruments` and `phase` sections (on by default)."""
    from entropy_dynamics.train.run.distributed import is_main_process
    from entropy_dynamics.train.run.loop import train as run_train
    from entropy_dynamics.train.run.progress import ProgressBar

    cfg = _config(config, set_)
    _stop_on_sigterm()
    state = run_train(cfg, resume=resume, callbacks=[ProgressBar("train")])
    if is_main_process():  # under `accelerate launch` / torchrun only rank 0 reports
        _finish({**_summary(state, "train"), "phase": state.extra.get("phase")}, format, out_file)
