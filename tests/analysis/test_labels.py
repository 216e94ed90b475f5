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


def test_a_sharp_rise_whose_peak_over_the_base_is_below_the_eruption_size_is_a_plateau():
    # its fitted line rises x1.94, but the running median peaks only x1.65 above the level before it
    # (the real TreeRL run at step 631 with a lower penalty): the cycle would report < x1.8
    line_only = SegmentFit(slope=0.66 / 50, n=50, delta=0.66, level_rise=0.66, amplitude=math.log(1.65))
    real = SegmentFit(slope=0.66 / 50, n=50, delta=0.66, level_rise=0.66, amplitude=math.log(2.0))
    assert phase_of(line_only, 0.05, 1000.0, RULES, "plateau", None) == "plateau"
    assert phase_of(real, 0.05, 1000.0, RULES, "plateau", None) == "eruption"
