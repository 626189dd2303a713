"""What the graph estimate models, and what it leaves out: per service, the reasons an
estimate is only an approximation, or out of its range."""

from __future__ import annotations

from sim.model import Model
from sim.model.service import Service
from sim.model.workload import ConstantArrivals, PoissonArrivals, Workload

NOT_MODELLED = {
    "incidents": "incidents (the estimate is of the steady state without them)",
    "rate_limit": "a rate limit",
    "concurrency_limit": "a concurrency limit",
    "autoscaling": "autoscaling (the estimate holds the initial replicas)",
    "gc": "GC pauses",
    "cpus": "a CPU limit",
    "scalability": "contention (scalability)",
    "codel": "CoDel",
    "queue_timeout": "a queue timeout",
    "outlier_detection": "outlier detection",
    "health_check": "health checks",
    "listen_backlog": "a listen backlog",
    "block_when_full": "blocking when full",
    "unit_capacity": "a unit budget",
    "initial_backlog": "a starting backlog",
}
"""Service fields that put a service out of the estimate's range, and how to say them."""


def service_limits(spec: Service, classes: list[str]) -> tuple[list[str], list[str]]:
    """(out of range, approximations) for one service's own fields and its calls."""
    out = [text for key, text in NOT_MODELLED.items() if getattr(spec, key, None)]
    approx = []
    if spec.initial_replicas > 1 and spec.balancer != "random":
        approx.append(f"{spec.balancer} balancing, each replica taken apart")
    if spec.pool is not None:
        approx.append("a thread pool, taken as its most threads")
    if spec.discipline != "fifo":
        approx.append(f"{spec.discipline} order (means hold, tails differ)")
    for cls in classes:
        for call in spec.calls_for(cls):
            if call.circuit_breaker is not None:
                approx.append(f"the breaker on calls to {call.to}, taken as closed")
            if call.retries is not None:
                if call.retries.hedging_delay is not None:
                    out.append(f"hedged calls to {call.to}")
                if call.retries.budget is not None or call.retries.throttling is not None:
                    approx.append(f"the retry budget towards {call.to}, taken as not binding")
    return sorted(set(out)), sorted(set(approx))


def workload_limits(model: Model) -> tuple[list[str], list[str]]:
    """(out of range, approximations) of the workloads."""
    out, approx = [], []
    for workload in model.workloads:
        arrivals = workload.arrivals
        if arrivals is None:
            if workload.timeout is not None or workload.retries is not None:
                approx.append("users' timeouts and retries")
            continue
        if not isinstance(arrivals, PoissonArrivals | ConstantArrivals):
            if arrivals.process in ("profile", "trace"):
                out.append(f"{arrivals.process} arrivals (a rate that changes over time)")
            else:
                approx.append(f"{arrivals.process} arrivals, taken at their mean rate")
        if any(c.priority for c in workload.classes):
            approx.append("priorities (means of all classes together)")
        if workload.retries is not None and workload.retries.hedging_delay is not None:
            out.append("hedged client requests")
    return sorted(set(out)), sorted(set(approx))


def arrival_scv(workload: Workload) -> float:
    """Squared coefficient of variation of a workload's interarrival times (Poisson 1,
    constant 0; other processes are taken as Poisson)."""
    return 0.0 if isinstance(workload.arrivals, ConstantArrivals) else 1.0
