"""Closed forms and approximations from queueing theory, for instant estimates and for tests.

Notation: arrival rate ``lam`` (per second), mean service time ``mean`` (seconds), ``c``
servers, ``K`` places in all (servers + waiting room), ``scv`` squared coefficients of
variation. Times are seconds; ``W`` is the response time (wait + service) of *accepted*
requests, ``Wq`` the wait, ``L``/``Lq`` the time-average numbers in system / waiting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sim.model import ConstantArrivals, Model, PoissonArrivals, Workload
from sim.model.distributions import Exponential, mean_of
from sim.model.service import UNBOUNDED


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of M/G/c/c with offered load ``a`` = lam x mean (Erlangs)."""
    if c < 0 or a < 0:
        raise ValueError("erlang_b needs c >= 0 and a >= 0")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c (needs a < c)."""
    if a >= c:
        raise ValueError(f"erlang_c needs a < c (offered load {a:g} >= {c} servers)")
    b = erlang_b(c, a)
    return b / (1 - (a / c) * (1 - b))


@dataclass(frozen=True)
class QueueMetrics:
    """Steady-state figures of one station."""

    rejection: float
    W: float
    Wq: float
    L: float
    Lq: float
    utilization: float
    throughput: float
    blocking: float = 0.0  # with abandonment and a bounded queue: refused on arrival


def mmc(lam: float, mean: float, c: int) -> QueueMetrics:
    """M/M/c with an unbounded queue (Erlang C)."""
    a = lam * mean
    wait_probability = erlang_c(c, a)
    wq = wait_probability * mean / (c - a)
    return QueueMetrics(0.0, wq + mean, wq, lam * (wq + mean), lam * wq, a / c, lam)


def mmck(lam: float, mean: float, c: int, k: int) -> QueueMetrics:
    """M/M/c/K: ``c`` servers and ``k`` places in all (k >= c); arrivals finding k are lost."""
    import numpy as np  # loaded when first needed: queuefull validate does without it

    if k < c:
        raise ValueError("mmck needs k >= c")
    a = lam * mean
    n = np.arange(k + 1)
    log_terms = np.empty(k + 1)
    log_terms[0] = 0.0
    for i in range(1, k + 1):
        log_terms[i] = log_terms[i - 1] + math.log(a) - math.log(min(i, c)) if a > 0 else -np.inf
    p = np.exp(log_terms - log_terms.max())
    p /= p.sum()
    blocking = float(p[k])
    big_l = float((n * p).sum())
    lq = float((np.maximum(n - c, 0) * p).sum())
    accepted = lam * (1 - blocking)
    w = big_l / accepted if accepted else math.nan
    wq = lq / accepted if accepted else math.nan
    return QueueMetrics(blocking, w, wq, big_l, lq, accepted * mean / c, accepted)


def mg1(lam: float, mean: float, scv: float) -> QueueMetrics:
    """M/G/1 by Pollaczek-Khinchine: Wq = rho x mean x (1 + scv) / (2 (1 - rho))."""
    rho = lam * mean
    if rho >= 1:
        raise ValueError(f"mg1 needs rho < 1 (got {rho:g})")
    wq = rho * mean * (1 + scv) / (2 * (1 - rho))
    return QueueMetrics(0.0, wq + mean, wq, lam * (wq + mean), lam * wq, rho, lam)


def allen_cunneen(
    lam: float, mean: float, c: int, scv_arrival: float, scv_service: float
) -> QueueMetrics:
    """G/G/c approximation: the M/M/c wait scaled by (ca^2 + cs^2) / 2."""
    base = mmc(lam, mean, c)
    wq = base.Wq * (scv_arrival + scv_service) / 2
    return QueueMetrics(0.0, wq + mean, wq, lam * (wq + mean), lam * wq, base.utilization, lam)


def erlang_a(
    lam: float, mean: float, c: int, patience: float, places: int | None = None
) -> QueueMetrics:
    """M/M/c+M (Erlang A): waiting requests abandon after an exponential patience with mean
    ``patience``; with ``places`` (servers + waiting room, M/M/c/K+M) an arrival finding
    them all taken is refused (``blocking``). ``rejection`` is the fraction abandoning, Wq
    the mean wait of every arrival admitted or not, W the response of those served."""
    theta, mu = 1 / patience, 1 / mean
    weights, n = [1.0], 0
    while places is None or n < places:  # birth-death chain
        n += 1
        weights.append(weights[-1] * lam / (min(n, c) * mu + max(n - c, 0) * theta))
        if places is None and n > c and weights[-1] < 1e-16 * max(weights):
            break  # truncated where the tail no longer matters
    total = sum(weights)
    p = [w / total for w in weights]
    blocking = p[-1] if places is not None else 0.0
    abandon_rate = sum(pn * max(k - c, 0) * theta for k, pn in enumerate(p))
    lq = sum(pn * max(k - c, 0) for k, pn in enumerate(p))
    served = lam * (1 - blocking) - abandon_rate
    big_l = lq + served * mean
    return QueueMetrics(
        abandon_rate / lam,
        math.nan,
        lq / lam,
        big_l,
        lq,
        served * mean / c,
        served,
        blocking,
    )


@dataclass(frozen=True)
class Estimate:
    """An instant prediction for a single-service open model."""

    metrics: dict[str, float]
    exact: bool
    method: str
    notes: list[str] = field(default_factory=list)


def estimate(model: Model) -> Estimate:
    """Closed-form (``exact=True``) or approximate prediction for the model's entry service.

    Replicas are treated as independent stations each receiving ``1/replicas`` of the
    load; with more than one replica under round robin that is an approximation.
    """
    if model.workload is None:
        raise ValueError("no closed form for several scenarios; simulate instead")
    service = model.services[model.entry]
    arrivals = model.workload.arrivals
    if service.autoscaling is not None:
        raise ValueError("no closed form with autoscaling; simulate instead")
    replicas, c = service.initial_replicas, service.most_workers
    if model.workload.closed:
        return _estimate_closed(model, model.workload)
    if not isinstance(arrivals, PoissonArrivals | ConstantArrivals):
        raise ValueError(f"no estimate for {arrivals.process} arrivals; simulate instead")
    lam = arrivals.rate / replicas
    mean, scv = mean_of(service.work), service.work.scv
    poisson = isinstance(arrivals, PoissonArrivals) and replicas == 1
    scv_arrival = 0.0 if isinstance(arrivals, ConstantArrivals) else 1.0 / replicas
    notes = []
    if len(model.services) > 1:
        notes.append("only the entry service is estimated")
    exponential = isinstance(service.work, Exponential)
    if service.queue == UNBOUNDED:
        if lam * mean >= c:
            raise ValueError(f"offered load {lam * mean:g} >= {c} workers: no steady state")
        if poisson and exponential:
            q, exact, method = mmc(lam, mean, c), True, "M/M/c (Erlang C)"
        elif poisson and c == 1:
            q, exact, method = mg1(lam, mean, scv), True, "M/G/1 (Pollaczek-Khinchine)"
        else:
            q, exact, method = allen_cunneen(lam, mean, c, scv_arrival, scv), False, "Allen-Cunneen"
    else:
        k = c + int(service.queue)
        if service.queue == 0 and poisson:
            q, exact, method = mmck(lam, mean, c, c), True, "M/G/c/c (Erlang B)"
        else:
            q = mmck(lam, mean, c, k)
            exact = poisson and exponential
            method = "M/M/c/K" if exact else "M/M/c/K with the same means (approximation)"
    metrics = {
        "offered_rate": arrivals.rate,
        "throughput": q.throughput * replicas,
        "rejection_rate": q.rejection,
        "rejected_queue_full": q.rejection,
        "latency_mean": q.W,
        "queue_wait_mean": q.Wq,
        "queue_depth_mean": q.Lq * replicas,
        "in_system_mean": q.L * replicas,
        "utilization": q.utilization,
    }
    return Estimate(metrics, exact, method, notes)


def _estimate_closed(model: Model, workload: Workload) -> Estimate:
    service = model.services[model.entry]
    if service.initial_replicas != 1 or service.autoscaling is not None:
        raise ValueError("closed-loop estimates cover one replica")
    workers = service.most_workers
    places = None if service.queue == UNBOUNDED else workers + int(service.queue)
    think, work = mean_of(workload.think_time), mean_of(service.work)
    q = machine_repairman(workload.users, think, work, workers, places)
    exact = isinstance(service.work, Exponential) and isinstance(workload.think_time, Exponential)
    metrics = {
        "throughput": q.throughput,
        "rejection_rate": q.rejection,
        "latency_mean": q.W,
        "queue_wait_mean": q.Wq,
        "queue_depth_mean": q.Lq,
        "in_system_mean": q.L,
        "utilization": q.utilization,
    }
    return Estimate(metrics, exact, "M/M/c//N (machine repairman)")


def offered_rates(model: Model) -> dict[str, list[float]]:
    """Requests per second reaching each service, per request class, through the call graph.

    Each call entry sends probability x count x (1 - cache_hit_ratio) requests to its
    callee per request of the caller, whatever its mode.
    """
    classes = model.class_names
    rates = {name: [0.0] * len(classes) for name in model.services}
    for workload in model.workloads:
        total, entry = client_rate(workload), model.target_of(workload)
        for cls, share in zip(workload.class_names, workload.class_shares, strict=True):
            rates[entry][classes.index(cls)] += total * share
    for name in callers_first(model):
        service = model.services[name]
        for index, cls in enumerate(classes):
            for call in service.calls_for(cls):
                rates[call.to][index] += rates[name][index] * call.expected_calls
    return rates


def client_rate(workload: Workload) -> float:
    """Requests per second the clients send: the mean arrival rate (open loop), or at most
    users / mean think time (closed loop). Retries come on top. NaN for a trace."""
    if workload.closed:
        think = mean_of(workload.think_time)
        return math.inf if think == 0 else workload.users / think
    return workload.arrivals.mean_rate


def machine_repairman(
    users: int, think: float, mean: float, c: int, places: int | None = None
) -> QueueMetrics:
    """M/M/c//N: ``users`` who think for an exponential time with mean ``think``, then wait
    for one of ``c`` servers (exponential service, mean ``mean``). With ``places`` (servers +
    waiting room) below ``users``, a request finding it full is refused and its user thinks
    again. W is the response time of accepted requests."""
    k = users if places is None else min(users, places)
    weights = [1.0]
    for n in range(1, k + 1):
        weights.append(weights[-1] * (users - n + 1) / think * mean / min(n, c))
    total = sum(weights)
    p = [w / total for w in weights]
    throughput = sum(pn * min(n, c) / mean for n, pn in enumerate(p))
    tries = sum(pn * (users - n) / think for n, pn in enumerate(p))
    refused = p[k] * (users - k) / think if k < users else 0.0
    big_l = sum(n * pn for n, pn in enumerate(p))
    lq = sum(max(n - c, 0) * pn for n, pn in enumerate(p))
    w = big_l / throughput
    return QueueMetrics(
        refused / tries, w, lq / throughput, big_l, lq, throughput * mean / c, throughput
    )


def callers_first(model: Model) -> list[str]:
    """The services in an order where every caller comes before its callees."""
    callers = {name: set() for name in model.services}
    for name, service in model.services.items():
        for cls in model.class_names:
            for call in service.calls_for(cls):
                callers[call.to].add(name)
    order, done = [], set()
    while len(order) < len(callers):
        ready = [n for n in callers if n not in done and callers[n] <= done]
        order.extend(ready)
        done.update(ready)
    return order


def offered_load(model: Model) -> dict[str, float]:
    """Own-work demand per service as a fraction of what its workers (or cores) can do.

    Sync calls hold workers longer, so the true load is higher: this is a lower bound,
    enough to prove an unbounded queue unstable.
    """
    classes = model.class_names
    loads = {}
    for name, rates in offered_rates(model).items():
        service = model.services[name]
        demand = sum(
            r * service.holding_time(cls, model.mean_size(cls))
            for r, cls in zip(rates, classes, strict=True)
        )
        workers = service.most_workers
        servers = service.most_replicas * min(workers, service.cpus or workers)
        loads[name] = demand / servers
    return loads


def mmck_response_quantile(lam: float, mean: float, c: int, k: int, q: float) -> float:
    """The ``q``-quantile of the response time of accepted requests in M/M/c/K (FIFO).

    An arrival admitted with n in system (PASTA) is served at once when n < c, else after
    m = n - c + 1 departures at rate a = c/mean (an Erlang(m, a) wait), then its own
    exponential service at rate b = 1/mean. The sum's survival is closed: for a > b,
    P(E + S > t) = Q(m, a t) + e^(-b t) (a / (a - b))^m P(m, (a - b) t) with the regularized
    incomplete gamma functions P and Q; for c = 1 (a = b) it is Erlang(m + 1, b)'s, Q(m + 1, b t).
    """
    import numpy as np
    from scipy import optimize, special  # slow to import: only when asked

    if not 0 < q < 1:
        raise ValueError("q must lie strictly between 0 and 1")
    mu = 1 / mean
    p = np.array([math.prod(lam / (min(i, c) * mu) for i in range(1, n + 1)) for n in range(k + 1)])
    p /= p.sum()
    admitted = p[:k] / (1 - p[k])
    waits = np.arange(1, max(k - c, 0) + 1)  # m = n - c + 1 for n = c .. k - 1
    weights = admitted[c:k]
    a, b = c * mu, mu

    def survival(t: float) -> float:
        total = admitted[: min(c, k)].sum() * math.exp(-b * t)
        if waits.size == 0:
            return float(total)
        if c == 1:
            tails = special.gammaincc(waits + 1, b * t)
        else:
            with np.errstate(divide="ignore"):
                log_mix = waits * math.log(a / (a - b)) - b * t
                mix = np.exp(log_mix + np.log(special.gammainc(waits, (a - b) * t)))
            tails = special.gammaincc(waits, a * t) + mix
        return float(total + np.dot(weights, tails))

    upper = mean
    while survival(upper) > 1 - q:
        upper *= 2
    return float(optimize.brentq(lambda t: survival(t) - (1 - q), 0.0, upper, xtol=1e-10))
