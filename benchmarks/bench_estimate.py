"""The instant estimate: how fast, and how close to the simulation.

Speed: ``queuefull estimate`` on every shipped model, in-process CPU per model (the
command's own start-up is measured once, as a fresh process). Accuracy: a seeded battery
of random graphs (``sim.estimate.battery``: 1 to 6 services, sync, async and enqueued
calls, bounded and unbounded queues, busiest service at 30-75 %), each simulated with 4
replications of 600 s; the relative error of the estimate against the simulation's mean,
per metric, over every service. Targets: utilisation within 2 % and mean latency within
15 % (90th percentile of the errors), every shipped model well under a second.

    python benchmarks/bench_estimate.py [--graphs 40]
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from targets import record

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.estimate import NoEstimate, estimate_graph  # noqa: E402
from sim.estimate.battery import random_graph  # noqa: E402

METRICS = ("utilization", "latency_mean", "latency_p99", "queue_depth_mean")


def speed() -> None:
    """CPU per shipped model, and one cold ``queuefull estimate`` process."""
    slowest = 0.0
    for path in sorted((ROOT / "models").glob("*.yaml")):
        model = sim.load(path)
        start = time.process_time()
        try:
            estimate = estimate_graph(model)
        except NoEstimate as exc:
            print(f"  {path.stem:28s} no estimate: {exc}")
            continue
        took = time.process_time() - start
        slowest = max(slowest, took)
        print(f"  {path.stem:28s} {took * 1000:7.1f} ms  {estimate.status}")
    record("estimate, slowest shipped model (CPU)", slowest, 0.5, "s", False)
    cli = [sys.executable, "-m", "sim.cli", "estimate", str(ROOT / "models" / "default.yaml")]
    start = time.perf_counter()
    subprocess.run(cli, check=True, capture_output=True)
    cold = time.perf_counter() - start
    print(f"  queuefull estimate models/default.yaml, a fresh process: {cold:.2f} s")
    record("queuefull estimate, a fresh process (wall)", cold, 1.0, "s", False)


def accuracy(graphs: int) -> dict[str, np.ndarray]:
    """Relative errors per metric over the battery's services."""
    errors: dict[str, list[float]] = {m: [] for m in METRICS}
    for seed in range(graphs):
        model = random_graph(seed)
        estimate = estimate_graph(model)
        results = sim.run(model, executor="inline", progress=False)
        for name in model.services:
            figures = estimate.services[name].metrics
            if figures["utilization"] >= 0.8:
                continue
            for metric in METRICS:
                simulated = results.mean(metric, name)
                floor = 0.1 if metric == "queue_depth_mean" else 0.0
                if math.isfinite(simulated) and abs(simulated) > floor:
                    errors[metric].append(abs(figures[metric] - simulated) / abs(simulated))
    return {m: np.array(v) for m, v in errors.items()}


def main() -> None:
    """Time the estimate on the shipped models, then compare it on the battery."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--graphs", type=int, default=40)
    args = parser.parse_args()
    speed()
    errors = accuracy(args.graphs)
    print(f"battery of {args.graphs} random graphs, relative error against the simulation:")
    for metric, values in errors.items():
        median, p90 = np.median(values), np.percentile(values, 90)
        print(f"  {metric:18s} n={values.size:3d}  median {median:6.2%}  p90 {p90:6.2%}")
    record(
        "estimate vs simulation, utilization (p90 error)",
        np.percentile(errors["utilization"], 90),
        0.02,
        "%",
        False,
    )
    record(
        "estimate vs simulation, latency_mean (p90 error)",
        np.percentile(errors["latency_mean"], 90),
        0.15,
        "%",
        False,
    )


if __name__ == "__main__":
    main()
