"""The command starts without the heavy stack: ``--help`` and ``--version`` import no numpy, pandas, scipy, plotly
or torch, and ``inspect`` no scipy, plotly or torch (speed figures: benchmarks/bench_cli_startup.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from entropy_dynamics.cli.lazy import COMMANDS, LazyCommandGroup, load_command

HEAVY = ("numpy", "pandas", "pyarrow", "scipy", "ruptures", "plotly", "jinja2", "torch", "transformers", "wandb",
         "tensorboard", "entropy_dynamics.logs", "entropy_dynamics.analysis", "entropy_dynamics.report")

CODE = """
import sys
from entropy_dynamics.cli.main import main
code = main(sys.argv[1:])
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print("imported:" + ",".join(heavy), file=sys.stderr)
sys.exit(code)
"""


def _imported(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", CODE.format(heavy=HEAVY), *args], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("imported:")
    return [m for m in line.removeprefix("imported:").split(",") if m]


@pytest.mark.parametrize("args", [["--version"], ["--help"], []])
def test_help_and_version_import_nothing_heavy(args):
    assert _imported(*args) == []


def test_inspect_imports_no_scipy_plotly_or_torch():
    log = Path(__file__).resolve().parents[2] / "sample_logs" / "grpo" / "metrics.jsonl"
    imported = _imported("inspect", str(log))
    assert "pandas" in imported  # the reader's table
    assert not {"scipy", "ruptures", "plotly", "torch", "transformers"} & set(imported)


def test_every_listed_command_loads_with_its_summary():
    group = LazyCommandGroup(name="entropy-dynamics")
    for name, (_, summary) in COMMANDS.items():
        command = group.get_command(None, name)
        assert command is not None and command.name == name
        assert command.short_help == summary and len(summary) <= 100
    assert load_command("entropy_dynamics.cli.report", "compare").name == "compare"


def test_help_shows_flags_without_a_type(capsys):
    from entropy_dynamics.cli.main import main

    assert main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--resume" in text and "--steps" in text
    assert "<bool>" not in text
