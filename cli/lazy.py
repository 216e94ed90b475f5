"""Commands loaded on first use, so ``--help`` and ``--version`` start without numpy, scipy, plotly or torch.

The root group knows each command's module and one-line summary; a command's module (and whatever it imports)
is imported only when that command runs or its own ``--help`` is asked for.
"""

from __future__ import annotations

import importlib

import typer
from typer._click import Command, Context, HelpFormatter
from typer.core import TyperCommand, TyperGroup

PACKAGE = "entropy_dynamics.cli"

#: command -> (module defining ``register(app)``, the summary shown in ``entropy-dynamics --help``).
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (f"{PACKAGE}.demo",
              "Train a tiny TextWorld agent (SFT, GRPO+SEAL) and watch its entropy erupt; writes a report."),
    "inspect": (f"{PACKAGE}.inspect_cmd",
              "What a log holds: runs, readers, step ranges, points per metric."),
    "analyze": (f"{PACKAGE}.analyze",
              "Segment each run's entropy into phases (descent, eruption, subsidence...) and cycles."),
    "report": (f"{PACKAGE}.report",
              "One self-contained HTML report of a run: phases, cycles, metric panels, samples."),
    "compare": (f"{PACKAGE}.report",
              "Runs side by side in one HTML page (e.g. GRPO vs GRPO+SEAL, seeds)."),
    "watch": (f"{PACKAGE}.watch",
              "Print phase transitions as the online detector confirms them (live or replayed)."),
    "pull": (f"{PACKAGE}.pull",
              "Save the complete W&B history of a run or a project as JSONL."),
    "sft": (f"{PACKAGE}.train",
              "SFT warm start on the environment's expert demonstrations."),
    "train": (f"{PACKAGE}.train",
              "RL training (GRPO family, PPO, optional SEAL) with live phase detection."),
    "sweep": (f"{PACKAGE}.sweep",
              "A resumable grid of training runs (arms x seeds), summarised per arm."),
    "envs": (f"{PACKAGE}.envs",
              "Agent environments: list, play, expert demonstrations."),
}


class LazyCommandGroup(TyperGroup):
    """A typer group whose commands are imported on first use; listing them imports nothing."""

    _listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        module, summary = COMMANDS[cmd_name]
        if self._listing:  # the root --help: the summary is all it shows
            return TyperCommand(cmd_name, short_help=summary, help=summary)
        command = load_command(module, cmd_name)
        command.short_help = summary
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def load_command(module: str, name: str) -> Command:
    """The click command ``name`` that ``module.register(app)`` defines (flags shown without a ``<bool>`` type)."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.callback()(lambda: None)  # always a group, so a module with one command is looked up by name too
    importlib.import_module(module).register(app)
    command = typer.main.get_group(app).commands[name]
    return plain_flags(command)


def plain_flags(command: Command) -> Command:
    """Typer labels on/off flags ``<bool>`` in the help; a flag takes no value, so it gets no label (its own
    options, ``--help`` included, and those of its sub-commands)."""
    help_option = command.get_help_option(Context(command))  # created once and cached by the command
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        plain_flags(sub)
    return command
