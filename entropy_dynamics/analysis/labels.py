"""Labels of the stretches between eruptions, and the segments the user sees.

Every number a segment shows is a smoothed value (:func:`~.eruptions.running_median`), and its label follows
from those numbers alone: a piece whose smoothed value changes by ``min_change`` (and 2 noise units) or more
falls (*descent*, or *subsidence* for the first decline after an eruption's peak, until the decline ends or the
entropy is back at the low the eruption rose from) or
grows (*rise*); any other piece is a *plateau*. Neighbours with the same label are joined and judged again
until nothing changes.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from entropy_dynamics.analysis.eruptions import robust_noise
from entropy_dynamics.analysis.options import PhaseOptions
from entropy_dynamics.analysis.types import Phase, Segment

#: Noise units a descent, rise or subsidence must also exceed (smoothed end minus smoothed start).
CHANGE_Z = 2.0


def change_threshold(opts: PhaseOptions, sigma: float, level: np.ndarray, log_scale: bool) -> float:
    """Smallest change of a descent / rise / subsidence in the analysed units (log when ``log_scale``).

    On the linear scale ``min_change`` applies to the mean absolute level. level: (n,) metric units.
    """
    if log_scale:
        return max(math.log(opts.min_change), CHANGE_Z * sigma)
    scale = float(np.mean(np.abs(level))) if level.size else 0.0
    return max((opts.min_change - 1.0) * scale, CHANGE_Z * sigma)


def trend_of(change: float, threshold: float) -> str:
    """``decline``, ``growth`` or ``flat`` for a smoothed change."""
    if change <= -threshold:
        return "decline"
    return "growth" if change >= threshold else "flat"


def piece_end(a: int, b: int, lows: dict[int, int]) -> int:
    """The point whose smoothed value ends the piece ``[a, b)``: the low of the eruption that starts at ``b`` when
    it lies in the piece (the climb's first points belong to the eruption, not to the piece before), else
    ``b - 1``. ``lows``: eruption onset index -> its low index."""
    low = lows.get(b, b - 1)
    return low if a <= low < b else b - 1


def returns_to_base(s: np.ndarray, spans: list[tuple[int, int, int]]) -> list[int]:
    """Where each eruption's subsidence ends at the latest: the first point after its peak whose smoothed value
    is back down at the low it rose from (a fall below that is a new descent, not the eruption subsiding).

    s: (n,) smoothed values; spans: ``(low, peak, stop)`` per eruption, ``stop`` = the next eruption's onset (or
    n). Returns the indices found, in order."""
    found = []
    for low, peak, stop in spans:
        back = np.flatnonzero(s[peak + 1: stop] <= s[low])
        if back.size and back[0] > 0:
            found.append(peak + 1 + int(back[0]))
    return found


def label_pieces(s: np.ndarray, bounds: list[int], lows: dict[int, int], threshold: float,
                 returns: frozenset[int] = frozenset()) -> tuple[list[int], list[Phase]]:
    """Label the pieces ``[bounds[i], bounds[i+1])`` of the smoothed series ``s`` (n,); the pieces that start at
    an eruption's onset (a key of ``lows``: onset index -> the index of the low it rose from) are eruptions and
    are never joined; a subsidence ends at the latest where a piece starts at an index in ``returns``
    (:func:`returns_to_base`). Returns the joined bounds and phases."""
    eruption_starts = set(lows)
    bounds = list(bounds)
    fixed_starts = dict.fromkeys(eruption_starts, "eruption")
    while True:
        phases: list[Phase] = []
        after_eruption = False  # inside the first decline run after an eruption's peak (or before it)
        for a, b in itertools.pairwise(bounds):
            if a in fixed_starts:
                phases.append(fixed_starts[a])
                after_eruption = True
                continue
            if a in returns:
                after_eruption = False  # back at the eruption's low: any further decline is a descent
            trend = trend_of(float(s[piece_end(a, b, lows)] - s[a]), threshold)
            if trend == "decline":
                phases.append("subsidence" if after_eruption else "descent")
            else:
                if phases and phases[-1] == "subsidence":
                    after_eruption = False  # the decline has ended
                phases.append("rise" if trend == "growth" else "plateau")
        keep = [0] + [k for k in range(1, len(phases))
                      if phases[k] != phases[k - 1] or bounds[k] in fixed_starts or bounds[k - 1] in fixed_starts]
        if len(keep) == len(phases):
            return bounds, phases
        bounds = [bounds[k] for k in keep] + [bounds[-1]]


def noise_range(sigma_smooth: float, points: int, window: int) -> float:
    """The range (max - min) the noise alone gives ``points`` smoothed values of standard deviation
    ``sigma_smooth``: twice the expected largest of ``points / window`` (at least 2) independent normal draws,
    taken as ``sqrt(2 ln m)``."""
    m = max(points / max(window, 1), 2.0)
    return 2.0 * sigma_smooth * math.sqrt(2.0 * math.log(m))


def largest_climb(v: np.ndarray, gap: int) -> tuple[float, int, int]:
    """``(climb, i, j)``: the largest ``v[j] - v[i]`` with ``i`` the lowest point up to ``j`` (the later one on
    ties) and ``j - i >= gap``; ``(-inf, 0, 0)`` when no pair is that far apart. v: (n,)."""
    low = np.minimum.accumulate(v)
    at = np.maximum.accumulate(np.where(v == low, np.arange(v.size), 0))
    climb = np.where(np.arange(v.size) - at >= gap, v - low, -np.inf)
    j = int(np.argmax(climb))
    return float(climb[j]), int(at[j]), j


def hidden_trends(s: np.ndarray, y: np.ndarray, bounds: list[int], phases: list[Phase], lows: dict[int, int],
                  threshold: float, sigma: float, window: int) -> list[int]:
    """Bounds that cut out the move a rise, descent or subsidence hides against its label.

    In a piece ``[a, b)`` labelled rise (descent, subsidence), the largest decline (climb) of the smoothed ``s``
    (n,) from an extreme to one at least ``window`` points later is a trend of its own when it is larger than the
    piece's own net change, than ``threshold`` and than the range the noise alone gives the piece's points
    (:func:`noise_range`; the noise per raw point is the run's ``sigma`` or the piece's own, from its raw values
    ``y`` (n,), whichever is larger, seen through a running median of ``window`` points). A "rise x1.5" over a
    stretch that falls x0.55 on the way does not describe it. Returns the new bounds: the first extreme and the
    point after the second, each only when it leaves at least ``window`` points on its outer side. Plateaus are
    not searched (a noisy plateau wanders; cutting its wander lowered the agreement with the labelled curves)."""
    extra: list[int] = []
    for phase, (a, b) in zip(phases, itertools.pairwise(bounds), strict=True):
        end = piece_end(a, b, lows)
        if phase not in ("rise", "descent", "subsidence") or end - a < window:
            continue
        piece = np.asarray(s[a: end + 1], dtype=float)
        noise = max(sigma, robust_noise(np.asarray(y[a: end + 1], dtype=float)))
        sigma_smooth = noise * math.sqrt(math.pi / (2.0 * window))
        need = max(threshold, abs(float(piece[-1] - piece[0])), noise_range(sigma_smooth, piece.size, window))
        climb, i, j = largest_climb(-piece if phase == "rise" else piece, window)
        if climb >= need:
            extra += [a + i] if i >= window else []
            extra += [a + j + 1] if b - (a + j + 1) >= window else []
    return extra


def make_segment(t: np.ndarray, level: np.ndarray, a: int, b: int, phase: Phase, log_scale: bool,
                 detail: str = "", end: int | None = None) -> Segment:
    """The :class:`Segment` of the points ``[a, b)``, its numbers read from the smoothed ``level`` (n,) at ``a``
    and ``end`` (default ``b - 1``; see :func:`piece_end`)."""
    end = b - 1 if end is None else end
    v0, v1 = float(level[a]), float(level[end])
    span = float(t[end] - t[a])
    steps = int(t[b - 1] - t[a])
    ratio = v1 / v0 if log_scale and v0 > 0 else None
    return Segment(start_step=int(t[a]), end_step=int(t[b - 1]), phase=phase,
                   slope=(v1 - v0) / span if span > 0 else 0.0, start_value=v0, end_value=v1,
                   ratio=ratio, change=v1 - v0, steps=steps, detail=detail)
