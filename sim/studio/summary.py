"""The run's story in a few lines: the headline, the key numbers with their intervals, the
SLO badges, and the instant estimate beside the simulation."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from sim.estimate.compare import side_by_side
from sim.measure.display import format_interval, format_value
from sim.measure.output import END_TO_END
from sim.measure.registry import METRICS, UNITS
from sim.measure.results import Results
from sim.model import SLO, Model
from sim.outcomes import REJECTIONS
from sim.report.summary import estimate_lines
from sim.studies.capacity import Capacity
from sim.studies.check import SLOResult
from sim.studies.verdict import Verdict

KEY_METRICS = ("throughput", "rejection_rate", "latency_p50", "latency_p99")
"""The numbers the Run tab leads with, end to end (queue depth is per service: the graph
and the charts show it)."""


def load_text(model: Model) -> str:
    """The offered load as a person says it: ``90 req/s``, ``200 users``, or both."""
    rate = sum(w.arrivals.mean_rate for w in model.workloads if w.arrivals is not None)
    users = sum(w.users for w in model.workloads if w.users is not None)
    parts = [f"{rate:g} req/s"] if rate > 0 else []
    parts += [f"{users} users"] if users else []
    return " and ".join(parts) or "its workload"


def top_reason(results: Results, service: str = END_TO_END) -> str | None:
    """The rejection reason with the largest share, if anything was refused."""
    shares = {r: results.mean(f"rejected_{r}", service) for r in REJECTIONS}
    shares = {r: v for r, v in shares.items() if math.isfinite(v) and v > 0}
    return max(shares, key=shares.__getitem__).replace("_", " ") if shares else None


def slo_text(verdicts: list[SLOResult]) -> str:
    """``all SLOs pass``, ``1 of 2 SLOs fail``, ``no SLOs``..."""
    if not verdicts:
        return "no SLOs"
    failing = sum(v.verdict == Verdict.FAIL for v in verdicts)
    unsure = sum(v.verdict == Verdict.INCONCLUSIVE for v in verdicts)
    if failing:
        return f"{failing} of {len(verdicts)} SLOs fail"
    if unsure:
        return f"{unsure} of {len(verdicts)} SLOs inconclusive"
    return "all SLOs pass"


def headline(model: Model, results: Results, verdicts: list[SLOResult]) -> str:
    """One sentence: ``checkout-api at 90 req/s: 0.9 % refused (queue full), p99 527ms
    [523ms, 530ms], all SLOs pass``."""
    refused = results.mean("rejection_rate")
    reason = top_reason(results)
    p99 = results.row("latency_p99", END_TO_END)
    parts = [f"{format_value(refused, 'fraction')} refused" + (f" ({reason})" if reason else "")]
    if math.isfinite(p99["mean"]):
        parts.append(
            f"p99 {format_value(p99['mean'], 's')} {format_interval(p99.ci_low, p99.ci_high, 's')}"
        )
    parts.append(slo_text(verdicts))
    return f"{model.name} at {load_text(model)}: " + ", ".join(parts)


@dataclass(frozen=True)
class Card:
    """One headline number: label, value, interval, and the metric's meaning."""

    label: str
    value: str
    interval: str
    help: str


def cards(results: Results) -> list[Card]:
    """The key numbers end to end, each with its 95 % interval."""
    out = []
    for metric in KEY_METRICS:
        try:
            row = results.row(metric, END_TO_END)
        except KeyError:
            continue
        unit = METRICS[metric].unit
        out.append(
            Card(
                metric,
                format_value(row["mean"], unit),
                "95 % CI " + format_interval(row.ci_low, row.ci_high, unit),
                METRICS[metric].description,
            )
        )
    return out


def estimate_table(model: Model, results: Results) -> tuple[pd.DataFrame | None, str]:
    """The instant estimate of every service beside the simulation, and a note: how far the
    estimate goes, and where the simulation disagrees with it, with the likely cause (the
    system is then not behaving like a network of simple queues)."""
    estimate = results.estimate
    if estimate is None:
        return (
            None,
            "No instant estimate for this model (open and closed workloads together, or a trace).",
        )
    comparisons = side_by_side(estimate, results)
    rows = []
    for c in comparisons:
        unit = METRICS[c.metric].unit
        rows.append(
            {
                "service": c.service,
                "metric": c.metric,
                "estimate": format_value(c.estimate, unit),
                "simulation": format_value(c.simulated, unit),
                "95 % CI": format_interval(c.low, c.high, unit),
                "status": c.status,
                "disagree": c.disagrees,
                "likely cause": c.cause,
            }
        )
    return pd.DataFrame(rows), "\n".join(estimate_lines(estimate, comparisons))


def slo_phrase(slos: list[SLO]) -> str:
    """``latency_p99 <= 200ms and rejection_rate <= 1.00%`` (end-to-end ones unprefixed)."""
    parts = []
    for slo in slos:
        unit = UNITS.get(slo.metric, "")
        name = slo.metric if slo.service == END_TO_END else f"{slo.service}.{slo.metric}"
        if slo.max is not None:
            parts.append(f"{name} <= {format_value(slo.max, unit)}")
        if slo.min is not None:
            parts.append(f"{name} >= {format_value(slo.min, unit)}")
    return " and ".join(parts)


def capacity_sentence(found: Capacity, slos: list[SLO], model: Model) -> str:
    """``You need 14 services.api.workers for latency_p99 <= 200ms at 5000 req/s (13 did
    not meet it)``, or why the search found no edge."""
    if found.value is None:
        return f"No answer: {found.message}."
    value = f"{found.value:g}"
    unsure = f" ({found.failing:g} was not shown to meet it)" if found.failing is not None else ""
    if found.goal == "min":
        return (
            f"You need {found.path} = {value} for {slo_phrase(slos)} at {load_text(model)}{unsure}."
        )
    return f"Up to {found.path} = {value} meets {slo_phrase(slos)}{unsure}."
