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

#: Real public W&B exports shipped in the repo (sample_logs/public, Apache-2.0; see its README).
REAL_LOGS = Path(__file__).resolve().parents[1] / "sample_logs" / "public"


@pytest.fixture
def real_logs() -> Path:
    return REAL_LOGS
