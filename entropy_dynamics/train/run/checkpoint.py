"""Atomic training checkpoints: policy (LM + SEAL/value heads), optimizer, scheduler, RNG and
game-sampling state, the tokenizer, and the step.

Layout: ``output_dir/checkpoint/{state.pt, tokenizer/}``. A new checkpoint is written to
``checkpoint.tmp`` and swapped in by renames, so a ``kill -9`` at any moment leaves a complete
checkpoint (``checkpoint`` or, between the two renames, ``checkpoint.old``).
"""

from __future__ import annotations

import pickle
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from entropy_dynamics.errors import ConfigError

STATE_FILE = "state.pt"


def rng_state(generators: dict[str, torch.Generator]) -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state(),
             "generators": {k: g.get_state() for k, g in generators.items()}}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any], generators: dict[str, torch.Generator]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    for key, gen in generators.items():
        gen.set_state(state["generators"][key])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(output_dir: str | Path, state: dict[str, Any], tokenizer) -> Path:
    """Write ``state`` (anything ``torch.save`` takes) and the tokenizer atomically; returns the folder."""
    root = Path(output_dir)
    final, tmp, old = root / "checkpoint", root / "checkpoint.tmp", root / "checkpoint.old"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    torch.save(state, tmp / STATE_FILE)
    tokenizer.save_pretrained(str(tmp / "tokenizer"))
    if final.exists():
        shutil.rmtree(old, ignore_errors=True)
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def find_checkpoint(output_dir: str | Path) -> Path | None:
    """The newest complete checkpoint folder, or None."""
    root = Path(output_dir)
    for name in ("checkpoint", "checkpoint.old"):
        if (root / name / STATE_FILE).is_file():
            return root / name
    return None


def load_checkpoint(folder: Path) -> dict[str, Any]:
    try:
        return torch.load(folder / STATE_FILE, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as exc:
        raise ConfigError(f"{folder / STATE_FILE}: unreadable checkpoint ({exc})") from None
