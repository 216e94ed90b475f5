"""The callbacks every run gets from its config: the instruments and live phase detection.

:func:`with_default_callbacks` is what :func:`entropy_dynamics.train.run.loop.train` runs, so the CLI, the demo
and library users get the same behaviour from the same ``instruments`` and ``phase`` config sections.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from entropy_dynamics.train.config import TrainConfig
from entropy_dynamics.train.run.callbacks import Callback
from entropy_dynamics.train.run.instruments import Instruments
from entropy_dynamics.train.run.live_phase import LivePhase
from entropy_dynamics.train.run.progress import print_above_progress


def instruments_from(cfg: TrainConfig) -> Instruments:
    """The :class:`Instruments` of ``cfg.instruments``."""
    return Instruments(every=cfg.instruments.every, max_samples=cfg.instruments.max_samples,
                       seal_every=cfg.instruments.seal_every)


def live_phase_from(cfg: TrainConfig, echo: Callable[[str], None] | None = print_above_progress) -> LivePhase:
    """The :class:`LivePhase` of ``cfg.phase``; ``echo`` is where transitions are printed (None = silent)."""
    phase = cfg.phase
    return LivePhase(metric=phase.metric, on_eruption=phase.on_eruption, seal_factor=phase.seal_factor,
                     seal_max=phase.seal_max, detector_options=phase.detector,
                     echo=echo)


def with_default_callbacks(cfg: TrainConfig, callbacks: Iterable[Callback],
                           echo: Callable[[str], None] | None = print_above_progress) -> list[Callback]:
    """``callbacks`` with the enabled config callbacks around them: the instruments first (every later
    callback sees their metrics), live phase detection last (it can watch any metric the others add).
    A caller's own :class:`Instruments` or :class:`LivePhase` replaces the config's one of that kind (kept
    where the caller put it), so a run never measures or detects twice."""
    given = list(callbacks)

    def given_a(kind: type) -> bool:
        return any(isinstance(cb, kind) for cb in given)

    first = [instruments_from(cfg)] if cfg.instruments.enabled and not given_a(Instruments) else []
    last = [live_phase_from(cfg, echo)] if cfg.phase.enabled and not given_a(LivePhase) else []
    return [*first, *given, *last]
