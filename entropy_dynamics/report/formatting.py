"""Numbers as a reader wants them in a table: a few significant digits (paths: :mod:`entropy_dynamics.shorten`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Shown for a missing or non-finite value.
MISSING = "—"


def sig(value: Any, digits: int = 3) -> str:
    """``value`` rounded to ``digits`` significant digits, in plain notation where that stays short.

    ``-0.030000001192092896`` -> ``-0.03``, ``0.699999988079071`` -> ``0.7``, ``1234.5`` -> ``1234``
    (at most ``digits`` significant digits, but whole numbers keep every integer digit up to 1e6),
    ``2.5e-05`` stays scientific, ``None`` / NaN / inf -> ``—``. Integers and bools print as they are;
    anything else falls back to ``str``.
    """
    if value is None:
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if not isinstance(value, (float, np.floating)):
        return str(value)
    x = float(value)
    if not math.isfinite(x):
        return MISSING
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    if magnitude >= 6 or magnitude < -4:
        mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        return f"{mantissa}e{int(exponent)}"
    if magnitude >= digits - 1:  # 1234.5 -> 1234: rounding the integer part away would mislead
        return str(round(x))
    decimals = digits - 1 - magnitude
    text = f"{round(x, decimals):.{decimals}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def signed(value: Any, digits: int = 3) -> str:
    """:func:`sig` with a ``+`` in front of positive numbers (changes, slopes)."""
    text = sig(value, digits)
    return f"+{text}" if text not in (MISSING, "0") and not text.startswith("-") and _is_number(value) else text


def percent(share: float | None) -> str:
    """A share in [0, 1] as a percentage with one decimal, so a column of them lines up (``0.19`` -> ``19.0%``)."""
    return MISSING if share is None or not math.isfinite(share) else f"{100 * share:.1f}%"


def ratio(value: float | None) -> str:
    """An amplitude ratio: ``×15.3``, ``×2.11``."""
    return MISSING if value is None or not math.isfinite(value) else f"×{sig(value, 3)}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
