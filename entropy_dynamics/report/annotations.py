"""Label placement: text labels over a curve stacked on levels so that neighbours do not overlap."""

from __future__ import annotations

from collections.abc import Sequence

#: Most levels a label band uses; labels beyond it go back to the first free-most level.
MAX_LEVELS = 3


def stagger_levels(xs: Sequence[float], min_gap: float, max_levels: int = MAX_LEVELS) -> list[int]:
    """A level (0 = top) for each label at ``xs`` (ascending) so that labels on one level are at least
    ``min_gap`` apart: each label takes the first level whose last label is far enough, else the level whose
    last label is farthest away."""
    last: list[float | None] = [None] * max_levels
    levels = []
    for x in xs:
        free = [k for k in range(max_levels) if last[k] is None or x - last[k] >= min_gap]
        level = free[0] if free else min(range(max_levels), key=lambda k: last[k])  # type: ignore[arg-type]
        last[level] = x
        levels.append(level)
    return levels
