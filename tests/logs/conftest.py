"""Fixtures that write real logs: a W&B offline folder (written by wandb itself, in a subprocess so
no wandb service outlives it) and TensorBoard event files (tensorboard's own writer)."""

from __future__ import annotations

import json
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


def write_events(folder: Path, points: dict[str, list[tuple[int, float]]], *, tensor_style: bool = False) -> Path:
    """Write one TensorBoard event file in ``folder`` with ``{tag: [(step, value), ...]}``."""
    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(folder))
    for tag, series in points.items():
        for step, value in series:
            if tensor_style:
                tensor = tensor_pb2.TensorProto(
                    dtype=1, tensor_shape=tensor_shape_pb2.TensorShapeProto(), float_val=[value]
                )
                meta = summary_pb2.SummaryMetadata(
                    plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
                )
                summary_value = summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=meta)
            else:
                summary_value = summary_pb2.Summary.Value(tag=tag, simple_value=value)
            writer.add_event(
                event_pb2.Event(wall_time=1.0, step=step, summary=summary_pb2.Summary(value=[summary_value]))
            )
    writer.close()
    return next(folder.glob("*tfevents*"))


def write_trainer_state(folder: Path, log_history: list[dict], **fields: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "trainer_state.json"
    path.write_text(
        json.dumps(
            {"global_step": 3, "max_steps": 3, "logging_steps": 1, **fields, "log_history": log_history}, indent=2
        )
    )
    return path
