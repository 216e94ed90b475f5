"""Terminal tables fit the console and keep words whole; long paths are shortened in the middle."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from entropy_dynamics.cli.main import main
from entropy_dynamics.cli.tables import Column, column_widths, fitted_table

SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs" / "grpo" / "metrics.jsonl"


def test_columns_get_at_least_their_longest_word():
    columns = [Column("run"), Column("largest eruption", wrap=True), Column("why", wrap=True)]
    rows = [["grpo_seal_seed1", "x8.2 in 5 steps from step 14", "a long explanation " * 6]]
    widths = column_widths(columns, rows, 60)
    assert sum(widths) <= 60
    assert widths[0] == len("grpo_seal_seed1") and widths[1] >= len("eruption")


def _render(table, width: int) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(table)
    return console.export_text()


def test_a_table_at_80_columns_splits_no_word():
    words = ["largest", "eruption", "subsidence", "degeneration"]
    headers = ("run", "largest eruption", "steps in eruption", "degeneration at the end")
    columns = [Column(h, wrap=True) for h in headers]
    rows = [["/very/long/path/to/some/runs/cycles_e2_ep15_seal/train/metrics.jsonl", "x15.3 largest eruption",
             "12% subsidence", "0.05 degeneration"]]
    text = _render(fitted_table(columns, rows, 80), 80)
    assert max(len(line) for line in text.splitlines()) <= 80
    cells = text.replace("│", " ").replace("┃", " ").split()
    assert all(w in cells for w in words), text
    assert any("…" in c and c.endswith("metrics.jsonl") for c in cells), text


def test_analyze_cross_metrics_prints_the_statistics_as_tables(capsys):
    assert main(["analyze", str(SAMPLE), "--cross-metrics"]) == 0
    text = capsys.readouterr().out
    assert "mean per phase" in text and "env/success_rate" in text
    assert "entropy-reward fit" in text and "persistence" in text
    assert main(["analyze", str(SAMPLE)]) == 0
    assert "mean per phase" not in capsys.readouterr().out


def test_a_table_too_wide_for_the_console_prints_each_row_as_a_record():
    headers = ["arm", "n", "final success", "mean entropy", "eruption count", "largest eruption (x)", "collapsed",
               "p collapse (Fisher)", "p final success (MW)", "p eruptions (MW)"]
    rows = [["seal_no_penalty_only", "3", "0.393 ± 0.384 (n=3)", "2.01 ± 1.12 (n=3)", "1.33 ± 1.43 (n=3)",
             "29.8 ± 31.1 (n=3)", "0/3", "1", "0.2", "0.619"],
            ["grpo", "6", "0.223 ± 0.243 (n=6)", "0.376 ± 0.157 (n=6)", "1.67 ± 1.43 (n=6)", "11.4 ± 19.7 (n=6)",
             "0/6", "ref", "ref", "ref"]]
    text = _render(fitted_table([Column(h, wrap=True) for h in headers], rows, 80), 80)
    assert max(len(line) for line in text.splitlines()) <= 80
    lines = [" ".join(line.replace("│", " ").split()) for line in text.splitlines()]
    for row in rows:  # every heading beside its value, on one line, no value cut
        for header, value in zip(headers, row, strict=True):
            assert f"{header} {value}" in lines, (header, value, text)


def test_a_table_that_fits_stays_a_table():
    columns = [Column("arm"), Column("n", "right"), Column("final success", wrap=True)]
    text = _render(fitted_table(columns, [["grpo", "6", "0.223 ± 0.243 (n=6)"]], 80), 80)
    header = next(line for line in text.splitlines() if "arm" in line)
    assert "n" in header.split() and "final success" in header
