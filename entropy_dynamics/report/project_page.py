"""The project table as one self-contained HTML page: sortable columns (click a heading), no network needed."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:1em 0}
th,td{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}
th{cursor:pointer;background:#f4f4f4;position:sticky;top:0}
th.asc::after{content:" \\25B2"}th.desc::after{content:" \\25BC"}
td.text,th.text{text-align:left}tr.erupts td.eruptions{color:#b30000;font-weight:600}
dl{columns:2}dt{font-weight:600}dd{margin:0 0 .4em 0}
"""

_SORT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var desc = th.classList.contains("asc");
      table.querySelectorAll("th").forEach(function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(desc ? "desc" : "asc");
      var body = table.tBodies[0], rows = Array.from(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
        if (x === "") return 1; if (y === "") return -1;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return desc ? -c : c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""


def _cell(value: Any) -> tuple[str, str, bool]:
    """(shown text, sort key, is text) of one value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—", "", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), str(int(value)), False
    if isinstance(value, (int, float)):
        return (f"{value:.4g}" if isinstance(value, float) else str(value)), repr(float(value)), False
    return str(value), str(value), True


def _table(frame: pd.DataFrame, css_class: str = "sortable") -> str:
    heads = "".join(f'<th class="{"text" if frame[c].map(lambda v: _cell(v)[2]).any() else ""}">{html.escape(str(c))}'
                    f"</th>" for c in frame.columns)
    rows = []
    for record in frame.to_dict(orient="records"):
        erupts = isinstance(record.get("eruptions"), (int, float)) and (record.get("eruptions") or 0) > 0
        cells = []
        for column, value in record.items():
            shown, key, is_text = _cell(value)
            classes = " ".join(c for c in ("text" if is_text else "", str(column).replace(".", "-")) if c)
            cells.append(f'<td class="{html.escape(classes)}" data-v="{html.escape(key)}">{html.escape(shown)}</td>')
        rows.append(f'<tr class="{"erupts" if erupts else ""}">{"".join(cells)}</tr>')
    return f'<table class="{css_class}"><thead><tr>{heads}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def project_html(table: pd.DataFrame, effects: pd.DataFrame, title: str, definitions: Mapping[str, str]) -> str:
    """The page: the run table, the per-setting effects, and what each statistic means."""
    notes = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in definitions.items())
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p>{len(table)} runs; click a column heading to sort.</p>{_table(table)}"
            f"<h2>Which settings erupt</h2>{_table(effects)}<h2>Columns</h2><dl>{notes}</dl>"
            f"<script>{_SORT}</script></body></html>")
