"""Series that some trainers log with the sign flipped, turned back before name mapping.

Stable-Baselines3 logs ``train/entropy_loss`` = minus the mean entropy (its loss adds ``ent_coef *
entropy_loss``), so mapping it onto ``policy/entropy`` as is would show a collapse as a rise. It is
recognised by SB3's own keys beside it and added, negated, as ``policy/entropy``; the source column
stays as logged. A bare ``entropy_loss`` of an unknown trainer is left unmapped (its sign is unknown).
"""

from __future__ import annotations

import pandas as pd

#: Keys only SB3 writes (its logger's ``time/``, ``rollout/`` and ``train/`` sections).
SB3_MARKERS = ("time/total_timesteps", "rollout/ep_rew_mean", "train/policy_gradient_loss", "train/n_updates",
               "time/fps")
SB3_ENTROPY_LOSS = "train/entropy_loss"


def add_sign_flipped(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """``frame`` with ``policy/entropy`` added where SB3's ``train/entropy_loss`` is its negation, and
    ``{added column: how it was made}`` for the run's ``source_names``."""
    columns = {str(c) for c in frame.columns}
    if SB3_ENTROPY_LOSS not in columns or "policy/entropy" in columns or not columns.intersection(SB3_MARKERS):
        return frame, {}
    frame = frame.assign(**{"policy/entropy": -frame[SB3_ENTROPY_LOSS]})
    return frame, {"policy/entropy": f"-{SB3_ENTROPY_LOSS} (SB3 logs minus the entropy)"}
