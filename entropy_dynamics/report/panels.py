"""Which metrics each report panel shows, and which panels a run can fill."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from entropy_dynamics.logs import Run

#: The reward-like metric of the entropy-vs-reward fit: mean reward, else success rate.
REWARD_METRICS = ("reward/mean", "env/success_rate")
#: The outcome shown in comparisons: success rate, else mean reward.
SUCCESS_METRICS = ("env/success_rate", "reward/mean")
#: Degeneration metric shown in comparisons, the first one logged.
DEGEN_METRICS = ("degen/sentence_dup_rate", "degen/rep5_ratio", "degen/loop_rate", "halluc/rate")


@dataclass(frozen=True)
class PanelSpec:
    """A subplot of the report: a title, the metrics it may show (exact names or regexes), what is missing."""

    key: str
    title: str
    metrics: tuple[str, ...]
    missing_note: str


@dataclass(frozen=True)
class Panel:
    """A panel with the columns one run actually has."""

    spec: PanelSpec
    columns: tuple[str, ...]


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("reward", "Reward / success", ("reward/mean", "env/success_rate", "env/valid_action_ratio"),
              "no reward or success metrics (reward/mean, env/success_rate)"),
    PanelSpec("outcome", "Entropy by outcome (A ≥ 0 vs A < 0)", ("policy/entropy/pos", "policy/entropy/neg"),
              "no entropy by outcome (policy/entropy/pos, policy/entropy/neg)"),
    PanelSpec("turn", "Entropy by turn", (r"re:^policy/entropy/turn_\d+$",),
              "no entropy by turn (policy/entropy/turn_<k>)"),
    PanelSpec("update", "Policy update (covariance, KL, clipping)",
              ("policy/cov_logp_adv", "policy/cov_neg_frac", "policy/clip_frac", "policy/approx_kl",
               "policy/kl_ref"),
              "no policy-update statistics (policy/cov_logp_adv, policy/clip_frac, policy/approx_kl)"),
    PanelSpec("interference", "Gradient interference",
              ("interference/grad_cos_pos_neg", "interference/displacement_neg_on_pos",
               "interference/grad_cos_pg_seal"),
              "no gradient-interference metrics (interference/*)"),
    PanelSpec("grad_norms", "Gradient norm per loss term", (r"re:^interference/grad_norm_",),
              "no per-term gradient norms (interference/grad_norm_<term>)"),
    PanelSpec("repr", "Representation separation",
              ("repr/inter_cos", "repr/intra_pos_cos", "repr/intra_neg_cos", "repr/sep_ratio",
               "repr/probe_auroc"),
              "no representation-separation metrics (repr/*)"),
    PanelSpec("seal", "SEAL head", ("seal/head_acc", "seal/head_auroc", "loss/seal"),
              "no SEAL head metrics (seal/*, loss/seal): SEAL was off or not logged"),
    PanelSpec("degen", "Degeneration", (r"re:^degen/",), "no degeneration metrics (degen/*)"),
    PanelSpec("halluc", "Hallucination", (r"re:^halluc/",), "no hallucination metrics (halluc/*)"),
)


def _turn_order(name: str) -> tuple[int, str]:
    match = re.search(r"turn_(\d+)$", name)
    return (int(match.group(1)) if match else -1, name)


def panel_columns(spec: PanelSpec, columns: list[str]) -> tuple[str, ...]:
    """The columns of ``columns`` that ``spec`` shows, in the spec's order (turns numerically)."""
    chosen: list[str] = []
    for pattern in spec.metrics:
        if pattern.startswith("re:"):
            regex = re.compile(pattern[3:])
            chosen.extend(sorted((c for c in columns if regex.search(c)), key=_turn_order))
        elif pattern in columns:
            chosen.append(pattern)
    return tuple(dict.fromkeys(chosen))


def select_panels(run: Run) -> tuple[list[Panel], list[str]]:
    """Panels the run can fill, and one note for each panel it cannot."""
    columns = [c for c, n in run.points().items() if n > 0]
    panels, notes = [], []
    for spec in PANELS:
        cols = panel_columns(spec, columns)
        if cols:
            panels.append(Panel(spec, cols))
        else:
            notes.append(f"{spec.title}: {spec.missing_note}.")
    return panels, notes


def first_logged(runs: Sequence[Run], names: Sequence[str], varying: bool = False) -> str | None:
    """The first of ``names`` that at least one of ``runs`` has points of (None if none has any).

    ``varying``: prefer the first name whose values change in at least one run (a degeneration metric that
    stays 0 throughout says nothing); fall back to the first logged one."""
    logged = {name for run in runs for name, n in run.points().items() if n > 0}
    first = next((name for name in names if name in logged), None)
    if not varying:
        return first
    moving = (name for name in names if name in logged and any(
        name in run.metrics.columns and run.metrics[name].dropna().nunique() > 1 for run in runs))
    return next(moving, first)


def reward_column(run: Run) -> str | None:
    """The reward-like metric for the entropy-vs-reward fit: mean reward, else success rate."""
    return first_logged([run], REWARD_METRICS)
