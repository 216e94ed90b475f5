"""Names and paths shortened in the middle keep both ends."""

import pytest

from entropy_dynamics.shorten import middle_ellipsis


def test_middle_ellipsis_keeps_both_ends():
    path = "sample_logs/grpo_seal_seed1/metrics.jsonl"
    short = middle_ellipsis(path, 30)
    assert len(short) == 30 and short.startswith("sample_logs/") and short.endswith("/metrics.jsonl")
    assert "…" in short
    assert middle_ellipsis("short", 30) == "short"
    with pytest.raises(ValueError):
        middle_ellipsis(path, 2)
    assert len(middle_ellipsis("x" * 50, 12)) == 12
