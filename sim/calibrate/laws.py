"""A service's mean work from what is measured under load, by the operational laws.

- Utilisation law: U = X x S / c, so S = U x c / X (throughput X per second, c workers or
  cores, U their busy share);
- Little's law: N = X x R (requests in service or waiting N, response time R), so the
  concurrency and the latency measured must agree with the throughput;
- S <= R: a request cannot be served for longer than it takes end to end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

CONSISTENT = 0.10
"""Measurements that disagree by more than this (relative) are flagged."""


@dataclass
class Inference:
    """The mean work inferred (seconds, NaN if not enough was given) and the warnings."""

    mean_work: float
    how: str
    warnings: list[str] = field(default_factory=list)


def infer_work(
    throughput: float,
    utilization: float | None = None,
    workers: int | None = None,
    concurrency: float | None = None,
    latency: float | None = None,
) -> Inference:
    """Mean work from throughput with utilisation and workers (the utilisation law; with
    replicas, ``workers`` is all of them), else from throughput and concurrency (requests
    in progress, e.g. ``http.server.active_requests``: by Little's law their mean time in
    the service, which bounds the work from above and equals it when nothing waits). With
    latency too, the numbers are checked against each other."""
    if not throughput > 0:
        raise ValueError("throughput: must be > 0 requests per second")
    warnings = []
    if utilization is not None and not 0 < utilization <= 1:
        warnings.append(f"utilization {utilization:g} is outside (0, 1]: give it as a fraction")
    if utilization is not None and workers is not None:
        work = utilization * workers / throughput
        how = f"utilisation law: {utilization:g} x {workers} workers / {throughput:g} req/s"
    elif concurrency is not None:
        work = concurrency / throughput
        how = (
            f"Little's law: {concurrency:g} in progress / {throughput:g} req/s "
            "(an upper bound: equal to the work only if nothing waits)"
        )
    else:
        return Inference(math.nan, "give utilization and workers, or concurrency", warnings)
    if latency is not None:
        if work > latency * (1 + CONSISTENT):
            warnings.append(
                f"the mean work {work * 1e3:.4g} ms exceeds the latency {latency * 1e3:.4g} ms: "
                "a request cannot be served longer than it takes; check the units and that "
                "all numbers cover the same requests and period"
            )
        if concurrency is not None:
            little = throughput * latency
            if abs(concurrency - little) > CONSISTENT * max(concurrency, little):
                warnings.append(
                    f"Little's law: {throughput:g} req/s x {latency * 1e3:.4g} ms = {little:.4g} "
                    f"requests in the service, but {concurrency:g} were measured: the numbers "
                    "disagree (a different period, sampling, or requests not counted)"
                )
    return Inference(work, how, warnings)
