"""The estimate of a whole graph, in the style of Whitt's Queueing Network Analyzer.

Each service is a GI/G/c station (c/K with a bounded queue) per replica, fed by its
callers' flows. Two fixed points tie the stations together:

- load: requests per second reaching each service come from the workloads through the
  calls (probability, count, cache, fan-out), without what was refused upstream and with
  the retries the failures downstream cause;
- holding: a sync call holds the caller's worker, so a caller's holding time is its own
  work plus its calls' latencies (parallel calls as the slowest, quorums as the k-th),
  bounded by timeouts, with connection-pool waits and retry backoffs.

Callees answer before callers are solved (a topological order from the leaves), and the
loop repeats until the load settles. Response times are sampled (see
:mod:`sim.estimate.paths`), so percentiles, timeouts and failure shares come out of the
same arithmetic. Closed workloads take exact mean-value analysis instead of the open
stations (:mod:`sim.estimate.mva`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.analytic import callers_first
from sim.distributions import batch_function
from sim.estimate import paths
from sim.estimate.paths import SAMPLES, Answers, Outcomes, Pool
from sim.estimate.result import GraphEstimate, NoEstimate
from sim.estimate.scope import arrival_scv
from sim.estimate.station import Overloaded, Station, solve, wait_samples
from sim.model import Model
from sim.model.distributions import mean_of
from sim.model.service import Call, ConnectionPool
from sim.model.workload import Workload

ITERATIONS = 100
TOLERANCE = 1e-4
PATIENCE = 20
"""Rounds the load may go without getting 10 % closer to settling before the estimate
gives up on it: a load that circles (retries feeding a timeout, a pool flipping between
full and not) would otherwise take every round there is, seconds of an "instant" answer."""


@dataclass
class _Path:
    """Samples of a request's time at a service once it has a worker: held (own work and
    sync calls), after the worker is freed (async calls), root outcome; exact means where
    known (None where not)."""

    hold: np.ndarray
    after: np.ndarray
    root: np.ndarray
    own: np.ndarray
    sync_calls: bool = False
    mean_hold: float | None = None
    mean_after: float | None = None


class Graph:
    """The model's services, classes and flows, as the fixed point needs them."""

    method = "QNA decomposition, sync calls by fixed point"

    def __init__(self, model: Model, seed: int) -> None:
        self.model = model
        self.seed = seed
        self.classes = model.class_names
        self.order = callers_first(model)
        self.rng = np.random.default_rng(seed)
        self.own = {
            name: [
                _own_work(model, name, cls, np.random.default_rng([seed, i, j]))
                for j, cls in enumerate(self.classes)
            ]
            for i, name in enumerate(model.services)
        }
        self.answers = {name: Answers.instant() for name in model.services}
        self.calls: dict[tuple[str, int, int], Outcomes] = {}
        self.stations: dict[str, Station] = {}
        self.ok_share: dict[str, float] = dict.fromkeys(model.services, 1.0)
        self.departure_scv: dict[str, float] = dict.fromkeys(model.services, 1.0)
        self.arrival_scv: dict[str, float] = dict.fromkeys(model.services, 1.0)
        self.poisson_out: dict[str, bool] = dict.fromkeys(model.services, False)
        self.poisson_in: dict[str, bool] = dict.fromkeys(model.services, False)
        self.sync_calls: dict[str, bool] = dict.fromkeys(model.services, False)
        self.mean_latency: dict[str, float] = dict.fromkeys(model.services, 0.0)
        self.own_refusals: dict[str, float] = dict.fromkeys(model.services, 0.0)
        self.own_timeouts: dict[str, float] = dict.fromkeys(model.services, 0.0)
        self.overloaded: dict[str, str] = {}
        self.clients: list[Outcomes] = []
        self.rates = {name: np.zeros(len(self.classes)) for name in model.services}

    # --- load ---------------------------------------------------------------------------

    def offered(self, workload: Workload) -> float:
        """Client requests per second a workload sends (open loop: its mean rate)."""
        assert workload.arrivals is not None
        return workload.arrivals.mean_rate

    def flows(self) -> dict[str, np.ndarray]:
        """Attempts per second reaching each service per class, callers first; also each
        service's arrival variability (merged flows) and whether its arrivals are Poisson."""
        model, classes = self.model, self.classes
        rates = {name: np.zeros(len(classes)) for name in model.services}
        scv_mass = dict.fromkeys(model.services, 0.0)
        poisson = dict.fromkeys(model.services, True)
        for index, workload in enumerate(model.workloads):
            entry = model.target_of(workload)
            attempts = float(self.clients[index].attempts.mean()) if self.clients else 1.0
            total = self.offered(workload) * attempts
            for cls, share in zip(workload.class_names, workload.class_shares, strict=True):
                rates[entry][classes.index(cls)] += total * share
            scv_mass[entry] += total * arrival_scv(workload)
            poisson[entry] &= arrival_scv(workload) == 1.0 and attempts == 1.0
        for name in self.order:
            spec = model.services[name]
            blocking = self.stations[name].blocking if name in self.stations else 0.0
            for j, cls in enumerate(classes):
                admitted = rates[name][j] * (1 - blocking)
                if admitted == 0:
                    continue
                reach = 1.0
                calls = spec.calls_for(cls)
                for step in paths.groups(calls):
                    failed = 0.0
                    for index in step:
                        call = calls[index]
                        logical = self.calls.get((name, j, index))
                        tries = float(logical.attempts.mean()) if logical is not None else 1.0
                        flow = admitted * reach * call.expected_calls * tries
                        rates[call.to][j] += flow
                        scv_mass[call.to] += flow * self._call_scv(name, call, reach)
                        poisson[call.to] &= (
                            self.poisson_out[name] and call.count == 1 and tries == 1.0
                        )
                        if logical is not None:
                            failed = max(failed, 1 - float(logical.ok.mean()))
                    reach *= 1 - failed
        for name in model.services:
            total = rates[name].sum()
            self.arrival_scv[name] = scv_mass[name] / total if total > 0 else 1.0
            self.poisson_in[name] = poisson[name] and total > 0
        return rates

    def _call_scv(self, caller: str, call: Call, reach: float) -> float:
        """Arrival variability of one call entry's flow at its callee (Whitt's QNA): the
        caller's departures thinned by the chance a request makes the call; parallel
        copies arrive together, a batch of ``count``."""
        share = min(reach * call.probability, 1.0)
        thinned = share * self.departure_scv[caller] + 1 - share
        if call.parallel and call.count > 1:
            return call.count * thinned + call.count - 1
        return thinned

    # --- holding and answers ------------------------------------------------------------

    def answer(self, name: str) -> None:
        """Solve one service given its load and its callees' answers."""
        spec = self.model.services[name]
        total = float(self.rates[name].sum())
        path = self._compose(name, total)
        self.ok_share[name] = float((path.root == OK_CODE).mean())
        self.own_refusals[name] = float((path.own & (path.root == paths.REJECTED)).mean())
        self.own_timeouts[name] = float((path.own & (path.root == paths.TIMEOUT)).mean())
        mean, scv = self._holding_moments(name, path)
        station, waits = self.station(name, total, mean, scv)
        self.stations[name] = station
        self.sync_calls[name] = path.sync_calls
        self.departure_scv[name] = station.departure_scv
        self.poisson_out[name] = (
            self.poisson_in[name]
            and station.exact
            and math.isinf(spec.queue_limit)
            and not path.sync_calls
            and (spec.initial_replicas == 1 or spec.balancer == "random")
        )
        latency = waits + path.hold + path.after
        self.answers[name] = Answers(station.blocking, latency, path.root)
        if path.mean_hold is not None and path.mean_after is not None:
            self.mean_latency[name] = station.wait_mean + path.mean_hold + path.mean_after
        else:
            ok = path.root == OK_CODE
            self.mean_latency[name] = float(latency[ok].mean()) if ok.any() else math.nan

    def _compose(self, name: str, total: float) -> _Path:
        """A request's time at ``name`` after it gets a worker: own work, then its calls
        step by step (until one fails), holding the worker until an async call frees it.
        Means are kept exactly where each step's is known (a plain call to a service that
        refuses and fails nothing)."""
        spec, rng = self.model.services[name], self.rng
        rates = self.rates[name]
        weights = rates / total if total > 0 else np.eye(len(rates))[0]
        cls_of = rng.choice(len(rates), SAMPLES, p=weights)
        path = _Path(
            np.zeros(SAMPLES),
            np.zeros(SAMPLES),
            np.zeros(SAMPLES, dtype=np.int8),
            np.zeros(SAMPLES, dtype=bool),
        )
        mean_hold: float | None = self.own_mean(name)
        mean_after: float | None = 0.0
        for j, cls in enumerate(self.classes):
            mine = cls_of == j
            share = float(weights[j])
            if not mine.any():
                continue
            path.hold[mine] = rng.choice(self.own[name][j], mine.sum())
            calls = spec.calls_for(cls)
            released = False
            for step in paths.groups(calls):
                chosen = [calls[i] for i in step]
                logical = [self._call(name, j, i, calls[i]) for i in step]
                if all(c.mode == "enqueue" for c in chosen):
                    continue  # fire and forget: neither time nor failure
                waited = [  # an enqueue entry of a parallel step is not waited for
                    Outcomes.fire_and_forget(SAMPLES) if call.mode == "enqueue" else outcomes
                    for call, outcomes in zip(chosen, logical, strict=True)
                ]
                took = paths.step_time(chosen, waited, chosen[0].parallel, rng)
                pick = rng.integers(0, SAMPLES, mine.sum())
                going = mine & (path.root == OK_CODE)
                released |= any(c.mode == "async" for c in chosen)
                target = path.after if released else path.hold
                path.sync_calls |= not released
                target[going] += took.latency[pick][going[mine]]
                path.root[going] = took.root[pick][going[mine]]
                path.own[going] = took.own[pick][going[mine]]
                known = self._plain_mean(chosen)
                if released:
                    mean_after = _add(mean_after, known, share)
                else:
                    mean_hold = _add(mean_hold, known, share)
        path.mean_hold, path.mean_after = mean_hold, mean_after
        return path

    def own_mean(self, name: str) -> float:
        """Mean own work per request at ``name``, over its classes as its load mixes them."""
        spec, rates = self.model.services[name], self.rates[name]
        total = float(rates.sum())
        weights = rates / total if total > 0 else np.eye(len(rates))[0]
        return sum(
            float(w) * spec.holding_time(cls, self.model.mean_size(cls))
            for w, cls in zip(weights, self.classes, strict=True)
        )

    def _plain_mean(self, step: list[Call]) -> float | None:
        """A step's exact mean time, when it is one plain sequential call (no timeout,
        retries, pool, wire or loss) to a service that refuses and fails nothing."""
        if len(step) != 1 or step[0].parallel:
            return None
        call = step[0]
        plain = (
            call.timeout is None
            and call.retries is None
            and call.network_latency is None
            and call.mode != "enqueue"
        )
        callee = call.to
        station = self.stations.get(callee)
        if not plain or station is None or station.blocking > 0 or self.ok_share[callee] < 1:
            return None
        return call.expected_calls * self.mean_latency[callee]

    def station(
        self, name: str, rate: float, mean: float, scv: float
    ) -> tuple[Station, np.ndarray]:
        """One replica's station at ``rate`` (the service's) with holding times of ``mean``
        and ``scv``, and samples of its waits."""
        spec = self.model.services[name]
        replicas, workers = spec.initial_replicas, spec.most_workers
        ca2 = self._replica_scv(name)
        try:
            station = solve(rate / replicas, mean, workers, spec.queue_limit, ca2, scv)
        except Overloaded as exc:
            self.overloaded[name] = str(exc)
            station = solve(rate / replicas, mean, workers, 10 * workers, ca2, scv)
        return station, wait_samples(station, mean, workers, self.rng, SAMPLES)

    def _holding_moments(self, name: str, path: _Path) -> tuple[float, float]:
        """Mean and squared coefficient of variation of a worker's holding time: exact
        where known (the distribution's own, for one class's own work alone), else the
        samples'."""
        spec = self.model.services[name]
        works = {repr(spec.work_for(cls)) for cls in self.classes}
        if not path.sync_calls and len(works) == 1 and not spec.work_per_unit:
            work = spec.work_for(self.classes[0])
            return mean_of(work), work.scv
        hold = path.hold
        mean = path.mean_hold if path.mean_hold is not None else float(hold.mean())
        return mean, float(hold.var() / hold.mean() ** 2) if hold.mean() > 0 else 0.0

    def _replica_scv(self, name: str) -> float:
        """The arrival variability one replica sees: a balancer splits the service's flow."""
        spec = self.model.services[name]
        ca2, replicas = self.arrival_scv[name], spec.initial_replicas
        if replicas == 1:
            return ca2
        if spec.balancer == "random":
            return ca2 / replicas + 1 - 1 / replicas
        return ca2 / replicas  # turns in order: every replicas-th arrival

    def _call(self, caller: str, cls: int, index: int, call: Call) -> Outcomes:
        """Logical calls of one entry, from the callee's answers (and the caller's pool)."""
        spec = self.model.services[caller]
        pool = None
        limits = spec.connection_pools.get(call.to)
        if limits is not None and call.mode != "enqueue":
            pool = self._pool(caller, call, limits)
        wire = None
        if call.network_latency is not None:
            wire = batch_function(call.network_latency)(self.rng, SAMPLES)
        outcomes = paths.attempts_of(
            self.answers[call.to], self.rng, call.timeout, call.retries, wire, call.loss, pool
        )
        self.calls[(caller, cls, index)] = outcomes
        return outcomes

    def _pool(self, caller: str, call: Call, limits: ConnectionPool) -> Pool:
        """A caller replica's connections to the callee as a station: its requests hold
        a connection for an attempt's time at the callee."""
        spec = self.model.services[caller]
        answers = self.answers[call.to]
        limit = call.timeout if call.timeout is not None else math.inf
        holding = np.where(
            np.random.default_rng(0).random(SAMPLES) < answers.refused,
            0.0,
            np.minimum(answers.latency, limit),
        )
        mean = float(holding.mean())
        scv = float(holding.var() / mean**2) if mean > 0 else 1.0
        rate = self.rates[call.to].sum() / spec.initial_replicas
        try:
            station = solve(
                rate, mean, limits.max_connections, limits.max_pending_requests, 1.0, scv
            )
        except Overloaded:
            station = solve(rate, mean, limits.max_connections, 0, 1.0, scv)
        waits = wait_samples(station, mean, limits.max_connections, self.rng, SAMPLES)
        return Pool(station.blocking, waits)

    # --- the fixed point ----------------------------------------------------------------

    def solve(self) -> tuple[int, bool]:
        """Iterate load and answers until the load settles; (iterations, converged).
        Gives up after :data:`ITERATIONS` rounds, or :data:`PATIENCE` rounds without
        progress."""
        closest, stalled = math.inf, 0
        for iteration in range(1, ITERATIONS + 1):
            self.rng = np.random.default_rng(self.seed)  # the same draws each round: a map
            self.before_flows()
            rates = self.flows()
            change = max(
                float(np.abs(rates[n] - self.rates[n]).sum() / max(rates[n].sum(), 1e-12))
                for n in rates
            )
            damping = 0.5 if iteration > 10 else 1.0  # retries can oscillate: calm them
            self.rates = {n: damping * rates[n] + (1 - damping) * self.rates[n] for n in rates}
            self.overloaded.clear()  # as this round finds them
            for name in reversed(self.order):
                self.answer(name)
            self.clients = [
                paths.attempts_of(
                    self.answers[self.model.target_of(w)], self.rng, w.timeout, w.retries
                )
                for w in self.model.workloads
            ]
            if iteration > 1 and change < TOLERANCE:
                return iteration, True
            if change < 0.9 * closest:
                closest, stalled = change, 0
            else:
                stalled += 1
                if stalled == PATIENCE:
                    return iteration, False
        return ITERATIONS, False

    def exact(self, name: str) -> bool:
        """Whether a service's figures are exact: an exact station fed by Poisson arrivals."""
        return self.stations[name].exact and self.poisson_in[name]

    def why_approximate(self, name: str) -> str:
        """Why a service's figures are not exact (when nothing else explains it)."""
        if not self.poisson_in[name]:
            return "its arrivals are not Poisson (from other queues, retries or fan-out)"
        if self.sync_calls[name]:
            return "workers held through sync calls: " + self.stations[name].method
        return self.stations[name].method

    def before_flows(self) -> None:
        """What a kind of workload updates before the load is worked out (nothing here)."""


OK_CODE = paths.OK


def _add(total: float | None, part: float | None, weight: float) -> float | None:
    """``total + weight x part``, unknown (None) if either is."""
    return None if total is None or part is None else total + weight * part


def _own_work(model: Model, name: str, cls: str, rng: np.random.Generator) -> np.ndarray:
    """Samples of a service's own work for a class (per-unit work at the mean size)."""
    spec = model.services[name]
    work = batch_function(spec.work_for(cls))(rng, SAMPLES)
    return work + (spec.work_per_unit or 0.0) * model.mean_size(cls)


def estimate_graph(model: Model, seed: int = 0) -> GraphEstimate:
    """The estimate of ``model``: every service and end to end, each with its status.
    Raises NoEstimate for what it cannot cover: open and closed workloads together,
    several closed ones, or arrivals replayed from a trace."""
    kinds = {w.closed for w in model.workloads}
    if len(kinds) > 1:
        raise NoEstimate("no estimate for open and closed workloads together")
    if model.closed and len(model.workloads) > 1:
        raise NoEstimate("no estimate for several closed workloads")
    if any(w.arrivals is not None and w.arrivals.process == "trace" for w in model.workloads):
        raise NoEstimate("no estimate for arrivals replayed from a trace")
    if model.closed:
        from sim.estimate.closed import ClosedGraph

        graph: Graph = ClosedGraph(model, seed)
    else:
        graph = Graph(model, seed)
    iterations, converged = graph.solve()
    from sim.estimate.figures import report  # it reads the solved graph

    return report(graph, iterations, converged)
