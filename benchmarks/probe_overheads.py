"""Three small-model overheads, measured (docs/training-speed.md, "Probed"); the 4-D mask led to the lean decode.

On the tiny Llama of ``bench_vs_trl.py`` (2 layers, width 64: Python and dispatch overhead dominate), one thread:

* ``mask``: a decode step given its attention mask as the 2-D padding mask (transformers builds the 4-D mask at
  every step) or as a prebuilt additive 4-D mask (returned as is); the logits are compared bit for bit.
* ``toggle``: ``model.train()`` + ``model.eval()`` with transformers' hub kernels on (the default, which
  re-kernelizes the model on every mode change) and off (``use_kernels=False``).
* ``compile``: forward + backward of 8 x 274 tokens, eager and under ``torch.compile`` (fixed shapes), with the
  compile time.

    OMP_NUM_THREADS=1 python benchmarks/probe_overheads.py [--probes mask,toggle,compile]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from trl_grpo_baseline import build_tiny_model

from entropy_dynamics.train.models.prompt_cache import CACHE_NAME, encode_prompts, with_room


def _load(path: Path, **kwargs):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path, attn_implementation="eager", **kwargs)


def probe_mask(path: Path, repeat: int = 6, new_tokens: int = 16) -> None:
    lm = _load(path).eval()
    prompts = [list(range(5, 260))] * 4 + [list(range(6, 262))] * 4  # two distinct prompts, 4 rows each
    times: dict[str, list[float]] = {"2-D mask": [], "4-D mask": []}
    logits: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        enc = encode_prompts(lm, prompts, 0)
        rows, width = len(prompts), enc.mask.shape[1]
        for _ in range(repeat):
            for kind in times:
                cache = with_room(enc.cache, new_tokens)
                mask = torch.cat([enc.mask, torch.zeros(rows, new_tokens, dtype=enc.mask.dtype)], dim=1)
                position, token, steps = enc.next_position, torch.full((rows,), 7), []
                started = time.perf_counter()
                for t in range(new_tokens):
                    mask[:, width + t] = 1
                    given = mask[:, : width + t + 1]
                    if kind == "4-D mask":
                        given = (1.0 - given[:, None, None, :].float()) * torch.finfo(torch.float32).min
                    out = lm(input_ids=token[:, None], attention_mask=given, position_ids=position[:, None],
                             use_cache=True, **{CACHE_NAME: cache})
                    cache, position = getattr(out, CACHE_NAME), position + 1
                    steps.append(out.logits[:, -1])
                times[kind].append((time.perf_counter() - started) / new_tokens * 1e3)
                logits[kind] = torch.stack(steps)
    for kind, values in times.items():
        print(f"mask     {kind}: {statistics.median(values):.3f} ms per decode step (median of {repeat})")
    print(f"mask     same logits bit for bit: {torch.equal(logits['2-D mask'], logits['4-D mask'])}")


def probe_toggle(path: Path, repeat: int = 100) -> None:
    for label, use_kernels in (("hub kernels on (default)", None), ("use_kernels=False", False)):
        lm = _load(path, use_kernels=use_kernels)
        started = time.perf_counter()
        for _ in range(repeat):
            lm.train()
            lm.eval()
        print(f"toggle   {label}: {(time.perf_counter() - started) / (2 * repeat) * 1e3:.3f} ms per mode change")


def probe_compile(path: Path, repeat: int = 5) -> None:
    lm = _load(path)
    ids = torch.randint(0, lm.config.vocab_size, (8, 274))

    def step(model) -> None:
        logits = model(input_ids=ids, use_cache=False).logits
        logits.float().logsumexp(-1).mean().backward()

    step(lm)
    started = time.perf_counter()
    compiled = torch.compile(lm, dynamic=False)
    step(compiled)
    print(f"compile  first call (compiling): {time.perf_counter() - started:.1f} s")
    times: dict[str, list[float]] = {"eager": [], "compiled": []}
    for _ in range(repeat):
        for label, model in (("eager", lm), ("compiled", compiled)):
            started = time.perf_counter()
            step(model)
            times[label].append((time.perf_counter() - started) * 1e3)
    for label, values in times.items():
        print(f"compile  {label}: {statistics.median(values):.1f} ms per forward + backward (median of {repeat})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probes", default="mask,toggle,compile")
    opts = parser.parse_args()
    torch.set_num_threads(1)
    probes = {"mask": probe_mask, "toggle": probe_toggle, "compile": probe_compile}
    with tempfile.TemporaryDirectory() as scratch:
        path = build_tiny_model(Path(scratch) / "tiny")
        for name in opts.probes.split(","):
            probes[name](path)


if __name__ == "__main__":
    main()
