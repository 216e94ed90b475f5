"""``entropy-dynamics envs``: list the environments, play one (a person or the expert), write expert demos."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from entropy_dynamics.cli.common import emit_json, err, fail, out
from entropy_dynamics.cli.tables import Column, fitted_table
from entropy_dynamics.envs import expert_demos, list_envs, make_env
from entropy_dynamics.envs.base import EnvReset
from entropy_dynamics.envs.episode import Policy, Turn, expert_policy, run_episode
from entropy_dynamics.envs.registry import parse_settings

envs_app = typer.Typer(help="Agent environments: list, play, expert demonstrations.", no_args_is_help=True)

SetOption = Annotated[list[str] | None, typer.Option("--set", help="Environment setting key=value (repeatable).")]


def register(app: typer.Typer) -> None:
    app.add_typer(envs_app, name="envs")


@envs_app.command("list")
def list_command(
    format: Annotated[str, typer.Option("--format", help="Output: table or json.")] = "table",
) -> None:
    """Every environment name, what it is, and its default settings."""
    if format not in ("table", "json"):
        fail(f"--format must be table or json, not {format!r}")
    specs = list_envs()
    if format == "json":
        emit_json({"envs": [{"name": s.name, "description": s.description, "default_settings":
                             s.default_settings} for s in specs]})
        return
    rows = [[spec.name, spec.description, ", ".join(f"{k}={json.dumps(v)}" for k, v in spec.default_settings.items())]
            for spec in specs]
    table = fitted_table([Column("name"), Column("description", wrap=True), Column("default settings", wrap=True)],
                         rows, out.width)
    table.show_lines = True
    out.print(table)


@envs_app.command("play")
def play_command(
    env_name: Annotated[str, typer.Argument(metavar="ENV", help="An environment name from `envs list`.")],
    seed: Annotated[int, typer.Option("--seed", help="Game seed.")] = 0,
    expert: Annotated[bool, typer.Option("--expert", help="Play the expert's actions and print them.")] = False,
    format: Annotated[str, typer.Option("--format", help="text, or json for the episode summary.")] = "text",
    settings: SetOption = None,
) -> None:
    """Play a game in the terminal: read each observation, type an action (Ctrl-D stops).

    With --format json the game text goes to stderr and stdout gets one summary object.
    """
    if format not in ("text", "json"):
        fail(f"--format must be text or json, not {format!r}")
    console = err if format == "json" else out
    env = make_env(env_name, **parse_settings(settings or []))

    def show_turn(turn: Turn, info: dict[str, Any]) -> None:
        flag = " (blocked)" if turn.blocked else "" if turn.valid else " (not admissible)"
        if expert:  # a person already sees what they typed
            console.print(f"> {turn.action}{flag}", style="bold", markup=False, highlight=False)
        elif flag:
            console.print(f"[{flag.strip(' ()')}]", style="yellow", markup=False, highlight=False)
        console.print(turn.observation, markup=False, highlight=False)
        console.print(f"[reward {turn.reward:g}, score {info['score']}/{info['max_score']}]",
                      style="dim", markup=False, highlight=False)
        if not expert:
            _show_actions(console, info)

    def make_policy(first: EnvReset) -> Policy:
        console.print(f"Task: {first.info['task']}", style="bold", markup=False, highlight=False)
        console.print(first.observation, markup=False, highlight=False)
        if expert:
            return expert_policy(first)
        _show_actions(console, first.info)
        return _read_action(console)

    try:
        episode = run_episode(env, seed, make_policy, on_turn=show_turn)
    finally:
        env.close()
    summary = episode.summary()
    if format == "json":
        emit_json(summary)
    else:
        result = "won" if summary["won"] else "lost" if summary["lost"] else "not finished"
        out.print(f"{result}: score {summary['score']}/{summary['max_score']} in {summary['steps']} steps, "
                  f"{summary['invalid_actions']} invalid", markup=False, highlight=False)


@envs_app.command("demos")
def demos_command(
    env_name: Annotated[str, typer.Argument(metavar="ENV", help="An environment name from `envs list`.")],
    n: Annotated[int, typer.Option("--n", help="Number of games.")] = 10,
    out_file: Annotated[Path, typer.Option("--out", help="JSONL file to write (one record per turn).")] = Path(
        "demos.jsonl"),
    seed_start: Annotated[int, typer.Option("--seed-start", help="First game seed.")] = 0,
    history_length: Annotated[int, typer.Option("--history-length", help="Turns of history per prompt.")] = 2,
    settings: SetOption = None,
) -> None:
    """Expert demonstrations in the trainer's prompt/reply format, for the SFT warm start."""
    env_settings = parse_settings(settings or [])
    make_env(env_name, **env_settings).close()  # bad names, settings or missing data fail before the bar
    wins = 0
    # Off when stderr is not a terminal: rich ends a bar there with a blank line, before any error line.
    with Progress(TextColumn("games"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("games", total=n)

        def on_game(_seed: int, won: bool) -> None:
            nonlocal wins
            wins += won
            progress.advance(task)

        records = expert_demos(env_name, n, seed_start=seed_start, history_length=history_length,
                               on_game=on_game, **env_settings)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with out_file.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    err.print(f"{len(records)} turns from {wins}/{n} won games -> {out_file}", markup=False, highlight=False)


def _show_actions(console: Any, info: dict[str, Any]) -> None:
    console.print("Actions: " + ", ".join(info["admissible_actions"]), style="cyan", markup=False,
                  highlight=False)


def _read_action(console: Any) -> Policy:
    def act(_observation: str, _info: dict[str, Any]) -> str | None:
        console.print("> ", end="", markup=False)
        line = sys.stdin.readline()
        return line.strip() if line else None

    return act
