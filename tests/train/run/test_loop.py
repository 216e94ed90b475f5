"""The training loop end to end on real TextWorld games: determinism, log, checkpoints, kill -9 + --resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs import read_runs
from entropy_dynamics.train.config_io import load_config
from entropy_dynamics.train.run.callbacks import Callback
from entropy_dynamics.train.run.loop import train


def _records(path: Path) -> list[dict]:
    """The log's records; a last line cut by a kill -9 (no newline yet) is left out, as the readers do."""
    text = path.read_text()
    lines = text.splitlines() if text.endswith("\n") else text.splitlines()[:-1]
    return [json.loads(line) for line in lines if line.strip()]


def _comparable(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if not k.startswith("perf/")}


class StopAfter(Callback):
    def __init__(self, step: int) -> None:
        self.step = step
        self.seen: list[int] = []

    def on_step_end(self, state, metrics):
        self.seen.append(state.step)
        return ["stop"] if state.step >= self.step else None


def test_same_seed_same_first_step_and_the_log_is_complete(fast_overrides, tmp_path):
    runs = []
    for name in ("a", "b"):
        cfg = load_config(None, [*fast_overrides, f"output_dir={tmp_path / name}", "steps=1", "seal=on"])
        train(cfg)
        runs.append(_records(tmp_path / name / "metrics.jsonl"))
    metrics = [[r for r in recs if r["type"] == "metrics"] for recs in runs]
    assert [m["step"] for m in metrics[0]] == [1]
    assert _comparable(metrics[0][0]["metrics"]) == _comparable(metrics[1][0]["metrics"])
    first = metrics[0][0]["metrics"]
    for key in ("reward/mean", "reward/std", "reward/frac_zero_std_groups", "env/success_rate", "env/episode_len",
                "env/valid_action_ratio", "policy/entropy", "policy/entropy/p50", "policy/entropy/p90",
                "policy/entropy/turn_0", "loss/pg", "loss/seal", "loss/total", "policy/clip_frac", "policy/approx_kl",
                "optim/grad_norm", "optim/lr", "perf/rollout_s", "perf/update_s", "perf/step_s", "perf/tokens_per_s",
                "perf/peak_mem_mb", "seal/head_acc"):
        assert key in first, key
    header = runs[0][0]
    assert header["type"] == "header" and header["resumed_from_step"] is None
    assert header["config"]["seal"]["coef"] == 0.02 and "torch" in header["versions"]
    kinds = {r["type"] for r in runs[0]}
    assert {"header", "metrics", "event", "samples"} <= kinds
    assert (tmp_path / "a" / "checkpoint" / "state.pt").is_file()
    assert (tmp_path / "a" / "model" / "config.json").is_file()
    assert not any("seal" in p.name for p in (tmp_path / "a" / "model").iterdir())


def test_shared_prompts_give_the_reference_path_metrics(fast_overrides, tmp_path):
    """Two steps with SEAL on: the shared-prompt rollout and update log the same metrics as the full-sequence
    path (same seed) up to float rounding."""
    logged = {}
    for shared in (True, False):
        cfg = load_config(None, [*fast_overrides, f"output_dir={tmp_path / str(shared)}", "steps=2", "seal=on",
                                 "seal.dropout=0.0", "group_size=4", f"shared_prompts={str(shared).lower()}"])
        train(cfg)
        logged[shared] = [r["metrics"] for r in _records(tmp_path / str(shared) / "metrics.jsonl")
                          if r["type"] == "metrics"]
    assert len(logged[True]) == len(logged[False]) == 2
    for fast, full in zip(logged[True], logged[False], strict=True):
        fast, full = _comparable(fast), _comparable(full)
        assert fast.keys() == full.keys()
        for key, value in full.items():
            if value is None:  # NaN is logged as null
                assert fast[key] is None, key
            else:
                assert fast[key] == pytest.approx(value, rel=1e-3, abs=1e-5), key


def test_callback_can_stop_and_existing_log_needs_resume(fast_overrides):
    cfg = load_config(None, [*fast_overrides, "steps=5", "samples_every=0"])
    stopper = StopAfter(1)
    state = train(cfg, callbacks=[stopper])
    assert stopper.seen == [1] and state.step == 1
    events = [r for r in _records(Path(cfg.output_dir) / "metrics.jsonl") if r["type"] == "event"]
    assert [e["event"] for e in events] == ["checkpoint", "stopped"]
    from entropy_dynamics.errors import ConfigError

    with pytest.raises(ConfigError, match="--resume"):
        train(cfg)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "entropy_dynamics", *args]


@pytest.mark.slow
def test_kill_minus_nine_then_resume_continues_the_same_log(fast_overrides, tmp_path):
    STEPS = 20  # long enough that the kill after step 2 lands mid-run
    out = tmp_path / "run"
    sets = [a for o in [*fast_overrides, f"steps={STEPS}", "samples_every=0"] for a in ("--set", o)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(_cli("train", *sets), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            cwd=Path(__file__).resolve().parents[3])
    log = out / "metrics.jsonl"
    deadline = time.time() + 240
    try:
        while time.time() < deadline:
            if log.is_file() and sum('"type": "metrics"' in line for line in log.read_text().splitlines()) >= 2:
                break
            time.sleep(0.01)  # kill as soon as step 2 is on disk, well before the run can finish
        else:
            pytest.fail("the training run wrote no second step in time")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    killed_at = max(r["step"] for r in _records(log) if r["type"] == "metrics")
    assert killed_at < STEPS  # killed mid-run (a quiet machine runs several tiny steps per second)
    done = subprocess.run(_cli("train", *sets, "--resume"), capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[3], timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    records = _records(log)
    steps = [r["step"] for r in records if r["type"] == "metrics"]
    assert steps == list(range(1, STEPS + 1))
    headers = [r for r in records if r["type"] == "header"]
    assert len(headers) == 2 and headers[0]["resumed_from_step"] is None
    assert 1 <= headers[1]["resumed_from_step"] <= killed_at
    assert headers[1]["config"] == headers[0]["config"]
    run = read_runs(log)[0]
    assert run.stats.duplicate_steps == 0 and list(run.metrics.index) == list(range(1, STEPS + 1))


@pytest.mark.parametrize(
    "extra",
    [
        ["algorithm=ppo", "use_ref_model=true", "kl_coef=0.05", "entropy_coef=0.01"],
        ["algorithm=rloo", "loss_agg_mode=seq-sum-constant", "clip_cov={}"],
        ["algorithm=reinforce_pp", "seal=on", "seal.pooling=turn_mean", "seal.label_source=episode_success"],
    ],
)
def test_other_algorithms_and_loss_terms_run_a_step(fast_overrides, extra):
    cfg = load_config(None, [*fast_overrides, "steps=1", "samples_every=0", *extra])
    train(cfg)
    metrics = next(r for r in _records(Path(cfg.output_dir) / "metrics.jsonl") if r["type"] == "metrics")["metrics"]
    assert metrics["optim/steps"] == 2.0
    if cfg.algorithm == "ppo":
        assert metrics["loss/kl"] >= 0 and metrics["loss/entropy"] < 0 and "loss/value" in metrics
        assert metrics["policy/kl_ref"] >= 0
    if cfg.seal_on:
        assert metrics["loss/seal"] > 0


def test_wandb_offline_is_a_second_sink(fast_overrides):
    cfg = load_config(None, [*fast_overrides, "steps=1", "samples_every=0", "wandb=offline"])
    train(cfg)
    out = Path(cfg.output_dir)
    run_id = (out / "wandb_run_id.txt").read_text().strip()
    files = list((out / "wandb").glob(f"offline-run-*-{run_id}/run-{run_id}.wandb"))
    assert len(files) == 1 and files[0].stat().st_size > 0
    runs = _finished_wandb_run(files[0].parent)
    assert runs and "policy/entropy" in runs[0].metrics.columns


def _finished_wandb_run(folder: Path) -> list:
    """The W&B offline run once its exit record is on disk: wandb's service can still be writing the file
    after ``finish()`` returns (the flake: "no W&B run or history records found" on a loaded machine)."""
    deadline = time.monotonic() + 120  # a guard against a hang; the wait ends on the exit record
    while True:
        try:
            runs = read_runs(folder)
        except LogReadError:
            runs = []
        if runs and runs[0].metadata.get("finished"):
            return runs
        if time.monotonic() > deadline:
            pytest.fail(f"{folder}: the W&B run file got no exit record")
        time.sleep(0.05)


def test_mixed_precision_bf16_runs_the_forwards_in_bf16_and_keeps_fp32_weights(fast_overrides):
    """``mixed_precision: bf16``: the rollout's and the update's matrix products come out in bfloat16 (autocast),
    the weights and the optimizer stay fp32, and the logged metrics are finite."""
    import torch

    seen: set[torch.dtype] = set()

    class RecordDtype(Callback):
        def on_train_start(self, state, header) -> None:
            layer = state.policy.lm.get_output_embeddings()
            layer.register_forward_hook(lambda module, args, out: seen.add(out.dtype))

    cfg = load_config(None, [*fast_overrides, "steps=2", "mixed_precision=bf16", "seal.coef=0.02"])
    state = train(cfg, callbacks=[RecordDtype()], echo=None)
    assert seen == {torch.bfloat16}
    assert {p.dtype for p in state.policy.parameters()} == {torch.float32}
    step = [r for r in _records(Path(cfg.output_dir) / "metrics.jsonl") if r.get("type") == "metrics"][-1]
    assert all(v is None or v == v for v in step["metrics"].values())  # no NaN (None = NaN in the log)
    assert step["metrics"]["loss/seal"] > 0


def test_mixed_precision_has_a_clear_error_for_unknown_values():
    from entropy_dynamics.errors import ConfigError

    with pytest.raises(ConfigError, match="'mixed_precision' must be auto, no or bf16"):
        load_config(None, ["mixed_precision=fp8"])
