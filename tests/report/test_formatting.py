import numpy as np
import pytest

from entropy_dynamics.report.formatting import percent, ratio, sig, signed


@pytest.mark.parametrize(("value", "text"), [
    (-0.030000001192092896, "-0.03"),  # a float32 advantage as the issue saw it
    (0.699999988079071, "0.7"),
    (np.float32(-0.35), "-0.35"),
    (0.40625, "0.406"),
    (1.4375, "1.44"),
    (12.345, "12.3"),
    (1234.5, "1234"),  # integer digits are never rounded away
    (999999.0, "999999"),
    (2.5e-05, "2.5e-5"),
    (1.23456e7, "1.23e7"),
    (0.00012345, "0.000123"),
    (0.0, "0"),
    (-1e-20, "-1e-20"),
    (3, "3"),
    (np.int64(300), "300"),
    (None, "—"),
    (float("nan"), "—"),
    (float("inf"), "—"),
    (True, "True"),
    ("text", "text"),
])
def test_sig_rounds_to_significant_digits(value, text):
    assert sig(value) == text


def test_sig_digits_and_no_negative_zero():
    assert sig(3.14159, 5) == "3.1416"
    assert sig(0.123456, 2) == "0.12"
    assert sig(-0.00004, 1) == "-4e-5"
    assert sig(-0.0) == "0"
    assert sig(0.0999999, 3) == "0.1"  # rounding up to the next decade drops the trailing zeros


def test_signed_percent_and_ratio():
    assert signed(0.0123) == "+0.0123" and signed(-2.0) == "-2" and signed(0.0) == "0" and signed(None) == "—"
    assert percent(0.19) == "19.0%" and percent(0.0367) == "3.7%" and percent(None) == "—"
    assert ratio(15.3214) == "×15.3" and ratio(2.111) == "×2.11" and ratio(float("nan")) == "—"
