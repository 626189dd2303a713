"""The metric registry: every summary metric once, with its unit, which way is better and
what it means. Result tables (in this order), the terminal report (what it hides when
as detail), SLO validation, baseline comparisons and the README's metric table all read it;
a metric a replication reports that is not registered here is an error, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sim import outcomes

Better = Literal["lower", "higher", "neither"]


@dataclass(frozen=True)
class Metric:
    """One summary metric."""

    name: str
    unit: str
    better: Better
    description: str
    detail: bool = False  # secondary: the terminal report shows it with --all only
    count: bool = False  # bookkeeping: the terminal report shows it with --all only


def _rejections() -> list[Metric]:
    return [
        Metric(
            f"rejected_{reason}",
            "fraction",
            "lower",
            f"refused or shed as {reason} / arrivals",
        )
        for reason in outcomes.REJECTIONS
    ]


REGISTRY: tuple[Metric, ...] = (
    Metric("offered_rate", "req/s", "neither", "arrivals per second"),
    Metric("throughput", "req/s", "higher", "completions (ok) per second"),
    Metric("goodput", "req/s", "higher", "completions per second whose caller still waited"),
    Metric("success_rate", "fraction", "higher", "ok / arrivals"),
    Metric("rejection_rate", "fraction", "lower", "rejected / arrivals, all reasons"),
    *_rejections(),
    Metric("timeout_rate", "fraction", "lower", "gave up on a call / arrivals"),
    Metric("error_rate", "fraction", "lower", "failed with an error / arrivals"),
    Metric("downstream_failure_rate", "fraction", "lower", "failed because a callee failed"),
    Metric("latency_mean", "s", "lower", "arrival to response of completed requests, mean"),
    Metric("latency_p50", "s", "lower", "arrival to response, median (pooled)"),
    Metric(
        "latency_p90", "s", "lower", "arrival to response, 90th percentile (pooled)", detail=True
    ),
    Metric("latency_p99", "s", "lower", "arrival to response, 99th percentile (pooled)"),
    Metric("latency_p999", "s", "lower", "arrival to response, 99.9th percentile (pooled)"),
    Metric("queue_wait_mean", "s", "lower", "time waiting for a worker, mean"),
    Metric("queue_depth_mean", "requests", "lower", "number waiting, time-average"),
    Metric("queue_depth_max", "requests", "lower", "number waiting, peak"),
    Metric(
        "in_system_mean",
        "requests",
        "neither",
        "waiting plus in service, time-average",
        detail=True,
    ),
    Metric("utilization", "fraction", "neither", "busy workers / workers, time-average"),
    Metric("cpu_utilization", "fraction", "neither", "busy cores / cores (with cpus)"),
    Metric(
        "unit_utilization",
        "fraction",
        "neither",
        "units held / unit_capacity (a KV cache's share in use), time-average",
    ),
    Metric("gc_paused_fraction", "fraction", "lower", "share of time in a GC pause"),
    Metric("wasted_work", "fraction", "lower", "busy worker time on requests nobody waited for"),
    Metric("imbalance", "ratio", "lower", "busiest replica's requests / mean per replica"),
    Metric(
        "outlier_ejections",
        "count",
        "neither",
        "replicas ejected from load balancing for failing, in the window (outlier detection)",
    ),
    Metric(
        "marked_unhealthy",
        "count",
        "neither",
        "replicas marked unhealthy by failed health checks, in the window",
    ),
    Metric("replicas_mean", "replicas", "neither", "ready replicas, time-average"),
    Metric("replica_seconds", "replica-s", "lower", "replica-seconds of every replica (cost)"),
    Metric("in_flight_end", "requests", "lower", "arrived but never finished", count=True),
    Metric("arrivals", "requests", "neither", "requests that arrived in the window", count=True),
    Metric("completed", "requests", "higher", "requests answered ok", count=True),
    Metric("rejected", "requests", "lower", "requests refused", count=True),
    Metric("failed", "requests", "lower", "requests that timed out or failed", count=True),
    Metric("call_rate", "req/s", "neither", "attempts on a call edge per second"),
    Metric("call_latency_mean", "s", "lower", "call latency as the caller sees it, mean"),
    Metric("call_latency_p99", "s", "lower", "call latency as the caller sees it, p99 (pooled)"),
    Metric("call_failure_rate", "fraction", "lower", "failed attempts / attempts"),
    Metric("call_timeout_rate", "fraction", "lower", "timed-out attempts / attempts"),
    Metric("call_circuit_open_rate", "fraction", "lower", "attempts refused by a breaker"),
    Metric("retry_amplification", "ratio", "lower", "attempts / logical calls"),
    Metric("breaker_open_fraction", "fraction", "lower", "share of time a breaker was open"),
    Metric("breaker_opens", "count", "lower", "times a breaker opened in the window (flapping)"),
    Metric("attempts_per_request", "ratio", "lower", "attempts / requests, end to end"),
    Metric("concurrency_limit_mean", "requests", "neither", "concurrency limit, time-average"),
    Metric("recovery_time", "s", "lower", "seconds from a trigger's end to recovery"),
    Metric("recovered", "fraction", "higher", "share of replications that recovered"),
)
"""Every summary metric, in report order."""

METRICS: dict[str, Metric] = {m.name: m for m in REGISTRY}
"""Metrics by name."""

UNITS: dict[str, str] = {m.name: m.unit for m in REGISTRY}
"""Every summary metric, in report order, with its unit."""

INTERNAL = frozenset({"in_system_start", "in_system_end", "latency_max"})
"""Per-replication values kept for tests (Little's law's edge terms), never summarised."""


def check_registered(names: set[str]) -> None:
    """Raise KeyError naming any metric that is neither registered nor internal."""
    unknown = sorted(names - METRICS.keys() - INTERNAL)
    if unknown:
        raise KeyError(f"metrics not in the registry (sim/measure/registry.py): {unknown}")
