"""SEAL and our instruments for verl (tested with verl 0.7.1's ``DataParallelPPOActor``; verl >= 0.9 has no such actor).

Three pieces, usable alone:

- :func:`seal_loss_verl`: the SEAL loss on verl's tensors (``response_mask`` and ``advantages`` ``[bsz, R]``, the
  actor's final hidden states ``[bsz, seqlen, d]`` of ``[prompt | response]``), aggregated like verl's
  ``agg_loss`` for each ``loss_agg_mode`` (:func:`verl_aggregation`). The maths is
  :func:`~entropy_dynamics.train.algorithms.seal.seal_loss`, the one our trainer uses.
- :func:`install_seal`: the patch for a ``DataParallelPPOActor``. It attaches the head (``actor_module.seal_head``;
  its parameters join the actor's optimizer), keeps the backbone's final hidden states of each gradient forward
  (:class:`~entropy_dynamics.integrations.hidden_capture.HiddenStateCapture`; under ``use_remove_padding`` they
  are padded back with the micro-batch's attention mask), and registers the policy loss ``seal`` in verl's
  registry: the base loss (``vanilla`` unless told) plus ``coef`` x SEAL, so verl's own ``update_policy`` trains
  it with no copied code. Its metrics (``actor/seal_loss``, ``seal/bce``, ``seal/head_acc``, ``seal/head_auroc``)
  land in verl's metrics dict.
- :class:`VerlInstruments`: a metrics hook for the driver: ``hook(metrics, step, batch)`` adds the live phase
  (``phase``, the same codes as our trainer) of ``actor/entropy``, Cui's covariance of the batch's log-probs and
  advantages and, with a tokenizer, the degeneration rates of the decoded responses, all under our canonical
  names; :func:`install_metrics_hook` calls it on every ``Tracking.log`` of verl's trainer.

Recipe (inside the worker that builds the actor, e.g. a subclass of verl's ``ActorRolloutRefWorker``, after
``self.actor = DataParallelPPOActor(...)``)::

    from entropy_dynamics.integrations.verl import install_seal
    install_seal(self.actor, coef=0.02)            # then: actor_rollout_ref.actor.policy_loss.loss_mode=seal

With FSDP, build the head before wrapping (``attach_seal_head(actor_module)``) so that FSDP shards it with the
model; ``install_seal`` then uses that head. Ulysses sequence parallelism is not supported (the hidden states
would be sharded).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.integrations.hidden_capture import HiddenStateCapture
from entropy_dynamics.train.algorithms.seal import SealHead, response_hidden_states, seal_loss

#: The name of the policy loss :func:`install_seal` registers in verl.
LOSS_MODE = "seal"


def verl_aggregation(loss_agg_mode: str, response_length: int, loss_scale_factor: float | None = None,
                     global_batch_info: Mapping[str, Any] | None = None) -> tuple[str, dict[str, float]]:
    """verl's ``agg_loss`` modes in the terms of :func:`~entropy_dynamics.train.algorithms.losses.aggregate`:
    ``(mode, normalisers)``.

    ``token-mean`` -> token-mean; ``seq-mean-token-mean`` -> the same; ``seq-mean-token-sum`` -> token sums over
    sequences with a token; ``seq-mean-token-sum-norm`` -> that divided by ``loss_scale_factor`` (default: the
    response length, as verl). ``global_batch_info`` (the actor config's: ``dp_size``, ``batch_num_tokens``,
    ``global_batch_size``) gives the global counts verl divides by (``count / dp_size`` per rank), when set.
    """
    info = dict(global_batch_info or {})
    dp_size = float(info.get("dp_size") or 1)
    normalisers: dict[str, float] = {}
    if info.get("batch_num_tokens") is not None:
        normalisers["global_tokens"] = float(info["batch_num_tokens"]) / dp_size
    if info.get("global_batch_size") is not None:
        normalisers["global_seqs"] = float(info["global_batch_size"]) / dp_size
    if loss_agg_mode == "token-mean":
        return loss_agg_mode, {k: v for k, v in normalisers.items() if k == "global_tokens"}
    seqs = {k: v for k, v in normalisers.items() if k == "global_seqs"}
    if loss_agg_mode == "seq-mean-token-mean":
        return loss_agg_mode, seqs
    if loss_agg_mode == "seq-mean-token-sum":
        return "seq-sum-constant", {**seqs, "seq_len_constant": 1.0}
    if loss_agg_mode == "seq-mean-token-sum-norm":
        return "seq-sum-constant", {**seqs, "seq_len_constant": float(loss_scale_factor or response_length)}
    raise ConfigError(f"SEAL: verl loss_agg_mode {loss_agg_mode!r} is not supported")


def seal_loss_verl(head: SealHead, hidden_states: Tensor, response_mask: Tensor, advantages: Tensor,
                   loss_agg_mode: str = "token-mean", *, coef: float = 0.02, zero_adv_label: float | str = 1.0,
                   detach_backbone: bool = False, loss_scale_factor: float | None = None,
                   global_batch_info: Mapping[str, Any] | None = None) -> tuple[Tensor, dict[str, float]]:
    """``coef`` x the SEAL loss of one verl micro-batch, and its metrics.

    Args:
        head: the SEAL head.
        hidden_states: Tensor[bsz, seqlen, d] final hidden states of ``input_ids`` (prompt then response; the
            response is the last ``R`` positions, as in verl's batches); the head reads the states AT the
            response tokens (the official code's alignment).
        response_mask: Tensor[bsz, R] 1 on trained response tokens.
        advantages: Tensor[bsz, R] verl's token advantages (labels ``1[A >= 0]``).
        loss_agg_mode: verl's ``actor.loss_agg_mode``.
        loss_scale_factor, global_batch_info: the actor config's (see :func:`verl_aggregation`).
    Returns:
        (loss Tensor[], metrics): ``actor/seal_loss`` (= the loss), ``seal/bce``, ``seal/head_acc``,
        ``seal/head_auroc``, ``seal/coef``.
    """
    response_length = response_mask.shape[-1]
    mode, normalisers = verl_aggregation(loss_agg_mode, response_length, loss_scale_factor, global_batch_info)
    loss, stats = seal_loss(head, response_hidden_states(hidden_states, response_length), response_mask,
                            advantages, agg_mode=mode, zero_adv_label=zero_adv_label,
                            detach_backbone=detach_backbone, **normalisers)
    scaled = coef * loss
    return scaled, {"actor/seal_loss": float(scaled.detach()), **stats, "seal/coef": coef}


def repad_hidden(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """Hidden states of verl's remove-padding forward (``[1, nnz, d]`` or ``[nnz, d]``) back to
    ``[bsz, seqlen, d]`` (zeros at padding), differentiably."""
    flat = hidden.reshape(-1, hidden.shape[-1])
    keep = attention_mask.reshape(-1).bool()
    if int(keep.sum()) != flat.shape[0]:
        raise ValueError(f"SEAL: {flat.shape[0]} unpadded states for {int(keep.sum())} attended positions")
    padded = flat.new_zeros(keep.numel(), flat.shape[-1]).index_put((keep.nonzero().squeeze(-1),), flat)
    return padded.view(*attention_mask.shape, flat.shape[-1])


def attach_seal_head(actor_module: nn.Module, num_layers: int = 3, dropout: float = 0.1) -> SealHead:
    """``actor_module.seal_head`` (built in float32 on the model's device unless it exists)."""
    existing = getattr(actor_module, "seal_head", None)
    if existing is not None:
        return existing
    config = actor_module.config.get_text_config() if hasattr(actor_module.config, "get_text_config") \
        else actor_module.config
    device = next(actor_module.parameters()).device
    head = SealHead(config.hidden_size, num_layers=num_layers, dropout=dropout).to(device=device, dtype=torch.float32)
    actor_module.seal_head = head
    return head


@dataclass
class SealPatch:
    """What :func:`install_seal` set up on one actor (one per process: verl runs one actor per worker)."""

    actor: Any
    head: SealHead
    capture: HiddenStateCapture
    coef: float
    base_loss_mode: str
    zero_adv_label: float | str
    detach_backbone: bool
    attention_masks: list[Tensor] = field(default_factory=list)

    def hidden_states(self) -> Tensor:
        """The states of the micro-batch forward just run, ``[bsz, seqlen, d]``."""
        states = self.capture.stop()
        self.capture.start()
        masks, self.attention_masks = self.attention_masks, []
        if len(states) != 1:
            raise ConfigError(f"SEAL: expected one gradient forward per micro-batch, saw {len(states)}")
        if states[0].dim() == 3 and masks and states[0].shape[:2] == masks[-1].shape:
            return states[0]
        if not masks:
            raise ConfigError("SEAL: no attention mask recorded for a remove-padding forward")
        return repad_hidden(states[0], masks[-1])


_ACTIVE: SealPatch | None = None


def install_seal(actor: Any, *, coef: float = 0.02, num_layers: int = 3, dropout: float = 0.1,
                 base_loss_mode: str = "vanilla", zero_adv_label: float | str = 1.0,
                 detach_backbone: bool = False) -> SealPatch:
    """Add SEAL to a verl ``DataParallelPPOActor`` (see the module docstring); set the actor config's
    ``policy_loss.loss_mode`` to ``"seal"`` to turn it on. Returns the patch (``patch.coef`` may be changed)."""
    global _ACTIVE
    from verl.trainer.ppo import core_algos

    if coef < 0:
        raise ConfigError(f"SEAL: coef must be >= 0, got {coef}")
    if getattr(actor, "use_ulysses_sp", False):
        raise ConfigError("SEAL: Ulysses sequence parallelism is not supported")
    core_algos.get_policy_loss_fn(base_loss_mode)  # fails early on an unknown base loss
    module = actor.actor_module
    had_head = hasattr(module, "seal_head")
    head = attach_seal_head(module, num_layers, dropout)
    optimizer = getattr(actor, "actor_optimizer", None)
    if optimizer is not None and not had_head:
        optimizer.add_param_group({"params": list(head.parameters())})
    patch = SealPatch(actor, head, HiddenStateCapture(module, grad_only=True), coef, base_loss_mode,
                      zero_adv_label, detach_backbone)
    patch.capture.start()
    forward = actor._forward_micro_batch

    def forward_keeping_mask(micro_batch: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        if torch.is_grad_enabled():
            patch.attention_masks.append(micro_batch["attention_mask"])
        return forward(micro_batch, *args, **kwargs)

    actor._forward_micro_batch = forward_keeping_mask
    if LOSS_MODE not in core_algos.POLICY_LOSS_REGISTRY:
        core_algos.register_policy_loss(LOSS_MODE)(_policy_loss_with_seal)
    _ACTIVE = patch
    return patch


def _policy_loss_with_seal(old_log_prob: Tensor, log_prob: Tensor, advantages: Tensor, response_mask: Tensor,
                           loss_agg_mode: str = "token-mean", config: Any = None, **kwargs: Any,
                           ) -> tuple[Tensor, dict[str, Any]]:
    """verl policy loss ``seal``: the base loss of :func:`install_seal` plus ``coef`` x SEAL."""
    from verl.trainer.ppo import core_algos

    patch = _ACTIVE
    if patch is None:
        raise ConfigError("policy loss 'seal': call entropy_dynamics.integrations.verl.install_seal(actor) first")
    base = core_algos.get_policy_loss_fn(patch.base_loss_mode)
    pg_loss, metrics = base(old_log_prob=old_log_prob, log_prob=log_prob, advantages=advantages,
                            response_mask=response_mask, loss_agg_mode=loss_agg_mode, config=config, **kwargs)
    seal, seal_metrics = seal_loss_verl(
        patch.head, patch.hidden_states(), response_mask, advantages, loss_agg_mode, coef=patch.coef,
        zero_adv_label=patch.zero_adv_label, detach_backbone=patch.detach_backbone,
        loss_scale_factor=getattr(config, "loss_scale_factor", None),
        global_batch_info=getattr(config, "global_batch_info", None))
    return pg_loss + seal, {**metrics, **seal_metrics}


class VerlInstruments:
    """Our instruments as a verl metrics hook: ``hook(metrics, step, batch=None)`` adds to ``metrics`` in place.

    - ``phase`` (0 none, 1 descent, 2 eruption, 3 subsidence, 4 plateau, 5 rise) of the live detector on
      ``metric`` (default ``actor/entropy``); each confirmed transition is returned, kept in ``events`` and
      passed to ``on_phase``;
    - from ``batch`` (a ``DataProto`` or a dict of its tensors): ``policy/cov_logp_adv`` and
      ``policy/cov_neg_frac`` (Cui et al.) of ``old_log_probs`` and ``advantages`` over ``response_mask``;
      with ``tokenizer``, the ``degen/*`` rates of the decoded ``responses``.
    """

    def __init__(self, metric: str = "actor/entropy", tokenizer: Any = None,
                 on_phase: Callable[[Any], None] | None = None, detector_options: Mapping[str, Any] | None = None,
                 ) -> None:
        from entropy_dynamics.analysis import OnlineDetector

        self.metric, self.tokenizer, self.on_phase = metric, tokenizer, on_phase
        self.detector = OnlineDetector(run="verl", **dict(detector_options or {}))
        self.events: list[Any] = []

    def __call__(self, metrics: dict[str, Any], step: int, batch: Any = None) -> list[Any]:
        from entropy_dynamics.train.run.run_phase import PHASE_CODES

        value = metrics.get(self.metric)
        found = []
        if isinstance(value, (int, float)) and math.isfinite(value):
            found = self.detector.update(int(step), float(value))
        for event in found:
            self.events.append(event)
            if self.on_phase is not None:
                self.on_phase(event)
        metrics["phase"] = PHASE_CODES[self.detector.current_phase]
        if batch is not None:
            metrics.update(self.batch_metrics(batch))
        return found

    def batch_metrics(self, batch: Any) -> dict[str, float]:
        from entropy_dynamics.metrics.degeneration import degeneration_metrics
        from entropy_dynamics.metrics.summaries import cov_logp_adv

        tensors = batch.batch if hasattr(batch, "batch") else batch
        mask = tensors["response_mask"]
        out: dict[str, float] = {}
        if "old_log_probs" in tensors and "advantages" in tensors:
            cov = cov_logp_adv(tensors["old_log_probs"], tensors["advantages"], mask)
            out.update({k: float(cov[k]) for k in ("policy/cov_logp_adv", "policy/cov_neg_frac")})
        if self.tokenizer is not None and "responses" in tensors:
            ids = [row[keep.bool()].tolist() for row, keep in zip(tensors["responses"], mask, strict=True)]
            out.update(degeneration_metrics(self.tokenizer.batch_decode(ids, skip_special_tokens=True)))
        return out


def install_metrics_hook(hook: VerlInstruments) -> Callable[[], None]:
    """Run ``hook`` on every ``verl.utils.tracking.Tracking.log(data, step)`` (verl's trainer logs each step's
    metrics there), before the backends see the data; returns a function that undoes the patch."""
    from verl.utils.tracking import Tracking

    original = Tracking.log

    def log(self: Any, data: dict[str, Any], step: int, *args: Any, **kwargs: Any) -> Any:
        hook(data, step)
        return original(self, data, step, *args, **kwargs)

    Tracking.log = log

    def undo() -> None:
        Tracking.log = original

    return undo
