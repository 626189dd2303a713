"""Shared test helpers: model builders, and agreement with theory judged by intervals."""

from __future__ import annotations

from typing import Any

import numpy as np

import sim
from sim.measure.stats import half_width

# Statistical checks use a 99.9 % Student-t interval of the replication means: seeds are
# fixed, so a check cannot flake, and this level keeps a correct engine from failing by
# the 1-in-20 chance a 95 % interval would allow across the many checks of the suite.
CHECK_CONFIDENCE = 0.999


def single_service(
    rate: float,
    work: dict[str, Any],
    workers: int = 1,
    queue: int | str = "unbounded",
    replicas: int = 1,
    horizon: float = 2000.0,
    warmup: float = 200.0,
    replications: int = 10,
    seed: int = 1,
    arrivals: str = "poisson",
    engine: str = "auto",
) -> sim.Model:
    """One service fed by open-loop arrivals."""
    return sim.from_dict(
        {
            "name": "test",
            "engine": engine,
            "horizon": horizon,
            "warmup": warmup,
            "replications": replications,
            "seed": seed,
            "workload": {"arrivals": {"process": arrivals, "rate": rate}},
            "services": {
                "api": {"replicas": replicas, "workers": workers, "queue": queue, "work": work}
            },
        }
    )


def exponential(mean: float) -> dict[str, Any]:
    """An exponential work spec."""
    return {"distribution": "exponential", "mean": mean}


def assert_agrees(results: sim.Results, metric: str, expected: float, service: str = "api") -> None:
    """Theory lies inside the 99.9 % interval of the replication values of ``metric``."""
    values = results.values(metric, service)
    values = values[~np.isnan(values)]
    mean = float(values.mean())
    # A deterministic quantity has a zero-width interval: allow float rounding only.
    half = max(half_width(values, CHECK_CONFIDENCE), 1e-9 * max(1.0, abs(expected)))
    assert abs(mean - expected) <= half, (
        f"{service}.{metric}: simulated {mean:.6g} +/- {half:.3g} (99.9 % CI), "
        f"theory {expected:.6g}"
    )


def assert_littles_law(results: sim.Results, service: str = "api") -> None:
    """L = X W per replication, up to the edge effect of requests straddling the window.

    Only requests in system at the window's edges (N(w) at the start, N(T) at the end) are
    counted by one side and not the other, each for at most the longest latency, so
    |L - X W| <= 2 (N(w) + N(T)) max_latency / window: a bound, not a tuned tolerance.
    """
    model = results.model
    window = model.horizon - model.warmup
    for rep in range(results.replications):
        frame = results.per_replication
        of = frame[(frame.replication == rep) & (frame.service == service)]
        m = dict(zip(of.metric, of.value, strict=True))
        little = m["throughput"] * m["latency_mean"]
        edge = 2 * (m["in_system_start"] + m["in_system_end"]) * m["latency_max"] / window
        assert abs(m["in_system_mean"] - little) <= edge + 1e-9, (
            f"{service} rep {rep}: L={m['in_system_mean']:.4f} vs XW={little:.4f} (edge {edge:.4f})"
        )


def graph(
    services: dict[str, Any],
    rate: float,
    horizon: float = 1000,
    warmup: float = 100,
    replications: int = 8,
    seed: int = 3,
    **extra: Any,
) -> sim.Model:
    """A model from a services mapping, fed by Poisson arrivals."""
    return sim.from_dict(
        {
            "horizon": horizon,
            "warmup": warmup,
            "replications": replications,
            "seed": seed,
            "workload": {
                "arrivals": {"process": "poisson", "rate": rate},
                **extra.pop("workload", {}),
            },
            "services": services,
            **extra,
        }
    )


def constant(value: float) -> dict[str, Any]:
    """A constant work spec."""
    return {"distribution": "constant", "value": value}


def per_rep(res: sim.Results, service: str) -> list[dict[str, float]]:
    """Each replication's metrics of ``service`` as a dict."""
    frame = res.per_replication[res.per_replication.service == service]
    return [dict(zip(g.metric, g.value, strict=True)) for _, g in frame.groupby("replication")]


def one(service: dict[str, Any], rate: float, process: str = "poisson", **extra: Any):
    """A single-service model."""
    return graph(
        {"api": service},
        rate=rate,
        workload={"arrivals": {"process": process, "rate": rate}, **extra.pop("workload", {})},
        **extra,
    )
