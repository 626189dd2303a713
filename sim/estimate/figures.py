"""The figures of a solved graph: per service (utilisation, queue, wait, latency mean and
p99, refusals, success) with its status and reasons, and the requests end to end."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.estimate import paths
from sim.estimate.graph import OK_CODE, Graph
from sim.estimate.paths import Answers, Outcomes
from sim.estimate.result import APPROXIMATE, EXACT, OUT_OF_RANGE, GraphEstimate, ServiceEstimate
from sim.estimate.scope import service_limits, workload_limits
from sim.estimate.station import Station
from sim.model import Model
from sim.model.workload import Workload


def report(graph: Graph, iterations: int, converged: bool) -> GraphEstimate:
    """Figures and statuses of every service and end to end."""
    model = graph.model
    out_all, approx_all = workload_limits(model)
    services: dict[str, ServiceEstimate] = {}
    for name, spec in model.services.items():
        station, answers = graph.stations[name], graph.answers[name]
        out, approx = service_limits(spec, graph.classes)
        if name in graph.overloaded:
            out.append(f"overloaded: {graph.overloaded[name]}")
        if not converged:
            out.append("the load did not settle (strong feedback through retries)")
        exact = graph.exact(name) and not approx and not out
        if not exact and not out:
            approx.append(graph.why_approximate(name))
        status = OUT_OF_RANGE if out else EXACT if exact else APPROXIMATE
        services[name] = ServiceEstimate(
            _service_metrics(graph, name, station, answers),
            status,
            out or approx,
            station.method,
        )
    services["all"] = _end_to_end(graph, services, out_all, approx_all)
    return GraphEstimate(services, iterations, converged, graph.method, _waits_on(model))


def _waits_on(model: Model) -> dict[str, list[str]]:
    """Per service (and ``all``), the services whose answers it waits for, directly or not:
    callees of its sync and async calls."""
    direct = {
        name: {
            call.to
            for cls in model.class_names
            for call in spec.calls_for(cls)
            if call.mode != "enqueue"
        }
        for name, spec in model.services.items()
    }
    direct["all"] = {model.target_of(w) for w in model.workloads}
    reach: dict[str, list[str]] = {}
    for name in direct:
        seen: list[str] = []
        todo = list(direct[name])
        while todo:
            callee = todo.pop()
            if callee not in seen:
                seen.append(callee)
                todo.extend(direct[callee])
        reach[name] = sorted(seen)
    return reach


def _service_metrics(
    graph: Graph, name: str, station: Station, answers: Answers
) -> dict[str, float]:
    spec = graph.model.services[name]
    total = float(graph.rates[name].sum())
    admitted = total * (1 - station.blocking)
    ok = answers.root == OK_CODE
    latency = answers.latency[ok]
    replicas = spec.initial_replicas
    figures = {
        "arrival_rate": total,
        "throughput": admitted * graph.ok_share[name],
        "success_rate": (1 - station.blocking) * graph.ok_share[name],
        "rejection_rate": station.blocking + (1 - station.blocking) * graph.own_refusals[name],
        "rejected_queue_full": station.blocking,
        "timeout_rate": (1 - station.blocking) * graph.own_timeouts[name],
        "utilization": station.utilization,
        "queue_wait_mean": station.wait_mean,
        "queue_depth_mean": station.queue_mean * replicas,
        "in_system_mean": admitted * _mean_time(graph, name, answers),
        "latency_mean": graph.mean_latency[name] if latency.size else math.nan,
        "latency_p99": float(np.percentile(latency, 99)) if latency.size else math.nan,
    }
    return _readable(figures)


def _readable(figures: dict[str, float]) -> dict[str, float]:
    """Plain floats, with tails below any reading (an Erlang tail of 1e-140) as zero."""
    return {k: 0.0 if abs(v) < 1e-9 else float(v) for k, v in figures.items()}


def _mean_time(graph: Graph, name: str, answers: Answers) -> float:
    """Mean time an admitted request spends at ``name``, failed or not (Little's law's)."""
    if graph.ok_share[name] == 1.0:
        return graph.mean_latency[name]
    return float(answers.latency.mean())


def _end_to_end(
    graph: Graph,
    services: dict[str, ServiceEstimate],
    out: list[str],
    approx: list[str],
) -> ServiceEstimate:
    """The client requests: each workload's, weighted by its rate."""
    model = graph.model
    parts = [
        (graph.offered(w), _client_view(graph, w, outcomes))
        for w, outcomes in zip(model.workloads, graph.clients, strict=True)
    ]
    parts = [(rate, view) for rate, view in parts if rate > 0]
    total = sum(rate for rate, _ in parts)
    share = [sum(r * v.shares[code] for r, v in parts) / total for code in range(4)]
    served = [(r * v.shares[paths.OK], v) for r, v in parts if v.shares[paths.OK] > 0]
    latency, weights = np.empty(0), np.empty(0)
    if served:
        latency = np.concatenate([v.latency for _, v in served])
        weights = np.concatenate([np.full(v.latency.size, w / v.latency.size) for w, v in served])
    mean = math.nan
    if served:
        mean = sum(w * v.mean for w, v in served) / sum(w for w, _ in served)
    metrics = {
        "throughput": total * share[paths.OK],
        "success_rate": share[paths.OK],
        "rejection_rate": share[paths.REJECTED],
        "timeout_rate": share[paths.TIMEOUT],
        "latency_mean": mean,
        "latency_p99": _weighted_percentile(latency, weights, 99) if latency.size else math.nan,
    }
    statuses = [s.status for s in services.values()]
    order = (EXACT, APPROXIMATE, OUT_OF_RANGE)
    status = OUT_OF_RANGE if out else max(statuses, key=order.index)
    if approx and status == EXACT:
        status = APPROXIMATE
    reasons = list(out) or list(approx)
    if status != EXACT and not reasons:
        worst = [n for n, s in services.items() if s.status == status]
        reasons = [f"through {', '.join(worst)}"]
    method = "response times composed along the calls"
    return ServiceEstimate(_readable(metrics), status, reasons, method)


@dataclass
class _ClientView:
    """One workload's requests end to end: root-outcome shares, latencies of the
    successful ones, and their mean."""

    shares: list[float]
    latency: np.ndarray
    mean: float


def _client_view(graph: Graph, workload: Workload, outcomes: Outcomes) -> _ClientView:
    """Clients that neither time out nor retry see their entry itself: its refusals, its
    answers and its exact mean where known; others, their sampled requests."""
    if workload.timeout is None and workload.retries is None:
        entry = graph.model.target_of(workload)
        answers, refused = graph.answers[entry], graph.stations[entry].blocking
        shares = [(1 - refused) * float((answers.root == code).mean()) for code in range(4)]
        shares[paths.REJECTED] += refused
        ok = answers.root == OK_CODE
        return _ClientView(shares, answers.latency[ok], graph.mean_latency[entry])
    ok = outcomes.ok
    shares = [float((outcomes.root == code).mean()) for code in range(4)]
    mean = float(outcomes.latency[ok].mean()) if ok.any() else math.nan
    return _ClientView(shares, outcomes.latency[ok], mean)


def _weighted_percentile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    cut = q / 100 * cumulative[-1]
    return float(values[order][np.searchsorted(cumulative, cut)])
