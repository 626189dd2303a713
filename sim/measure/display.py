"""Numbers as people read them, in their metric's unit: shared by the terminal report and
the studio."""

from __future__ import annotations

import math
from typing import Any

from sim.measure.registry import METRICS
from sim.model.durations import format_duration


def format_value(value: float, unit: str) -> str:
    """A number as a person reads it, in the metric's unit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "s":
        return format_duration(value)
    if unit == "fraction":
        return f"{value:.2%}" if abs(value) >= 1e-4 or value == 0 else f"{value:.2e}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.4g}"


def is_quiet(rec: Any) -> bool:
    """Bookkeeping counts, and failure shares that were zero throughout (see the registry)."""
    metric = METRICS[rec.metric]
    if metric.count:
        return True
    zero = rec.mean == 0 and (rec.ci_high == 0 or math.isnan(rec.ci_high))
    return zero and metric.hidden_when_zero


def format_interval(low: float, high: float, unit: str) -> str:
    """``[low, high]`` in the unit, or "-" without an interval."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return "-"
    return f"[{format_value(low, unit)}, {format_value(high, unit)}]"
