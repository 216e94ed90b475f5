"""Several processes (``accelerate launch`` / ``torchrun``): the process group, gradient and count
reductions, metric merging. With one process every function here is a no-op, so the single-process run
is unchanged.

Gradients are all-reduced explicitly (summed) after each rank's local accumulation instead of wrapping the
model in DDP: ranks may run different numbers of backward passes (zero-advantage micro-batches are skipped,
a rank may have no sample in a minibatch), which DDP's per-backward hooks cannot survive. Each rank
normalises its loss by the counts summed over all ranks, so the summed gradient is the whole step's.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as tdist

from entropy_dynamics.errors import ConfigError


@dataclass(frozen=True)
class Dist:
    """This process's place in the launch: ``rank`` of ``world_size`` (1 = not distributed)."""

    rank: int = 0
    world_size: int = 1
    owns_group: bool = False  # this module created the process group (and destroys it)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1


def launched_world_size() -> int:
    """WORLD_SIZE as set by ``accelerate launch`` / ``torchrun`` (1 when not launched by them)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        raise ConfigError(f"WORLD_SIZE={os.environ['WORLD_SIZE']!r} is not an integer") from None


def is_main_process() -> bool:
    """True on rank 0 (and without a launcher): the process that writes and prints."""
    return int(os.environ.get("RANK", "0")) == 0


def init_distributed(device_name: str) -> Dist:
    """Join (or create) the process group when launched with WORLD_SIZE > 1: nccl on CUDA, gloo on CPU;
    on CUDA each rank uses the GPU ``LOCAL_RANK``."""
    if launched_world_size() <= 1:
        return Dist()
    use_cuda = device_name != "cpu" and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    owns = not tdist.is_initialized()
    if owns:
        tdist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return Dist(rank=tdist.get_rank(), world_size=tdist.get_world_size(), owns_group=owns)


def close_distributed(dist: Dist) -> None:
    if dist.owns_group and tdist.is_initialized():
        tdist.destroy_process_group()


def check_game_share(n_games: int, dist: Dist) -> None:
    """Every process needs at least one of the step's ``n_games`` games (a group never spans processes)."""
    if n_games < dist.world_size:
        raise ConfigError(f"games_per_step ({n_games} per step) must be at least the number of processes "
                          f"({dist.world_size}): each process plays whole groups")


def rank_share(items: list[int], dist: Dist) -> list[int]:
    """This rank's share of the step's games: every ``world_size``-th from position ``rank``."""
    if not dist.active:
        return items
    check_game_share(len(items), dist)
    return items[dist.rank::dist.world_size]


def sum_counts(values: list[float], dist: Dist, device: torch.device) -> list[float]:
    """``values`` summed over ranks (e.g. the token and sample counts that normalise the loss)."""
    if not dist.active:
        return values
    buffer = torch.tensor(values, dtype=torch.float64, device=device)
    tdist.all_reduce(buffer)
    return buffer.tolist()


#: Largest all-reduce buffer (float32 elements, 256 MiB): bounds the extra memory of the gradient reduction.
BUCKET_ELEMENTS = 64 * 2**20


def all_reduce_grads(params: list[torch.nn.Parameter], failed: bool, dist: Dist) -> bool:
    """Sum every parameter's gradient over ranks (in float32, bucketed); returns whether any rank ``failed``.

    A rank that ran no backward for a parameter contributes zeros; a parameter no rank touched keeps
    ``grad = None`` (as in one process, so AdamW leaves it alone)."""
    if not dist.active:
        return failed
    device = params[0].device
    flags = torch.tensor([p.grad is not None for p in params] + [failed], dtype=torch.float32, device=device)
    tdist.all_reduce(flags)
    bucket: list[torch.nn.Parameter] = []
    size = 0
    for p, flag in zip(params, flags[:-1].tolist(), strict=True):
        if flag == 0:
            p.grad = None
            continue
        bucket.append(p)
        size += p.numel()
        if size >= BUCKET_ELEMENTS:
            _reduce_bucket(bucket)
            bucket, size = [], 0
    if bucket:
        _reduce_bucket(bucket)
    return bool(flags[-1] > 0)


def _reduce_bucket(params: list[torch.nn.Parameter]) -> None:
    """All-reduce (sum) the gradients of ``params`` through one float32 buffer; missing ones count as zero."""
    flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).float() for p in params])
    tdist.all_reduce(flat)
    offset = 0
    for p in params:
        p.grad = flat[offset: offset + p.numel()].view_as(p).to(p.dtype)
        offset += p.numel()


#: How a step metric combines over ranks (default: the mean over the ranks that report it).
SUMMED_PREFIXES = ("loss/",)  # each rank's loss is its share of the whole step's (global normalisers)
SUMMED_KEYS = {"perf/tokens_per_s"}
MAX_KEYS = {"perf/peak_mem_mb", "perf/step_s", "perf/rollout_s", "perf/update_s"}


def merge_metrics(metrics: dict[str, float], dist: Dist) -> dict[str, float]:
    """The step's metrics over all ranks (:func:`combine_metrics` of every rank's)."""
    if not dist.active:
        return metrics
    return combine_metrics(gather_objects(metrics, dist))


def combine_metrics(per_rank: list[dict[str, float]]) -> dict[str, float]:
    """Losses and throughput summed, times and memory the maximum, every other metric the mean over the ranks
    that report it; NaN values are left out (NaN where no rank has a finite value)."""
    merged: dict[str, float] = {}
    for key in dict.fromkeys(k for m in per_rank for k in m):
        finite = [float(m[key]) for m in per_rank if key in m and not math.isnan(float(m[key]))]
        if not finite:
            merged[key] = float("nan")
        elif key.startswith(SUMMED_PREFIXES) or key in SUMMED_KEYS:
            merged[key] = sum(finite)
        elif key in MAX_KEYS:
            merged[key] = max(finite)
        else:
            merged[key] = sum(finite) / len(finite)
    return merged


def gather_objects(obj: Any, dist: Dist) -> list[Any]:
    """``obj`` of every rank, in rank order."""
    if not dist.active:
        return [obj]
    gathered: list[Any] = [None] * dist.world_size
    tdist.all_gather_object(gathered, obj)
    return gathered


def broadcast_object(obj: Any, dist: Dist) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if not dist.active:
        return obj
    box = [obj]
    tdist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(dist: Dist) -> None:
    if dist.active:
        tdist.barrier()
