import math

from entropy_dynamics.analysis.labels import LabelRules, SegmentFit, phase_of

RULES = LabelRules()


def _fit(delta: float, n: int = 50, span: float = 50.0, level: float | None = None) -> SegmentFit:
    return SegmentFit(slope=delta / span, n=n, delta=delta, level_rise=delta if level is None else level)


def test_large_sharp_rise_is_an_eruption():
    assert phase_of(_fit(math.log(3)), 0.05, 1000.0, RULES, "plateau", "descent") == "eruption"


def test_slow_or_small_rises_are_plateaus():
    slow = _fit(math.log(3), span=1000.0)
    small = _fit(math.log(1.5))
    assert phase_of(slow, 0.05, 1000.0, RULES, "plateau", None) == "plateau"
    assert phase_of(small, 0.05, 1000.0, RULES, "plateau", None) == "plateau"


def test_a_decline_is_subsidence_only_after_an_eruption():
    decline = _fit(-0.8)
    assert phase_of(decline, 0.05, 1000.0, RULES, "eruption", "plateau") == "subsidence"
    assert phase_of(decline, 0.05, 1000.0, RULES, "plateau", "eruption") == "subsidence"
    assert phase_of(decline, 0.05, 1000.0, RULES, "plateau", "descent") == "descent"
    assert phase_of(decline, 0.05, 1000.0, RULES, None, None) == "descent"


def test_a_change_within_the_noise_is_flat():
    assert phase_of(_fit(-0.3, n=5), 0.2, 1000.0, RULES, None, None) == "plateau"
