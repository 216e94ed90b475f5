"""Terminal tables that fit the console and keep words whole.

Rich squeezes an over-wide table by cutting columns anywhere, so a cell reads ``larges t erupti on``. Here each
column gets at least its longest word; when even that is too wide, the longest words (paths, run and metric names)
are shortened in the middle (``runs/…/metrics.jsonl``) and the text columns wrap between words. When even the
shortest readable columns do not fit (many columns on an 80-character console or in a pipe), each row is printed as
a record instead: one line per column, heading beside value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from entropy_dynamics.cli.common import clean
from entropy_dynamics.shorten import middle_ellipsis

#: Narrowest a shortened word gets (a few letters either side of the ellipsis).
MIN_WORD = 9


@dataclass(frozen=True)
class Column:
    """A column: its heading, its alignment, and whether its cells may wrap between words."""

    header: str
    justify: str = "left"
    wrap: bool = False


def _longest_word(text: str) -> int:
    return max((len(w) for w in text.split()), default=0)


def column_widths(columns: Sequence[Column], rows: Sequence[Sequence[str]], available: int) -> list[int]:
    """Width of each column's content so the table fits ``available`` characters of content.

    Columns that do not wrap keep their widest cell when they can; wrapping columns get at least their longest
    word and share what is left in proportion to how much more they would use. When the minima alone do not
    fit, the widest minima shrink first (down to :data:`MIN_WORD`)."""
    cells = [[columns[i].header, *(row[i] for row in rows)] for i in range(len(columns))]
    natural = [max(len(line) for cell in col for line in cell.splitlines() or [""]) for col in cells]
    minimum = [max(_longest_word(cell) for cell in col) if c.wrap else n
               for c, col, n in zip(columns, cells, natural, strict=True)]
    minimum = [max(m, _longest_word(c.header), 1) for m, c in zip(minimum, columns, strict=True)]
    if sum(natural) <= available:
        return natural
    while sum(minimum) > available and max(minimum) > MIN_WORD:
        widest = max(range(len(minimum)), key=minimum.__getitem__)
        minimum[widest] = max(MIN_WORD, minimum[widest] - (sum(minimum) - available))
    spare = available - sum(minimum)
    wants = [n - m for n, m in zip(natural, minimum, strict=True)]
    if spare <= 0 or not sum(wants):
        return minimum
    return [m + spare * w // sum(wants) for m, w in zip(minimum, wants, strict=True)]


def _overhead(n_columns: int) -> int:
    return 3 * n_columns + 1  # a border and two spaces of padding per column, one closing border


def _fitted_cell(cell: str, width: int) -> Text:
    return Text(" ".join(middle_ellipsis(word, max(width, 3)) for word in cell.split(" ")))


def fitted_table(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int,
                 caption: str | None = None) -> Table:
    """A rich table of plain-text ``rows`` (never read as markup) no wider than ``width``: words kept whole,
    words too long for their column shortened in the middle; rows printed as records (:func:`record_table`)
    when the columns cannot fit even so."""
    rows = [[clean(cell, None) for cell in row] for row in rows]
    available = max(width - _overhead(len(columns)), len(columns))
    widths = column_widths(columns, rows, available)
    if sum(widths) > available and len(columns) > 2:
        return record_table(columns, rows, width, caption)
    table = Table(caption=Text(caption) if caption else None, caption_justify="left")
    for column, w in zip(columns, widths, strict=True):
        table.add_column(Text(clean(column.header, None)), justify=column.justify, width=w,  # type: ignore[arg-type]
                         no_wrap=not column.wrap, overflow="fold")
    for row in rows:
        table.add_row(*(_fitted_cell(cell, w) for cell, w in zip(row, widths, strict=True)))
    return table


def record_table(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int,
                 caption: str | None = None) -> Table:
    """Each row as a record no wider than ``width``: one line per column (heading, then the value, which wraps
    between words), a rule between rows. ``rows`` are plain text already cleaned for the terminal."""
    headers = [clean(c.header, None) for c in columns]
    available = max(width - _overhead(2), 2)
    key_width = min(max(len(h) for h in headers), max(available // 3, MIN_WORD))
    longest = max((len(cell) for row in rows for cell in row), default=1)
    value_width = max(min(available - key_width, longest), MIN_WORD)
    table = Table(caption=Text(caption) if caption else None, caption_justify="left", show_header=False)
    table.add_column(width=key_width, overflow="fold")
    table.add_column(width=value_width, overflow="fold")
    for i, row in enumerate(rows):
        if i:
            table.add_section()
        for header, cell in zip(headers, row, strict=True):
            table.add_row(Text(header), _fitted_cell(cell, value_width))
    return table
