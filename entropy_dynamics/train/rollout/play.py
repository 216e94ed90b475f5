"""Multi-turn rollouts: every live episode of a step advances one turn per batched sampling call.

verl-agent style: each turn is one training sample whose prompt is rebuilt from the task, the last
``history_length`` (observation, action) pairs, the current observation and the admissible actions
(or, with ``trajectory_prompts``, the whole conversation so far: :mod:`~entropy_dynamics.train.rollout.conversation`).
Only the sampled reply tokens are actions; prompt and observation tokens never receive loss. The
sampled tokens' log-probs and the full entropy are kept from the sampling pass (the old policy).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from entropy_dynamics.envs.base import TextEnv
from entropy_dynamics.envs.prompt import build_messages
from entropy_dynamics.envs.reply import parse_reply
from entropy_dynamics.train.models.prompt_cache import PrefixMemo
from entropy_dynamics.train.rollout.conversation import TurnTemplate, later_user_content, next_turn_ids, turn_template
from entropy_dynamics.train.rollout.sampling import sample_replies


@dataclass
class RolloutSettings:
    """The rollout knobs (a view of the train config, so evaluation can use other values)."""

    max_turns: int
    max_turns_slack: int | None
    history_length: int
    max_prompt_tokens: int
    max_new_tokens: int
    temperature: float
    invalid_action_penalty: float
    shared_prompts: bool = True
    trajectory_prompts: bool = False


@dataclass
class TurnSample:
    """One training sample: one turn of one episode."""

    episode: int
    group: int
    turn: int
    prompt_ids: list[int]
    response_ids: Tensor  # LongTensor[r]
    old_logp: Tensor  # Tensor[r], at the rollout temperature
    entropy: Tensor  # Tensor[r]
    reward: float  # this turn's reward: win bonus at the last turn, minus the invalid penalty
    valid: bool
    format_ok: bool
    truncated: bool
    observation: str
    response_text: str
    action: str
    admissible: list[str] | None = None  # the turn's admissible actions (all of them, not only those shown)


@dataclass
class EpisodeOutcome:
    """How one trajectory of a training step went (not :class:`entropy_dynamics.envs.Episode`, the record of a
    played episode's turns)."""

    index: int
    group: int
    seed: int
    won: bool = False
    turns: int = 0
    invalid: int = 0
    ret: float = 0.0  # episode return: 1 if won, minus penalty x invalid turns
    done: bool = False


#: The name before 2026-12-06 (it clashed with :class:`entropy_dynamics.envs.Episode`); kept for old imports.
Episode = EpisodeOutcome


@dataclass
class RolloutBatch:
    samples: list[TurnSample]
    episodes: list[EpisodeOutcome]
    rollout_s: float = 0.0
    generated_tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def encode_prompt(tokenizer, messages: list[dict[str, str]], max_tokens: int) -> list[int]:
    """Chat-template the messages (with the generation prompt) and keep the last ``max_tokens`` ids."""
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return ids[-max_tokens:]


def decode_reply(tokenizer, ids: Tensor) -> str:
    """The reply text without the end-of-turn token."""
    ids = ids.tolist()
    if ids and ids[-1] == tokenizer.eos_token_id:
        ids = ids[:-1]
    return tokenizer.decode(ids, skip_special_tokens=False)


def all_admissible(info: dict[str, Any], previous: list[str] | None = None) -> list[str]:
    """Every admissible action an env's ``info`` lists (``all_admissible_actions``, else the shown
    ``admissible_actions``); ``previous`` when it lists neither."""
    actions = info.get("all_admissible_actions", info.get("admissible_actions"))
    return list(actions) if actions is not None else list(previous or [])


def turn_prompt(tokenizer, st: dict[str, Any], settings: RolloutSettings, template: TurnTemplate | None) -> list[int]:
    """This turn's prompt ids: the verl-agent window (task, last ``history_length`` turns, observation,
    admissible actions), or with ``template`` (``trajectory_prompts``) the last prompt + its reply + a new
    user message, cut from the left to ``max_prompt_tokens`` like the window."""
    if template is None or not st["history"]:
        window = 0 if template is not None else settings.history_length
        return encode_prompt(tokenizer, build_messages(st["task"], st["history"], st["obs"], st["admissible"],
                                                       window), settings.max_prompt_tokens)
    content = build_messages(st["task"], st["history"], st["obs"], st["admissible"], 0)[-1]["content"]
    ids = next_turn_ids(tokenizer, template, *st["last"], later_user_content(content))
    return ids[-settings.max_prompt_tokens:]


def play(
    lm: torch.nn.Module,
    tokenizer,
    envs: list[TextEnv],
    seeds: list[int],
    groups: list[int],
    settings: RolloutSettings,
    generator: torch.Generator,
) -> RolloutBatch:
    """Play one episode per env (``envs[i]`` reset with ``seeds[i]``, in group ``groups[i]``) to the end."""
    start = time.perf_counter()
    was_training = lm.training
    lm.eval()
    episodes = [EpisodeOutcome(index=i, group=g, seed=s) for i, (s, g) in enumerate(zip(seeds, groups, strict=True))]
    state: list[dict[str, Any]] = []
    for env, seed in zip(envs, seeds, strict=True):
        reset = env.reset(seed)
        cap = settings.max_turns
        expert = reset.info.get("expert_actions")
        if settings.max_turns_slack is not None and expert:
            cap = min(cap, len(expert) + settings.max_turns_slack)
        state.append({"task": reset.info.get("task", ""), "obs": reset.observation, "history": [],
                      "admissible": list(reset.info.get("admissible_actions", [])),
                      "all_admissible": all_admissible(reset.info), "cap": cap})
    template = turn_template(tokenizer) if settings.trajectory_prompts else None
    samples: list[TurnSample] = []
    prefix_memo: PrefixMemo = {}  # the common prompt prefix (system prompt) is encoded once per rollout
    generated = 0
    prompt_tokens = 0
    turn = 0
    while True:
        live = [i for i, ep in enumerate(episodes) if not ep.done]
        if not live:
            break
        prompts = [turn_prompt(tokenizer, state[i], settings, template) for i in live]
        out = sample_replies(lm, prompts, eos_id=tokenizer.eos_token_id, pad_id=tokenizer.pad_token_id,
                             max_new_tokens=settings.max_new_tokens, temperature=settings.temperature,
                             generator=generator, shared_prompts=settings.shared_prompts, prefix_memo=prefix_memo)
        generated += int(out.lengths.sum())
        prompt_tokens += out.prompt_tokens
        for j, i in enumerate(live):
            ep, st = episodes[i], state[i]
            n = int(out.lengths[j])
            ids = out.tokens[j, :n]
            text = decode_reply(tokenizer, ids)
            parsed = parse_reply(text)
            action = parsed.action if parsed.action is not None else text  # the env sanitises what it plays
            step = envs[i].step(action)
            valid = bool(parsed.format_ok and step.info.get("action_valid", False))
            won = bool(step.info.get("won", False))
            reward = (1.0 if won else 0.0) - (0.0 if valid else settings.invalid_action_penalty)
            samples.append(TurnSample(
                episode=i, group=ep.group, turn=turn, prompt_ids=prompts[j], response_ids=ids.clone(),
                old_logp=out.logp[j, :n].clone(), entropy=out.entropy[j, :n].clone(), reward=reward, valid=valid,
                format_ok=parsed.format_ok, truncated=bool(out.truncated[j]), observation=st["obs"],
                response_text=text, action=action, admissible=st["all_admissible"],
            ))
            ep.turns += 1
            ep.invalid += int(not valid)
            ep.ret += reward
            ep.won = ep.won or won
            st["history"].append((st["obs"], action))
            st["last"] = (prompts[j], ids.tolist())
            st["obs"] = step.observation
            st["admissible"] = list(step.info.get("admissible_actions", st["admissible"]))
            st["all_admissible"] = all_admissible(step.info, st["all_admissible"])
            ep.done = bool(step.done) or won or ep.turns >= st["cap"]
        turn += 1
    lm.train(was_training)
    return RolloutBatch(samples, episodes, rollout_s=time.perf_counter() - start, generated_tokens=generated,
                        extra={"encoded_prompt_tokens": prompt_tokens})


def rollout_metrics(batch: RolloutBatch) -> dict[str, float]:
    """Episode-level agent metrics: ``env/*``, ``reward/*`` (canonical names) and reply-length stats."""
    eps = batch.episodes
    returns = torch.tensor([e.ret for e in eps], dtype=torch.float64)
    groups = torch.tensor([e.group for e in eps])
    _, inverse = torch.unique(groups, return_inverse=True)
    n_groups = int(inverse.max()) + 1
    gmax = torch.full((n_groups,), -torch.inf, dtype=torch.float64).scatter_reduce(0, inverse, returns, "amax")
    gmin = torch.full((n_groups,), torch.inf, dtype=torch.float64).scatter_reduce(0, inverse, returns, "amin")
    lengths = torch.tensor([len(s.response_ids) for s in batch.samples], dtype=torch.float64)
    return {
        "reward/mean": float(returns.mean()),
        "reward/std": float(returns.std()) if len(eps) > 1 else 0.0,
        "reward/frac_zero_std_groups": float((gmax == gmin).double().mean()),
        "env/success_rate": sum(e.won for e in eps) / len(eps),
        "env/episode_len": sum(e.turns for e in eps) / len(eps),
        "env/valid_action_ratio": sum(s.valid for s in batch.samples) / max(len(batch.samples), 1),
        "env/format_ok_ratio": sum(s.format_ok for s in batch.samples) / max(len(batch.samples), 1),
        "response/mean_length": float(lengths.mean()) if len(lengths) else 0.0,
        "response/truncated_ratio": sum(s.truncated for s in batch.samples) / max(len(batch.samples), 1),
    }
