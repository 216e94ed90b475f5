"""SFT warm start on expert demonstrations (the paper's "mid-training"; small models find no successful
trajectory without it). Loss on reply tokens only; held-out success measured by playing games at T=1.

Writes ``output_dir/metrics.jsonl`` (one ``metrics`` record per epoch) and ``output_dir/model`` — the
folder a training config names in ``init_from``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import torch

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.metrics.entropy import token_logprobs_and_entropy
from entropy_dynamics.train.config import TrainConfig
from entropy_dynamics.train.config_io import to_dict
from entropy_dynamics.train.models.builder import build_model, build_optimizer, demos
from entropy_dynamics.train.models.policy import Policy
from entropy_dynamics.train.rollout.games import EnvPool
from entropy_dynamics.train.rollout.play import encode_prompt, play, rollout_metrics
from entropy_dynamics.train.run.batching import pad_prompt_response
from entropy_dynamics.train.run.callbacks import Callback, CallbackList, JsonlSink, TrainState
from entropy_dynamics.train.run.loop import LOG_NAME, rollout_settings
from entropy_dynamics.train.run.step_metrics import padded
from entropy_dynamics.versions import run_versions


def demo_examples(records: list[dict], tokenizer, max_prompt_tokens: int) -> list[tuple[list[int], torch.Tensor]]:
    """(prompt ids, reply ids + end-of-turn) per demonstration turn, tokenised exactly as in rollouts."""
    out = []
    for record in records:
        prompt = encode_prompt(tokenizer, record["messages"], max_prompt_tokens)
        reply = tokenizer(record["reply"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        out.append((prompt, torch.tensor(reply, dtype=torch.long)))
    return out


def sft_loss(policy: Policy, batch: list[tuple[list[int], torch.Tensor]], pad_id: int) -> tuple[torch.Tensor, int]:
    """Token-mean NLL of the reply tokens (prompt tokens get no loss) and the number of reply tokens."""
    device = next(policy.parameters()).device
    input_ids, attention, positions, _, response, mask = (
        t.to(device) if isinstance(t, torch.Tensor) else t
        for t in pad_prompt_response([p for p, _ in batch], [r for _, r in batch], pad_id))
    out = policy.lm(input_ids=input_ids, attention_mask=attention, position_ids=positions,
                    logits_to_keep=response.shape[1] + 1, use_cache=False)
    logp, _ = token_logprobs_and_entropy(out.logits[:, :-1], response)
    tokens = mask.sum()
    return -(logp * mask).sum() / tokens.clamp(min=1), int(tokens)


#: Offset of the evaluation's sampling seed from ``cfg.seed`` (training shuffles with ``cfg.seed``).
EVAL_SEED_OFFSET = 2


def evaluate(policy: Policy, tokenizer, cfg: TrainConfig, seeds: list[int], envs: EnvPool) -> dict[str, float]:
    """Play one episode per seed at the rollout temperature; ``eval/*`` metrics.

    Every evaluation samples with a fresh generator seeded ``cfg.seed + EVAL_SEED_OFFSET``, so the same weights
    give the same held-out success whenever they are evaluated (before, one generator ran on across
    evaluations: the result depended on how many evaluations came before)."""
    generator = torch.Generator().manual_seed(cfg.seed + EVAL_SEED_OFFSET)
    batch = play(policy.lm, tokenizer, envs.take(len(seeds)), seeds, list(range(len(seeds))),
                 rollout_settings(cfg), generator)
    agent = rollout_metrics(batch)
    entropy, mask = padded([s.entropy for s in batch.samples])
    return {"eval/success_rate": agent["env/success_rate"], "eval/valid_action_ratio": agent["env/valid_action_ratio"],
            "eval/episode_len": agent["env/episode_len"],
            "eval/entropy": float((entropy * mask).sum() / mask.sum().clamp(min=1))}


def run_sft(cfg: TrainConfig, callbacks: Iterable[Callback] = ()) -> TrainState:
    """Train on the expert turns of ``sft.n_games`` games for ``sft.epochs`` epochs; export ``output_dir/model``
    (and ``output_dir/model_epNN`` after each evaluated epoch with ``sft.export_every_eval``)."""
    out = Path(cfg.output_dir)
    log_path = out / LOG_NAME
    if log_path.is_file() and log_path.stat().st_size > 0:
        raise ConfigError(f"{log_path} exists: choose another output_dir for the SFT run")
    out.mkdir(parents=True, exist_ok=True)
    records = demos(cfg, cfg.sft.n_games)
    if not records:
        raise ConfigError(f"the expert won none of the {cfg.sft.n_games} games of {cfg.env}: nothing to learn from")
    policy, tokenizer = build_model(cfg, records=records)
    examples = demo_examples(records, tokenizer, cfg.max_prompt_tokens)
    optimizer, _ = build_optimizer(policy, cfg.sft.lr, cfg.weight_decay, 0)
    shuffle = torch.Generator().manual_seed(cfg.seed)
    eval_start = cfg.game_seed_start + max(cfg.game_pool_size, cfg.sft.n_games)
    eval_seeds = list(range(eval_start, eval_start + cfg.sft.eval_games))
    state = TrainState(config=cfg, run_name=cfg.run_name or out.resolve().name, output_dir=out,
                       total_steps=cfg.sft.epochs, policy=policy, tokenizer=tokenizer)
    hooks = CallbackList([JsonlSink(log_path), *callbacks])
    hooks.train_start(state, {"run": state.run_name, "config": to_dict(cfg), "versions": run_versions(),
                              "resumed_from_step": None})
    envs = EnvPool(cfg.env, cfg.env_settings)
    try:
        for epoch in range(1, cfg.sft.epochs + 1):
            state.step = epoch
            started = time.perf_counter()
            policy.train()
            order = torch.randperm(len(examples), generator=shuffle).tolist()
            loss_sum, token_sum = 0.0, 0
            for k in range(0, len(order), cfg.sft.batch_size):
                chunk = sorted(order[k: k + cfg.sft.batch_size], key=lambda i: len(examples[i][0]))
                optimizer.zero_grad(set_to_none=True)
                n_tokens = sum(len(examples[i][1]) for i in chunk)
                for m in range(0, len(chunk), cfg.micro_batch_size):
                    micro = [examples[i] for i in chunk[m: m + cfg.micro_batch_size]]
                    loss, tokens = sft_loss(policy, micro, tokenizer.pad_token_id)
                    (loss * tokens / n_tokens).backward()
                    loss_sum += float(loss.detach()) * tokens
                    token_sum += tokens
                torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.grad_clip if cfg.grad_clip > 0 else 1e9)
                optimizer.step()
            metrics = {"loss/sft": loss_sum / max(token_sum, 1), "optim/lr": cfg.sft.lr,
                       "perf/epoch_s": time.perf_counter() - started}
            if eval_seeds and (epoch % cfg.sft.eval_every == 0 or epoch == cfg.sft.epochs):
                metrics.update(evaluate(policy, tokenizer, cfg, eval_seeds, envs))
                if cfg.sft.export_every_eval:
                    policy.export(out / f"model_ep{epoch:02d}", tokenizer)
                    hooks.event(state, "exported", path=str(out / f"model_ep{epoch:02d}"))
            if "stop" in hooks.step_end(state, metrics):
                break
        policy.export(out / "model", tokenizer)
        hooks.event(state, "exported", path=str(out / "model"))
    finally:
        envs.close()
        hooks.train_end(state)
    return state
