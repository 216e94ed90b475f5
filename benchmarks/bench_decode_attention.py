"""One decode step's attention of the phenomenon runs' shape, three ways: what bounds sampling on a CPU core.

The rollout decodes one token for up to 32 rows at a time against a KV cache of ~100-250 positions (4 heads of 32
dims, 3 layers). This times the attention of one layer for one step: HF's eager form (two batched matmuls on
a strided view of the cache, as :class:`~entropy_dynamics.train.models.prompt_cache.RoomyLayer` holds it),
``scaled_dot_product_attention``, and an elementwise form; and prints the bytes of keys and values each step
reads, so the figure can be read as memory bandwidth.

    OMP_NUM_THREADS=1 python benchmarks/bench_decode_attention.py [--rows 32] [--repeat 300]
"""

from __future__ import annotations

import argparse
import time

import torch

HEADS, DIM, ROOM = 4, 32, 64


def eager(query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """HF's eager attention: out[B, H, 1, D] from query[B, H, 1, D], keys/values[B, H, L, D], bias[B, 1, 1, L]."""
    scores = torch.matmul(query, keys.transpose(2, 3)) * DIM ** -0.5 + bias
    return torch.matmul(torch.softmax(scores, dim=-1), values)


def sdpa(query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.scaled_dot_product_attention(query, keys, values, attn_mask=bias)


def elementwise(query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    scores = (query * keys).sum(-1)[:, :, None] * DIM ** -0.5 + bias
    return (torch.softmax(scores, dim=-1).transpose(2, 3) * values).sum(2, keepdim=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=300)
    opts = parser.parse_args()
    torch.set_num_threads(1)
    for length in (100, 200, 300):
        keys_buf = torch.randn(opts.rows, HEADS, length + ROOM, DIM)
        values_buf = torch.randn(opts.rows, HEADS, length + ROOM, DIM)
        keys, values = keys_buf[:, :, :length], values_buf[:, :, :length]  # the cache's view, as decoding reads it
        query = torch.randn(opts.rows, HEADS, 1, DIM)
        bias = torch.zeros(opts.rows, 1, 1, length)
        bias[:, :, :, : length // 10] = torch.finfo(torch.float32).min  # left padding

        inputs = (query, keys, values, bias)
        reference = eager(*inputs)
        read_mb = 2 * keys.numel() * keys.element_size() / 1e6
        cells = []
        for name, fn in (("eager", eager), ("sdpa", sdpa), ("elementwise", elementwise)):
            torch.testing.assert_close(fn(*inputs), reference, atol=1e-5, rtol=1e-5)
            started = time.perf_counter()
            for _ in range(opts.repeat):
                fn(*inputs)
            us = (time.perf_counter() - started) / opts.repeat * 1e6
            cells.append(f"{name} {us:6.0f} us ({read_mb / us * 1e3:5.1f} GB/s)")
        print(f"rows {opts.rows} x {length} positions, {read_mb:.1f} MB of keys+values: " + "  ".join(cells),
              flush=True)


if __name__ == "__main__":
    main()
