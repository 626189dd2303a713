"""The service graph as Graphviz DOT: services with workers, queue and replicas; calls with
their mode, timeout, retries and breaker; after a run, services coloured by utilisation and
calls by failure rate, so the bottleneck shows at a glance."""

from __future__ import annotations

import math

from sim.measure.output import END_TO_END, edge_name, scenario_name
from sim.measure.results import Results
from sim.model import Call, Model, Service, Workload
from sim.model.graph import call_lists

CLIENTS = "clients"

GREEN, AMBER, RED, GREY = "#c7e9c0", "#fdd49e", "#fc9272", "#f0f0f0"
BUSY, SATURATED = 0.7, 0.9  # utilisation bands: under 70 % green, under 90 % amber, else red
FAILING, BROKEN = 0.001, 0.05  # failure-rate bands of a call edge


def _quote(*lines: str) -> str:
    """A DOT string of these lines (escaped, joined by DOT's line break)."""
    escaped = [line.replace("\\", "\\\\").replace('"', '\\"') for line in lines]
    return '"' + "\\n".join(escaped) + '"'


def utilisation_colour(value: float) -> str:
    """Fill for a service this busy (grey when unknown)."""
    if not math.isfinite(value):
        return GREY
    return GREEN if value < BUSY else AMBER if value < SATURATED else RED


def failure_colour(value: float) -> str:
    """Pen colour for a call edge failing this often."""
    if not math.isfinite(value) or value < FAILING:
        return "#555555"
    return "#e6550d" if value < BROKEN else "#de2d26"


def _service_label(name: str, service: Service, results: Results | None) -> list[str]:
    replicas = (
        f"{service.autoscaling.kind} from {service.initial_replicas}"
        if service.autoscaling
        else f"x{service.initial_replicas}"
    )
    lines = [name, f"{service.most_workers} workers, queue {service.queue}, {replicas}"]
    if results is not None:
        busy = results.mean("utilization", name)
        refused = results.mean("rejection_rate", name)
        lines.append(f"{busy:.0%} busy, {refused:.1%} refused")
    return lines


def _call_label(call: Call) -> list[str]:
    parts: list[str] = [call.mode]
    if call.timeout is not None:
        parts.append(f"timeout {call.timeout:g}s")
    if call.retries is not None:
        parts.append(f"{call.retries.max_attempts} attempts")
    if call.circuit_breaker is not None:
        parts.append("breaker")
    if call.probability < 1 or call.count > 1:
        parts.append(f"{call.probability:g} x {call.count}")
    return [", ".join(parts)]


def _sources(model: Model) -> list[tuple[str, str, Workload, str]]:
    """Per workload: its node, its label, itself, and the results it is reported under."""
    if model.workload is not None:
        return [(CLIENTS, _load_label(model.workload), model.workload, END_TO_END)]
    return [
        (_quote(f"{CLIENTS} {name}"), f"{name}: {_load_label(w)}", w, scenario_name(name))
        for name, w in model.scenarios.items()
    ]


def _load_label(workload: Workload) -> str:
    if workload.users is not None:
        return f"{workload.users} users"
    if workload.arrivals is not None:
        return f"{workload.arrivals.process} {workload.arrivals.mean_rate:g} req/s"
    return "clients"


def graph_dot(model: Model, results: Results | None = None) -> str:
    """DOT text of the model's graph, coloured by ``results`` when given."""
    lines = [
        "digraph services {",
        '  rankdir=LR; node [shape=box, style="rounded,filled", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    sources = _sources(model)
    for node, text, _, _ in sources:
        lines.append(f'  {node} [label={_quote(text)}, shape=oval, fillcolor="#ffffff"];')
    for name, service in model.services.items():
        fill = utilisation_colour(results.mean("utilization", name)) if results else "#ffffff"
        label = _service_label(name, service, results)
        lines.append(f"  {_quote(name)} [label={_quote(*label)}, fillcolor={_quote(fill)}];")
    for node, _, workload, result in sources:
        entry_label = ""
        if results is not None:
            entry_label = f"{results.mean('rejection_rate', result):.1%} refused"
        target = _quote(model.target_of(workload))
        lines.append(f"  {node} -> {target} [label={_quote(entry_label)}];")
    for name, service in model.services.items():
        for _, calls in call_lists(name, service):
            for call in calls:
                colour = "#555555"
                label = _call_label(call)
                if results is not None:
                    failing = results.mean("call_failure_rate", edge_name(name, call.to))
                    colour = failure_colour(failing)
                    if math.isfinite(failing):
                        label.append(f"{failing:.1%} failed")
                style = "dashed" if call.mode != "sync" else "solid"
                lines.append(
                    f"  {_quote(name)} -> {_quote(call.to)} [label={_quote(*label)}, "
                    f"color={_quote(colour)}, fontcolor={_quote(colour)}, style={style}];"
                )
    lines.append("}")
    return "\n".join(lines)
