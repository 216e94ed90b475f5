"""TRL ``GRPOTrainer`` baseline: steps/s and trained tokens/s on a tiny model and a single-turn text task.

The task ("admissible action") is one our trainer can run as a one-turn environment: each prompt is a
short room observation that ends with its list of admissible actions; the reply earns reward 1 when the
action it names is one of them (the text inside ``<action>...</action>`` when the reply has those tags,
else its first line; case and spacing ignored), else 0. Prompts are chat messages, so the model's chat
template formats them exactly as it would for our trainer.

"Trained tokens" are completion tokens (the tokens the loss sees; prompt tokens excluded).

Run as a script (prints the figures)::

    OMP_NUM_THREADS=1 python benchmarks/trl_grpo_baseline.py                 # random tiny Llama built here
    OMP_NUM_THREADS=1 python benchmarks/trl_grpo_baseline.py --model DIR     # any saved HF model + tokenizer
    OMP_NUM_THREADS=1 python benchmarks/trl_grpo_baseline.py --with-callback # + our EntropyDynamicsCallback

or import :func:`run_trl_grpo` to put TRL beside our trainer in one benchmark.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

ROOMS = ("kitchen", "cellar", "garden", "hallway", "bedroom", "pantry", "attic", "study")
ITEMS = ("rusty key", "red apple", "old map", "silver coin", "wooden box", "glass jar", "small knife")
EXITS = ("north", "south", "east", "west")
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_ACTION_TAG = re.compile(r"<action>(.*?)</action>", re.DOTALL)


def admissible_action_task(n_prompts: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n_prompts`` rows ``{"prompt": [chat message], "admissible": [actions]}``, the same for one seed."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n_prompts):
        room = rng.choice(ROOMS)
        items = rng.sample(ITEMS, 2)
        exits = sorted(rng.sample(EXITS, 2))
        admissible = [f"take {item}" for item in items] + [f"go {way}" for way in exits]
        rng.shuffle(admissible)
        text = (f"You are in the {room}. You see a {items[0]} and a {items[1]}. Exits: {', '.join(exits)}.\n"
                f"Admissible actions: {', '.join(admissible)}.\nReply with one admissible action.")
        rows.append({"prompt": [{"role": "user", "content": text}], "admissible": admissible})
    return rows


def reply_action(reply: str) -> str:
    """The action a reply names: inside ``<action>`` tags if present, else its first line; normalised."""
    tagged = _ACTION_TAG.search(reply)
    text = tagged.group(1) if tagged else (reply.strip().splitlines() or [""])[0]
    return " ".join(text.lower().split())


def admissible_action_reward(completions: list[Any], admissible: list[list[str]], **_: Any) -> list[float]:
    """1.0 where the completion's action is admissible for its prompt, else 0.0 (TRL reward function)."""
    texts = [c[-1]["content"] if isinstance(c, list) else str(c) for c in completions]
    return [float(reply_action(text) in allowed) for text, allowed in zip(texts, admissible, strict=True)]


def build_tiny_model(folder: str | Path, seed: int = 0, hidden_size: int = 64, layers: int = 2) -> Path:
    """Save a random tiny Llama and a byte-level BPE tokenizer (trained on the task's text, ChatML chat
    template) to ``folder``; returns it. Everything is built in code: no download."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<pad>", "<|im_start|>", "<|im_end|>", "<action>", "</action>"]
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    corpus = [row["prompt"][0]["content"] for row in admissible_action_task(200, seed)]
    backend.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=512, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="<|im_end|>",
                                        additional_special_tokens=specials[1:])
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.padding_side = "left"
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden_size,
                         intermediate_size=2 * hidden_size, num_hidden_layers=layers, num_attention_heads=4,
                         num_key_value_heads=4, max_position_embeddings=256, tie_word_embeddings=True,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                         bos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(seed)
    folder = Path(folder)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def run_trl_grpo(
    model: str | Path,
    steps: int = 20,
    *,
    prompts_per_step: int = 2,
    num_generations: int = 4,
    max_completion_length: int = 16,
    learning_rate: float = 1e-4,
    seed: int = 0,
    with_callback: bool = False,
    output_dir: str | Path | None = None,
) -> dict[str, float]:
    """Train ``model`` (a saved HF model folder with its tokenizer) with TRL ``GRPOTrainer`` on the
    admissible-action task for ``steps`` optimizer steps on the current device; return the figures.

    Returns ``steps``, ``wall_s`` (the ``train()`` call), ``steps_per_s``, ``trained_tokens_per_s``
    (completion tokens / wall), ``steady_steps_per_s`` / ``steady_tokens_per_s`` (without the first step),
    ``mean_completion_len`` and ``final_reward``; with ``with_callback`` (our EntropyDynamicsCallback with
    live detection) also ``callback_ms_per_log`` and ``callback_share`` (its share of the wall time).
    """
    from datasets import Dataset
    from transformers import AutoTokenizer, PrinterCallback, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    class StepClock(TrainerCallback):
        def __init__(self) -> None:
            self.ends: list[float] = []

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.ends.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(output_dir or scratch)
        batch = prompts_per_step * num_generations
        on_gpu = _cuda_available()
        rows = admissible_action_task(prompts_per_step * steps, seed)
        args = GRPOConfig(
            output_dir=str(out), per_device_train_batch_size=batch, num_generations=num_generations,
            max_completion_length=max_completion_length, max_steps=steps, logging_steps=1, report_to=[],
            save_strategy="no", disable_tqdm=True, learning_rate=learning_rate, seed=seed, beta=0.0,
            use_cpu=not on_gpu, bf16=on_gpu,  # fp32 on CPU, as our trainer runs there
        )
        clock = StepClock()
        callbacks: list[Any] = [clock]
        callback_s: list[float] = []
        if with_callback:
            callbacks.append(_timed_callback(out / "metrics.jsonl", callback_s))
        trainer = GRPOTrainer(
            model=str(model), reward_funcs=admissible_action_reward, args=args,
            train_dataset=Dataset.from_list(rows), processing_class=AutoTokenizer.from_pretrained(str(model)),
            callbacks=callbacks,
        )
        trainer.remove_callback(PrinterCallback)  # printing every log line would be timed too
        start = time.perf_counter()
        trainer.train()
        wall = time.perf_counter() - start
    logged = [row for row in trainer.state.log_history if "completions/mean_length" in row]
    tokens = [row["completions/mean_length"] * batch for row in logged]
    steady_wall = clock.ends[-1] - clock.ends[0] if len(clock.ends) > 1 else float("nan")
    figures = {
        "steps": float(len(clock.ends)),
        "wall_s": wall,
        "steps_per_s": len(clock.ends) / wall,
        "trained_tokens_per_s": sum(tokens) / wall,
        "steady_steps_per_s": (len(clock.ends) - 1) / steady_wall,
        "steady_tokens_per_s": sum(tokens[1:]) / steady_wall,
        "mean_completion_len": statistics.fmean(row["completions/mean_length"] for row in logged),
        "final_reward": float(logged[-1]["reward"]),
    }
    if with_callback:
        figures["callback_ms_per_log"] = 1000 * statistics.fmean(callback_s)
        figures["callback_share"] = sum(callback_s) / wall
    return figures


def _timed_callback(log_path: Path, spent: list[float]) -> Any:
    """Our EntropyDynamicsCallback (live detection on) whose ``on_log`` time is appended to ``spent``."""
    from entropy_dynamics.integrations.trl_callback import EntropyDynamicsCallback

    callback = EntropyDynamicsCallback(log_path, run_name="trl+ours", echo=None)
    on_log = callback.on_log

    def timed_on_log(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return on_log(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    callback.on_log = timed_on_log  # type: ignore[method-assign]
    return callback


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="saved HF model folder with tokenizer (default: random tiny Llama)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--prompts-per-step", type=int, default=2)
    parser.add_argument("--num-generations", type=int, default=4)
    parser.add_argument("--max-completion-length", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--with-callback", action="store_true", help="also run with EntropyDynamicsCallback")
    opts = parser.parse_args()

    import torch

    torch.set_num_threads(opts.threads)
    with tempfile.TemporaryDirectory() as scratch:
        model = opts.model or build_tiny_model(Path(scratch) / "tiny")
        settings = dict(steps=opts.steps, prompts_per_step=opts.prompts_per_step,
                        num_generations=opts.num_generations,
                        max_completion_length=opts.max_completion_length)
        variants = [("trl", False)] + ([("trl+callback", True)] if opts.with_callback else [])
        for label, with_callback in variants:
            figures = run_trl_grpo(model, with_callback=with_callback, **settings)
            print(f"{label:13s} " + "  ".join(f"{k}={v:.3g}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
