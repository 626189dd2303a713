"""Gunther's Universal Scalability Law: work that stretches as more requests run at once.

With N requests in service on one replica, contention (sigma: waiting for a shared,
serialised resource such as a lock or a connection) and coherency (kappa: keeping shared
data consistent between them, the crosstalk that grows with every pair) stretch each
one's work by ``1 + sigma (N - 1) + kappa N (N - 1)``. Throughput at concurrency N is
then ``N / (S x that)`` for work S: it rises, peaks at ``sqrt((1 - sigma) / kappa)`` and,
with any coherency cost, falls again (more threads, less done).
"""

from __future__ import annotations

import math


def stretch(concurrency: int, contention: float, coherency: float) -> float:
    """How many times longer a request's work takes with ``concurrency`` in service."""
    n = max(concurrency, 1)
    return 1 + contention * (n - 1) + coherency * n * (n - 1)


def throughput(concurrency: int, work: float, contention: float, coherency: float) -> float:
    """Requests per second with ``concurrency`` always in service, each of mean ``work``."""
    n = max(concurrency, 1)
    return n / (work * stretch(n, contention, coherency))


def peak_concurrency(contention: float, coherency: float) -> float:
    """The concurrency where throughput peaks (infinity without coherency cost)."""
    if coherency <= 0:
        return math.inf
    return math.sqrt((1 - contention) / coherency)
