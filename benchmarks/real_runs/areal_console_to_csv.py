"""Convert an AReaL console log (StatsLogger tables) into one CSV per trial, for the held-out real-curve set.

AReaL prints, after each ``Train step i/N done.`` line, a box-drawn table of ``name | value`` cells. This script
writes, for every trial (a ``trial_name=...`` launcher line starts one), a CSV whose first column is ``step`` (the
train step of that line) and whose other columns are the table's cells, values copied as printed. How the files in
``sample_logs/public/areal_gsm8k/`` were made::

    python benchmarks/real_runs/areal_console_to_csv.py LOG OUTDIR
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

TRIAL = re.compile(r"trial_name=([\w.-]+)")
STEP = re.compile(r"Train step (\d+)/\d+ done")
CELL = re.compile(r"│\s*([\w./@-]+)\s*│\s*([-+0-9.eE]+|nan|-?inf)\s*(?=│)")


def trials(lines: list[str]) -> dict[str, list[dict[str, str]]]:
    """Rows of every trial: one dict per train step, ``step`` first, then the table's cells in printed order."""
    runs: dict[str, list[dict[str, str]]] = {}
    rows: list[dict[str, str]] | None = None
    row: dict[str, str] | None = None
    for line in lines:
        if (m := TRIAL.search(line)) is not None:
            rows = runs.setdefault(m.group(1), [])
            row = None
        elif (m := STEP.search(line)) is not None and rows is not None:
            row = {"step": m.group(1)}
            rows.append(row)
        elif row is not None and "│" in line:
            for name, value in CELL.findall(line[line.index("│"):]):
                row.setdefault(name, value)
    return {name: rows for name, rows in runs.items() if rows}


def write_csv(rows: list[dict[str, str]], path: Path) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(log: str, outdir: str) -> None:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in trials(Path(log).read_text(errors="replace").splitlines()).items():
        write_csv(rows, out / f"{name}.csv")
        print(f"{out / name}.csv: {len(rows)} steps")


if __name__ == "__main__":
    main(*sys.argv[1:3])
