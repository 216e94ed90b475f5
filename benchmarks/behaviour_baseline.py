"""Behaviour baseline: fixed-seed tiny training runs and `analyze --format json` on every shipped log.

Records (``--record``) or compares against ``tests/fixtures/behaviour_baseline.json`` so a refactor can show
"behaviour unchanged": every algorithm / credit / loss variant of the trainer for two steps on the tests' tiny
Llama (real TextWorld games, one torch thread), and the analyzer on every log under ``sample_logs/``.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/behaviour_baseline.py            # compare, print diffs
    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/behaviour_baseline.py --record   # write the fixture

Exit status 0 when every number is identical (exact float equality), 1 otherwise.

The imports use the paths from before the issue-18 layout on purpose (they still work as aliases), so the same
script records on an older tree and compares on a newer one.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "behaviour_baseline.json"
SAMPLES = ROOT / "sample_logs"
#: Public logs held out from tuning: scored by ``benchmarks/bench_heldout.py``, never recorded here.
HELD_OUT = ROOT / "benchmarks" / "real_runs" / "labels_heldout.json"

#: The tests' fast tiny preset (tests/train/conftest.py FAST), repeated so the fixture does not depend on it.
FAST = [
    "tiny.hidden_size=32", "tiny.num_layers=2", "tiny.num_heads=2", "tiny.intermediate_size=64",
    "tiny.vocab_size=600", "tiny.corpus_games=2", "game_pool_size=2", "games_per_step=1", "group_size=2",
    "max_turns=3", "max_new_tokens=8", "max_prompt_tokens=256", "micro_batch_size=8", "samples_every=1",
    "torch_threads=1", "steps=2", "checkpoint_every=0",
]

#: name -> extra overrides: every algorithm, both credit modes, each policy-loss variant and aggregation.
TRAIN_CASES: dict[str, list[str]] = {
    "grpo": [],
    "grpo_seal": ["seal=on"],
    "dr_grpo": ["algorithm=dr_grpo"],
    "rloo": ["algorithm=rloo"],
    "reinforce_pp": ["algorithm=reinforce_pp"],
    "gigpo": ["algorithm=gigpo"],
    "ppo": ["algorithm=ppo"],
    "grpo_turn": ["credit=turn"],
    "gigpo_turn_trajectories": ["algorithm=gigpo", "credit=turn", "credit_stats=trajectories"],
    "rloo_turn": ["algorithm=rloo", "credit=turn"],
    "clip_cov": ["clip_cov={ratio: 0.2, low: -10, high: 10}"],
    "kl_cov": ["kl_cov={ratio: 0.2}"],
    "seq_mean_token_mean_kl": ["loss_agg_mode=seq-mean-token-mean", "use_ref_model=true", "kl_coef=0.1"],
    "seq_sum_constant_entropy": ["loss_agg_mode=seq-sum-constant", "entropy_coef=0.01", "dual_clip_c=null"],
}


def _log_metrics(path: Path) -> dict[str, Any]:
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    steps = {str(r["step"]): {k: v for k, v in sorted(r["metrics"].items()) if not k.startswith("perf/")}
             for r in records if r["type"] == "metrics"}
    events = [{k: v for k, v in r.items() if k not in ("time", "path")} for r in records if r["type"] == "event"]
    return {"metrics": steps, "events": events}


def train_case(overrides: list[str]) -> dict[str, Any]:
    from entropy_dynamics.train.config_io import load_config
    from entropy_dynamics.train.loop import train

    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(None, [*FAST, *overrides, f"output_dir={tmp}/run"])
        train(cfg, echo=None)
        return _log_metrics(Path(tmp) / "run" / "metrics.jsonl")


#: Synthetic rollout for the credit check: (group, won, validity of each turn) per episode.
CREDIT_EPISODES = [(0, False, [True, False]), (0, False, [True, True]), (1, True, [True, True]),
                   (1, False, [False, True, True]), (2, True, [True]), (2, True, [False, True]), (2, False, [True])]
#: Sample advantages of the update check (mixed signs and sizes, one zero).
UPDATE_ADVANTAGES = [1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 0.0, 0.25]


def credit_batch():
    """A hand-made rollout of :data:`CREDIT_EPISODES` (penalty 0.1 per invalid turn, win bonus on the last turn)."""
    import torch

    from entropy_dynamics.train.rollout import Episode, RolloutBatch, TurnSample

    episodes, samples = [], []
    for index, (group, won, valid) in enumerate(CREDIT_EPISODES):
        ret = 0.0
        for turn, ok in enumerate(valid):
            reward = (1.0 if won and turn == len(valid) - 1 else 0.0) - (0.0 if ok else 0.1)
            ret += reward
            samples.append(TurnSample(
                episode=index, group=group, turn=turn, prompt_ids=[1], response_ids=torch.tensor([5, 6, 7][: turn + 1]),
                old_logp=torch.zeros(turn + 1), entropy=torch.zeros(turn + 1), reward=reward, valid=ok,
                format_ok=True, truncated=False, observation=f"room {turn % 2}", response_text="", action="look"))
        episodes.append(Episode(index=index, group=group, seed=group, won=won, turns=len(valid),
                                invalid=sum(not ok for ok in valid), ret=ret, done=True))
    return RolloutBatch(samples, episodes)


def credit_case(overrides: list[str]) -> dict[str, Any]:
    """Token advantages and SEAL targets of :func:`credit_batch` (PPO: with fixed value predictions)."""
    import torch

    from entropy_dynamics.train.config_io import load_config
    from entropy_dynamics.train.credit import assign_credit

    cfg = load_config(None, ["invalid_action_penalty=0.1", *overrides])
    batch = credit_batch()
    values = [torch.linspace(-0.3, 0.4, len(s.response_ids)) for s in batch.samples]
    credit = assign_credit(batch, cfg, values if cfg.algorithm == "ppo" else None)
    out = {"advantages": [t.tolist() for t in credit.advantages],
           "seal_target": [t.tolist() for t in credit.seal_target]}
    if credit.returns is not None:
        out["returns"] = [t.tolist() for t in credit.returns]
    return out


def update_case(overrides: list[str]) -> dict[str, Any]:
    """Metrics of one policy update of the tests' tiny Llama on its own sampled replies with fixed advantages."""
    import torch

    from entropy_dynamics.train.builder import build_optimizer
    from entropy_dynamics.train.config_io import load_config
    from entropy_dynamics.train.credit import Credit
    from entropy_dynamics.train.models import build_policy, build_tiny_lm
    from entropy_dynamics.train.rollout import TurnSample
    from entropy_dynamics.train.sampling import sample_replies
    from entropy_dynamics.train.tokenizer import train_bpe_tokenizer
    from entropy_dynamics.train.update import update_policy

    corpus = ["You are in a kitchen. There is a fridge, a counter and a red apple. Admissible actions: take apple",
              "<think>I need the apple, so I take it.</think>\n<action>take red apple from counter</action>",
              "Your task: cook a meal. Current observation: you see a cookbook. go north, open fridge"]
    cfg = load_config(None, [*FAST[:5], "micro_batch_size=3", "max_new_tokens=6", "seal.dropout=0.0",
                               "epochs=3", "lr=0.02", *overrides])
    torch.manual_seed(0)
    tok = train_bpe_tokenizer(corpus * 4, 400)
    policy = build_policy(cfg, build_tiny_lm(cfg, tok))
    ref = build_tiny_lm(cfg, tok).eval().requires_grad_(False) if cfg.use_ref_model else None
    gen = torch.Generator().manual_seed(0)
    n = len(UPDATE_ADVANTAGES)
    prompts = [torch.randint(10, len(tok), (4 + 3 * i,), generator=gen).tolist() for i in range(n)]
    out = sample_replies(policy.lm, prompts, eos_id=tok.eos_token_id, pad_id=tok.pad_token_id, max_new_tokens=6,
                         temperature=1.0, generator=gen)
    samples = [TurnSample(episode=i, group=i // 2, turn=0, prompt_ids=p, response_ids=out.tokens[i, : out.lengths[i]],
                          old_logp=out.logp[i, : out.lengths[i]], entropy=out.entropy[i, : out.lengths[i]],
                          reward=0.0, valid=True, format_ok=True, truncated=False, observation="",
                          response_text="", action="") for i, p in enumerate(prompts)]
    adv = [torch.full((len(s.response_ids),), a) for s, a in zip(samples, UPDATE_ADVANTAGES, strict=True)]
    returns = [torch.full_like(a, 0.5) for a in adv] if cfg.algorithm == "ppo" else None
    credit = Credit(adv, adv, returns, torch.tensor(UPDATE_ADVANTAGES))
    optimizer, scheduler = build_optimizer(policy, cfg.lr, cfg.weight_decay, cfg.warmup_steps)
    result = update_policy(policy, ref, optimizer, scheduler, samples, credit, cfg, tok.pad_token_id,
                           torch.Generator().manual_seed(1))
    return {"metrics": dict(sorted(result.metrics.items())), "nan_skips": result.nan_skips,
            "trained_tokens": result.trained_tokens}


def sample_log_paths() -> list[Path]:
    """Every shipped log except the held-out curves (a record of the analyzer's output on them is not wanted)."""
    held_out = {ROOT / c["path"] for c in json.loads(HELD_OUT.read_text())["curves"]} if HELD_OUT.is_file() else set()
    jsonl = sorted(SAMPLES.rglob("*.jsonl"))
    csvs = sorted(SAMPLES.rglob("*.csv"))
    wandb = sorted(p for p in (SAMPLES / "wandb").iterdir() if p.is_dir())
    return [p for p in [*jsonl, *csvs, *wandb] if p not in held_out]


def analyze_case(path: Path) -> Any:
    from cli.main import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["analyze", str(path), "--format", "json"])
    # paths relative to the checkout, so the record compares across checkouts
    text, message = (stream.getvalue().replace(str(ROOT), "<root>") for stream in (stdout, stderr))
    return {"exit": code, "result": json.loads(text) if code == 0 else message.strip()}


def measure(train_names: list[str] | None = None, analyze: bool = True) -> dict[str, Any]:
    names = list(TRAIN_CASES) if train_names is None else train_names
    out: dict[str, Any] = {"train": {name: train_case(TRAIN_CASES[name]) for name in names},
                           "credit": {name: credit_case(TRAIN_CASES[name]) for name in names},
                           "update": {name: update_case(TRAIN_CASES[name]) for name in names}}
    if analyze:
        out["analyze"] = {str(p.relative_to(ROOT)): analyze_case(p) for p in sample_log_paths()}
    return json.loads(json.dumps(out))  # the JSON round trip the fixture went through


def differences(expected: Any, got: Any, where: str = "", tol: float = 0.0, atol: float = 0.0) -> list[str]:
    """Paths where ``got`` differs from ``expected`` (floats: relative tolerance ``tol`` or absolute ``atol``,
    whichever is larger; NaN equals NaN)."""
    if isinstance(expected, dict) and isinstance(got, dict):
        out = [f"{where}/{k}: missing" for k in expected if k not in got]
        out += [f"{where}/{k}: unexpected" for k in got if k not in expected]
        for k in expected:
            if k in got:
                out += differences(expected[k], got[k], f"{where}/{k}", tol, atol)
        return out
    if isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            return [f"{where}: length {len(expected)} -> {len(got)}"]
        return [d for i, (e, g) in enumerate(zip(expected, got, strict=True))
                for d in differences(e, g, f"{where}[{i}]", tol, atol)]
    if isinstance(expected, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        if math.isnan(expected) and math.isnan(got):
            return []
        if expected == got or abs(expected - got) <= max(tol * max(abs(expected), abs(got)), atol):
            return []
        return [f"{where}: {expected!r} -> {got!r}"]
    return [] if expected == got else [f"{where}: {expected!r} -> {got!r}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write the fixture instead of comparing")
    args = parser.parse_args()
    got = measure()
    if args.record:
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        FIXTURE.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        print(f"recorded {len(got['train'])} training runs, credits and updates, {len(got['analyze'])} analyses "
              f"in {FIXTURE}")
        return 0
    diffs = differences(json.loads(FIXTURE.read_text()), got)
    for line in diffs:
        print(line)
    print(f"{len(got['train'])} training runs, {len(got['analyze'])} analyses: "
          f"{'identical' if not diffs else f'{len(diffs)} difference(s)'}")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
