"""Two CPU processes (gloo) launched by ``torchrun``: the gradient all-reduce keeps both ranks' parameters
identical, each rank plays its own games, rank 0 alone writes a log with each step once, nothing hangs.

Running this file as a script is the per-rank worker the test launches."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from entropy_dynamics.logs import read_runs
from entropy_dynamics.train.distributed import Dist, merge_metrics, rank_share

REPO = Path(__file__).resolve().parents[2]
LAUNCH_TIMEOUT_S = 300
#: Each worker trains these two configs in turn: SEAL on (every sample is forwarded) and off (ranks skip
#: zero-advantage micro-batches, so they may run different numbers of backward passes).
VARIANTS = {"seal": ["seal.coef=0.02"], "plain": ["seal.coef=0"]}


def worker(root: Path) -> None:
    """One rank: train every variant for 2 steps; save its parameters and the seeds of the games it played."""
    import torch.distributed as tdist

    from entropy_dynamics.train.config_io import load_config
    from entropy_dynamics.train.loop import train
    from tests.train.conftest import FAST

    tdist.init_process_group("gloo")  # both trainings reuse this group (train() must not destroy it)
    rank = tdist.get_rank()
    for name, overrides in VARIANTS.items():
        cfg = load_config(None, [*FAST, "games_per_step=2", "steps=2", "wandb=disabled", *overrides,
                                 f"output_dir={root / name}"])
        state = train(cfg, echo=None)
        torch.save(state.policy.state_dict(), root / f"{name}_params_rank{rank}.pt")
        seeds = sorted({e.seed for e in state.last_rollout.episodes})
        (root / f"{name}_seeds_rank{rank}.json").write_text(json.dumps(seeds))
    tdist.destroy_process_group()


def launch(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           __file__, str(root)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=LAUNCH_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"2-process training did not finish in {LAUNCH_TIMEOUT_S} s (hang?)")
    return subprocess.CompletedProcess(cmd, proc.returncode, output)


@pytest.mark.slow
def test_two_gloo_processes_train_in_lockstep(tmp_path):
    done = launch(tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    for name in VARIANTS:
        rank0 = torch.load(tmp_path / f"{name}_params_rank0.pt")
        rank1 = torch.load(tmp_path / f"{name}_params_rank1.pt")
        assert rank0.keys() == rank1.keys()
        assert all(torch.equal(rank0[k], rank1[k]) for k in rank0), name
        seeds = [set(json.loads((tmp_path / f"{name}_seeds_rank{r}.json").read_text())) for r in (0, 1)]
        assert seeds[0] and seeds[1] and not seeds[0] & seeds[1], seeds
        run = read_runs(tmp_path / name / "metrics.jsonl")[0]
        assert list(run.metrics.index) == [1, 2] and run.stats.duplicate_steps == 0
        assert run.metrics["optim/steps"].gt(0).all()
        assert (tmp_path / name / "checkpoint").is_dir() and (tmp_path / name / "model").is_dir()


def test_rank_share_deals_games_round_robin():
    games = [10, 11, 12, 13, 14]
    assert rank_share(games, Dist(rank=0, world_size=2)) == [10, 12, 14]
    assert rank_share(games, Dist(rank=1, world_size=2)) == [11, 13]
    assert rank_share(games, Dist()) == games


def test_rank_share_needs_a_game_per_process():
    from entropy_dynamics.errors import ConfigError

    with pytest.raises(ConfigError, match="games_per_step"):
        rank_share([10], Dist(rank=0, world_size=2))


def test_merge_metrics_is_identity_in_one_process():
    metrics = {"loss/pg": 0.5, "policy/entropy": 1.2}
    assert merge_metrics(metrics, Dist()) is metrics


if __name__ == "__main__":
    worker(Path(sys.argv[1]))
