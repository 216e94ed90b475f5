"""Exponential moving average as in W&B's smoothing slider: debiased, and step-aware so that gaps in the
logging (or a downsampled series) decay as much as the steps they span.

The page's slider recomputes the same thing in the browser (``templates/smoothing.js``); both follow

    decay_t = weight ** ((step_t - step_{t-1}) / gap)
    num_t   = decay_t * num_{t-1} + value_t          (num_0 = value_0)
    den_t   = decay_t * den_{t-1} + 1                (den_0 = 1)
    ema_t   = num_t / den_t

With equally spaced steps (``gap`` = the spacing) this is ``pandas.Series.ewm(alpha=1 - weight,
adjust=True).mean()``: W&B's EMA divided by its ``1 - weight ** (t + 1)`` debiasing term, so the first points
are not pulled towards zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from entropy_dynamics.errors import EntropyDynamicsError

#: The slider's range: 0 draws the raw series, 0.99 averages over about a hundred logged points.
MAX_WEIGHT = 0.99
#: The weight a report opens with: evens out step-to-step noise, keeps a 5-step eruption visible.
DEFAULT_SMOOTHING = 0.6
#: The weight a comparison opens with: several runs in one panel need calmer curves.
COMPARE_SMOOTHING = 0.8
#: Nanoseconds a run may span in :func:`ema` (datetime64 holds about 9.2e18 from 1970; half of that).
_DATETIME_SPAN_NS = 4e18


def check_smoothing(weight: float) -> float:
    """``weight`` as a float in [0, MAX_WEIGHT]; anything else is an EntropyDynamicsError naming the range."""
    if not 0 <= weight <= MAX_WEIGHT:  # also False for NaN
        raise EntropyDynamicsError(f"smoothing must be between 0 and {MAX_WEIGHT}, not {weight}")
    return float(weight)


def logging_gap(steps: np.ndarray) -> float:
    """The series' usual step spacing: the median difference of consecutive steps (1 for fewer than 2)."""
    if len(steps) < 2:
        return 1.0
    return float(max(np.median(np.diff(steps)), 1e-12))


def ema(steps: np.ndarray, values: np.ndarray, weight: float, gap: float | None = None) -> np.ndarray:
    """Debiased, step-aware EMA of ``values`` (float64[N]) at ascending ``steps`` (int or float[N]).

    ``weight`` in [0, 0.99] is the weight of the past per ``gap`` steps (default :func:`logging_gap` of
    ``steps``); 0 returns the values unchanged. Computed by pandas' time-weighted ``ewm`` with the
    half-life ``gap * ln 0.5 / ln weight``.
    """
    weight = check_smoothing(weight)
    values = np.asarray(values, dtype=np.float64)
    if weight == 0 or len(values) < 2:
        return values.copy()
    gap = logging_gap(np.asarray(steps)) if gap is None else gap
    # Time in gaps from the first step (the EMA only sees step differences over the gap), in nanosecond ticks small
    # enough that the run fits pandas' datetime64 (steps up to 2^53, e.g. millisecond timestamps, overflowed it).
    elapsed = (np.asarray(steps, dtype=np.float64) - float(np.asarray(steps)[0])) / gap
    tick = min(1e9, _DATETIME_SPAN_NS / max(float(elapsed[-1]), 1.0))
    halflife = np.log(0.5) / np.log(weight) * tick
    times = pd.to_datetime(elapsed * tick, unit="ns")
    series = pd.Series(values)
    return series.ewm(halflife=pd.Timedelta(halflife, unit="ns"), times=times).mean().to_numpy()
