"""Helpers that write real log files for the reader tests (tensorboard's own event writer, HF Trainer state)."""

from __future__ import annotations

import json
from pathlib import Path


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
