"""Our trainer against TRL's ``GRPOTrainer``: steps/s and trained tokens/s, same tiny model, same task, one run.

The task is the admissible-action task of ``benchmarks/trl_grpo_baseline.py`` (a room observation ending with
its admissible actions; reward 1 when the reply names one of them). Our side plays it as a one-turn
environment (:class:`AdmissibleActionEnv`, prompted by our agent prompt, so its prompts are longer than TRL's
bare ones) with settings matched to TRL's: prompts per step = games per step, generations = group size,
completion cap, lr, 1 epoch x 1 minibatch (one optimizer step per step, like TRL), no KL, fp32 on CPU.

"Trained tokens" are completion tokens on both sides (TRL: ``completions/mean_length`` x batch; ours: the
sampled reply tokens). Our update skips the forward of samples whose advantage is 0 (all-equal groups) unless
SEAL needs them; TRL always runs it: the printed ``zero_adv_share`` says how much that matters for a run.

Variants: ``trl``, ``trl+callback`` (our EntropyDynamicsCallback), ``trl@our-prompt`` (TRL given exactly
the prompts our rollout builds, ~4x longer with this tokenizer: the like-for-like comparison), ``ours`` (loop +
JSONL log only),
``ours+diag`` (Instruments every 10 steps + LivePhase), ``ours+diag1`` (Instruments every step + LivePhase),
``ours+diag+seal`` (``ours+diag`` with SEAL 0.02, which forwards every sample in the update, as TRL does; the
SEAL/PG gradient ratio is measured every step, ``instruments.seal_every: 1``), ``ours+diag+seal/10`` (the same with
that measurement every 10 steps too, with the other instruments).
Steady figures leave out the first step (model warm-up, env creation)::

    OMP_NUM_THREADS=1 python benchmarks/bench_vs_trl.py [--steps 20] [--variants trl,ours,ours+diag]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import trl_grpo_baseline
from trl_grpo_baseline import admissible_action_task, build_tiny_model, reply_action, run_trl_grpo

from entropy_dynamics.envs.base import EnvReset, EnvStep
from entropy_dynamics.envs.prompt import build_messages
from entropy_dynamics.envs.registry import register_env
from entropy_dynamics.train.run.callbacks import Callback

ENV_NAME = "bench-admissible-action"
POOL = 400
TASK = "Reply with one admissible action."


def observation_of(row: dict[str, Any]) -> str:
    """The room text of a task row (its prompt without the admissible list and the instruction)."""
    return row["prompt"][0]["content"].split("\nAdmissible actions:")[0]


def rows_with_our_prompt(n_prompts: int, seed: int = 0) -> list[dict[str, Any]]:
    """The baseline's task rows, each prompted with the messages our rollout builds for it (same rewards)."""
    rows = admissible_action_task(n_prompts, seed)
    return [{"prompt": build_messages(TASK, [], observation_of(r), r["admissible"]), "admissible": r["admissible"]}
            for r in rows]


class AdmissibleActionEnv:
    """TRL baseline's task as a one-turn :class:`~entropy_dynamics.envs.base.TextEnv`: game ``seed`` is row
    ``seed`` of ``admissible_action_task(POOL)``; the episode is won when the action is admissible."""

    name = ENV_NAME

    def __init__(self) -> None:
        self.observation_markers: list[str] = []
        self.rows = admissible_action_task(POOL, seed=0)
        self.admissible: list[str] = []

    def reset(self, seed: int) -> EnvReset:
        row = self.rows[seed % POOL]
        self.admissible = row["admissible"]
        return EnvReset(observation_of(row), {"task": TASK, "admissible_actions": list(self.admissible)})

    def step(self, action: str) -> EnvStep:
        won = reply_action(action) in self.admissible
        return EnvStep("", float(won), True, {"won": won, "lost": not won, "action_valid": won, "blocked": False,
                                               "admissible_actions": [], "score": float(won), "max_score": 1.0})

    def close(self) -> None:
        pass


def register_benchmark_env() -> None:
    """Make ``make_env(ENV_NAME)`` build :class:`AdmissibleActionEnv`."""
    register_env(ENV_NAME, lambda **_: AdmissibleActionEnv(), "TRL baseline's admissible-action task, one turn "
                 "(benchmark)", replace=True)


class _StepClock(Callback):
    """Recording when each step's hooks ran and the step's completion tokens."""

    def __init__(self) -> None:
        self.ends: list[float] = []
        self.tokens: list[int] = []
        self.zero_adv: list[float] = []
        self.prompt_tokens: list[float] = []

    def on_step_end(self, state, metrics) -> None:
        batch = state.last_rollout
        self.ends.append(time.perf_counter())
        self.tokens.append(batch.generated_tokens)
        self.zero_adv.append(float((state.last_credit.sample_adv == 0).float().mean()))
        self.prompt_tokens.append(statistics.fmean(len(s.prompt_ids) for s in batch.samples))


def run_ours(model: Path, steps: int, *, prompts_per_step: int, num_generations: int, max_completion_length: int,
             learning_rate: float, diagnostics_every: int | None, seal: bool = False, seed: int = 0,
             seal_every: int = 1) -> dict[str, float]:
    """Our loop on the same task and model; ``diagnostics_every`` None = no instruments or live detection;
    ``seal`` = SEAL at 0.02 (every sample then goes through the update's forward, as in TRL)."""
    from entropy_dynamics.train.config_io import load_config
    from entropy_dynamics.train.run.loop import train

    with tempfile.TemporaryDirectory() as scratch:
        cfg = load_config(None, [
            f"model={model}", f"env={ENV_NAME}", f"steps={steps}", f"seed={seed}", f"output_dir={scratch}/run",
            f"games_per_step={prompts_per_step}", f"group_size={num_generations}", f"game_pool_size={POOL}",
            "max_turns=1", "max_turns_slack=null", f"max_new_tokens={max_completion_length}", f"lr={learning_rate}",
            "epochs=1", "minibatches=1", "micro_batch_size=64", "invalid_action_penalty=0", "adv_scale=group",
            "checkpoint_every=0", "samples_every=0", "device=cpu", "torch_threads=1",
            f"seal.coef={0.02 if seal else 0}",
            f"instruments.enabled={diagnostics_every is not None}", f"instruments.every={diagnostics_every or 1}",
            "instruments.max_samples=32", f"instruments.seal_every={seal_every}",
            f"phase.enabled={diagnostics_every is not None}", "phase.on_eruption=[]",
        ])
        clock = _StepClock()
        start = time.perf_counter()
        train(cfg, callbacks=[clock], echo=None)
        wall = time.perf_counter() - start
    steady_wall = clock.ends[-1] - clock.ends[0]
    return {
        "steps": float(len(clock.ends)),
        "wall_s": wall,
        "steps_per_s": len(clock.ends) / wall,
        "trained_tokens_per_s": sum(clock.tokens) / wall,
        "steady_steps_per_s": (len(clock.ends) - 1) / steady_wall,
        "steady_tokens_per_s": sum(clock.tokens[1:]) / steady_wall,
        "mean_completion_len": sum(clock.tokens) / (len(clock.tokens) * prompts_per_step * num_generations),
        "mean_prompt_len": statistics.fmean(clock.prompt_tokens),
        "zero_adv_share": statistics.fmean(clock.zero_adv),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--prompts-per-step", type=int, default=2)
    parser.add_argument("--num-generations", type=int, default=4)
    parser.add_argument("--max-completion-length", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--variants",
                        default="trl,trl+callback,trl@our-prompt,ours,ours+diag,ours+diag1,ours+diag+seal,"
                                "ours+diag+seal/10")
    opts = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    register_benchmark_env()
    settings = dict(prompts_per_step=opts.prompts_per_step, num_generations=opts.num_generations,
                    max_completion_length=opts.max_completion_length, learning_rate=opts.lr)
    with tempfile.TemporaryDirectory() as scratch:
        model = build_tiny_model(Path(scratch) / "tiny")
        for variant in opts.variants.split(","):
            if variant == "trl@our-prompt":  # TRL on exactly the prompts our rollout builds
                trl_grpo_baseline.admissible_action_task = rows_with_our_prompt
                figures = run_trl_grpo(model, opts.steps, **settings)
                trl_grpo_baseline.admissible_action_task = admissible_action_task
            elif variant.startswith("trl"):
                figures = run_trl_grpo(model, opts.steps, with_callback=variant == "trl+callback", **settings)
            else:
                every = {"ours": None, "ours+diag": 10, "ours+diag1": 1, "ours+diag+seal": 10,
                         "ours+diag+seal/10": 10}[variant]
                figures = run_ours(model, opts.steps, diagnostics_every=every, seal="seal" in variant,
                                   seal_every=10 if variant.endswith("/10") else 1, **settings)
            print(f"{variant:13s} " + "  ".join(f"{k}={v:.3g}" for k, v in figures.items()), flush=True)


if __name__ == "__main__":
    main()
