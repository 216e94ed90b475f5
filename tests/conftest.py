"""Test settings: one torch thread (a 2-core box), no network, W&B offline."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("COLUMNS", "200")

from pathlib import Path

import pytest

#: Real public W&B exports shared beside the repo (tests that use them skip when absent).
REAL_LOGS = Path(__file__).resolve().parents[1].parent / "shared" / "real_logs"


@pytest.fixture
def real_logs() -> Path:
    if not REAL_LOGS.exists():
        pytest.skip("shared/real_logs is not present beside the checkout")
    return REAL_LOGS
