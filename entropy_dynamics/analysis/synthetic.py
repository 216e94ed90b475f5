"""Synthetic entropy runs with known phases: for tests, benchmarks, and for users to check settings.

A run is built in log space on a grid of ``n_points`` logged steps:

* an initial **descent** (8-20 % of the run) from ``start_value`` down by a factor 0.35-0.6;
* then ``n_cycles`` (0-4) equal slots, each: a **plateau** lead-in, a sharp **eruption** (3-25 training
  steps, at least 2 logged intervals, entropy times 2-4 and up by at least 0.35 nats in the running median the
  analyzer reads, noise-free, at the logged steps (:data:`MIN_DRAWN_RISE`): eruptions take steps,
  not a share of the run), a gradual **subsidence** (2-4 times as long as the rise, at least 10 steps and
  5 logged intervals) down to a slightly higher base (habits persist), and a **plateau** until the next slot;
* or, with ``monotone=True``, one curved descent over the whole run (no eruption at all);
* or one of the ``shape`` s that real runs have (:data:`SHAPES`): an eruption in the first steps that
  stays up (``early``), an eruption that never subsides (``stays_up``), a wavy slow rise with no eruption
  (``wavy_rise``), a collapse to ~0.05 nats with bursts too small in nats to be eruptions (``collapse``), an
  eruption in the last few logged points (``end``).

On top: Gaussian noise in log space (``noise``, with optional AR(1) ``noise_ar``), ``spikes``
isolated outliers (a spike is not an eruption), NaN gaps (``nan_fraction`` of points, in blocks of
1-10), and uneven logging (``log_every`` = 1, 2, 5 or ``"mixed"``: intervals drawn from {1, 2, 5}).
``with_metrics=True`` adds correlated metrics for the cross-metric analysis: ``reward/mean`` =
-a exp(H) + b + noise, ``degen/sentence_dup_rate`` that steps up at each eruption and stays up,
``interference/grad_cos_pos_neg`` that dips and ``repr/inter_cos`` that rises ``lead_steps`` before
each onset.

Phases are exact per logged step (``phases``), as are the eruption onsets, peaks and subsidence ends. The
truth follows the documented definitions (:mod:`.options`, with their defaults), applied to the noise-free curve
at the logged points (:func:`defined_onsets`): an eruption's onset is where the definition puts it, the last point
still in the lower half of the climb to x ``min_ratio`` (on a slow ramp up to ~10 steps after the ramp's first
step, which each cycle keeps as ``climb_start``), and a drawn eruption whose logged, smoothed noise-free curve
does not reach x ``min_ratio`` and ``min_rise`` (a top hidden in a NaN gap, a one-point top at 5-step logging
under x ``min_ratio`` once smoothed) is no eruption: its steps are plateau and it has no onset.
Runs shorter than ~300 points with cycles have eruptions only a few points long (by construction).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from entropy_dynamics.analysis.eruptions import find_eruptions, median_window, running_median
from entropy_dynamics.analysis.options import PhaseOptions
from entropy_dynamics.logs.model import Run, frame_to_run

PHASE_CODES = ("descent", "eruption", "subsidence", "plateau", "rise")

#: The shapes of real runs :func:`synthetic_series` can draw besides ``cycles`` (see the module docstring).
SHAPES = ("early", "stays_up", "wavy_rise", "collapse", "end")


@dataclass
class SyntheticSeries:
    """A synthetic run and its truth. All arrays have shape (n_points,)."""

    steps: np.ndarray
    values: np.ndarray
    """Entropy per logged step (NaN in gaps)."""
    phases: np.ndarray
    """True phase per logged step (str)."""
    onsets: list[int]
    """True eruption onset steps (by the documented definition on the noise-free curve)."""
    cycles: list[dict[str, int]]
    """Per cycle: ``onset``, ``peak``, ``end`` (steps); drawn cycles also ``climb_start``, the first step of the
    drawn climb."""
    climb_starts: list[int] = field(default_factory=list)
    """The first step of every drawn climb, an eruption by the definition or not (what ``onsets`` held before
    the truth followed the definition; the benchmark scores against both)."""
    metrics: dict[str, np.ndarray] = field(default_factory=dict)
    """Other metrics by canonical name (with ``with_metrics``)."""
    params: dict[str, Any] = field(default_factory=dict)

    def to_run(self, name: str = "synthetic") -> Run:
        """A :class:`Run` (``policy/entropy`` plus ``metrics``); the truth is in ``metadata["truth"]``."""
        frame = pd.DataFrame({"policy/entropy": self.values, **self.metrics},
                             index=pd.Index(self.steps.astype(np.int64), name="step"))
        run = frame_to_run(name, f"synthetic:{name}", "synthetic", frame)
        run.metadata["truth"] = {"onsets": list(self.onsets), "cycles": list(self.cycles),
                                 "params": dict(self.params)}
        return run


def _steps(n: int, log_every: int | str, rng: np.random.Generator) -> np.ndarray:
    if log_every == "mixed":
        return np.cumsum(rng.choice([1, 2, 5], size=n))
    every = int(log_every)
    if every < 1:
        raise ValueError(f"log_every must be >= 1 or 'mixed', got {log_every!r}")
    return np.arange(1, n + 1) * every


def _noise(n: int, sigma: float, ar: float, rng: np.random.Generator) -> np.ndarray:
    e = rng.normal(0.0, sigma, n)
    if ar:
        # AR(1) with the same stationary standard deviation, vectorised through an IIR filter
        from scipy.signal import lfilter

        e = lfilter([np.sqrt(1 - ar * ar)], [1.0, -ar], e)
    return e


def synthetic_series(
    n_points: int = 1500,
    n_cycles: int = 2,
    *,
    seed: int = 0,
    noise: float = 0.05,
    noise_ar: float = 0.0,
    spikes: int = 0,
    nan_fraction: float = 0.0,
    log_every: int | str = 1,
    monotone: bool = False,
    start_value: float | None = None,
    with_metrics: bool = False,
    lead_steps: int | None = None,
    shape: str = "cycles",
) -> SyntheticSeries:
    """One synthetic entropy run with known phases (see the module docstring)."""
    if not 40 <= n_points <= 1_000_000:
        raise ValueError(f"n_points must be in 40..1,000,000, got {n_points}")
    if shape != "cycles":
        return shaped_series(shape, n_points, seed=seed, noise=noise, log_every=log_every)
    if not 0 <= n_cycles <= 4:
        raise ValueError(f"n_cycles must be in 0..4, got {n_cycles}")
    if monotone and n_cycles:
        raise ValueError("a monotone run has no cycles (n_cycles must be 0)")
    rng = np.random.default_rng(seed)
    steps = _steps(n_points, log_every, rng)
    span = max(float(steps[-1] - steps[0]), 1.0)
    u = (steps - steps[0]) / span
    interval = span / max(n_points - 1, 1)
    window = median_window(steps.astype(float), PhaseOptions().smooth_points)
    h0 = np.log(start_value if start_value else rng.uniform(0.4, 1.2))
    log_h = np.empty(n_points)
    code = np.empty(n_points, dtype=np.int8)
    cycles: list[dict[str, int]] = []
    if monotone:
        tau, drop = rng.uniform(0.3, 1.0), np.log(rng.uniform(0.1, 0.3))
        log_h[:] = h0 + drop * (1 - np.exp(-u / tau)) / (1 - np.exp(-1 / tau))
        code[:] = 0
    else:
        d0 = rng.uniform(0.08, 0.2)
        base = h0 + np.log(rng.uniform(0.35, 0.6))
        descent = u < d0
        log_h[descent] = h0 + (base - h0) * u[descent] / d0
        code[descent] = 0
        log_h[~descent], code[~descent] = base, 3
        slot = (1 - d0) / max(n_cycles, 1)
        for c in range(n_cycles):
            start = d0 + c * slot
            onset = start + rng.uniform(0.15, 0.35) * slot
            rise_steps = max(rng.uniform(3.0, 25.0), 2.0 * interval)
            rise = rise_steps / span
            fall = max(rise * rng.uniform(2.0, 4.0), max(10.0, 5.0 * interval) / span)
            peak_u, end_u = onset + rise, min(onset + rise + fall, start + slot)
            peak = base + np.log(max(rng.uniform(2.0, 4.0), 1.0 + MIN_DRAWN_RISE / np.exp(base)))
            new_base = base + np.log(rng.uniform(1.0, 1.3))
            log_h[(u >= start) & (u < onset)] = base
            up = (u >= onset) & (u < peak_u)
            down = (u >= peak_u) & (u < end_u)
            after = (u >= end_u) & (u < start + slot) if c + 1 < n_cycles else u >= end_u
            log_h[after] = new_base
            draw = partial(_draw_climb, log_h, u, up, down, (onset, peak_u, end_u), (base, new_base))
            draw(_lift_to_floor(draw, log_h, up | down, base, peak, window))
            code[up], code[down], code[after] = 1, 2, 3
            idx = np.flatnonzero(up | down)
            if idx.size == 0:
                continue
            first_up = int(np.flatnonzero(up)[0]) if up.any() else int(idx[0])
            end_index = int(np.flatnonzero(down)[-1]) if down.any() else int(idx[-1])
            peak_index = int(np.flatnonzero(down)[0]) if down.any() else int(idx[-1])
            cycles.append({"onset": int(steps[first_up]), "climb_start": int(steps[first_up]),
                           "peak": int(steps[peak_index]), "end": int(steps[end_index])})
            base = new_base
    truth_log_h = log_h.copy()
    values = np.exp(log_h + _noise(n_points, noise, noise_ar, rng))
    if spikes:
        where = rng.choice(np.arange(5, n_points - 5), size=min(spikes, n_points - 10), replace=False)
        values[where] *= np.exp(rng.choice([-1, 1], where.size) * rng.uniform(0.5, 1.0, where.size))
    if nan_fraction > 0:
        target = int(nan_fraction * n_points)
        gap = np.zeros(n_points, dtype=bool)
        while gap.sum() < target:
            s = int(rng.integers(1, n_points - 1))
            gap[s:s + int(rng.integers(1, 11))] = True
        values[gap] = np.nan
    climb_starts = [c["climb_start"] for c in cycles]
    cycles = _defined_cycles(steps, truth_log_h, np.isfinite(values), cycles, code)
    onsets = [c["onset"] for c in cycles]
    metrics = _correlated_metrics(steps, truth_log_h, onsets, cycles, lead_steps, rng) if with_metrics else {}
    params = {"n_points": n_points, "n_cycles": n_cycles, "seed": seed, "noise": noise, "noise_ar": noise_ar,
              "spikes": spikes, "nan_fraction": nan_fraction, "log_every": log_every, "monotone": monotone}
    return SyntheticSeries(steps=steps, values=values, phases=np.array(PHASE_CODES, dtype=object)[code],
                           onsets=onsets, cycles=cycles, climb_starts=climb_starts, metrics=metrics,
                           params=params)


def _draw_climb(log_h: np.ndarray, u: np.ndarray, up: np.ndarray, down: np.ndarray, times: tuple[float, float, float],
                bases: tuple[float, float], top: float) -> None:
    """Write one cycle's linear climb from ``bases[0]`` to ``top`` and fall to ``bases[1]`` (log) into ``log_h``.
    u, up, down: (n,) run position in [0, 1] and the climb's rising / falling points; times: onset, peak, end."""
    onset, peak_u, end_u = times
    base, new_base = bases
    log_h[up] = base + (top - base) * (u[up] - onset) / (peak_u - onset)
    log_h[down] = top + (new_base - top) * (u[down] - peak_u) / (end_u - peak_u)


#: A drawn eruption's top stands at least this many nats above its base in the smoothed, noise-free logged curve.
MIN_DRAWN_RISE = 0.35


def _lift_to_floor(draw: Any, log_h: np.ndarray, climb: np.ndarray, base: float, peak: float, window: int) -> float:
    """The drawn top (log) of one climb, raised from ``peak`` just enough that the running median of ``window``
    logged points (as the analyzer smooths) tops out :data:`MIN_DRAWN_RISE` nats above ``exp(base)``.

    The median shaves a sharp top (by 0.02-0.07 nats at 1-5-step logging), so a top drawn at exactly +0.35 nats
    raw ends at +0.27-0.30 smoothed, on the +0.3-nat floor of the definition: without the lift, a third of the
    drawn climbs from a base under ~0.3 nats piled up within 10 % of that floor, where the noise alone decides.
    ``draw(top)`` writes the climb into ``log_h`` (n,); ``climb``: (n,) bool, the climb's points."""
    idx = np.flatnonzero(climb)
    if idx.size == 0:
        return peak
    half = window // 2
    a, b = max(0, int(idx[0]) - 2 * half), min(log_h.size, int(idx[-1]) + 2 * half + 1)

    def smoothed_rise(top: float) -> float:
        draw(top)
        return float(np.exp(running_median(log_h[a:b], window).max()) - np.exp(base))

    if smoothed_rise(peak) >= MIN_DRAWN_RISE:
        return peak
    low, high = peak, peak + np.log(2.0)
    for _ in range(30):  # bisection: the smoothed top grows with the drawn one
        middle = 0.5 * (low + high)
        low, high = (low, middle) if smoothed_rise(middle) >= MIN_DRAWN_RISE else (middle, high)
    return high


def defined_onsets(steps: np.ndarray, log_h: np.ndarray, logged: np.ndarray, cycles: list[dict[str, int]],
                   options: PhaseOptions | None = None) -> list[int | None]:
    """Per drawn cycle, the onset step the documented eruption definition gives on the noise-free curve ``log_h``
    at the ``logged`` points (smoothed as the analyzer smooths), or None when that curve does not erupt there
    (the first eruption whose onset lies after the previous cycle's end, up to this cycle's end).

    steps, log_h, logged: (n,); cycles: as :attr:`SyntheticSeries.cycles` with drawn ``onset`` and ``end``.
    """
    opts = options or PhaseOptions()
    t = steps[logged].astype(float)
    y = log_h[logged]
    window = median_window(t, opts.smooth_points)
    s = running_median(y, window)
    spans = find_eruptions(t, y, s, np.exp(s), np.zeros_like(s), opts, True, window)
    found = [int(t[span.onset]) for span in spans]
    out: list[int | None] = []
    previous = -np.inf
    for cycle in cycles:
        inside = [onset for onset in found if previous < onset <= cycle["end"]]
        out.append(inside[0] if inside else None)
        previous = cycle["end"]
    return out


def _defined_cycles(steps: np.ndarray, log_h: np.ndarray, logged: np.ndarray, cycles: list[dict[str, int]],
                    code: np.ndarray) -> list[dict[str, int]]:
    """The drawn cycles with their onsets by the definition (:func:`defined_onsets`); a cycle that is no eruption
    by it is dropped and its steps become plateau. Updates the phase ``code`` (n,) in place: plateau up to the
    defined onset, eruption from it."""
    kept = []
    for cycle, onset in zip(cycles, defined_onsets(steps, log_h, logged, cycles), strict=True):
        first = int(np.searchsorted(steps, cycle["climb_start"]))
        if onset is None:
            code[first: int(np.searchsorted(steps, cycle["end"])) + 1] = 3
            continue
        at = int(np.searchsorted(steps, onset))
        code[first:at] = 3
        code[at:first] = 1
        kept.append({**cycle, "onset": onset})
    return kept


def _ramp(u: np.ndarray, start: float, stop: float) -> np.ndarray:
    """0 before ``start``, 1 after ``stop``, linear between. u: (n,)."""
    return np.clip((u - start) / max(stop - start, 1e-12), 0.0, 1.0)


def shaped_series(shape: str, n_points: int = 300, *, seed: int = 0, noise: float = 0.05,
                  log_every: int | str = 1) -> SyntheticSeries:
    """One run of a real-run ``shape`` (:data:`SHAPES`; see the module docstring), with its true phases and
    onsets. Rises are in steps: the eruptions take 3-10 steps (``end``: 2-4 logged intervals) and go up x2.5-6 and
    at least 0.4 nats; the wavy rise goes up x1.8-2.5 over at least 150 steps (waves of x1.08)."""
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)} or 'cycles', got {shape!r}")
    rng = np.random.default_rng(seed)
    steps = _steps(n_points, log_every, rng).astype(float)
    interval = float(np.median(np.diff(steps)))
    t = steps - steps[0]
    code = np.full(n_points, 3, dtype=np.int8)
    onsets: list[int] = []
    base = np.log(rng.uniform(0.3, 0.8))
    jump = np.log(max(rng.uniform(2.5, 6.0), 1.0 + 0.4 / np.exp(base)))
    if shape in ("early", "stays_up", "end"):
        if shape == "early":
            onset = float(rng.integers(0, 5)) * interval
        elif shape == "stays_up":
            onset = float(t[int(rng.uniform(0.3, 0.7) * n_points)])
        else:
            onset = float(t[n_points - int(rng.integers(5, 8))])
        rise = max(rng.uniform(3.0, 10.0), 2.0 * interval) if shape != "end" else rng.integers(2, 5) * interval
        log_h = base + jump * _ramp(t, onset, onset + rise)
        code[(t >= onset) & (t < onset + rise)] = 1
        if shape == "early":  # a slow partial subsidence after the early eruption
            fall_end = onset + rise + rng.uniform(0.3, 0.6) * (t[-1] - onset - rise)
            log_h -= 0.5 * jump * _ramp(t, onset + rise, fall_end)
            code[(t >= onset + rise) & (t < fall_end)] = 2
        onsets.append(int(steps[np.searchsorted(t, onset)]))
    elif shape == "wavy_rise":
        # x1.8-2.5 over at least 150 steps (a short run shows only the part of the rise it holds)
        start = rng.uniform(0.1, 0.3) * t[-1]
        duration = max(150.0, rng.uniform(0.5, 0.7) * t[-1])
        wave = 0.08 * np.sin(2 * np.pi * t / rng.uniform(30.0, 60.0))
        log_h = base + np.log(rng.uniform(1.8, 2.5)) * _ramp(t, start, start + duration) + wave
        code[t >= start] = 4
        code[t >= start + duration] = 3
    else:  # collapse: down to ~0.05 nats, then bursts of x2-4 that stay under 0.2 nats
        floor = np.log(rng.uniform(0.03, 0.06))
        stop = rng.uniform(0.1, 0.25) * t[-1]
        log_h = base + (floor - base) * _ramp(t, 0.0, stop)
        code[t < stop] = 0
        for centre in rng.uniform(stop + 10, t[-1], size=3):
            width = rng.uniform(2.0, 5.0) * interval
            height = min(np.log(rng.uniform(2.0, 4.0)), np.log(0.2 / np.exp(floor)))
            log_h = log_h + height * np.clip(1 - np.abs(t - centre) / width, 0.0, None)
    values = np.exp(log_h + _noise(n_points, noise, 0.0, rng))
    cycles = [{"onset": o, "peak": o, "end": o} for o in onsets]
    return SyntheticSeries(steps=steps.astype(np.int64), values=values,
                           phases=np.array(PHASE_CODES, dtype=object)[code], onsets=onsets, cycles=cycles,
                           climb_starts=list(onsets),
                           params={"shape": shape, "n_points": n_points, "seed": seed, "noise": noise,
                                   "log_every": log_every})


def shapes_suite(count: int, seed: int = 0, lengths: tuple[int, ...] = (40, 60, 150, 300, 600),
                 noise: tuple[float, float] = (0.03, 0.1)) -> list[dict[str, Any]]:
    """Settings of ``count`` runs of the real-run :data:`SHAPES` for :func:`synthetic_series`, in turn, with
    lengths, noise and logging intervals drawn as in :func:`synthetic_suite`."""
    rng = np.random.default_rng(seed)
    return [{"shape": SHAPES[i % len(SHAPES)], "n_points": int(rng.choice(lengths)), "seed": seed * 100_003 + i,
             "noise": float(rng.uniform(*noise)), "log_every": [1, 2, 5, "mixed"][int(rng.integers(0, 4))]}
            for i in range(count)]


def _correlated_metrics(steps: np.ndarray, log_h: np.ndarray, onsets: list[int], cycles: list[dict[str, int]],
                        lead_steps: int | None, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = steps.size
    span = max(int(steps[-1] - steps[0]), 1)
    lead = lead_steps if lead_steps is not None else max(3, span // 100)
    reward = -0.4 * np.exp(np.exp(log_h)) + 1.6 + rng.normal(0, 0.02, n)
    dup = np.full(n, 0.02)
    cos = np.full(n, -0.05)
    inter = np.full(n, 0.70)
    level = 0.02
    for cycle in cycles:
        level += rng.uniform(0.03, 0.06)
        dup[steps >= cycle["peak"]] = level
        rising = (steps >= cycle["onset"]) & (steps < cycle["peak"])
        dup[rising] = np.linspace(dup[rising][0] if rising.any() else level, level, int(rising.sum()))
        warn = (steps >= cycle["onset"] - lead) & (steps <= cycle["peak"])
        cos[warn] = -0.4
        inter[warn] = 0.9
    return {
        "reward/mean": reward,
        "degen/sentence_dup_rate": dup + rng.normal(0, 0.003, n),
        "interference/grad_cos_pos_neg": cos + rng.normal(0, 0.02, n),
        "repr/inter_cos": inter + rng.normal(0, 0.01, n),
    }


def make_run(name: str = "synthetic", **options: Any) -> Run:
    """A synthetic :class:`Run` (``options`` as :func:`synthetic_series`); truth in ``metadata["truth"]``."""
    return synthetic_series(**options).to_run(name)


def synthetic_suite(count: int, seed: int = 0, lengths: tuple[int, ...] = (500, 1000, 1500, 3000),
                    noise: tuple[float, float] = (0.03, 0.08)) -> list[dict[str, Any]]:
    """Settings of ``count`` varied runs for :func:`synthetic_series` (0-4 cycles, half of the cycle-free
    runs monotone, log-space noise drawn from ``noise``, 0 or 5 spikes, 0 or 5 % NaN, logging every 1, 2, 5
    or mixed). Short runs with noise 0.15-0.3 look like small-batch agent RL (32 episodes per step)."""
    rng = np.random.default_rng(seed)
    suite = []
    for i in range(count):
        cycles = int(rng.integers(0, 5))
        suite.append({
            "n_points": int(rng.choice(lengths)), "n_cycles": cycles, "seed": seed * 100_003 + i,
            "noise": float(rng.uniform(*noise)), "spikes": int(rng.choice([0, 5])),
            "nan_fraction": float(rng.choice([0.0, 0.05])), "log_every": [1, 2, 5, "mixed"][int(rng.integers(0, 4))],
            "monotone": bool(cycles == 0 and rng.random() < 0.5),
        })
    return suite
