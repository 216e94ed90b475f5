"""Which advantage estimators and policy losses exist: one torch-free table each, read by config validation.

In the style of verl's ``register_adv_est`` / ``register_policy_loss``: each name maps to its function and
what the trainer must know about it. Built-in entries name their function as ``"module:attribute"`` (loaded on
first use, so this table, and the config that validates against it, never import torch); your own function is
registered with a decorator, in the process that trains::

    from entropy_dynamics.train.algorithms.registry import register_adv_est

    @register_adv_est("median_baseline")
    def median_baseline(scores, group_ids, counted, cfg):
        ...  # Tensor[N] -> Tensor[N]: one advantage per element

    train(load_config(None, ["algorithm=median_baseline"]))

Estimator kinds:

- ``"group"``: ``f(scores[N], group_ids[N], counted[N] | None, cfg) -> Tensor[N]``. ``scores`` are the episode
  returns (``credit: trajectory``; every turn gets its episode's advantage) or the turn scores (``credit: turn``);
  ``counted`` marks the elements the statistics run over (``credit_stats: trajectories``; None = all). An
  optional ``step_term(batch, cfg) -> Tensor[S]`` is added per turn sample (GiGPO's anchor-state advantage).
- ``"values"``: ``f(batch, values, cfg) -> (token advantages, value targets)`` from the value head's
  predictions (PPO's GAE); the trainer then builds a value head and predicts values each step.

Policy losses: ``f(logp, old_logp, advantages, mask, clip, agg_mode, options, generator, **normalisers)
-> (loss, stats)`` (see :mod:`~entropy_dynamics.train.algorithms.policy_losses`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from entropy_dynamics.errors import ConfigError

#: Loss aggregation modes (see :func:`~entropy_dynamics.train.algorithms.losses.aggregate`).
AGG_MODES = ("token-mean", "seq-mean-token-mean", "seq-sum-constant")
#: GRPO's std scaling (``adv_scale``): group std, batch std, none (Dr. GRPO).
GRPO_SCALES = ("group", "batch", "none")
#: Credit modes (``credit``) and where group statistics run in ``credit: turn`` (``credit_stats``).
CREDIT_MODES = ("trajectory", "turn")
CREDIT_STATS = ("turns", "trajectories")

_ESTIMATORS = "entropy_dynamics.train.algorithms.estimators"
_LOSSES = "entropy_dynamics.train.algorithms.policy_losses"


@dataclass
class AdvantageEstimator:
    """One advantage estimator: its function and what the trainer must know about it.

    Attributes:
        name: the ``algorithm`` value that selects it.
        fn: the function (see the module docstring), or ``"module:attribute"``.
        kind: ``"group"`` or ``"values"``.
        help: one line for the docs and ``--help``.
        counted_stats: a group estimator that honours ``counted`` (allows ``credit_stats: trajectories``).
        step_term: optional per-turn-sample term added to a group estimator's advantages (function or path).
    """

    name: str
    fn: Callable[..., Any] | str
    kind: str = "group"
    help: str = ""
    counted_stats: bool = False
    step_term: Callable[..., Any] | str | None = None

    @property
    def uses_values(self) -> bool:
        """Whether the trainer needs a value head (and turn credit is the estimator's own business)."""
        return self.kind == "values"

    def function(self) -> Callable[..., Any]:
        return _resolve(self.fn)

    def step_function(self) -> Callable[..., Any] | None:
        return None if self.step_term is None else _resolve(self.step_term)


@dataclass
class PolicyLoss:
    """One policy loss (``policy_loss`` selects it); ``options`` names its config section (``clip_cov`` ...)."""

    name: str
    fn: Callable[..., Any] | str
    help: str = ""
    options: str | None = None

    def function(self) -> Callable[..., Any]:
        return _resolve(self.fn)


ADV_ESTIMATORS: dict[str, AdvantageEstimator] = {e.name: e for e in (
    AdvantageEstimator("grpo", f"{_ESTIMATORS}:grpo", help="group mean / std baseline (adv_scale)",
                       counted_stats=True),
    AdvantageEstimator("dr_grpo", f"{_ESTIMATORS}:dr_grpo", help="group mean baseline, no std scaling",
                       counted_stats=True),
    AdvantageEstimator("rloo", f"{_ESTIMATORS}:rloo", help="leave-one-out group mean baseline"),
    AdvantageEstimator("reinforce_pp", f"{_ESTIMATORS}:reinforce_pp",
                       help="group mean baseline, whitened over the batch (REINFORCE++)"),
    AdvantageEstimator("gigpo", f"{_ESTIMATORS}:grpo", help="GRPO + omega x anchor-state step advantage",
                       counted_stats=True, step_term=f"{_ESTIMATORS}:gigpo_step_term"),
    AdvantageEstimator("ppo", f"{_ESTIMATORS}:ppo_gae", kind="values", help="value head + GAE"),
)}
"""Advantage estimators by name (``algorithm``): the built-in ones and any registered since."""

POLICY_LOSSES: dict[str, PolicyLoss] = {p.name: p for p in (
    PolicyLoss("vanilla", f"{_LOSSES}:vanilla_policy_loss", help="PPO clip (asymmetric) + dual clip"),
    PolicyLoss("clip_cov", f"{_LOSSES}:clip_cov_policy_loss", options="clip_cov",
               help="Clip-Cov: drop the gradient of a few high-covariance tokens"),
    PolicyLoss("kl_cov", f"{_LOSSES}:kl_cov_policy_loss", options="kl_cov",
               help="KL-Cov: plain surrogate + |log ratio| penalty on the top-covariance tokens"),
)}
"""Policy losses by name (``policy_loss``): the built-in ones and any registered since."""


def _resolve(target: Callable[..., Any] | str) -> Callable[..., Any]:
    if callable(target):
        return target
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _check_new(name: str, table: dict[str, Any], what: str, replace: bool) -> None:
    if not name or not isinstance(name, str):
        raise ConfigError(f"{what}: the name must be a non-empty string (got {name!r})")
    if name in table and not replace:
        raise ConfigError(f"{what} {name!r} is registered already (pass replace=True to override it)")


def register_adv_est(name: str, *, kind: str = "group", help: str = "", counted_stats: bool = False,
                     step_term: Callable[..., Any] | None = None, replace: bool = False):
    """Decorator: register ``fn`` as the advantage estimator ``name`` (see the module docstring)."""
    _check_new(name, ADV_ESTIMATORS, "advantage estimator", replace)
    if kind not in ("group", "values"):
        raise ConfigError(f"advantage estimator {name!r}: kind must be group or values (got {kind!r})")

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        ADV_ESTIMATORS[name] = AdvantageEstimator(name, fn, kind=kind, help=help or (fn.__doc__ or "").strip()
                                                  .split("\n")[0], counted_stats=counted_stats, step_term=step_term)
        return fn

    return register


def register_policy_loss(name: str, *, help: str = "", options: str | None = None, replace: bool = False):
    """Decorator: register ``fn`` as the policy loss ``name`` (select it with ``policy_loss: name``)."""
    _check_new(name, POLICY_LOSSES, "policy loss", replace)

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        POLICY_LOSSES[name] = PolicyLoss(name, fn, help=help or (fn.__doc__ or "").strip().split("\n")[0],
                                         options=options)
        return fn

    return register


def unregister(name: str) -> None:
    """Remove a registered estimator or policy loss (for tests and notebooks)."""
    ADV_ESTIMATORS.pop(name, None)
    POLICY_LOSSES.pop(name, None)


def adv_estimator(name: str) -> AdvantageEstimator:
    """The estimator ``name``, or a one-line :class:`ConfigError` listing the known ones."""
    if name not in ADV_ESTIMATORS:
        raise ConfigError(f"'algorithm' must be one of {', '.join(ADV_ESTIMATORS)} (got {name!r})")
    return ADV_ESTIMATORS[name]


def policy_loss_name(policy_loss: str | None, clip_cov: Any, kl_cov: Any) -> str:
    """The policy loss a config selects: ``policy_loss`` when set, else the one whose options are given
    (``clip_cov`` / ``kl_cov``), else ``vanilla``."""
    if policy_loss is not None:
        return policy_loss
    if clip_cov is not None and kl_cov is not None:
        raise ConfigError("'clip_cov' and 'kl_cov' are alternatives; enable at most one")
    return "clip_cov" if clip_cov is not None else "kl_cov" if kl_cov is not None else "vanilla"


def policy_loss_entry(name: str) -> PolicyLoss:
    """The policy loss ``name``, or a one-line :class:`ConfigError` listing the known ones."""
    if name not in POLICY_LOSSES:
        raise ConfigError(f"'policy_loss' must be one of {', '.join(POLICY_LOSSES)} (got {name!r})")
    return POLICY_LOSSES[name]


__all__ = ["ADV_ESTIMATORS", "AGG_MODES", "CREDIT_MODES", "CREDIT_STATS", "GRPO_SCALES", "POLICY_LOSSES",
           "AdvantageEstimator", "PolicyLoss", "adv_estimator", "policy_loss_entry", "policy_loss_name",
           "register_adv_est", "register_policy_loss", "unregister"]
