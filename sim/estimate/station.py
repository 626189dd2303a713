"""One station of the decomposition: ``c`` workers per replica, a waiting room of ``places``
(infinity when unbounded), arrivals of rate ``lam`` with squared coefficient of variation
``ca2``, and holding times of mean ``mean`` and squared coefficient ``cs2``.

Exact where queueing theory is: M/M/c (Erlang C), M/M/c/K, M/G/c/c (Erlang B, whatever
the holding time) and M/G/1 (Pollaczek-Khinchine). Elsewhere the M/M/c wait is scaled by
(ca2 + cs2) / 2 (Allen-Cunneen; Whitt's QNA uses the same factor), and the blocking of a
bounded queue is M/M/c/K's with the same means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.analytic import erlang_c


class Overloaded(ValueError):
    """The offered load reaches the workers of a station with an unbounded queue."""


@dataclass(frozen=True)
class Station:
    """The steady state of one replica's workers and waiting room."""

    utilization: float  # busy workers / workers
    blocking: float  # arrivals refused because every place is taken
    wait_probability: float  # admitted requests that wait for a worker
    wait_mean: float  # mean wait of admitted requests
    queue_mean: float  # time-average number waiting
    departure_scv: float  # of the admitted requests leaving (Whitt's QNA)
    exact: bool
    method: str
    waiting: np.ndarray  # P(n in system | admitted), n = 0 .. K-1 (bounded queues)
    factor: float  # the variability scaling of waits (1 where exact)


def solve(lam: float, mean: float, c: int, places: float, ca2: float, cs2: float) -> Station:
    """The station's steady state; raises Overloaded for an unbounded queue at load >= c."""
    a = lam * mean
    poisson, exponential = abs(ca2 - 1) < 1e-9, abs(cs2 - 1) < 1e-9
    factor = (ca2 + cs2) / 2
    if math.isinf(places):
        if a >= c:
            raise Overloaded(f"offered load {a:.3g} >= {c} workers")
        pw = erlang_c(c, a) if a > 0 else 0.0
        exact = poisson and (exponential or c == 1)
        if poisson and exponential:
            method = "M/M/c (Erlang C)"
        elif exact:
            method = "M/G/1 (Pollaczek-Khinchine)"
        else:
            method = "GI/G/c (Allen-Cunneen)"
        wait = pw * mean / (c - a) * (1.0 if poisson and exponential else factor)
        blocking, waiting = 0.0, np.empty(0)
    else:
        k = c + int(places)
        p = _mmck_distribution(a, c, k)
        blocking = float(p[k])
        waiting = _admitted_finds(p)
        pw = float(waiting[c:].sum())
        if places == 0:
            exact, method = poisson, "M/G/c/c (Erlang B)"
        else:
            exact = poisson and exponential
            method = "M/M/c/K" if exact else "M/M/c/K with the same means, waits scaled"
        if exact:
            factor = 1.0
        # admitted with n >= c in system: n - c + 1 departures at rate c / mean
        wait = float(np.dot(waiting[c:], np.arange(1, k - c + 1))) * mean / c * factor
    admitted = lam * (1 - blocking)
    rho = min(admitted * mean / c, 1.0)
    departure = 1 + (1 - rho**2) * (ca2 - 1) + rho**2 * (cs2 - 1) / math.sqrt(c)
    return Station(
        utilization=rho,
        blocking=blocking,
        wait_probability=pw,
        wait_mean=wait,
        queue_mean=admitted * wait,
        departure_scv=max(departure, 0.0),
        exact=exact,
        method=method,
        waiting=waiting,
        factor=factor if not exact else 1.0,
    )


def _mmck_distribution(a: float, c: int, k: int) -> np.ndarray:
    """P(n in system), n = 0 .. k, of M/M/c/K with offered load ``a`` (by logarithms)."""
    n = np.arange(k + 1)
    if a <= 0:
        return np.asarray(n == 0, dtype=float)
    steps = np.log(a) - np.log(np.minimum(np.maximum(n[1:], 1), c))
    logs = np.concatenate(([0.0], np.cumsum(steps)))
    p = np.exp(logs - logs.max())
    return np.asarray(p / p.sum())


def _admitted_finds(p: np.ndarray) -> np.ndarray:
    """P(n in system | admitted), n = 0 .. K-1, from P(n), n = 0 .. K. Normalised by its
    own sum rather than by 1 - P(K), which cancels to nothing near saturation; when every
    state short of full underflows, an admitted request finds the room all but full."""
    found = p[:-1]
    total = float(found.sum())
    if total > 0:
        return found / total
    nearly_full = np.zeros(found.size)
    nearly_full[-1] = 1.0
    return nearly_full


def wait_samples(
    station: Station, mean: float, c: int, rng: np.random.Generator, n: int
) -> np.ndarray:
    """``n`` waits of admitted requests: exact for M/M/c and M/M/c/K (an Erlang wait
    behind those ahead), scaled by the variability factor elsewhere."""
    if station.waiting.size:  # bounded: the number found on arrival, then an Erlang wait
        return erlang_waits(station.waiting, mean, c, rng, n) * station.factor
    return exponential_waits(station.wait_probability, station.wait_mean, rng, n)


def erlang_waits(
    found: np.ndarray, mean: float, c: int, rng: np.random.Generator, n: int
) -> np.ndarray:
    """``n`` waits of requests that find j in the station with probability ``found[j]``:
    with j >= c, the j - c + 1 departures ahead at rate c / mean (an Erlang wait)."""
    ahead = np.maximum(rng.choice(found.size, size=n, p=found) - c + 1, 0)
    waits = np.zeros(n)
    queued = ahead > 0
    waits[queued] = rng.gamma(ahead[queued], mean / c)
    return waits


def exponential_waits(
    probability: float, mean_wait: float, rng: np.random.Generator, n: int
) -> np.ndarray:
    """``n`` waits: none with 1 - ``probability``, else exponential, ``mean_wait`` overall."""
    waits = np.zeros(n)
    if probability > 0:
        queued = rng.random(n) < probability
        waits[queued] = rng.exponential(mean_wait / probability, queued.sum())
    return waits
