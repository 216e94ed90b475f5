"""TensorBoard event files: every scalar point (no EventAccumulator 10,000-point reservoir).

Records are framed and CRC-checked by :mod:`entropy_dynamics.logs.tfrecord` (which re-syncs after a
corrupt stretch and says what it skipped) and decoded with tensorboard's ``Event`` proto
(``benchmarks/bench_inspect.py`` compares the speed with tbparse). Scalars come as ``simple_value``
(TF1 / torch) or as 0-d tensors of the ``scalars`` plugin (TF2). Each folder holding event files is one run; several
files in one folder (restarts) are read in name order and later values win.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from google.protobuf.message import DecodeError
from tensorboard.compat.proto import event_pb2
from tensorboard.util import tensor_util

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs.checks import note_corruption, reject_record
from entropy_dynamics.logs.model import STEP_LIMIT, ReadStats, Run, frame_to_run
from entropy_dynamics.logs.tfrecord import read_records

EVENT_GLOB = "*tfevents*"
#: Marks a session restart among the scalar points (never a column of the run).
PURGE = "\x00purge"


def _drop_purged(points: pd.DataFrame) -> pd.DataFrame:
    """The points (in file, then event order) without the ones a later session restart purges (step >= its
    step), and without the restart markers; as TensorBoard shows a resumed run."""
    is_purge = (points["tag"] == PURGE).to_numpy()
    if not is_purge.any():
        return points
    steps = points["step"].to_numpy()
    purge_steps = np.where(is_purge, steps, np.iinfo("int64").max)
    later_min = np.minimum.accumulate(purge_steps[::-1])[::-1]  # smallest restart step at or after each point
    after = np.append(later_min[1:], np.iinfo("int64").max)
    return points.loc[~is_purge & (steps < after)]


def _scalars(path: Path, stats: ReadStats, strict: bool) -> tuple[list[int], list[str], list[float], list[int]]:
    """Steps, tags, values and event numbers (1-based) of every scalar in one event file. Corrupt
    stretches are skipped up to the next sound record and reported (``--strict``: an error).

    A session restart (``SessionLog.START`` at step s, what ``SummaryWriter(purge_step=s)`` writes on resume) is
    returned as a point of tag :data:`PURGE` at step s: TensorBoard drops the earlier points at steps >= s."""
    found = read_records(path.read_bytes())
    if not found.payloads:
        raise LogReadError(path, "not a TensorBoard event file (no record passes its CRC check)")
    for offset, size in found.skipped:
        event = sum(o < offset for o in found.offsets)
        message = f"corrupt data after event {event} (byte {offset}): {size} bytes skipped to the next sound record"
        note_corruption(path, stats, strict, message)
    if found.partial_tail:
        stats.warn_once(f"partial:{path}", f"{path}: last record incomplete ({found.partial_tail} bytes; still being "
                                           "written?); skipped")
    steps: list[int] = []
    tags: list[str] = []
    values: list[float] = []
    numbers: list[int] = []
    for number, raw in enumerate(found.payloads, start=1):
        try:
            event = event_pb2.Event.FromString(raw)
        except DecodeError:
            reject_record(path, stats, strict, f"event {number} does not decode", key=f"decode:{path}")
            continue
        if abs(event.step) >= STEP_LIMIT:
            reject_record(path, stats, strict, f"event {number}: step {event.step} does not fit (|step| >= 2^53: "
                          "not a training step)", key=f"bigstep:{path}")
            continue
        if event.HasField("session_log") and event.session_log.status == event_pb2.SessionLog.START:
            steps.append(event.step)
            tags.append(PURGE)
            values.append(0.0)
            numbers.append(number)
        for value in event.summary.value:
            kind = value.WhichOneof("value")
            if kind == "simple_value":
                scalar = float(value.simple_value)
            elif kind == "tensor" and value.metadata.plugin_data.plugin_name == "scalars":
                array = tensor_util.make_ndarray(value.tensor)
                if array.size != 1:
                    continue
                scalar = float(array.reshape(-1)[0])
            else:
                continue
            steps.append(event.step)
            tags.append(value.tag)
            values.append(scalar)
            numbers.append(number)
    return steps, tags, values, numbers


def read_event_folder(folder: Path, files: list[Path], name: str, strict: bool) -> Run:
    """One run from the event files of one folder."""
    stats = ReadStats()
    parts = []
    for f in files:
        steps, tags, values, numbers = _scalars(f, stats, strict)
        parts.append(
            pd.DataFrame(
                {
                    "step": np.asarray(steps, dtype="int64"),
                    "tag": tags,
                    "value": np.asarray(values, dtype="float64"),
                    "event": np.asarray(numbers, dtype="int64"),
                    "file": str(f),
                }
            )
        )
    points = _drop_purged(pd.concat(parts, ignore_index=True)).reset_index(drop=True)
    finite = np.isfinite(points["value"].to_numpy())
    running_max = points.groupby("tag", sort=False)["step"].cummax()
    previous_max = running_max.groupby(points["tag"], sort=False).shift(1)
    going_back = (points["step"] < previous_max).to_numpy()
    if strict:
        for mask, message in (
            (~finite, "non-finite value for {tag!r}"),
            (going_back, "step {step} of {tag!r} goes back"),
        ):
            if mask.any():
                row = points.loc[mask].iloc[0]
                raise LogReadError(
                    row["file"], message.format(tag=row["tag"], step=row["step"]) + f" (event {row['event']})"
                )
    stats.non_finite = int((~finite).sum())
    stats.backwards_steps = int(going_back.sum())
    repeats = points.duplicated(["tag", "step"], keep=False)
    stats.duplicate_steps = int(points.loc[repeats, "step"].nunique())
    if stats.duplicate_steps and strict:
        row = points.loc[repeats].iloc[-1]
        raise LogReadError(row["file"], f"step {row['step']} of {row['tag']!r} logged twice (event {row['event']})")
    for count, key, text in (
        (stats.non_finite, "values", "NaN/inf values left out"),
        (stats.duplicate_steps, "duplicates", "steps logged twice; later values win"),
    ):
        if count:
            stats.warn_once(key, f"{folder}: {count} {text}")
    points = points.loc[finite]
    frame = points.pivot_table(index="step", columns="tag", values="value", aggfunc="last", sort=True)
    frame.columns = [str(c) for c in frame.columns]
    frame = frame.astype("float64")
    return frame_to_run(
        name, str(folder), "tensorboard", frame, stats=stats, metadata={"event_files": [str(f) for f in files]}
    )


def find_event_folders(path: Path) -> dict[Path, list[Path]]:
    """``{folder: its event files}`` for a file or a log dir (searched recursively)."""
    if path.is_file():
        return {path.parent: [path]}
    folders: dict[Path, list[Path]] = {}
    for f in sorted(path.rglob(EVENT_GLOB)):
        if f.is_file():
            folders.setdefault(f.parent, []).append(f)
    return folders


def read_tensorboard(path: str | os.PathLike[str], strict: bool = False) -> list[Run]:
    """Every run under an event file or a TensorBoard log dir (one per folder holding event files)."""
    path = Path(path)
    folders = find_event_folders(path)
    if not folders:
        raise LogReadError(path, "no TensorBoard event files (*tfevents*) found")
    runs = []
    for folder, files in folders.items():
        relative = folder.relative_to(path).as_posix() if path.is_dir() and folder != path else ""
        name = relative or folder.name
        runs.append(read_event_folder(folder, files, name, strict))
    return runs
