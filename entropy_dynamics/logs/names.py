"""Canonical metric names and the alias table that maps other trainers' names onto them.

The contract lives in ``docs/log-format.md``. Readers keep a metric's
original name when no alias matches, so nothing a log holds is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

#: Canonical names with a one-line meaning. Patterns with ``<k>`` / ``<term>`` are families.
CANONICAL: dict[str, str] = {
    "policy/entropy": "token-mean entropy of the rollout policy over all action tokens (the headline curve)",
    "policy/entropy/pos": "token-mean entropy over tokens with advantage >= 0",
    "policy/entropy/neg": "token-mean entropy over tokens with advantage < 0",
    "policy/entropy/turn_<k>": "token-mean entropy over the action tokens of turn k (0-based)",
    "policy/entropy/p50": "median token entropy",
    "policy/entropy/p90": "90th percentile of token entropy",
    "policy/cov_logp_adv": "mean centred product (log p - mean)(A - mean) over action tokens (Cui et al.)",
    "policy/cov_neg_frac": "share of action tokens whose centred product is negative",
    "policy/clip_frac": "share of tokens where the PPO clip is active",
    "policy/approx_kl": "KL(old, new) estimate over the update",
    "policy/kl_ref": "KL to the reference model",
    "reward/mean": "mean episode reward",
    "reward/std": "standard deviation of episode rewards",
    "reward/frac_zero_std_groups": "share of groups whose rewards are all equal",
    "env/success_rate": "share of episodes won",
    "env/episode_len": "mean number of turns per episode",
    "env/valid_action_ratio": "share of turns with a valid action",
    "response/mean_length": "mean generated tokens per response (extension of the contract)",
    "loss/pg": "policy-gradient loss term",
    "loss/seal": "SEAL loss term (already times its coefficient)",
    "loss/kl": "KL loss term (already times its coefficient)",
    "loss/entropy": "entropy-bonus loss term (already times its coefficient)",
    "loss/total": "total loss",
    "optim/grad_norm": "gradient norm before clipping",
    "optim/lr": "learning rate",
    "interference/grad_cos_pos_neg": "cosine between the policy gradients of A > 0 and A < 0 tokens",
    "interference/displacement_neg_on_pos": (
        "first-order change of the A > 0 tokens' mean log-likelihood from the A < 0 update"
    ),
    "interference/grad_cos_pg_seal": "cosine between the gradients of the PG and SEAL terms",
    "interference/grad_norm_<term>": "gradient norm of one loss term",
    "interference/grad_cos_<a>_<b>": "cosine between the gradients of two loss terms (extension of the contract)",
    "repr/inter_cos": "mean cosine between correct and incorrect sample embeddings",
    "repr/intra_pos_cos": "mean cosine among correct sample embeddings",
    "repr/intra_neg_cos": "mean cosine among incorrect sample embeddings",
    "repr/sep_ratio": "2 inter - intra_pos - intra_neg (lower = better separated)",
    "repr/probe_auroc": "cross-validated linear-probe AUROC of correct vs incorrect",
    "repr/centroid_dist": "distance between the class centroids of unit embeddings (extension of the contract)",
    "repr/silhouette": "silhouette score of the two classes under cosine distance (extension of the contract)",
    "repr/n_pos": "correct samples in the separation statistics (extension of the contract)",
    "repr/n_neg": "incorrect samples in the separation statistics (extension of the contract)",
    "seal/head_acc": "SEAL head token accuracy",
    "seal/head_auroc": "SEAL head token AUROC",
    "degen/sentence_dup_rate": "sentence duplication rate of generated text",
    "degen/rep5_ratio": "repeated 5-gram ratio",
    "degen/rep10_ratio": "repeated 10-gram ratio",
    "degen/unique_token_ratio": "unique-token ratio",
    "degen/loop_rate": "share of responses flagged as local loops",
    "degen/cross_turn_dup_rate": "share of turns repeating a sentence of an earlier turn",
    "degen/repeat_action_rate": "share of turns in repeated-action loops",
    "degen/clause_repeat_ratio": "share of clauses that occur at least twice (extension of the contract)",
    "degen/ramble_rate": "share of responses flagged as rambling (extension of the contract)",
    "degen/max_action_run": "longest run of identical consecutive actions in an episode (extension of the contract)",
    "halluc/fake_observation_rate": "share of turns where the model writes environment text",
    "halluc/invalid_action_rate": "share of turns acting outside the admissible set",
    "halluc/ungrounded_entity_rate": "share of actions naming objects never observed",
    "halluc/format_error_rate": "share of turns breaking the response format",
    "halluc/rate": "share of turns with any hallucination",
    "perf/rollout_s": "rollout seconds",
    "perf/update_s": "update seconds",
    "perf/diagnostics_s": "diagnostics seconds",
    "perf/step_s": "step seconds",
    "perf/tokens_per_s": "trained tokens per second",
    "perf/peak_mem_mb": "peak memory (MB)",
    # what our own trainer logs beyond the contract (extensions of the contract)
    "policy/clip_frac_lower": "share of A < 0 tokens where the dual-clip bound is active (extension of the contract)",
    "policy/cov_selected_frac": "share of tokens that Clip-Cov / KL-Cov acted on (extension of the contract)",
    "adv/mean": "mean advantage per sample (extension of the contract)",
    "adv/abs_mean": "mean absolute advantage per sample (extension of the contract)",
    "env/format_ok_ratio": "share of turns whose reply has the expected format (extension of the contract)",
    "response/truncated_ratio": "share of replies cut at max_new_tokens (extension of the contract)",
    "loss/sft": "SFT cross-entropy per token (extension of the contract)",
    "loss/value": "value (critic) loss term, already times its coefficient (extension of the contract)",
    "seal/bce": "the SEAL head's binary cross-entropy before its coefficient (extension of the contract)",
    "seal/grad_ratio": "norm of SEAL's gradient over the policy gradient's, on the instruments' subset "
                       "(extension of the contract; NaN when the policy gradient is 0)",
    "seal/label_all_fail_share": "share of SEAL's labelled tokens from groups where no episode won "
                                 "(extension of the contract)",
    "seal/label_pos_share": "share of SEAL's labels that are 1 (extension of the contract)",
    "optim/steps": "optimizer steps taken in the step (extension of the contract)",
    "eval/success_rate": "held-out success of an SFT evaluation (extension of the contract)",
    "eval/valid_action_ratio": "held-out valid-action share of an SFT evaluation (extension of the contract)",
    "eval/episode_len": "held-out turns per episode of an SFT evaluation (extension of the contract)",
    "eval/entropy": "token-mean entropy of the evaluated replies (extension of the contract)",
    "perf/epoch_s": "seconds per SFT epoch (extension of the contract)",
    "reward/extra/<k>": "an extra reward term a reward function reports (verl's reward_extra_info/<k>)",
}

_FAMILIES = [re.compile(r"^policy/entropy/turn_\d+$"), re.compile(r"^interference/grad_(?:norm|cos)_[A-Za-z0-9_]+$"),
             re.compile(r"^reward/extra/.+$")]

#: Source prefixes that map a whole family: ``reward_extra_info/acc`` -> ``reward/extra/acc``.
PREFIX_ALIASES = {"reward_extra_info/": "reward/extra/"}

#: Other trainers' names -> canonical. Order matters: when two names of one run map to the same
#: canonical name, the one listed first wins and the other keeps its own name.
ALIASES: dict[str, str] = {
    # verl / verl-agent / the SEAL code
    "actor/entropy": "policy/entropy",
    "actor/entropy_loss": "policy/entropy",
    "actor/main_chain/entropy": "policy/entropy",
    "actor/pg_clipfrac": "policy/clip_frac",
    "actor/ppo_kl": "policy/approx_kl",
    "actor/pg_loss": "loss/pg",
    "actor/kl_loss": "policy/kl_ref",
    "actor/grad_norm": "optim/grad_norm",
    "actor/lr": "optim/lr",
    "actor/classification_loss": "loss/seal",
    "actor/seal_loss": "loss/seal",  # entropy_dynamics.integrations.verl
    "actor/pg_clipfrac_lower": "policy/clip_frac_lower",
    "critic/vf_loss": "loss/value",
    "response_length/clip_ratio": "response/truncated_ratio",
    "num_turns/mean": "env/episode_len",
    "critic/score/mean": "reward/mean",
    "critic/rewards/mean": "reward/mean",
    "critic/score/std": "reward/std",
    "episode/success_rate": "env/success_rate",
    "episode/valid_action_ratio": "env/valid_action_ratio",
    "episode/length/mean": "env/episode_len",
    "episode/length": "env/episode_len",
    "response_length/mean": "response/mean_length",
    "response_length/main_chain/mean": "response/mean_length",
    "episode/reward/mean": "reward/mean",
    # TRL
    "entropy": "policy/entropy",
    "reward": "reward/mean",
    "reward_std": "reward/std",
    "frac_reward_zero_std": "reward/frac_zero_std_groups",
    "kl": "policy/kl_ref",
    "clip_ratio/region_mean": "policy/clip_frac",
    "clip_ratio": "policy/clip_frac",
    "completions/mean_length": "response/mean_length",
    "completions/clipped_ratio": "response/truncated_ratio",
    "completion_length": "response/mean_length",
    "zero_std_ratio": "reward/frac_zero_std_groups",
    "grad_norm": "optim/grad_norm",
    "learning_rate": "optim/lr",
    "loss": "loss/total",
    # OpenRLHF
    "policy_entropy": "policy/entropy",
    # no bare "entropy_loss": its sign depends on the trainer (SB3 logs minus the entropy; see sign_flips)
    "policy_loss": "loss/pg",
    "actor_lr": "optim/lr",
    "actor_grad_norm": "optim/grad_norm",
    "ppo_kl": "policy/approx_kl",
    "ppo_clip_ratio": "policy/clip_frac",
    "response_length": "response/mean_length",
    # AReaL (inclusionAI/AReaL): grpo_actor/<stat>/avg|min|max; final_reward (with shaping) and seq_len (prompt +
    # reply) keep their own names
    "grpo_actor/entropy/avg": "policy/entropy",
    "grpo_actor/task_reward/avg": "reward/mean",
    "grpo_actor/approx_kl/avg": "policy/approx_kl",
    "grpo_actor/clip_ratio/avg": "policy/clip_frac",
    "grpo_actor/actor_loss/avg": "loss/pg",
    "grpo_actor/grad_norm": "optim/grad_norm",
    "grpo_actor/lr": "optim/lr",
    "grpo_actor/no_eos_ratios/avg": "response/truncated_ratio",
    # RAGEN and common variants
    "actor/entropy_mean": "policy/entropy",
    "rollout/entropy": "policy/entropy",
    "losses/entropy": "policy/entropy",
    "charts/learning_rate": "optim/lr",
    "success_rate": "env/success_rate",
    "success": "env/success_rate",
    "entropy_mean": "policy/entropy",
}

#: Prefixes that loggers put in front of training metrics (stripped before alias lookup).
_PREFIXES = ("train/", "train_", "training/", "Train/", "metrics/")


def is_canonical(name: str) -> bool:
    """True if ``name`` is a canonical metric name (including the per-turn / per-term families)."""
    return name in CANONICAL or any(p.match(name) for p in _FAMILIES)


def canonical_name(name: str) -> str | None:
    """The canonical name for a source metric name, or ``None`` when nothing maps.

    >>> canonical_name("actor/entropy"), canonical_name("train/reward"), canonical_name("foo")
    ('policy/entropy', 'reward/mean', None)
    """
    candidates = [name]
    for prefix in _PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            candidates.append(name[len(prefix):])
    for cand in candidates:
        if is_canonical(cand):
            return cand
        if cand in ALIASES:
            return ALIASES[cand]
        for prefix, target in PREFIX_ALIASES.items():
            if cand.startswith(prefix) and len(cand) > len(prefix):
                return target + cand[len(prefix):]
    return None


def _priority(name: str) -> int:
    """Lower is preferred when two source names map to the same canonical name."""
    if is_canonical(name):
        return -1
    stripped = name
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            stripped = name[len(prefix):]
            break
    order = list(ALIASES)
    return order.index(stripped) if stripped in ALIASES else len(order)


def map_names(names: Iterable[str], points: Mapping[str, int] | None = None) -> dict[str, str]:
    """Column name for each source name: its canonical name where one maps and is not taken.

    When several source names map to one canonical name, the one with most ``points`` wins (ties: the
    canonical name itself, then the alias listed first); the others keep their own names (see
    :func:`competing_names`). Returns ``{source_name: column_name}``; unmapped names map to themselves.
    """
    names = list(dict.fromkeys(names))
    points = points or {}
    result = {n: n for n in names}
    for c, sources in _by_canonical(names).items():
        result[min(sources, key=lambda n: (-points.get(n, 0), _priority(n)))] = c
    return result


def competing_names(mapping: Mapping[str, str]) -> dict[str, list[str]]:
    """``{canonical: [source names that also map to it but lost]}`` for a :func:`map_names` result."""
    out: dict[str, list[str]] = {}
    for canonical, sources in _by_canonical(list(mapping)).items():
        losers = [n for n in sources if mapping[n] != canonical]
        if losers and canonical in mapping.values():
            out[canonical] = losers
    return out


def _by_canonical(names: list[str]) -> dict[str, list[str]]:
    by_canonical: dict[str, list[str]] = {}
    for n in names:
        c = canonical_name(n)
        if c is not None:
            by_canonical.setdefault(c, []).append(n)
    return by_canonical
