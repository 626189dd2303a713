"""The estimate beside a simulation: which figures disagree beyond the simulation's
interval, and the likely cause of each (the system is then not behaving like a network of
simple queues, and that is itself the finding)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.estimate.result import APPROXIMATE, EXACT, OUT_OF_RANGE, GraphEstimate

if TYPE_CHECKING:
    import pandas as pd

    from sim.measure.results import Results
    from sim.model import Model

COMPARED = (
    "utilization",
    "latency_mean",
    "latency_p99",
    "queue_wait_mean",
    "queue_depth_mean",
    "rejection_rate",
    "throughput",
    "success_rate",
)
"""The figures put side by side, per service and end to end."""

GAP = 0.10
"""Relative gap beyond which an estimate outside the simulation's interval disagrees."""

FLOORS = {"utilization": 0.01, "rejection_rate": 0.005, "success_rate": 0.005}
FLOORS |= {"queue_depth_mean": 0.1, "latency_mean": 0.001, "latency_p99": 0.001}
FLOORS |= {"queue_wait_mean": 0.001}
"""Differences smaller than these are too small to matter, however relative."""


@dataclass(frozen=True)
class Comparison:
    """One figure of one service: the estimate, the simulation's mean and interval."""

    service: str
    metric: str
    estimate: float
    simulated: float
    low: float
    high: float
    status: str
    cause: str = ""

    @property
    def disagrees(self) -> bool:
        """Outside the interval by more than GAP, and by more than the figure's floor."""
        if not (math.isfinite(self.estimate) and math.isfinite(self.simulated)):
            return False
        inside = self.low <= self.estimate <= self.high
        gap = abs(self.estimate - self.simulated)
        scale = max(abs(self.estimate), abs(self.simulated))
        return not inside and gap > GAP * scale and gap > FLOORS.get(self.metric, 0.0)


def side_by_side(estimate: GraphEstimate, results: Results) -> list[Comparison]:
    """Every compared figure the estimate and the simulation both have."""
    rows = []
    for service, figures in estimate.services.items():
        for metric in COMPARED:
            if metric not in figures.metrics:
                continue
            try:
                row = results.row(metric, service)
            except KeyError:
                continue
            comparison = Comparison(
                service,
                metric,
                float(figures.metrics[metric]),
                float(row["mean"]),
                float(row.ci_low),
                float(row.ci_high),
                figures.status,
            )
            if comparison.disagrees:
                comparison = Comparison(
                    **{**comparison.__dict__, "cause": likely_cause(estimate, comparison)}
                )
            rows.append(comparison)
    return rows


def disagreements(estimate: GraphEstimate, results: Results) -> list[Comparison]:
    """The figures where estimate and simulation disagree, each with its likely cause."""
    return [c for c in side_by_side(estimate, results) if c.disagrees]


def likely_cause(estimate: GraphEstimate, comparison: Comparison) -> str:
    """Why a figure disagrees, from what the estimate knows of its service (and of the
    services it calls)."""
    figures = estimate.services[comparison.service]
    reasons = "; ".join(figures.reasons)
    if figures.status == OUT_OF_RANGE:
        return f"outside the estimate's range: {reasons}"
    beyond = [
        name
        for name in estimate.downstream.get(comparison.service, [])
        if estimate.services[name].status == OUT_OF_RANGE
    ]
    if beyond:
        return f"it waits on {', '.join(beyond)}, outside the estimate's range"
    utilization = figures.metrics.get("utilization", 0.0)
    if utilization > 0.85:
        return "close to saturation, where a small error in load moves queues a lot"
    if comparison.metric == "latency_p99" and figures.status == APPROXIMATE:
        return "the p99 of an approximate station (two-moment waits)"
    if figures.status == EXACT:
        return (
            "the estimate is exact here: the simulation is not in steady state (a longer "
            "horizon, a warm-up or more replications)"
        )
    if reasons:
        return f"the estimate approximates {reasons}"
    return "the flows are not those of independent simple queues"


def estimate_column(model: Model, summary: pd.DataFrame) -> list[float]:
    """For each row of a results summary (``service``, ``metric``), the instant estimate of
    ``model``'s same figure: NaN where there is none (a sweep's ``estimate`` column)."""
    from sim.estimate.graph import estimate_graph
    from sim.estimate.result import NoEstimate

    try:
        figures = estimate_graph(model).metrics()
    except NoEstimate:
        return [math.nan] * len(summary)
    return [
        figures.get(service, {}).get(metric, math.nan) if metric in COMPARED else math.nan
        for service, metric in zip(summary.service, summary.metric, strict=True)
    ]


def comparison_records(estimate: GraphEstimate, results: Results) -> list[dict[str, object]]:
    """The side-by-side rows as plain data (the results JSON's ``estimate_vs_simulation``)."""
    return [
        {
            "service": c.service,
            "metric": c.metric,
            "estimate": _finite(c.estimate),
            "simulation": _finite(c.simulated),
            "disagrees": c.disagrees,
            **({"cause": c.cause} if c.cause else {}),
        }
        for c in side_by_side(estimate, results)
    ]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
