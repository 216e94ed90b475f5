"""Long names and paths shortened in the middle, for the terminal's tables and the HTML report's (no imports
beyond the standard library, so the CLI's tables stay light)."""

from __future__ import annotations


def middle_ellipsis(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters by replacing its middle with ``…``, keeping more of the end
    (``sample_logs/grpo_seal_seed1/metrics.jsonl`` -> ``sample_logs/gr…seed1/metrics.jsonl``)."""
    if limit < 3:
        raise ValueError("limit must be at least 3")
    if len(text) <= limit:
        return text
    tail = (limit - 1) // 2 + (limit - 1) % 2
    head = limit - 1 - tail
    return text[:head] + "…" + text[len(text) - tail:]
