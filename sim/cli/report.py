"""What the terminal shows: summary tables and SLO verdicts, in units people read."""

from __future__ import annotations

import math

import pandas as pd

from sim.measure.display import format_value, is_quiet
from sim.measure.results import Results


def summary_table(results: Results, show_all: bool = False) -> str:
    """The summary as an aligned text table: service, metric, mean, 95 % CI, unit.

    Raw counts and failure fractions that are zero throughout are left out unless
    ``show_all``.
    """
    rows = [("service", "metric", "mean", "95% CI", "unit")]
    hidden = 0
    for rec in results.summary.itertuples():
        if not show_all and is_quiet(rec):
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
