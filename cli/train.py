"""``entropy-dynamics sft`` and ``entropy-dynamics train``: parse arguments, run the library, show progress."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from entropy_dynamics.cli.common import emit_json, fail, out


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

    return load_config(config, overrides or [])  # a binary or UTF-16 file is a one-line ConfigError there


def _check_init(config: Path | None, cfg) -> None:
    """An ``init_from`` that does not exist yet is one line naming the command that writes it: the ``sft``
    config beside ``config`` whose ``output_dir`` holds it (as the shipped configs are laid out)."""
    if not cfg.init_from or Path(cfg.init_from).is_dir():
        return
    init = Path(cfg.init_from)
    maker = _sft_config_writing(init, config.parent if config is not None else Path("configs"))
    how = (f"entropy-dynamics sft {maker}" if maker is not None
           else f"entropy-dynamics sft CONFIG --set output_dir={init.parent}")
    fail(f"init_from {init} does not exist yet: make this SFT start first with `{how}`")


def _sft_config_writing(init: Path, folder: Path) -> Path | None:
    """The YAML config in ``folder`` (or its parent) whose SFT run writes ``init`` (``OUTPUT_DIR/model`` or,
    with ``sft.export_every_eval``, ``OUTPUT_DIR/model_epNN``)."""
    import yaml

    for candidate in sorted({*folder.glob("*.yaml"), *folder.parent.glob("*.yaml")}):
        try:
            settings = yaml.safe_load(candidate.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if (isinstance(settings, dict) and "sft" in settings and "init_from" not in settings
                and settings.get("output_dir") and Path(settings["output_dir"]) == init.parent):
            return candidate
    return None


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
SetOpt = Annotated[list[str] | None, typer.Option("--set", metavar="KEY=VALUE",
                                                  help="Override a key: --set lr=1e-4 --set seal.coef=0.02")]
FormatOpt = Annotated[str, typer.Option("--format", help="Output: text or json.")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Write the JSON summary to a file.")]


def sft(config: ConfigArg = None, set_: SetOpt = None, format: FormatOpt = "text", out_file: OutOpt = None) -> None:
    """SFT warm start on the environment's expert demonstrations; writes OUTPUT_DIR/model for `init_from`."""
    from entropy_dynamics.train.run.progress import ProgressBar
    from entropy_dynamics.train.sft import run_sft
    from entropy_dynamics.workflows.demo import demo_game_seeds, prepare_games

    cfg = _config(config, set_)
    _stop_on_sigterm()
    prepare_games(cfg.env, cfg.env_settings, demo_game_seeds(cfg))  # generated (or cached) with a progress bar
    state = run_sft(cfg, callbacks=[ProgressBar("sft", unit="epoch")])
    _finish(_summary(state, "sft"), format, out_file)


def train(
    config: ConfigArg = None,
    set_: SetOpt = None,
    steps: Annotated[int | None, typer.Option("--steps", min=1, help="RL steps to train (the config's `steps`; "
                                              "with --resume, the new total).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from OUTPUT_DIR/checkpoint.")] = False,
    format: FormatOpt = "text",
    out_file: OutOpt = None,
) -> None:
    """RL training (GRPO family, PPO, optional SEAL) with a JSONL log, checkpoints and --resume; the
    instruments and live phase detection of the config's `instruments` and `phase` sections (on by default)."""
    from entropy_dynamics.train.run.distributed import is_main_process
    from entropy_dynamics.train.run.loop import train as run_train
    from entropy_dynamics.train.run.progress import ProgressBar

    cfg = _config(config, [*(set_ or []), *([f"steps={steps}"] if steps is not None else [])])
    _check_init(config, cfg)
    _stop_on_sigterm()
    state = run_train(cfg, resume=resume, callbacks=[ProgressBar("train")])
    if is_main_process():  # under `accelerate launch` / torchrun only rank 0 reports
        _finish({**_summary(state, "train"), "phase": state.extra.get("phase")}, format, out_file)
