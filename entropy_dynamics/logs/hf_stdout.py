"""HF Trainer / TRL console output: the ``{'loss': 0.12, 'reward': 0.5, ..., 'epoch': 0.01}`` lines that
``Trainer.log`` prints (a Python dict repr), amid progress bars and other output.

The step is the dict's ``step`` when it has one; else the count of the training progress bar
(``12/500 [``, the bar with the largest total) printed before the dict; else the number of the logging
call (warned: multiply by ``logging_steps``). Evaluation dicts (``eval_*`` keys) join the step of the
training dict before them; the final summary (``train_runtime``...) goes to metadata.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs.checks import RecordChecker, warn_counts
from entropy_dynamics.logs.model import ReadStats, Run, as_step, build_run
from entropy_dynamics.logs.text import sniff_encoding
from entropy_dynamics.logs.verl_console import parse_value

_DICT = re.compile(r"\{'[^{}\n]*\}")
_PAIR = re.compile(r"'((?:[^'\\]|\\.)*)':\s*('(?:[^'\\]|\\.)*'|[^,}]+)")
_BAR = re.compile(r"(\d{1,12})/(\d{1,12}) \[")
#: A probe for format detection: a logged dict with one of the keys every Trainer run prints.
SIGNATURE = re.compile(rb"\{'(?:loss|train_loss|reward|learning_rate|grad_norm|eval_loss|train_runtime)': ")
_SUMMARY_KEYS = ("train_runtime", "train_samples_per_second", "total_flos")


def parse_dict(text: str) -> dict[str, Any]:
    """``"{'loss': 0.5, 'lr': '1e-06', 'note': 'x'}"`` -> ``{"loss": 0.5, "lr": 1e-06, "note": "x"}``."""
    values: dict[str, Any] = {}
    for key, raw in _PAIR.findall(text):
        raw = raw.strip()
        if raw.startswith("'"):
            values[key] = parse_value(raw[1:-1])
        elif raw in ("None", "nan", "inf", "-inf"):
            values[key] = float("nan") if raw in ("None", "nan") else float(raw)
        else:
            values[key] = parse_value(raw)
    return values


def read_hf_stdout(path: str | os.PathLike[str], strict: bool = False) -> list[Run]:
    """One run from the console output of an HF Trainer / TRL run."""
    path = Path(path)
    stats = ReadStats()
    with open(path, "rb") as fh:
        encoding = sniff_encoding(fh.read(4096))
    records: list[tuple[int, int | None, dict[str, Any]]] = []
    summary: dict[str, Any] = {}
    bar_step, bar_total, calls = None, 0, 0
    with open(path, encoding=encoding, errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            for chunk in line.split("\r"):
                for bar in _BAR.finditer(chunk):
                    done, total = int(bar.group(1)), int(bar.group(2))
                    if total >= bar_total:
                        bar_step, bar_total = done, total
                for found in _DICT.finditer(chunk):
                    values = parse_dict(found.group())
                    if not values:
                        continue
                    if any(k in values for k in _SUMMARY_KEYS):
                        summary = values
                        continue
                    values.pop("epoch", None)
                    explicit = as_step(values.pop("step", None)) if "step" in values else None
                    if all(k.startswith("eval_") for k in values) and records:
                        records[-1][2].update(values)
                        continue
                    calls += 1
                    records.append((lineno, explicit if explicit is not None else bar_step or None, values))
    if not records:
        raise LogReadError(path, "no Trainer log lines ({'loss': ..., ...}) found")
    if any(step is None for _, step, _ in records):
        stats.warn_once("nostep", f"{path}: no step in the logged dicts or a progress bar; step = number of the "
                                  "logging call (multiply by logging_steps)")
        records = [(line, number, values) for number, (line, _, values) in enumerate(records, start=1)]
    checker = RecordChecker(path, stats, strict)
    for line, step, values in records:
        checker.check(step, values, line)
    run = build_run(path.stem, str(path), "hf-stdout", [(step, values) for _, step, values in records],
                    stats=stats, metadata={"summary": summary})
    warn_counts(run, path)
    return [run]
