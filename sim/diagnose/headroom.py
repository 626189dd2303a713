"""Headroom of a healthy model: how far its arrival rate can grow before the first SLO
breaks, which service breaks first, and the closed-form answer beside it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim import analytic
from sim.model import SLO, Model, PoissonArrivals
from sim.model.distributions import Exponential, mean_of
from sim.studies.capacity import find_capacity
from sim.studies.parallel import ExecutorArg
from sim.studies.progress import ProgressArg

RATE = "workload.arrivals.rate"


@dataclass(frozen=True)
class Headroom:
    """The largest arrival rate shown to meet every SLO, against today's, and the
    closed-form estimate of the same limit where there is one."""

    current: float
    limit: float | None  # largest passing rate found (None: none found in range)
    failing: float | None  # smallest rate shown not to pass
    analytic: float | None
    analytic_method: str
    first: str = ""  # the service that saturates first as the load grows
    first_busy: float = math.nan  # its utilisation today

    @property
    def factor(self) -> float:
        """How many times today's load the limit is."""
        return self.limit / self.current if self.limit is not None else math.nan


def analytic_limit(model: Model, slos: list[SLO]) -> tuple[float | None, str]:
    """The largest Poisson rate at which M/M/c/K (or M/M/c) predicts every SLO it can
    judge (rejection, mean and p99 latency, end to end) holds: bisection on the rate."""
    service = model.services[model.entry]
    if model.workload is None:
        return None, "no closed form for several scenarios"
    arrivals = model.workload.arrivals
    if (
        len(model.services) > 1
        or not isinstance(arrivals, PoissonArrivals)
        or not isinstance(service.work, Exponential)
        or service.autoscaling is not None
        or service.initial_replicas != 1
    ):
        return None, "no closed form: one service, Poisson arrivals, exponential work only"
    mean, c = mean_of(service.work), service.most_workers
    k = None if service.queue == "unbounded" else c + int(service.queue)
    judged = [s for s in slos if s.metric in ("rejection_rate", "latency_mean", "latency_p99")]
    if not judged:
        return None, "no SLO a closed form can judge"

    def meets(rate: float) -> bool:
        if k is None:
            if rate * mean >= c:
                return False
            q = analytic.mmc(rate, mean, c)
        else:
            q = analytic.mmck(rate, mean, c, k)
        for slo in judged:
            if slo.metric == "rejection_rate":
                got = q.rejection
            elif slo.metric == "latency_mean":
                got = q.W
            elif k is not None:
                got = analytic.mmck_response_quantile(rate, mean, c, k, 0.99)
            else:
                return True  # p99 of M/M/c: not computed here; the other SLOs decide
            if slo.max is not None and got > slo.max:
                return False
            if slo.min is not None and got < slo.min:
                return False
        return True

    low, high = 1e-6, c / mean * 2
    if not meets(low):
        return None, "the SLOs fail at any load"
    for _ in range(50):
        middle = (low + high) / 2
        low, high = (middle, high) if meets(middle) else (low, middle)
    method = "M/M/c/K" if k is not None else "M/M/c (Erlang C)"
    return low, method


def headroom(
    model: Model,
    slos: list[SLO],
    replications: int,
    executor: ExecutorArg = None,
    progress: ProgressArg = None,
    budget: float | None = None,
) -> Headroom | None:
    """Search the arrival rate from today's to twice it for the edge of the SLOs (None
    for closed-loop or trace workloads, which have no rate to turn, and for several
    scenarios, whose rates are turned one by one with a sweep)."""
    if model.workload is None:
        return None
    arrivals = model.workload.arrivals
    current = getattr(arrivals, "rate", None)
    if not isinstance(current, int | float) or current <= 0 or not slos:
        return None
    found = find_capacity(
        model,
        RATE,
        slos,
        low=float(current),
        high=float(current) * 2,
        replications=replications,
        tolerance=0.02,
        executor=executor,
        progress=progress,
        budget=budget,
    )
    limit, method = analytic_limit(model, slos)
    passing = found.value if found.goal == "max" else None
    failing = found.failing if found.goal == "max" else None
    if found.goal == "?" and "hold across" in found.message:
        passing = float(current) * 2
    return Headroom(float(current), passing, failing, limit, method)
