"""Durations and rates as people write them: 0.25, "250ms", "2s", "5m", "1h", "1m30s".

Compound durations are read the way Go, Envoy, Prometheus and Kubernetes write them: a
sequence of number-unit pairs ("1h30m", "1m30s", "2s500ms"), summed.
"""

from __future__ import annotations

import math
import re

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}
_NUMBER = r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"
_UNIT = r"ns|us|µs|ms|min|s|m|h|d|w"
_PLAIN = re.compile(rf"^\s*({_NUMBER})\s*({_UNIT})?\s*$")
_PART = re.compile(rf"({_NUMBER})({_UNIT})")
_COMPOUND = re.compile(rf"^\s*(?:{_NUMBER}(?:{_UNIT}))+\s*$")
_FORMS = "use seconds, or a string such as '250ms', '2s', '5m', '1h', '1m30s'"


def excerpt(value: object, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters, so an error never echoes a huge input."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_duration(value: object) -> float:
    """Return ``value`` in seconds; numbers are seconds already, strings may carry units.

    Raises ValueError with the accepted forms when the value is not a finite duration.
    """
    if isinstance(value, bool):
        raise ValueError(f"must be a duration: {_FORMS}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and len(value) <= 100 and (match := _PLAIN.match(value)):
        number, unit = match.groups()
        seconds = float(number) * _UNITS[unit or "s"]
    elif isinstance(value, str) and len(value) <= 100 and _COMPOUND.match(value):
        seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(value.strip()))
    else:
        raise ValueError(f"{excerpt(value)} is not a duration: {_FORMS}")
    if not math.isfinite(seconds):
        raise ValueError(f"{excerpt(value)} is not a finite duration")
    return seconds


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
