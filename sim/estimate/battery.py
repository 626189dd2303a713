"""Random service graphs for checking the estimate against the simulation: 1 to 6 services,
sync, async and enqueue calls (probabilities, fan-out, parallel groups), bounded and
unbounded queues, several work distributions, at a moderate load.

Used by the accuracy benchmark (``benchmarks/bench_estimate.py``) and its test; every graph
is a function of its seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import sim
from sim.estimate.graph import estimate_graph

WORK = ("exponential", "lognormal", "gamma", "constant")


def random_graph(seed: int, utilization: float | None = None) -> sim.Model:
    """The graph of ``seed``, its arrival rate set so that the busiest service's estimated
    utilization is ``utilization`` (drawn from 0.3 to 0.75 when None)."""
    rng = np.random.default_rng(seed)
    count = int(rng.integers(1, 7))
    services: dict[str, dict[str, Any]] = {}
    for i in range(count):
        spec: dict[str, Any] = {
            "workers": int(rng.integers(1, 9)),
            "queue": "unbounded" if rng.random() < 0.5 else int(rng.integers(5, 60)),
            "work": _work(rng),
        }
        callees = [j for j in range(i + 1, count) if rng.random() < 0.6]
        calls = []
        for j in callees:
            call: dict[str, Any] = {
                "to": f"s{j}",
                "mode": str(rng.choice(["sync", "async", "enqueue"], p=[0.6, 0.25, 0.15])),
            }
            if rng.random() < 0.3:
                call["probability"] = round(float(rng.uniform(0.3, 1.0)), 2)
            if rng.random() < 0.2 and call["mode"] != "enqueue":
                call["count"] = 2
                call["parallel"] = bool(rng.random() < 0.5)
            calls.append(call)
        if calls:
            spec["calls"] = calls
        services[f"s{i}"] = spec
    data: dict[str, Any] = {
        "name": f"battery-{seed}",
        "horizon": 600,
        "warmup": 60,
        "replications": 4,
        "seed": seed,
        "engine": "simpy",
        "workload": {"arrivals": {"process": "poisson", "rate": 10.0}},
        "services": services,
    }
    target = utilization if utilization is not None else float(rng.uniform(0.3, 0.75))
    for _ in range(3):  # utilization is close to linear in the rate at moderate loads
        busiest = _busiest(sim.from_dict(data))
        data["workload"]["arrivals"]["rate"] *= target / busiest
    return sim.from_dict(data)


def _work(rng: np.random.Generator) -> dict[str, Any]:
    mean = round(float(rng.uniform(0.005, 0.05)), 4)
    kind = str(rng.choice(WORK))
    if kind == "exponential":
        return {"distribution": "exponential", "mean": mean}
    if kind == "constant":
        return {"distribution": "constant", "value": mean}
    return {"distribution": kind, "mean": mean, "cv": round(float(rng.uniform(0.5, 1.5)), 2)}


def _busiest(model: sim.Model) -> float:
    figures = estimate_graph(model).services
    return max(figures[name].metrics["utilization"] for name in model.services)
