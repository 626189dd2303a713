"""A run's report as data: the answer first (headline and SLO verdicts), then one table per
service with its call edges beneath it, and what was left out. The terminal and the HTML
page render the same :class:`Report`, so they never disagree."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sim.measure.display import format_value
from sim.measure.output import END_TO_END, scenario_name
from sim.measure.registry import METRICS
from sim.measure.results import Results
from sim.model import Model
from sim.model.service import Service
from sim.outcomes import REJECTIONS
from sim.studies.check import SLOResult, judge

if TYPE_CHECKING:
    from sim.estimate.compare import Comparison
    from sim.estimate.result import GraphEstimate

NEUTRAL_RATIOS = frozenset({"attempts_per_request", "retry_amplification", "imbalance"})
"""Ratios that are exactly 1 when nothing happens (no retries, perfect balance)."""

FIXED_BY_CONFIGURATION = frozenset({"replicas_mean", "replica_seconds"})
"""Metrics that only repeat the model without an autoscaler."""

WHY_HIDDEN = {
    "zero": "zero throughout",
    "repeat": "repeating another row or the model",
    "detail": "secondary (p90, in-system)",
    "count": "raw counts",
}
"""Why a row was left out, as the one line under the report says it."""


@dataclass(frozen=True)
class Row:
    """One metric of one service or edge: the simulation's mean and 95 % interval, its
    unit, and the instant estimate beside it where there is one (NaN where not)."""

    metric: str
    mean: float
    ci_low: float
    ci_high: float
    unit: str
    estimate: float = math.nan
    disagrees: bool = False


@dataclass
class Section:
    """One service's table (or the end-to-end one, or a call edge's under its caller)."""

    name: str
    title: str
    rows: list[Row]
    edges: list[Section] = field(default_factory=list)


@dataclass(frozen=True)
class Headline:
    """One line of the answer: a label, whose number it is, the row, and words after it."""

    label: str
    row: Row
    subject: str = ""
    note: str = ""


@dataclass
class Report:
    """Everything the report says, before it is rendered as text or HTML."""

    model: Model
    replications: int
    seed: int
    warmup: str
    headline: list[Headline]
    verdicts: list[SLOResult]
    sections: list[Section]
    hidden: Counter[str]
    warnings: list[str]
    engine: str = "simpy"
    estimate_notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        """``name: 8 replications x 600s (warm-up 60s), seed 7``, and ``, exact fast path``
        when the fast path ran it."""
        fast = ", exact fast path" if self.engine == "fast" else ""
        return (
            f"{self.model.name}: {self.replications} replications x {self.model.horizon:g}s "
            f"({self.warmup}), seed {self.seed}{fast}"
        )

    @property
    def hidden_text(self) -> str:
        """``(28 rows hidden: 14 zero throughout, 9 raw counts; --all shows them)``, or ""."""
        if not self.hidden:
            return ""
        parts = [
            f"{self.hidden[key]} {WHY_HIDDEN[key]}" for key in WHY_HIDDEN if key in self.hidden
        ]
        total = sum(self.hidden.values())
        return f"({total} rows hidden: {', '.join(parts)}; --all shows them)"


def build_report(results: Results, show_all: bool = False) -> Report:
    """The report of ``results``; with ``show_all`` nothing is hidden."""
    model = results.model
    rows = _rows_by_name(results)
    notes = _with_estimate(results, rows)
    hidden: Counter[str] = Counter()
    sections = []
    services = list(model.services)
    for name in [END_TO_END, *map(scenario_name, model.scenarios), *services]:
        if name not in rows:
            continue
        section = Section(name, _title(name, model), [])
        section.rows = _visible(rows, name, model, show_all, hidden)
        for edge in (e for e in rows if e.startswith(f"{name}->")):
            callee = edge.split("->", 1)[1]
            shown = _visible(rows, edge, model, show_all, hidden)
            if shown:
                section.edges.append(Section(edge, f"{name} -> {callee}", shown))
        if section.rows or section.edges:
            sections.append(section)
    warmup = (
        f"warm-up {results.warmup_cut:g}s, chosen by MSER-5"
        if results.warmup_cut is not None
        else f"warm-up {model.warmup:g}s"
    )
    return Report(
        model,
        results.replications,
        results.seed,
        warmup,
        _headline(rows, services),
        judge(results, model.slo),
        sections,
        hidden,
        list(results.warnings),
        results.engine,
        notes,
    )


def _with_estimate(results: Results, rows: dict[str, dict[str, Row]]) -> list[str]:
    """Put the instant estimate beside the rows it covers; return what to say about it:
    how far it goes, and each disagreement with its likely cause."""
    estimate = results.estimate
    if estimate is None:
        return []
    from sim.estimate.compare import side_by_side

    comparisons = side_by_side(estimate, results)
    for c in comparisons:
        row = rows.get(c.service, {}).get(c.metric)
        if row is not None:
            rows[c.service][c.metric] = replace(row, estimate=c.estimate, disagrees=c.disagrees)
    return estimate_lines(estimate, comparisons)


def estimate_lines(estimate: GraphEstimate, comparisons: list[Comparison]) -> list[str]:
    """``instant estimate (QNA ...): exact at api; ...``, then one line per disagreement."""
    by_status: dict[str, list[str]] = {}
    for name, figures in estimate.services.items():
        if name != END_TO_END:
            why = f" ({'; '.join(figures.reasons)})" if figures.reasons else ""
            by_status.setdefault(figures.status, []).append(f"{name}{why}")
    parts = [f"{status} at {', '.join(names)}" for status, names in by_status.items()]
    lines = [f"Instant estimate ({estimate.method}): " + "; ".join(parts)]
    disagreeing = [c for c in comparisons if c.disagrees]
    for where in dict.fromkeys(c.service for c in disagreeing):
        mine = [c for c in disagreeing if c.service == where]
        numbers = ", ".join(
            f"{c.metric} {format_value(c.estimate, METRICS[c.metric].unit)} "
            f"(simulated {format_value(c.simulated, METRICS[c.metric].unit)})"
            for c in mine
        )
        lines.append(f"  {where} disagrees on {numbers}: {mine[0].cause}")
    if comparisons and not disagreeing:
        lines.append("  the simulation agrees with it: no figure differs beyond its interval")
    return lines


def _rows_by_name(results: Results) -> dict[str, dict[str, Row]]:
    """Summary rows by service (or edge) and metric, in registry order."""
    out: dict[str, dict[str, Row]] = {}
    for rec in results.summary.itertuples():
        out.setdefault(rec.service, {})[rec.metric] = Row(
            rec.metric, float(rec.mean), float(rec.ci_low), float(rec.ci_high), rec.unit
        )
    return out


def _title(name: str, model: Model) -> str:
    """``api: 1 replica x 30 workers, queue 200`` (what its utilisation and queue are of)."""
    if name == END_TO_END:
        return "end to end (all)"
    if name not in model.services:  # a scenario's own requests
        scenario = name.split(":", 1)[1]
        target = model.target_of(model.scenarios[scenario])
        return f"scenario {scenario}: its requests end to end, into {target}"
    return f"{name}: {describe(model.services[name])}"


def describe(service: Service) -> str:
    """``1 replica x 30 workers, queue 200`` or ``autoscaled up to 10 replicas x 8 workers``."""
    if service.autoscaling is not None:
        replicas = f"autoscaled up to {service.most_replicas} replicas"
    else:
        count = service.replicas or 1
        replicas = f"{count} replica{'s' if count != 1 else ''}"
    workers = service.most_workers
    text = f"{replicas} x {workers} worker{'s' if workers != 1 else ''}"
    if service.cpus:
        text += f" on {service.cpus} cpus"
    return f"{text}, queue {service.queue}"


def _same(a: Row, b: Row) -> bool:
    return all(
        x == y or (math.isnan(x) and math.isnan(y))
        for x, y in ((a.mean, b.mean), (a.ci_low, b.ci_low), (a.ci_high, b.ci_high))
    )


def _constant(row: Row, value: float) -> bool:
    """The row is ``value`` in every replication."""
    return row.mean == value and all(math.isnan(x) or x == value for x in (row.ci_low, row.ci_high))


def _why_hidden(
    row: Row, name: str, shown: list[Row], rows: dict[str, dict[str, Row]], model: Model
) -> str | None:
    """The reason to leave ``row`` out of the default report, or None to show it."""
    metric = METRICS[row.metric]
    if metric.count:
        return "count"
    if metric.better != "higher" and _constant(row, 0.0):
        return "zero"
    if row.metric in NEUTRAL_RATIOS and _constant(row, 1.0):
        return "repeat"
    service = model.services.get(name)
    if row.metric in FIXED_BY_CONFIGURATION and service and service.autoscaling is None:
        return "repeat"
    if any(_same(row, other) and other.unit == row.unit for other in shown):
        return "repeat"  # goodput = throughput, rejection_rate = its only reason
    if name == END_TO_END:
        entry = rows.get(model.entry, {}).get(row.metric)
        if entry is not None and _same(row, entry):
            return "repeat"  # one entry service: end to end is that service
    if metric.detail:
        return "detail"
    return None


def _visible(
    rows: dict[str, dict[str, Row]], name: str, model: Model, show_all: bool, hidden: Counter[str]
) -> list[Row]:
    """The rows of ``name`` the report shows, counting the others in ``hidden``."""
    shown: list[Row] = []
    for row in rows.get(name, {}).values():
        why = None if show_all else _why_hidden(row, name, shown, rows, model)
        if why is None:
            shown.append(row)
        else:
            hidden[why] += 1
    return shown


def _headline(rows: dict[str, dict[str, Row]], services: list[str]) -> list[Headline]:
    """End-to-end success, refusals by reason, timeouts and errors, p99, the busiest service."""
    end = rows.get(END_TO_END, {})
    lines = []
    if "success_rate" in end:
        lines.append(Headline("success", end["success_rate"]))
    if "rejection_rate" in end:
        reasons = [
            f"{reason} {format_value(end[f'rejected_{reason}'].mean, 'fraction')}"
            for reason in REJECTIONS
            if f"rejected_{reason}" in end and end[f"rejected_{reason}"].mean > 0
        ]
        lines.append(Headline("refused", end["rejection_rate"], note=", ".join(reasons)))
    for metric, label in (("timeout_rate", "timed out"), ("error_rate", "failed")):
        if metric in end and not _constant(end[metric], 0.0):
            lines.append(Headline(label, end[metric]))
    if "latency_p99" in end:
        lines.append(Headline("p99 latency", end["latency_p99"]))
    busiest = _busiest(rows, services)
    if busiest is not None:
        name, row = busiest
        what = "cores" if row.metric == "cpu_utilization" else "workers"
        lines.append(Headline("busiest", row, name, f"of {what} busy"))
    return lines


def _busiest(rows: dict[str, dict[str, Row]], services: list[str]) -> tuple[str, Row] | None:
    """The service whose workers (or cores) are busiest, with that row."""
    candidates = [
        (name, rows[name][metric])
        for name in services
        for metric in ("utilization", "cpu_utilization")
        if metric in rows.get(name, {}) and math.isfinite(rows[name][metric].mean)
    ]
    return max(candidates, key=lambda item: item[1].mean, default=None)
