"""SEAL for TRL: a ``GRPOTrainer`` that adds the SEAL head and loss to the sequences TRL already scores.

The three lines a TRL user changes::

    from entropy_dynamics.integrations.trl_seal import SealGRPOConfig, SealGRPOTrainer

    args = SealGRPOConfig(output_dir="out", seal_coef=0.02)          # instead of GRPOConfig
    trainer = SealGRPOTrainer(model=..., reward_funcs=..., args=args, train_dataset=...)  # instead of GRPOTrainer

What it does, per micro-batch of TRL's loss: the policy forward TRL runs anyway is watched by a forward hook on
the backbone, which keeps its final hidden states (after the final norm, the states the LM head reads); the
states AT the completion tokens go through :class:`~entropy_dynamics.train.algorithms.seal.SealHead`; the per-token BCE
against ``1[A >= 0]`` (TRL's advantages, broadcast over the completion) is reduced with TRL's own loss mask
(``completion_mask`` x ``tool_mask``) and the normalisation of TRL's ``loss_type`` (:func:`seal_aggregation`),
multiplied by ``seal_coef`` and added to TRL's loss. The maths is
:func:`~entropy_dynamics.train.algorithms.seal.seal_loss`, the same function our own trainer uses; there is no second
implementation.

The head is a submodule (``seal_head``) of the policy model, so TRL's optimizer trains it with the backbone (as in
the official code), DDP sees it, and a checkpoint's ``model.safetensors`` holds it (``resume_from_checkpoint``
restores it). Loading the saved model with ``AutoModelForCausalLM.from_pretrained`` drops the ``seal_head.*``
weights with a warning, which is what you want for inference. With a PEFT model the adapter checkpoint does not
contain the head; pass ``seal_head`` in the LoRA config's ``modules_to_save`` to keep it.

Logged (TRL's own ``log``, so every ``report_to`` backend sees them): ``loss/seal`` (coef x the SEAL loss of each
micro-batch on its own tokens or sequences, before the gradient-accumulation scaling), ``seal/bce``,
``seal/head_acc``, ``seal/head_auroc``, ``seal/coef``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from trl import GRPOConfig, GRPOTrainer

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.integrations.hidden_capture import HiddenStateCapture
from entropy_dynamics.train.algorithms.seal import SealHead, response_hidden_states, seal_loss

#: ``seal_zero_adv_label`` spellings -> ``zero_adv_label`` of
#: :func:`~entropy_dynamics.train.algorithms.seal.seal_labels`.
ZERO_ADV_LABELS: dict[str, float | str] = {"1": 1.0, "0": 0.0, "ignore": "ignore"}


@dataclass
class SealGRPOConfig(GRPOConfig):
    """``GRPOConfig`` with the SEAL settings (defaults: the paper's official code)."""

    seal_coef: float = field(default=0.02, metadata={
        "help": "SEAL loss coefficient added to TRL's loss (0.02 in the paper; 0 = head not built, plain GRPO)."})
    seal_layers: int = field(default=3, metadata={
        "help": "Linear layers in the SEAL head: (n-1) x [Linear(d,d) GELU LayerNorm Dropout] then Linear(d,1)."})
    seal_dropout: float = field(default=0.1, metadata={"help": "Dropout inside the SEAL head."})
    seal_zero_adv_label: str = field(default="1", metadata={
        "help": "Label of completions with advantage exactly 0: '1' (official code), '0', or 'ignore'."})
    seal_detach_backbone: bool = field(default=False, metadata={
        "help": "Stop the SEAL gradient at the hidden states (ablation: only the head learns)."})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.seal_coef < 0:
            raise ConfigError(f"seal_coef must be >= 0, got {self.seal_coef}")
        if str(self.seal_zero_adv_label) not in ZERO_ADV_LABELS:
            raise ConfigError(f"seal_zero_adv_label must be one of {', '.join(ZERO_ADV_LABELS)}, "
                              f"got {self.seal_zero_adv_label!r}")


def seal_aggregation(loss_type: str, *, batch_size: int, max_completion_length: int, accumulation: float,
                     global_tokens: float | None = None) -> tuple[str, dict[str, float], float]:
    """How TRL's ``loss_type`` reduces a per-token loss, in the terms of
    :func:`~entropy_dynamics.train.algorithms.losses.aggregate`: ``(agg_mode, normalisers, divide_by)``; the SEAL loss
    is ``aggregate(...) / divide_by``.

    ``grpo``/``sapo``: mean over the micro-batch's sequences of each sequence's token mean; ``bnpo``: token mean
    of the micro-batch; ``dr_grpo``: token sum / (B x max_completion_length); ``luspo``: mean of per-sequence
    token sums; all divided by ``accumulation`` (TRL's gradient-accumulation steps in training, 1 in eval).
    ``dapo``/``cispo``/``vespo``: token sum / ``global_tokens`` (TRL's normaliser, already accumulation-exact).
    """
    per_micro_batch = {
        "grpo": ("seq-mean-token-mean", {"global_seqs": float(batch_size)}),
        "sapo": ("seq-mean-token-mean", {"global_seqs": float(batch_size)}),
        "bnpo": ("token-mean", {}),
        "dr_grpo": ("seq-sum-constant", {"global_seqs": float(batch_size),
                                         "seq_len_constant": float(max_completion_length)}),
        "luspo": ("seq-sum-constant", {"global_seqs": float(batch_size), "seq_len_constant": 1.0}),
    }
    if loss_type in per_micro_batch:
        mode, normalisers = per_micro_batch[loss_type]
        return mode, normalisers, float(accumulation)
    if loss_type in ("dapo", "cispo", "vespo"):
        if global_tokens is None:
            raise ConfigError(f"SEAL: loss_type {loss_type!r} needs TRL's global token count")
        return "token-mean", {"global_tokens": float(global_tokens)}, 1.0
    raise ConfigError(f"SEAL: TRL loss_type {loss_type!r} is not supported")


class SealGRPOTrainer(GRPOTrainer):
    """TRL's ``GRPOTrainer`` plus the SEAL auxiliary loss; configure it with :class:`SealGRPOConfig`.

    ``self.seal_coef`` may be changed while training (e.g. by a callback); 0 turns the loss off for the
    following micro-batches (the head then stays as it is).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cfg = self.args
        if not isinstance(cfg, SealGRPOConfig):
            raise ConfigError("SealGRPOTrainer needs args=SealGRPOConfig(...)")
        self.seal_coef = float(cfg.seal_coef)
        self._capture: HiddenStateCapture | None = None
        unwrapped = self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model
        if self.seal_coef > 0 and not hasattr(unwrapped, "seal_head"):
            hidden_size = unwrapped.config.get_text_config().hidden_size
            weight = unwrapped.get_output_embeddings().weight
            head = SealHead(hidden_size, num_layers=cfg.seal_layers, dropout=cfg.seal_dropout)
            unwrapped.seal_head = head.to(device=weight.device, dtype=torch.float32)
        if hasattr(unwrapped, "seal_head"):
            self._capture = HiddenStateCapture(self.model)

    @property
    def seal_head(self) -> SealHead | None:
        model = self.accelerator.unwrap_model(self.model)
        model = model.get_base_model() if hasattr(model, "get_base_model") else model
        return getattr(model, "seal_head", None)

    def _compute_loss(self, model: nn.Module, inputs: dict[str, Any]) -> Tensor:
        if self.seal_coef <= 0 or self._capture is None:
            return super()._compute_loss(model, inputs)
        self._capture.start()
        try:
            loss = super()._compute_loss(model, inputs)
        finally:
            states = self._capture.stop()
        return loss + self._seal_term(torch.cat(states, dim=0), inputs)

    def _seal_term(self, hidden: Tensor, inputs: dict[str, Any]) -> Tensor:
        """``seal_coef`` x the SEAL loss of one micro-batch, normalised like TRL's policy loss."""
        cfg = self.args
        completion_mask = inputs["completion_mask"]
        mask = completion_mask if "tool_mask" not in inputs else completion_mask * inputs["tool_mask"]
        batch, length = completion_mask.shape
        advantages = inputs["advantages"]
        advantages = advantages.unsqueeze(1) if advantages.dim() == 1 else advantages
        mode = "train" if self.model.training else "eval"
        global_tokens = None
        if self.loss_type in ("dapo", "cispo", "vespo"):
            global_tokens = inputs["num_items_in_batch"].clamp(min=1.0) / self.accelerator.num_processes
            if mode == "train":
                global_tokens = global_tokens * self.current_gradient_accumulation_steps / cfg.steps_per_generation
            global_tokens = float(global_tokens)
        accumulation = self.current_gradient_accumulation_steps if mode == "train" else 1.0
        agg_mode, normalisers, divide_by = seal_aggregation(
            self.loss_type, batch_size=batch, max_completion_length=self.max_completion_length,
            accumulation=accumulation, global_tokens=global_tokens)
        loss, stats = seal_loss(
            self.seal_head, response_hidden_states(hidden, length), mask, advantages.expand(batch, length),
            agg_mode=agg_mode, zero_adv_label=ZERO_ADV_LABELS[str(cfg.seal_zero_adv_label)],
            detach_backbone=cfg.seal_detach_backbone, **normalisers)
        scaled = self.seal_coef * loss
        # logged per micro-batch on its own tokens (a global-token normaliser spreads the loss over the window)
        own_tokens = float(mask.sum().clamp(min=1))
        logged = scaled.detach() * (global_tokens / own_tokens if global_tokens is not None else 1.0)
        metrics = self._metrics[mode]
        metrics["loss/seal"].append(float(self.accelerator.gather(logged).mean()))
        for name, value in stats.items():
            metrics[name].append(value)
        metrics["seal/coef"].append(self.seal_coef)
        return scaled / divide_by
