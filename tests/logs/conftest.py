"""Session fixture: a W&B offline folder written by wandb itself (in a subprocess, so no wandb
service outlives it)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

WANDB_SCRIPT = textwrap.dedent("""
    import sys, wandb
    root = sys.argv[1]
    run = wandb.init(project="probe", name="grpo-a", mode="offline", dir=root,
                     config={"lr": 1e-5, "group_size": 8, "seal": {"coef": 0.02}})
    for step in range(1, 301):
        wandb.log({"actor/entropy": 1.0 / step, "critic/score/mean": step * 0.01, "note": "text"}, step=step)
    wandb.log({"val/acc": float("nan")}, step=301)
    wandb.finish()
    run = wandb.init(project="probe", name="grpo-b", mode="offline", dir=root, config={"lr": 2e-5})
    for step in range(0, 50):
        wandb.log({"train/entropy": 0.5, "big": "x" * 70000 if step == 10 else 1.0}, step=step)
    wandb.finish()
""")


@pytest.fixture(scope="session")
def wandb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``<tmp>/wandb`` holding two offline runs: grpo-a (steps 1..301, config) and grpo-b (0..49, one
    70 KB string value spanning several 32 KiB blocks)."""
    root = tmp_path_factory.mktemp("wandb_runs")
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true"}
    subprocess.run(
        [sys.executable, "-c", WANDB_SCRIPT, str(root)], check=True, env=env, timeout=120, capture_output=True
    )
    return root / "wandb"
