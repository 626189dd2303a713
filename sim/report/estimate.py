"""The instant estimate as text (``queuefull estimate``): light to import, so the command
answers without loading pandas, scipy or the engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.measure.display import format_value
from sim.measure.registry import UNITS

if TYPE_CHECKING:
    from sim.estimate.result import GraphEstimate


ESTIMATE_COLUMNS = (
    ("utilization", "busy"),
    ("queue_depth_mean", "queue"),
    ("queue_wait_mean", "wait"),
    ("latency_mean", "latency"),
    ("latency_p99", "p99"),
    ("rejection_rate", "refused"),
    ("success_rate", "success"),
)
"""The figures ``queuefull estimate`` prints per service, and their column titles."""


def render_estimate(estimate: GraphEstimate, title: str) -> str:
    """The instant estimate as text: one row per service and end to end, its status, then
    why each is an approximation or out of range."""
    header = ["", *(label for _, label in ESTIMATE_COLUMNS), "status"]
    table = [header]
    for name, figures in estimate.services.items():
        cells = [name]
        for metric, _ in ESTIMATE_COLUMNS:
            value = figures.metrics.get(metric)
            cells.append("" if value is None else format_value(value, UNITS.get(metric, "")))
        table.append([*cells, figures.status])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = [title, ""]
    for row in table:
        first = f"{row[0]:<{widths[0]}}"
        rest = [f"{cell:>{width}}" for cell, width in zip(row[1:-1], widths[1:-1], strict=True)]
        lines.append("  ".join([first, *rest, row[-1]]).rstrip())
    reasons = [(n, f) for n, f in estimate.services.items() if f.reasons]
    if reasons:
        lines.append("")
        lines.extend(
            f"{name}: {figures.status}: {'; '.join(figures.reasons)}" for name, figures in reasons
        )
    if not estimate.converged:
        lines.append(f"warning: the load did not settle in {estimate.iterations} rounds")
    return "\n".join(lines)
