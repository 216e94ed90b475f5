"""What SEAL costs inside TRL's GRPOTrainer: seconds per step with and without it, same tiny model and data.
Prints figures; run with ``OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/bench_trl_seal.py [--steps 10]``.

The model is the random 2-layer Llama of ``tests/tiny_llama.py`` (``--hidden`` wide), on CPU, so the figure is the
SEAL head + BCE + hook relative to a very small policy: an upper bound on the relative cost for real models,
where the head (3 layers of d x d) is tiny next to the backbone.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
from datasets import Dataset
from transformers import AutoTokenizer
from trl import GRPOConfig, GRPOTrainer

from entropy_dynamics.integrations.trl_seal import SealGRPOConfig, SealGRPOTrainer
from tests.tiny_llama import save_tiny_hub_model

PROMPTS = [f"you are in a {room} exits north actions : go north take key >" for room in ("kitchen", "hall")] * 4


def reward(completions: list[str], **_: object) -> list[float]:
    return [float("go north" in text) for text in completions]


def seconds_per_step(folder: Path, seal: bool, steps: int) -> float:
    settings = {"output_dir": str(folder / ("seal" if seal else "plain")), "per_device_train_batch_size": 8,
                "num_generations": 8, "max_completion_length": 16, "max_steps": steps, "logging_steps": 1,
                "report_to": [], "use_cpu": True, "save_strategy": "no", "disable_tqdm": True, "seed": 0,
                "bf16": False}
    args = SealGRPOConfig(**settings, seal_coef=0.02) if seal else GRPOConfig(**settings)
    trainer_class = SealGRPOTrainer if seal else GRPOTrainer
    trainer = trainer_class(model=str(folder / "model"), reward_funcs=reward, args=args,
                            train_dataset=Dataset.from_dict({"prompt": PROMPTS}),
                            processing_class=AutoTokenizer.from_pretrained(folder / "model"))
    output = trainer.train()
    return output.metrics["train_runtime"] / steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=128)
    opts = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        save_tiny_hub_model(folder / "model", hidden_size=opts.hidden)
        plain = seconds_per_step(folder, False, opts.steps)
        seal = seconds_per_step(folder, True, opts.steps)
    print(f"tiny Llama d={opts.hidden}, 8 completions x 16 tokens, {opts.steps} steps, 1 thread")
    print(f"GRPOTrainer      {plain:.3f} s/step")
    print(f"SealGRPOTrainer  {seal:.3f} s/step  ({100 * (seal / plain - 1):+.1f} %)")


if __name__ == "__main__":
    main()
