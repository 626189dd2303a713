"""Numbers as people read them, in their metric's unit: shared by the terminal report and
the studio."""

from __future__ import annotations

import math

from sim.model.durations import format_duration


def significant(value: float, digits: int = 4, keep_zeros: bool = False) -> str:
    """``value`` to ``digits`` significant digits, never in scientific notation, with
    thousands separators: 0.000123 -> '0.000123', 99.8234 -> '99.82', 12345.6 -> '12,346';
    ``keep_zeros`` keeps trailing zeros (0.0040), so neighbouring cells line up."""
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    import numpy as np  # loaded when first needed: queuefull validate does without it

    text = np.format_float_positional(
        value, precision=digits, unique=False, fractional=False, trim="k" if keep_zeros else "-"
    )
    return "0" if text in ("0", "-0") else text


def format_value(value: float, unit: str) -> str:
    """A number as a person reads it, in the metric's unit: fractions as percentages,
    times in us/ms/s, everything else to four significant digits with thousands
    separators; never scientific notation."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "s":
        return format_duration(value)
    if unit == "fraction":
        if value == 0 or abs(value) >= 1e-4:
            return f"{value:.2%}"
        return (
            significant(value * 100, 2, keep_zeros=True) + "%"
        )  # 6.3e-06 -> 0.00063 %: small, not hidden
    return significant(value)


def format_interval(low: float, high: float, unit: str) -> str:
    """``[low, high]`` in the unit, or "-" without an interval."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return "-"
    return f"[{format_value(low, unit)}, {format_value(high, unit)}]"
