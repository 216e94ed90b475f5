"""Per-step metrics computed from the rollout (canonical names of ``docs/log-format.md``) and the
``samples`` records (a few transcripts)."""

from __future__ import annotations

import torch
from torch import Tensor

from entropy_dynamics.metrics.summaries import cov_logp_adv, entropy_summary
from entropy_dynamics.train.algorithms.credit import Credit
from entropy_dynamics.train.rollout.play import RolloutBatch, rollout_metrics


def padded(rows: list[Tensor]) -> tuple[Tensor, Tensor]:
    """(values[S, T] right-padded with 0, mask[S, T])."""
    lengths = torch.tensor([len(r) for r in rows])
    width = max(int(lengths.max()) if len(rows) else 0, 1)
    values = torch.zeros((len(rows), width))
    for i, row in enumerate(rows):
        values[i, : len(row)] = row
    return values, (torch.arange(width)[None, :] < lengths[:, None]).float()


def batch_metrics(batch: RolloutBatch, credit: Credit) -> dict[str, float]:
    """Agent, reward, rollout-entropy (overall, by advantage sign and turn, quantiles) and covariance metrics.

    The entropy is the rollout policy's, recorded at sampling time at the rollout temperature."""
    metrics = rollout_metrics(batch)
    entropy, mask = padded([s.entropy for s in batch.samples])
    advantages, _ = padded(credit.advantages)
    logp, _ = padded([s.old_logp for s in batch.samples])
    turns = torch.tensor([s.turn for s in batch.samples], dtype=torch.long)
    metrics.update(entropy_summary(entropy, mask, advantages, turns))
    cov = cov_logp_adv(logp, advantages, mask)
    metrics["policy/cov_logp_adv"] = float(cov["policy/cov_logp_adv"])
    metrics["policy/cov_neg_frac"] = float(cov["policy/cov_neg_frac"])
    metrics["adv/mean"] = float(credit.sample_adv.mean())
    metrics["adv/abs_mean"] = float(credit.sample_adv.abs().mean())
    return metrics


def sample_trajectories(batch: RolloutBatch, credit: Credit, n: int) -> list[dict]:
    """Transcripts of the first ``n`` episodes: per turn the observation, reply, action, validity, reward
    and advantage."""
    keep = {e.index for e in batch.episodes[:n]}
    by_episode: dict[int, list[dict]] = {i: [] for i in sorted(keep)}
    for k, s in enumerate(batch.samples):
        if s.episode in keep:
            by_episode[s.episode].append({
                "turn": s.turn, "observation": s.observation, "response": s.response_text, "action": s.action,
                "valid": s.valid, "reward": s.reward, "advantage": float(credit.sample_adv[k]),
            })
    out = []
    for index, turns in by_episode.items():
        ep = batch.episodes[index]
        out.append({"episode": index, "group": ep.group, "seed": ep.seed, "won": ep.won, "return": ep.ret,
                    "turns": turns})
    return out
