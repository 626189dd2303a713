"""Durations and rates as people write them: 0.25, "250ms", "2s", "5m", "1h"."""

from __future__ import annotations

import math
import re

_UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_PATTERN = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(us|µs|ms|s|min|m|h)?\s*$")


def parse_duration(value: object) -> float:
    """Return ``value`` in seconds; numbers are seconds already, strings may carry a unit.

    Raises ValueError with the accepted forms when the value is not a duration.
    """
    if isinstance(value, bool):
        raise ValueError("must be a duration: seconds, or a string such as '250ms', '2s', '5m'")
    if isinstance(value, int | float):
        if math.isnan(value):
            raise ValueError("must be a number, not NaN")
        return float(value)
    if isinstance(value, str):
        match = _PATTERN.match(value)
        if match:
            number, unit = match.groups()
            return float(number) * _UNITS[unit or "s"]
    raise ValueError(
        f"{value!r} is not a duration: use seconds, or a string such as '250ms', '2s', '5m', '1h'"
    )


def format_duration(seconds: float) -> str:
    """Render seconds compactly for tables: 0.0123 -> '12.3ms', 95 -> '95s'."""
    if seconds != seconds:  # NaN
        return "nan"
    magnitude = abs(seconds)
    if magnitude == 0:
        return "0s"
    if magnitude < 1e-3:
        return f"{seconds * 1e6:.3g}us"
    if magnitude < 1:
        return f"{seconds * 1e3:.3g}ms"
    return f"{seconds:.4g}s"
