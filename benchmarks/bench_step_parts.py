"""The model side of one training step, variant against variant in ONE process: the rollout (sampling and
env) and the update, on a captured step of a config. Prints seconds and each variant's ``loss/pg``.

    OMP_NUM_THREADS=1 python benchmarks/bench_step_parts.py configs/phenomenon/cycles_e2_ep15.yaml \
        --variant attn=eager --variant attn=eager,mixed_precision=bf16 --repeat 3

A variant is a comma-separated list of ``attn=eager|sdpa``, ``compile=layers`` (``torch.compile`` each decoder layer
of the update's model, dynamic shapes; the first repeat includes compiling) and ``key=value`` config overrides (as
in ``train --set``, e.g. ``mixed_precision=bf16``). Every variant starts from the same weights and the same
generator states; the rollout is played once per repeat (same seeds, so the same games; the envs have them
loaded after the first) and the update runs on the FIRST variant's captured batch, so update timings compare
like with like. Figures: best of ``--repeat`` (min), seconds.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time

import torch

from entropy_dynamics.train.algorithms.credit import assign_credit
from entropy_dynamics.train.config_io import load_config
from entropy_dynamics.train.models.policy import autocast_context
from entropy_dynamics.train.run import loop
from entropy_dynamics.train.run.update import update_policy


def parse_variant(text: str) -> tuple[str, bool, list[str]]:
    attn, compiled, sets = "eager", False, []
    for part in filter(None, text.split(",")):
        key, _, value = part.partition("=")
        if key == "attn":
            attn = value
        elif key == "compile":
            compiled = value in ("1", "true", "layers")
        else:
            sets.append(part)
    return attn, compiled, sets


def compile_layers(lm: torch.nn.Module) -> None:
    """``torch.compile`` each decoder layer in place (dynamic shapes): fuses the elementwise work around the
    matrix products (norms, rotary, softmax, activations), which eager runs op by op."""
    torch._dynamo.config.allow_unspec_int_on_nn_module = True  # layer_idx: one graph for every layer
    torch._dynamo.config.recompile_limit = 64
    for layer in lm.get_decoder().layers:
        layer.compile(dynamic=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config")
    parser.add_argument("--set", action="append", default=[], help="overrides for every variant")
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-rollout", action="store_true")
    opts = parser.parse_args()
    torch.set_num_threads(1)
    variants = opts.variant or ["attn=eager"]
    with tempfile.TemporaryDirectory() as scratch:
        base_cfg = load_config(opts.config, [*opts.set, f"output_dir={scratch}/run", "torch_threads=1",
                                             "wandb=disabled"])
        run = loop.start_run(base_cfg, False, [], None, loop.Dist())
        seeds, groups = loop.group_layout(run.games.draw(base_cfg.games_per_step), base_cfg.group_size)
        sampling_state = run.generators["sampling"].get_state()
        update_state = run.generators["update"].get_state()
        captured = None
        for text in variants:
            attn, compiled, sets = parse_variant(text)
            cfg = load_config(opts.config, [*opts.set, *sets, f"output_dir={scratch}/run", "torch_threads=1",
                                            "wandb=disabled"])
            policy = copy.deepcopy(run.policy)
            policy.lm.set_attn_implementation(attn)
            rollout_s, batch = [], None
            for _ in range(0 if opts.skip_rollout and captured else opts.repeat):
                gen = torch.Generator().manual_seed(0)
                gen.set_state(sampling_state)
                started = time.perf_counter()
                with autocast_context(cfg, policy.lm.device):
                    batch = loop.play(policy.lm, run.tokenizer, run.envs.take(len(seeds)), seeds, groups,
                                      loop.rollout_settings(cfg), gen)
                rollout_s.append(time.perf_counter() - started)
            if captured is None:
                captured = batch
            credit = assign_credit(captured, cfg, None)
            update_s, loss = [], None
            trained = copy.deepcopy(policy)
            if compiled:  # once: the later repeats reuse the compiled layers, with the weights reset
                compile_layers(trained.lm)
            for _ in range(opts.repeat):
                trained.load_state_dict(policy.state_dict())
                optimizer, scheduler = loop.build_optimizer(trained, cfg.lr, cfg.weight_decay, cfg.warmup_steps)
                gen = torch.Generator().manual_seed(0)
                gen.set_state(update_state)
                started = time.perf_counter()
                result = update_policy(trained, None, optimizer, scheduler, captured.samples, credit, cfg,
                                       run.tokenizer.pad_token_id, gen)  # autocast per forward inside
                update_s.append(time.perf_counter() - started)
                loss = result.metrics.get("loss/pg")
            tokens = batch.generated_tokens if batch is not None else float("nan")
            sampled = f"rollout {min(rollout_s):6.2f} s ({tokens} tokens)  " if rollout_s else ""
            print(f"{text:<40} {sampled}update {min(update_s):6.2f} s  loss/pg {loss:.6g}  "
                  f"({len(captured.samples)} samples)", flush=True)
        run.envs.close()


if __name__ == "__main__":
    main()
