"""Cost of the instruments (aim: <= 15% of a step) and of SEAL (aim: <= 5%) on the tiny preset.

One real GRPO step of the demo's settings (tiny Llama, TextWorld cooking, 2 games x G=8, replies up to 40
tokens) gives a rollout; its advantages are then set to random signs so that every sample carries a learning
signal (a fresh random model wins nothing, and all-equal groups would make the update skip its forward).
On that fixed batch the script times, as the median of ``--repeats``:

- the update (``update_policy``, 2 minibatches) with SEAL off and with SEAL 0.02, from the same weights,
  alternating: SEAL's overhead = their difference / (rollout + update without SEAL);
- the instruments' text metrics (every step), one interference + separation measurement (every k steps)
  and the live phase detector's step; diagnostics overhead at k = 1, 5, 10 = (text + live + measurement / k)
  / (rollout + update).

Run::

    OMP_NUM_THREADS=1 python benchmarks/bench_overhead.py [--repeats 3] [--set key=value ...]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import torch

from entropy_dynamics.metrics.interference import default_interference_params
from entropy_dynamics.train.algorithms.credit import Credit
from entropy_dynamics.train.algorithms.seal import SealHead
from entropy_dynamics.train.config_io import load_config
from entropy_dynamics.train.models import Policy
from entropy_dynamics.train.models.builder import build_optimizer
from entropy_dynamics.train.run.callbacks import TrainState
from entropy_dynamics.train.run.instruments import Instruments, interference_and_separation, text_metrics
from entropy_dynamics.train.run.live_phase import LivePhase
from entropy_dynamics.train.run.loop import train
from entropy_dynamics.train.run.update import update_policy
from entropy_dynamics.workflows.demo import DEMO_SETTINGS, settings_overrides


def median_seconds(fn: Callable[[], Any], repeats: int) -> float:
    """Median wall time of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def signed_credit(state: TrainState, seed: int = 0) -> Credit:
    """Random +-1 advantages per sample (every sample then enters the update's forward)."""
    gen = torch.Generator().manual_seed(seed)
    signs = torch.randint(0, 2, (len(state.last_rollout.samples),), generator=gen).float() * 2 - 1
    tokens = [torch.full((len(s.response_ids),), float(a)) for s, a in zip(state.last_rollout.samples, signs,
                                                                          strict=True)]
    return Credit(tokens, tokens, None, signs)


def time_updates(state: TrainState, credit: Credit, coefs: tuple[float, ...], repeats: int) -> list[float]:
    """Median seconds of one ``update_policy`` call from the state's weights for each SEAL coefficient; the
    variants alternate within each repeat, so load changes on a shared machine hit them alike."""
    lm = state.policy.lm

    def once(coef: float) -> float:
        cfg = copy.deepcopy(state.config)
        cfg.seal.coef = coef
        head = SealHead(int(lm.config.hidden_size), cfg.seal.num_layers, cfg.seal.dropout) if coef > 0 else None
        policy = Policy(copy.deepcopy(lm), head, None)
        optimizer, scheduler = build_optimizer(policy, cfg.lr, cfg.weight_decay, cfg.warmup_steps)
        start = time.perf_counter()
        update_policy(policy, None, optimizer, scheduler, state.last_rollout.samples, credit, cfg,
                      state.tokenizer.pad_token_id, torch.Generator().manual_seed(1))
        return time.perf_counter() - start

    times: list[list[float]] = [[] for _ in coefs]
    for _ in range(repeats):
        for k, coef in enumerate(coefs):
            times[k].append(once(coef))
    return [statistics.median(t) for t in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="key=value demo override")
    opts = parser.parse_args()
    torch.set_num_threads(1)

    with tempfile.TemporaryDirectory() as scratch:
        # the demo's GRPO settings, from a fresh tiny model
        cfg = load_config(None, [*settings_overrides(DEMO_SETTINGS), "tiny.corpus_games=10", "steps=1",
                                 f"output_dir={scratch}/run", "checkpoint_every=0", "instruments.enabled=false",
                                 "phase.enabled=false", *opts.overrides])
        state = train(cfg)
    measured_samples = cfg.instruments.max_samples
    batch = state.last_rollout
    credit = signed_credit(state)
    state.last_credit = credit
    rollout_s = batch.rollout_s
    print(f"batch: {len(batch.samples)} turn samples, {batch.generated_tokens} reply tokens, "
          f"rollout {rollout_s:.2f} s (settings: {cfg.games_per_step} games x G="
          f"{cfg.group_size}, tiny {cfg.tiny.hidden_size}d x {cfg.tiny.num_layers} layers)")

    update_off, update_on = time_updates(state, credit, (0.0, 0.02), opts.repeats)
    step_s = rollout_s + update_off
    print(f"update: SEAL off {update_off:.2f} s, SEAL 0.02 {update_on:.2f} s -> SEAL overhead "
          f"{100 * (update_on - update_off) / step_s:.1f}% of a step ({step_s:.2f} s), "
          f"{100 * (update_on - update_off) / update_off:.1f}% of the update")

    instruments = Instruments(every=1, max_samples=measured_samples)
    instruments.on_train_start(state, {})
    live = LivePhase(on_eruption=(), echo=None)
    live.on_train_start(state, {})
    text_s = median_seconds(lambda: text_metrics(batch, instruments.markers), opts.repeats)
    measure_s = median_seconds(lambda: interference_and_separation(
        state.policy, batch, credit, state.config, state.tokenizer.pad_token_id, measured_samples),
        opts.repeats)
    full_params = default_interference_params(state.policy.lm)  # with the tied LM head: full backward passes
    measure_full_s = median_seconds(lambda: interference_and_separation(
        state.policy, batch, credit, state.config, state.tokenizer.pad_token_id, measured_samples,
        params=full_params), opts.repeats)
    values = iter(range(10_000))
    live_s = median_seconds(lambda: [_live_step(live, state, float(next(values) % 7)) for _ in range(40)],
                            opts.repeats) / 40
    print(f"instruments: text metrics {1000 * text_s:.0f} ms/step, interference+separation on "
          f"{measured_samples} samples {1000 * measure_s:.0f} ms ({1000 * measure_full_s:.0f} ms with the tied LM "
          f"head among the measured parameters), live phase detector {1000 * live_s:.1f} ms/step")
    for every in (1, 5, 10):
        share = (text_s + live_s + measure_s / every) / step_s
        print(f"diagnostics overhead, measuring every {every:2d} steps: {100 * share:.1f}% of a step")


def _live_step(live: LivePhase, state: TrainState, value: float) -> None:
    state.step += 1
    live.on_step_end(state, {"policy/entropy": value})
    state.pending_events.clear()


if __name__ == "__main__":
    main()
