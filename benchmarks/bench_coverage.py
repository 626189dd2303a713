"""Coverage of the 95 % intervals: how often they hold the true value, over many seeds.

M/M/2/6 (two workers, four waiting places), whose mean response time, blocking and exact
p99 of the response time are known in closed form. Each seed is one whole run (8
replications of 1,200 s); an honest 95 % interval covers the truth in 93 to 97 % of 200
seeds (the binomial spread of 200 draws at 95 % is 1.5 points).

    python benchmarks/bench_coverage.py [--seeds 200] [--first-seed 0] [--horizon 1200]
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from targets import record

import sim
from sim import analytic

LAM, MEAN, WORKERS, QUEUE = 1.5, 1.0, 2, 4
METRICS = ("latency_mean", "rejection_rate", "latency_p99")


def truth() -> dict[str, float]:
    """The closed-form values of the checked metrics."""
    places = WORKERS + QUEUE
    queue = analytic.mmck(LAM, MEAN, WORKERS, places)
    return {
        "latency_mean": queue.W,
        "rejection_rate": queue.rejection,
        "latency_p99": analytic.mmck_response_quantile(LAM, MEAN, WORKERS, places, 0.99),
    }


def model(seed: int, horizon: float, replications: int) -> sim.Model:
    """The M/M/2/6 model run with ``seed``."""
    return sim.from_dict(
        {
            "horizon": horizon,
            "warmup": 50,
            "replications": replications,
            "seed": seed,
            "workload": {"arrivals": {"process": "poisson", "rate": LAM}},
            "services": {
                "api": {
                    "workers": WORKERS,
                    "queue": QUEUE,
                    "work": {"distribution": "exponential", "mean": MEAN},
                }
            },
        }
    )


def misses(args: tuple[int, float, int]) -> dict[str, str]:
    """For one seed: per metric, 'low' or 'high' when the interval misses the truth, else ''."""
    seed, horizon, replications = args
    results = sim.run(model(seed, horizon, replications), executor="inline", progress=False)
    out = {}
    for metric, value in truth().items():
        row = results.row(metric, "api")
        out[metric] = "high" if row.ci_low > value else "low" if row.ci_high < value else ""
    return out


def coverage(
    seeds: int, horizon: float, replications: int, first: int = 0, workers: int = 2
) -> dict:
    """Per metric: the share of seeds whose interval covers the truth, and the misses."""
    tasks = [(seed, horizon, replications) for seed in range(first, first + seeds)]
    with ProcessPoolExecutor(workers) as pool:
        found = list(pool.map(misses, tasks))
    return {
        metric: {
            "coverage": sum(not f[metric] for f in found) / seeds,
            "low": sum(f[metric] == "low" for f in found),
            "high": sum(f[metric] == "high" for f in found),
        }
        for metric in METRICS
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--horizon", type=float, default=1200.0)
    parser.add_argument("--replications", type=int, default=8)
    parser.add_argument("--first-seed", type=int, default=0)
    args = parser.parse_args()
    print(
        f"M/M/2/6, seeds {args.first_seed} to {args.first_seed + args.seeds - 1}, "
        f"{args.replications} replications x {args.horizon:g}s each"
    )
    found_all = coverage(args.seeds, args.horizon, args.replications, args.first_seed)
    for metric, found in found_all.items():
        print(f"{metric:15s} missed low {found['low']}, high {found['high']}")
        record(f"95 % interval coverage of {metric}, at least", found["coverage"], 0.93, "%", True)
        record(f"95 % interval coverage of {metric}, at most", found["coverage"], 0.97, "%", False)


if __name__ == "__main__":
    main()
