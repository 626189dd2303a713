"""Mean-value analysis of closed workloads: ``users`` who think, then send a request that
visits stations with mean demand ``demand`` (visits x mean holding time) each.

Exact (Reiser and Lavenberg) for product-form networks: exponential FCFS stations with
load-dependent rates min(n, c), so multi-worker stations are exact too, with any think
time. The marginal queue-length distributions it carries give, by the arrival theorem,
what an arriving request finds: its wait's distribution, not only its mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClosedSolution:
    """Throughput, per-station residence times per request, and what an arrival finds."""

    throughput: float  # requests per second
    residence: np.ndarray  # seconds per request at each station (all its visits)
    population: np.ndarray  # time-average number at each station
    found: list[np.ndarray]  # per station: P(j there) as seen by an arrival, j = 0 .. users-1


def mva(users: int, think: float, demands: list[float], servers: list[int]) -> ClosedSolution:
    """Exact load-dependent MVA for ``users`` over stations with ``demands`` (seconds of
    work per request) and ``servers`` workers each."""
    k = len(demands)
    d = np.asarray(demands, dtype=float)
    marginals = [np.array([1.0]) for _ in range(k)]  # P(j | population n - 1)
    found = [m.copy() for m in marginals]
    throughput = 0.0
    residence = np.zeros(k)
    for n in range(1, users + 1):
        found = [m.copy() for m in marginals]
        for i in range(k):
            j = np.arange(1, n + 1)
            rates = np.minimum(j, servers[i])
            residence[i] = d[i] * float(np.sum(j / rates * marginals[i][:n]))
        total = think + residence.sum()
        throughput = n / total if total > 0 else float("inf")
        for i in range(k):
            j = np.arange(1, n + 1)
            rates = np.minimum(j, servers[i])
            upper = d[i] / rates * throughput * marginals[i][:n]
            marginal = np.concatenate(([max(0.0, 1.0 - upper.sum())], upper))
            marginals[i] = marginal / marginal.sum()
    population = throughput * residence
    return ClosedSolution(throughput, residence.copy(), population, found)


def schweitzer(
    users: int, think: float, demands: list[float], servers: list[int]
) -> tuple[float, np.ndarray]:
    """Throughput and residence times per request by approximate MVA (Schweitzer's fixed
    point, with Seidmann's split of a c-worker station into a queue of demand D/c and a
    delay of D(c-1)/c): for populations too large for the exact recursion. The
    throughput is kept within the busiest station's capacity."""
    d = np.asarray(demands, dtype=float)
    c = np.asarray(servers, dtype=float)
    queueing, delay = d / c, d * (c - 1) / c
    queue = np.full(len(d), users / max(len(d), 1))
    throughput = 0.0
    for _ in range(10_000):
        residence = queueing * (1 + queue * (users - 1) / users) + delay
        throughput = users / (think + residence.sum())
        updated = throughput * queueing * (1 + queue * (users - 1) / users)
        if np.abs(updated - queue).max() < 1e-9 * users:
            break
        queue = 0.5 * queue + 0.5 * updated
    bound = float(np.min(c / d)) if (d > 0).any() else math.inf
    throughput = min(throughput, bound)
    residence = queueing * (1 + queue * (users - 1) / users) + delay
    return float(throughput), residence
