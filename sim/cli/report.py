"""What the terminal shows: summary tables and SLO verdicts, in units people read."""

from __future__ import annotations

import math

import pandas as pd

from sim.measure.registry import METRICS
from sim.measure.results import Results
from sim.model.durations import format_duration


def format_value(value: float, unit: str) -> str:
    """A number as a person reads it, in the metric's unit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "s":
        return format_duration(value)
    if unit == "fraction":
        return f"{value:.2%}" if value >= 1e-4 or value == 0 else f"{value:.2e}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.4g}"


def _is_quiet(rec: object) -> bool:
    """Bookkeeping counts, and failure shares that were zero throughout (see the registry)."""
    metric = METRICS[rec.metric]
    if metric.count:
        return True
    zero = rec.mean == 0 and (rec.ci_high == 0 or math.isnan(rec.ci_high))
    return zero and metric.hidden_when_zero


def summary_table(results: Results, show_all: bool = False) -> str:
    """The summary as an aligned text table: service, metric, mean, 95 % CI, unit.

    Raw counts and failure fractions that are zero throughout are left out unless
    ``show_all``.
    """
    rows = [("service", "metric", "mean", "95% CI", "unit")]
    hidden = 0
    for rec in results.summary.itertuples():
        if not show_all and _is_quiet(rec):
            hidden += 1
            continue
        low, high = format_value(rec.ci_low, rec.unit), format_value(rec.ci_high, rec.unit)
        interval = "-" if low == "-" else f"[{low}, {high}]"
        rows.append((rec.service, rec.metric, format_value(rec.mean, rec.unit), interval, rec.unit))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            row[i].ljust(widths[i]) if i in (0, 1, 4) else row[i].rjust(widths[i]) for i in range(5)
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    if hidden:
        lines.append(
            f"({hidden} rows not shown: raw counts, and failure fractions that were "
            "zero throughout; --all shows them)"
        )
    return "\n".join(lines)


def print_verdicts(table: pd.DataFrame) -> None:
    """The verdicts of ``queuefull check`` as a table on the terminal."""
    marks = {"pass": "PASS", "fail": "FAIL", "inconclusive": "????"}
    width = max([len(c) for c in table.check] + [5])
    current = None
    for rec in table.itertuples():
        if rec.model != current:
            current = rec.model
            print(current)
        numbers = "" if math.isnan(rec.mean) else f"  {rec.mean:.4g}"
        if not math.isnan(rec.ci_low):
            numbers += f"  [{rec.ci_low:.4g}, {rec.ci_high:.4g}]"
        note = f"  {rec.note}" if rec.note else ""
        print(f"  {marks[rec.verdict]}  {rec.check.ljust(width)}{numbers}{note}")
