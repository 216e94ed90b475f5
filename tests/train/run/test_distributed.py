"""Two CPU processes (gloo) launched by ``torchrun``: an update split over two ranks equals the one-process
update of all the samples; in training both ranks keep identical parameters, each plays its own games, rank 0
alone writes a log with each step once, a resume continues it, and nothing hangs.

Running this file as a script is the per-rank worker the tests launch (once, shared by the tests)."""

from __future__ import annotations

import copy
import json
import math
import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from entropy_dynamics.logs import read_runs
from entropy_dynamics.train.run.distributed import Dist, combine_metrics, merge_metrics, rank_share

REPO = Path(__file__).resolve().parents[3]
LAUNCH_TIMEOUT_S = 300
#: Each worker trains these two configs in turn: SEAL on (every sample is forwarded) and off (ranks skip
#: zero-advantage micro-batches, so they may run different numbers of backward passes).
VARIANTS = {"seal": ["seal.coef=0.02"], "plain": ["seal.coef=0"]}
#: Per-sample advantages of the update check: rank 0's share (even positions) is all zero, so without SEAL
#: rank 0 runs no backward at all while rank 1 does.
UPDATE_ADVANTAGES = [0.0, 1.0, 0.0, -1.0, 0.0, 0.5, 0.0, -2.0]


def update_check(root: Path, rank: int) -> None:
    """Save the parameters before, after an update of all samples in this process alone, and after the same
    update split over the ranks (this rank holding samples ``rank::2``). Plain SGD, so that the comparison is
    of the reduced gradients (Adam would magnify float noise on near-zero gradients). Small all-reduce buckets,
    so that the gradients travel in several (the training runs use the default: one bucket)."""
    from entropy_dynamics.train.run import distributed
    from entropy_dynamics.train.run.distributed import Dist
    from entropy_dynamics.train.run.update import update_policy
    from tests.train.conftest import tiny_model
    from tests.train.run.test_update import credit_for, make_samples

    default_bucket, distributed.BUCKET_ELEMENTS = distributed.BUCKET_ELEMENTS, 5000
    for name, overrides in VARIANTS.items():
        # no dropout in the SEAL head: its random masks would differ with the micro-batch split
        cfg, policy, tok = tiny_model([*overrides, "seal.dropout=0", "minibatches=1", "epochs=2",
                                       "micro_batch_size=2"])
        samples = make_samples(policy, tok, n=len(UPDATE_ADVANTAGES))
        mine = list(range(rank, len(samples), 2))
        params = {"initial": copy.deepcopy(policy.state_dict())}
        for mode, dist, share in (("alone", Dist(), list(range(len(samples)))), ("split", Dist(rank, 2), mine)):
            model = copy.deepcopy(policy)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
            scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
            local = credit_for([samples[i] for i in share], [UPDATE_ADVANTAGES[i] for i in share])
            update_policy(model, None, optimizer, scheduler, [samples[i] for i in share], local, cfg,
                          tok.pad_token_id, torch.Generator().manual_seed(0), dist)
            params[mode] = model.state_dict()
        torch.save(params, root / f"update_{name}_rank{rank}.pt")
    distributed.BUCKET_ELEMENTS = default_bucket


def worker(root: Path) -> None:
    """One rank: the update check, then train every variant for 2 steps (and resume the first to step 3);
    save its parameters and the seeds of the games it played."""
    import torch.distributed as tdist

    from entropy_dynamics.train.config_io import load_config
    from entropy_dynamics.train.run.loop import train
    from tests.train.conftest import FAST

    tdist.init_process_group("gloo")  # every training reuses this group (train() must not destroy it)
    rank = tdist.get_rank()
    update_check(root, rank)
    for name, overrides in VARIANTS.items():
        cfg = load_config(None, [*FAST, "games_per_step=2", "steps=2", "wandb=disabled", *overrides,
                                 f"output_dir={root / name}"])
        state = train(cfg, echo=None)
        seeds = sorted({e.seed for e in state.last_rollout.episodes})
        (root / f"{name}_seeds_rank{rank}.json").write_text(json.dumps(seeds))
        if name == "seal":
            state = train(replace(cfg, steps=3), resume=True, echo=None)
        torch.save(state.policy.state_dict(), root / f"{name}_params_rank{rank}.pt")
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


@pytest.fixture(scope="module")
def launched(tmp_path_factory) -> Path:
    """The folder of one 2-process launch of :func:`worker`."""
    root = tmp_path_factory.mktemp("distributed")
    done = launch(root)
    assert done.returncode == 0, done.stdout[-3000:]
    return root


@pytest.mark.slow
@pytest.mark.parametrize("name", list(VARIANTS))
def test_update_split_over_two_ranks_equals_one_process(launched, name):
    for rank in (0, 1):
        params = torch.load(launched / f"update_{name}_rank{rank}.pt")
        initial, alone, split = params["initial"], params["alone"], params["split"]
        moved = max(float((alone[k] - initial[k]).abs().max()) for k in alone)
        apart = max(float((alone[k] - split[k]).abs().max()) for k in alone)
        assert moved > 1e-4, (name, rank, moved)  # the update did something
        assert apart < 1e-3 * moved, (name, rank, apart, moved)


@pytest.mark.slow
def test_two_gloo_processes_train_in_lockstep(launched):
    tmp_path = launched
    for name in VARIANTS:
        rank0 = torch.load(tmp_path / f"{name}_params_rank0.pt")
        rank1 = torch.load(tmp_path / f"{name}_params_rank1.pt")
        assert rank0.keys() == rank1.keys()
        assert all(torch.equal(rank0[k], rank1[k]) for k in rank0), name
        seeds = [set(json.loads((tmp_path / f"{name}_seeds_rank{r}.json").read_text())) for r in (0, 1)]
        assert seeds[0] and seeds[1] and not seeds[0] & seeds[1], seeds
        run = read_runs(tmp_path / name / "metrics.jsonl")[0]
        assert list(run.metrics.index) == ([1, 2, 3] if name == "seal" else [1, 2])
        assert run.stats.duplicate_steps == 0
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


def test_combine_metrics_sums_losses_maxes_times_and_averages_the_rest():
    rank0 = {"loss/pg": 0.25, "perf/step_s": 2.0, "perf/tokens_per_s": 100.0, "policy/entropy": 1.0,
             "policy/entropy_turn_2": 0.5, "seal/head_auroc": float("nan")}
    rank1 = {"loss/pg": 0.5, "perf/step_s": 3.0, "perf/tokens_per_s": 50.0, "policy/entropy": 2.0,
             "seal/head_auroc": 0.75, "adv/mean": float("nan")}
    merged = combine_metrics([rank0, rank1])
    assert merged["loss/pg"] == 0.75 and merged["perf/tokens_per_s"] == 150.0 and merged["perf/step_s"] == 3.0
    assert merged["policy/entropy"] == 1.5
    assert merged["policy/entropy_turn_2"] == 0.5 and merged["seal/head_auroc"] == 0.75  # only where reported
    assert math.isnan(merged["adv/mean"])


if __name__ == "__main__":
    worker(Path(sys.argv[1]))
