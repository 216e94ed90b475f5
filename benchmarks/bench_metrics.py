"""Cost of the diagnostics: prints figures, asserts nothing.

1. Entropy + sampled-token log-probs on ROWS x V logits (default 8 x 1024 x 32,000, fp32):
   the chunked ``token_logprobs_and_entropy`` vs the naive full ``log_softmax``. Peak memory is the
   growth of the process's peak resident set (``ru_maxrss``) during the call, measured in a fresh
   subprocess per variant after the logits exist (so the 1 GiB input is not counted, and one variant's
   freed memory cannot hide the other's peak). On CUDA it is ``max_memory_allocated`` growth instead.
   Time: best of ``--repeats`` runs.
2. Gradient interference on a tiny random Llama vs one training step (forward, chunked log-probs,
   policy-gradient loss, backward, AdamW step) on the same batch.

    OMP_NUM_THREADS=1 python benchmarks/bench_metrics.py            # all figures
    python benchmarks/bench_metrics.py --part entropy --rows 2048   # smaller entropy case
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch

from entropy_dynamics.metrics import (
    default_interference_params,
    gradient_interference,
    loss_term_gradients,
    token_logprobs_and_entropy,
)


def naive_logp_entropy(logits: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The usual one-liner: full log_softmax over every row at once."""
    log_p = torch.log_softmax(logits.float(), dim=-1)
    entropy = -(log_p.exp() * log_p).sum(-1)
    return log_p.gather(-1, ids.unsqueeze(-1)).squeeze(-1), entropy


def _peak_bytes(device: str) -> int:
    if device == "cuda":
        return torch.cuda.max_memory_allocated()
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def measure_entropy_variant(variant: str, rows: int, vocab: int, chunk: int, repeats: int, device: str) -> dict:
    """Run one variant in this process; returns its peak extra memory and best time."""
    torch.manual_seed(0)
    logits = torch.randn(rows, vocab, device=device).mul_(3)  # in place: no second 1 GiB temporary
    ids = torch.randint(0, vocab, (rows,), device=device)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    before = _peak_bytes(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        if variant == "naive":
            naive_logp_entropy(logits, ids)
        else:
            token_logprobs_and_entropy(logits, ids, chunk_size=chunk)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return {"peak_extra_mib": (_peak_bytes(device) - before) / 2**20, "best_s": min(times)}


def entropy_figures(args: argparse.Namespace) -> None:
    results = {}
    for variant in ("naive", "chunked"):
        command = [
            sys.executable,
            __file__,
            "--measure",
            variant,
            *("--rows", str(args.rows), "--vocab", str(args.vocab), "--chunk", str(args.chunk)),
            *("--repeats", str(args.repeats), "--device", args.device),
        ]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results[variant] = json.loads(output.strip().splitlines()[-1])
    naive, chunked = results["naive"], results["chunked"]
    gib = args.rows * args.vocab * 4 / 2**30
    print(f"entropy + log p on {args.rows} x {args.vocab} fp32 logits ({gib:.2f} GiB), chunk {args.chunk} rows")
    for name, figures in results.items():
        print(
            f"  {name:8s} peak extra memory {figures['peak_extra_mib']:8.0f} MiB   best time {figures['best_s']:.3f} s"
        )
    print(
        f"  chunked / naive: memory {chunked['peak_extra_mib'] / naive['peak_extra_mib']:.1%}, "
        f"time {chunked['best_s'] / naive['best_s']:.2f}x"
    )


def tiny_llama(vocab: int, layers: int):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=512,
    )
    return LlamaForCausalLM(config)


def interference_figures(args: argparse.Namespace) -> None:
    vocab, batch, length = 8192, 8, 128
    model = tiny_llama(vocab, args.layers).to(args.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    input_ids = torch.randint(0, vocab, (batch, length), device=args.device)
    advantages = torch.randn(batch, device=args.device)
    mask = torch.ones(batch, length - 1, dtype=torch.bool, device=args.device)
    params = default_interference_params(model)
    n_subset = sum(p.numel() for p in params)
    n_total = sum(p.numel() for p in model.parameters())

    def forward():
        logits = model(input_ids=input_ids).logits[:, :-1].contiguous()
        logp, _ = token_logprobs_and_entropy(logits, input_ids[:, 1:], chunk_size=256)
        return logp, -(advantages[:, None] * logp)[mask].mean()

    def train_step(diagnostics: bool) -> float:
        start = time.perf_counter()
        logp, loss = forward()
        if diagnostics:
            gradient_interference(logp, advantages, mask, params)
            loss_term_gradients({"pg": loss, "nll": -logp[mask].mean()}, params)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if args.device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    train_step(True)  # warm-up
    plain = min(train_step(False) for _ in range(args.repeats))
    with_diag = min(train_step(True) for _ in range(args.repeats))
    print(
        f"gradient interference on a tiny Llama ({args.layers} x 128, vocab {vocab}, batch {batch} x {length}); "
        f"subset = LM head + last block = {n_subset / 1e6:.2f}M of {n_total / 1e6:.2f}M params"
    )
    print(f"  training step {plain:.3f} s; step + gradient_interference + loss_term_gradients {with_diag:.3f} s")
    print(f"  diagnostics cost {(with_diag - plain) / plain:.2f} training steps (5 extra partial backwards)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("all", "entropy", "interference"), default="all")
    parser.add_argument("--rows", type=int, default=8 * 1024)
    parser.add_argument("--vocab", type=int, default=32_000)
    parser.add_argument("--chunk", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--layers", type=int, default=4, help="transformer blocks of the tiny Llama")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--measure", choices=("naive", "chunked"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}", file=sys.stderr)
    if args.measure:
        print(
            json.dumps(
                measure_entropy_variant(args.measure, args.rows, args.vocab, args.chunk, args.repeats, args.device)
            )
        )
        return
    if args.part in ("all", "entropy"):
        entropy_figures(args)
    if args.part in ("all", "interference"):
        interference_figures(args)


if __name__ == "__main__":
    main()
