"""Trainer cost figures on the tiny preset (CPU, one thread unless --threads): prints a small table.

- sampling: KV-cache sampling throughput (our loop records log-probs and entropy as it samples);
- update: forward+backward over a step's samples with length-sorted micro-batches vs the same
  micro-batches in random order (padding cost), and with SEAL on vs off (all samples forwarded);
- shared prompts: the update and the sampling when every prompt repeats for 8 replies (a group's
  trajectories that agree), each distinct prompt encoded once (``shared_prompts``) vs every sample in full.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_train.py [--samples 256] [--threads 1]``.
Prompts are synthetic token ids of TextWorld-like lengths (60-260 tokens), replies 4-16 tokens.
"""

from __future__ import annotations

import argparse
import time

import torch

from entropy_dynamics.train.algorithms.credit import Credit
from entropy_dynamics.train.config_io import load_config
from entropy_dynamics.train.models.policy import build_policy, build_tiny_lm
from entropy_dynamics.train.models.tokenizer import train_bpe_tokenizer
from entropy_dynamics.train.rollout.play import TurnSample
from entropy_dynamics.train.rollout.sampling import sample_replies
from entropy_dynamics.train.run.batching import collate, plan_micro_batches
from entropy_dynamics.train.run.update import micro_batch_loss

CORPUS = ["You are in a kitchen. There is a fridge. <think>I take it.</think><action>take apple</action>"] * 20


def make_samples(n: int, vocab: int, gen: torch.Generator, replies_per_prompt: int = 1) -> list[TurnSample]:
    out = []
    prompt: list[int] = []
    for i in range(n):
        p = int(torch.randint(60, 260, (1,), generator=gen))
        r = int(torch.randint(4, 17, (1,), generator=gen))
        if i % replies_per_prompt == 0:
            prompt = torch.randint(10, vocab, (p,), generator=gen).tolist()
        out.append(TurnSample(episode=i, group=i // 8, turn=0, prompt_ids=prompt,
                              response_ids=torch.randint(10, vocab, (r,), generator=gen), old_logp=-torch.rand(r) * 3,
                              entropy=torch.rand(r), reward=0.0, valid=True, format_ok=True, truncated=False,
                              observation="", response_text="", action=""))
    return out


def time_update(policy, cfg, samples, credit, chunks, pad_id) -> float:
    lengths = [len(s.response_ids) for s in samples]
    norms = {"global_tokens": float(sum(lengths)), "global_seqs": float(len(samples)), "seq_len_constant": 16.0}
    start = time.perf_counter()
    for chunk in chunks:
        mb = collate(samples, chunk, credit.advantages, credit.seal_target, None, pad_id)
        loss, _ = micro_batch_loss(policy, None, mb, cfg, norms)
        loss.backward()
    policy.zero_grad(set_to_none=True)
    return time.perf_counter() - start


def shared_prompt_rows(tok, n_samples: int) -> list[tuple[str, float, str]]:
    """Update and sampling with each prompt repeated for 8 replies, shared prompts on vs off (SEAL on)."""
    rows = []
    timings = {}
    for shared in (True, False):
        cfg = load_config(None, ["seal=on", "micro_batch_size=32", f"shared_prompts={str(shared).lower()}"])
        torch.manual_seed(0)
        policy = build_policy(cfg, build_tiny_lm(cfg, tok))
        samples = make_samples(n_samples, len(tok), torch.Generator().manual_seed(0), replies_per_prompt=8)
        adv = [torch.full((len(s.response_ids),), 1.0 if i % 2 else -1.0) for i, s in enumerate(samples)]
        credit = Credit(adv, adv, None, torch.zeros(len(samples)))
        chunks = plan_micro_batches(samples, list(range(len(samples))), cfg.micro_batch_size)
        time_update(policy, cfg, samples, credit, chunks[:1], tok.pad_token_id)  # warm-up
        t_update = time_update(policy, cfg, samples, credit, chunks, tok.pad_token_id)
        policy.eval()
        start = time.perf_counter()
        sample_replies(policy.lm, [s.prompt_ids for s in samples[:32]], eos_id=-1, pad_id=tok.pad_token_id,
                       max_new_tokens=16, temperature=1.0, generator=torch.Generator().manual_seed(0),
                       shared_prompts=shared)
        timings[shared] = (t_update, time.perf_counter() - start)
        label = "shared prompts" if shared else "full sequences"
        rows.append((f"update {n_samples} samples, 8 per prompt, SEAL on, {label}", t_update, ""))
        rows.append((f"sample 32 replies x 16 tokens, 8 per prompt, {label}", timings[shared][1], ""))
    rows.append(("shared prompts speed-up (update, sampling)", 0.0,
                 f"x{timings[False][0] / timings[True][0]:.2f}, x{timings[False][1] / timings[True][1]:.2f}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    tok = train_bpe_tokenizer(CORPUS, 2048)
    rows = []
    for seal in (False, True):
        cfg = load_config(None, ["seal=on" if seal else "seal=off", "micro_batch_size=32"])
        policy = build_policy(cfg, build_tiny_lm(cfg, tok))
        gen = torch.Generator().manual_seed(0)
        samples = make_samples(args.samples, len(tok), gen)
        adv = [torch.full((len(s.response_ids),), 1.0 if i % 2 else -1.0) for i, s in enumerate(samples)]
        credit = Credit(adv, adv, None, torch.zeros(len(samples)))
        index = list(range(len(samples)))
        sorted_chunks = plan_micro_batches(samples, index, cfg.micro_batch_size)
        shuffled = torch.randperm(len(samples), generator=gen).tolist()
        random_chunks = [shuffled[k: k + cfg.micro_batch_size] for k in range(0, len(shuffled), cfg.micro_batch_size)]
        time_update(policy, cfg, samples, credit, sorted_chunks[:1], tok.pad_token_id)  # warm-up
        t_sorted = time_update(policy, cfg, samples, credit, sorted_chunks, tok.pad_token_id)
        t_random = time_update(policy, cfg, samples, credit, random_chunks, tok.pad_token_id)
        tokens = sum(len(s.prompt_ids) + len(s.response_ids) for s in samples)
        rows.append((f"update {args.samples} samples, SEAL {'on ' if seal else 'off'}, sorted", t_sorted,
                     f"{tokens / t_sorted:,.0f} seq tokens/s"))
        rows.append((f"update {args.samples} samples, SEAL {'on ' if seal else 'off'}, random order", t_random,
                     f"x{t_random / t_sorted:.2f} of sorted"))
        if not seal:
            policy.eval()
            prompts = [s.prompt_ids for s in samples[:32]]
            start = time.perf_counter()
            out = sample_replies(policy.lm, prompts, eos_id=-1, pad_id=tok.pad_token_id, max_new_tokens=16,
                                 temperature=1.0, generator=torch.Generator().manual_seed(0))
            t_sample = time.perf_counter() - start
            rows.append(("sample 32 replies x 16 tokens (KV cache)", t_sample,
                         f"{int(out.lengths.sum()) / t_sample:,.0f} new tokens/s"))
    rows += shared_prompt_rows(tok, args.samples)
    print(f"tiny preset: {sum(p.numel() for p in policy.lm.parameters()):,} params, vocab {len(tok)}, "
          f"threads {args.threads}")
    width = max(len(r[0]) for r in rows)
    for name, seconds, note in rows:
        print(f"{name:<{width}}  {seconds:7.2f} s  {note}")
    seal_off = next(r[1] for r in rows if "SEAL off, sorted" in r[0])
    seal_on = next(r[1] for r in rows if "SEAL on , sorted" in r[0])
    print(f"SEAL overhead on the update: {100 * (seal_on / seal_off - 1):+.1f}%")


if __name__ == "__main__":
    main()
