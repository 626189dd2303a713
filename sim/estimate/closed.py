"""Closed workloads: users who think and wait, solved by exact mean-value analysis.

The stations' demands are each service's visits per request times its mean own work;
replicas' workers count together. MVA gives the throughput and, by the arrival theorem,
the number an arriving request finds at each station, hence its wait (an Erlang wait
behind those ahead, exact for exponential work). The rest (sync calls, timeouts, the
end-to-end composition) is the open graph's.
"""

from __future__ import annotations

import numpy as np

from sim.estimate.graph import Graph
from sim.estimate.mva import ClosedSolution, mva, schweitzer
from sim.estimate.paths import SAMPLES
from sim.estimate.station import Station, erlang_waits, exponential_waits
from sim.model import Model
from sim.model.distributions import Exponential, mean_of
from sim.model.workload import Workload

EXACT_USERS = 1000
"""Above this many users exact MVA (quadratic in them) gives way to Schweitzer's."""


class ClosedGraph(Graph):
    """A graph under one closed workload (users with think time)."""

    method = "exact mean-value analysis (load-dependent), sync calls composed"

    def __init__(self, model: Model, seed: int) -> None:
        super().__init__(model, seed)
        (self.workload,) = model.workloads  # several closed workloads are out of range
        users, think_time = self.workload.users, self.workload.think_time
        assert users is not None and think_time is not None  # a closed workload
        think = mean_of(think_time)
        self.users, self.think = users, think
        self.names = list(model.services)
        own = sum(self.own_mean(n) for n in self.names)
        self.throughput = users / (think + own) if think + own > 0 else 0.0
        self.solution: ClosedSolution | None = None
        self.residence: np.ndarray | None = None  # per request, by approximate MVA

    def _own_demand(self, name: str) -> float:
        """Seconds of own work per user request at ``name``: visits x mean own work."""
        return float(self.rates[name].sum()) / self.throughput * self.own_mean(name)

    def offered(self, workload: Workload) -> float:
        """Requests per second the users send: the MVA throughput."""
        return self.throughput

    def servers(self, name: str) -> int:
        """Workers of every replica together."""
        spec = self.model.services[name]
        return spec.most_workers * spec.initial_replicas

    def before_flows(self) -> None:
        """Solve the MVA with the visits the last load gave (per request of the users)."""
        if not any(rates.sum() for rates in self.rates.values()):
            return  # the first pass: no visits known yet
        demands = [self._own_demand(n) for n in self.names]
        servers = [self.servers(n) for n in self.names]
        if self.users > EXACT_USERS:
            self.throughput, self.residence = schweitzer(self.users, self.think, demands, servers)
            return
        self.solution = mva(self.users, self.think, demands, servers)
        self.throughput = self.solution.throughput

    def station(
        self, name: str, rate: float, mean: float, scv: float
    ) -> tuple[Station, np.ndarray]:
        """What a request finds at ``name`` (MVA's arrival distribution) and its waits."""
        if self.residence is not None:
            return self._approximate_station(name, rate, mean)
        if self.solution is None:
            return super().station(name, rate, mean, scv)
        index = self.names.index(name)
        found = self.solution.found[index]
        c = self.servers(name)
        spec = self.model.services[name]
        own = self.own_mean(name)
        places = c + spec.queue_limit
        ahead = np.maximum(np.arange(found.size) - c + 1, 0)
        blocking = float(found[np.arange(found.size) >= places].sum())
        wait = float(np.dot(found, ahead)) * own / c
        waits = erlang_waits(found / found.sum(), own, c, self.rng, SAMPLES)
        station = Station(
            utilization=min(rate * (1 - blocking) * mean / c, 1.0),
            blocking=blocking,
            wait_probability=float(found[c:].sum()),
            wait_mean=wait,
            queue_mean=rate * wait,
            departure_scv=1.0,
            exact=True,
            method="exact MVA",
            waiting=np.empty(0),
            factor=1.0,
        )
        return station, waits

    def _approximate_station(
        self, name: str, rate: float, mean: float
    ) -> tuple[Station, np.ndarray]:
        """A station as approximate MVA sees it: its residence less its own work is the
        wait, taken as exponential for those who wait."""
        assert self.residence is not None
        index, c = self.names.index(name), self.servers(name)
        visits = rate / self.throughput if self.throughput > 0 else 0.0
        own = self.own_mean(name)
        wait = max(self.residence[index] / visits - own, 0.0) if visits > 0 else 0.0
        busy = min(rate * mean / c, 1.0)
        waits = exponential_waits(busy if wait > 0 else 0.0, wait, self.rng, SAMPLES)
        station = Station(busy, 0.0, busy, wait, rate * wait, 1.0, False, "approximate MVA",
                          np.empty(0), 1.0)  # fmt: skip
        return station, waits

    def exact(self, name: str) -> bool:
        """Exact for product form: exponential work of one kind, no worker held through a
        call while others wait for it, and no place refused."""
        spec = self.model.services[name]
        works = {repr(spec.work_for(c)) for c in self.classes}
        product = len(works) == 1 and isinstance(spec.work_for(self.classes[0]), Exponential)
        held = self.sync_calls[name] and self.servers(name) < self.users
        bounded = self.servers(name) + spec.queue_limit < self.users
        small = self.users <= EXACT_USERS
        return product and small and not held and not bounded and spec.initial_replicas == 1

    def why_approximate(self, name: str) -> str:
        """Which product-form condition a service breaks."""
        spec = self.model.services[name]
        if self.users > EXACT_USERS:
            return f"{self.users} users: approximate MVA (Schweitzer-Seidmann), open stations"
        if self.sync_calls[name] and self.servers(name) < self.users:
            return "workers held through sync calls (MVA counts only own work)"
        if self.servers(name) + spec.queue_limit < self.users:
            return "a bounded queue the users can fill (refusals taken from MVA's marginals)"
        if spec.initial_replicas > 1:
            return "replicas taken as one pool of workers"
        return "own work not exponential (MVA with the same means)"
