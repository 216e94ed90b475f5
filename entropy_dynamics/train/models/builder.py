"""Setup shared by `sft` and `train`: seeding, the tokenizer corpus, model + policy, optimizer."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from entropy_dynamics.envs.demos import expert_demos
from entropy_dynamics.train.config import TrainConfig
from entropy_dynamics.train.models.policy import Policy, build_policy, load_lm_and_tokenizer


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (before any model is built)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def demos(cfg: TrainConfig, n_games: int) -> list[dict[str, Any]]:
    return expert_demos(cfg.env, n_games, seed_start=cfg.game_seed_start, history_length=cfg.history_length,
                        **cfg.env_settings)


def demo_corpus(records: list[dict[str, Any]]) -> list[str]:
    """Text the `tiny` tokenizer is trained on: the expert turns' prompts and replies."""
    texts = []
    for record in records:
        texts.extend(m["content"] for m in record["messages"])
        texts.append(record["reply"])
    return texts


def build_model(cfg: TrainConfig, tokenizer_dir: str | Path | None = None,
                records: list[dict[str, Any]] | None = None):
    """(policy, tokenizer) on the configured device; seeds first so the same seed gives the same weights.

    The `tiny` tokenizer is trained on ``records`` (expert demos), played here when not given."""
    if cfg.torch_threads:
        torch.set_num_threads(int(cfg.torch_threads))

    def corpus() -> list[str]:
        return demo_corpus(records if records is not None else demos(cfg, cfg.tiny.corpus_games))

    seed_everything(cfg.seed)
    lm, tokenizer = load_lm_and_tokenizer(cfg, corpus=corpus, tokenizer_dir=tokenizer_dir)
    return build_policy(cfg, lm), tokenizer


def build_optimizer(policy: Policy, lr: float, weight_decay: float, warmup_steps: int):
    """AdamW over every trainable parameter (LM, SEAL head, value head), linear warm-up then constant."""
    params = [p for p in policy.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda k: min(1.0, (k + 1) / warmup_steps) if warmup_steps > 0 else 1.0)
    return optimizer, scheduler
