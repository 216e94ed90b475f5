"""Diagnostics for agent RL: pure functions any trainer (TRL, verl, ours) can call.

- entropy: ``token_entropy``, ``token_logprobs_and_entropy`` (one chunked pass over the vocabulary)
- summaries: ``entropy_summary``, ``cov_logp_adv`` (Cui et al.'s token covariance)
- interference: ``default_interference_params``, ``grad_cosine``, ``gradient_interference``,
  ``loss_term_gradients``
- representation: ``response_embeddings`` (torch), ``separation``, ``separation_metrics`` (numpy)
- degeneration / hallucination: pure Python text metrics

The torch-based modules are imported lazily (module ``__getattr__``), so
``from entropy_dynamics.metrics import sentence_duplication_rate`` never imports torch.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> submodule that defines it; torch-free modules are listed too, loaded on first use.
_EXPORTS: dict[str, str] = {
    "token_entropy": "entropy",
    "token_logprobs_and_entropy": "entropy",
    "entropy_summary": "summaries",
    "cov_logp_adv": "summaries",
    "default_interference_params": "interference",
    "grad_cosine": "interference",
    "gradient_interference": "interference",
    "loss_term_gradients": "interference",
    "response_embeddings": "embeddings",
    "separation": "representation",
    "separation_metrics": "representation",
    "sentence_duplication_rate": "degeneration",
    "repeated_ngram_ratio": "degeneration",
    "clause_repetition": "degeneration",
    "unique_token_ratio": "degeneration",
    "text_degeneration": "degeneration",
    "degeneration_metrics": "degeneration",
    "episode_degeneration": "degeneration",
    "average_metrics": "degeneration",
    "TurnRecord": "hallucination",
    "check_format": "hallucination",
    "turn_hallucination_flags": "hallucination",
    "hallucination_metrics": "hallucination",
    "MetricInputError": "_checks",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module_name}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
