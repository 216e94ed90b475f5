"""Keep the final hidden states of a forward pass that someone else's trainer runs (TRL, verl).

A forward hook on the causal LM's backbone (``model.base_model``, PEFT unwrapped: the module whose
``last_hidden_state``, after the final norm, the LM head reads) keeps that output while a capture is open, so the
SEAL head can read the same states the policy loss was computed from, with their graph, at no extra forward.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from entropy_dynamics.errors import ConfigError


def policy_backbone(model: nn.Module) -> nn.Module:
    """The backbone of a Hugging Face causal LM (PEFT unwrapped)."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    backbone = getattr(inner, "base_model", None)
    if backbone is None or backbone is inner:
        raise ConfigError(f"SEAL: cannot find the backbone of {type(inner).__name__} (no base_model)")
    return backbone


class HiddenStateCapture:
    """Collects the backbone's ``last_hidden_state`` of every forward while open (``start`` ... ``stop``).

    ``grad_only``: keep only forwards run with gradients enabled (a trainer's no-grad log-prob passes are
    skipped, so nothing is held that no loss will read).
    """

    def __init__(self, model: nn.Module, grad_only: bool = False) -> None:
        self.grad_only = grad_only
        self.states: list[Tensor] | None = None
        self.handle = policy_backbone(model).register_forward_hook(self._keep)

    def _keep(self, module: nn.Module, args: Any, output: Any) -> None:
        if self.states is None or (self.grad_only and not torch.is_grad_enabled()):
            return
        hidden = output.last_hidden_state if hasattr(output, "last_hidden_state") else output[0]
        self.states.append(hidden)

    def start(self) -> None:
        self.states = []

    def stop(self) -> list[Tensor]:
        """The states kept since :meth:`start` (and the capture closed)."""
        states, self.states = self.states or [], None
        return states

    def remove(self) -> None:
        self.handle.remove()
