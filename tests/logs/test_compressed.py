"""Gzip-compressed logs read as the file they hold: same runs, the ``.gz`` path as source; cut-short copies and
archives give what they can or a clear error."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pandas as pd
import pytest

from entropy_dynamics.cli.main import main
from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs import read_runs

ROOT = Path(__file__).resolve().parents[2]
GRPO = ROOT / "sample_logs" / "grpo" / "metrics.jsonl"
WANDB_CSV = ROOT / "sample_logs" / "public" / "deep_grpo" / "tree_methods_training_instability_entropy.csv"


def _gzip(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as fin, gzip.open(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout)
    return dst


@pytest.mark.parametrize("source", [GRPO, WANDB_CSV], ids=["our-jsonl", "wandb-csv-export"])
def test_a_gzip_file_gives_the_runs_of_the_file_it_holds(tmp_path, source):
    plain = read_runs(source)
    packed = _gzip(source, tmp_path / source.parent.name / f"{source.name}.gz")
    runs = read_runs(packed)
    assert [r.name for r in runs] == [r.name for r in plain]
    for got, want in zip(runs, plain, strict=True):
        pd.testing.assert_frame_equal(got.metrics, want.metrics)
        assert got.source == str(packed) and got.reader == want.reader


def test_a_run_folder_with_metrics_jsonl_gz_is_one_run_and_the_cli_analyzes_it(tmp_path, capsys):
    folder = tmp_path / "grpo"
    _gzip(GRPO, folder / "metrics.jsonl.gz")
    runs = read_runs(folder)
    assert len(runs) == 1 and runs[0].name == read_runs(GRPO)[0].name
    assert main(["analyze", str(folder), "--format", "json"]) == 0
    assert '"eruption"' in capsys.readouterr().out


def test_a_cut_short_gzip_copy_reads_what_came_before_the_cut(tmp_path):
    whole = _gzip(GRPO, tmp_path / "whole" / "metrics.jsonl.gz").read_bytes()
    cut = tmp_path / "cut" / "metrics.jsonl.gz"
    cut.parent.mkdir()
    cut.write_bytes(whole[: len(whole) // 2])
    steps = read_runs(cut)[0].metrics.index
    assert 0 < len(steps) < len(read_runs(GRPO)[0].metrics.index)


def test_archives_and_broken_gzip_get_one_line_errors(tmp_path, capsys):
    archive = _gzip(GRPO, tmp_path / "runs.tar.gz")
    with pytest.raises(LogReadError, match="tar archive"):
        read_runs(archive)
    broken = tmp_path / "metrics.jsonl.gz"
    broken.write_bytes(b"\x1f\x8b" + b"not gzip at all" * 10)
    assert main(["analyze", str(broken)]) == 2
    err = capsys.readouterr().err.strip()
    assert "gzip" in err and len(err.splitlines()) == 1


def test_problems_inside_a_gzip_file_name_the_gz_file_not_its_temporary_copy(tmp_path):
    lines = GRPO.read_text().splitlines()
    lines[5] = '{"type": "metrics", "step": 5, "metrics": {"policy/entropy": "high"}}'
    packed = tmp_path / "run" / "metrics.jsonl.gz"
    packed.parent.mkdir()
    packed.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    warnings = read_runs(packed)[0].stats.warnings
    assert warnings and all(w.startswith(f"{packed}:") for w in warnings)
    with pytest.raises(LogReadError) as info:
        read_runs(packed, strict=True)
    assert info.value.path == str(packed) and info.value.line == 6
