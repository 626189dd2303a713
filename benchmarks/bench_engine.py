"""Engine speed: the SimPy engine against a minimal hand-written SimPy script of the same
model, the exact fast path in requests per second, and both against Ciw.

M/M/10 with 20 waiting places, 90 arrivals/s, mean work 0.1 s, 200,000 arrivals, one
replication each, CPU time, best of five on the same seed (so the runs differ only by the
machine's noise), paired in the same run. Targets: the engine within 1.0x of the minimal
script; the fast path at least 5M requests/s; 2.5x faster than Ciw with the SimPy engine
and 100x with the fast path. Ciw is an optional benchmark dependency (``make bench``
installs it into out/bench-deps, away from the project's environment); without it its
figures are skipped. A measurement, not a pass/fail test.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import simpy
from targets import best_of, record

import sim
from sim.engine.replication import run_replication

RATE, MEAN_WORK, WORKERS, QUEUE, ARRIVALS = 90.0, 0.1, 10, 20, 200_000
HORIZON = ARRIVALS / RATE


def minimal_script(seed: int) -> tuple[int, int, float]:
    """The smallest honest SimPy model: Resource, reject when full, record latencies."""
    rnd = random.Random(seed)
    env = simpy.Environment()
    workers = simpy.Resource(env, capacity=WORKERS)
    latencies: list[float] = []
    rejected = 0

    def customer(arrived: float):
        nonlocal rejected
        if workers.count >= WORKERS and len(workers.queue) >= QUEUE:
            rejected += 1
            return
        with workers.request() as grant:
            yield grant
            yield env.timeout(rnd.expovariate(1 / MEAN_WORK))
        latencies.append(env.now - arrived)

    def source():
        while True:
            yield env.timeout(rnd.expovariate(RATE))
            env.process(customer(env.now))

    env.process(source())
    env.run(until=HORIZON)
    return len(latencies), rejected, sum(latencies) / len(latencies)


def engine_model() -> sim.Model:
    """The same system as a queuefull model."""
    return sim.from_dict(
        {
            "name": "bench-mm10-k30",
            "horizon": HORIZON,
            "replications": 1,
            "workload": {"arrivals": {"process": "poisson", "rate": RATE}},
            "services": {
                "api": {
                    "workers": WORKERS,
                    "queue": QUEUE,
                    "work": {"distribution": "exponential", "mean": MEAN_WORK},
                }
            },
        }
    )


CIW_SCRIPT = f"""
import time, ciw
network = ciw.create_network(
    arrival_distributions=[ciw.dists.Exponential(rate={RATE})],
    service_distributions=[ciw.dists.Exponential(rate={1 / MEAN_WORK})],
    number_of_servers=[{WORKERS}],
    queue_capacities=[{QUEUE}],
)
best = float("inf")
for _ in range(5):
    ciw.seed(1)  # the same sample path each time, as the engine's: the best is the cost
    simulation = ciw.Simulation(network)
    start = time.process_time()
    simulation.simulate_until_max_time({HORIZON})
    best = min(best, time.process_time() - start)
print(best)
"""


def ciw_seconds() -> float | None:
    """Ciw's best CPU time for the same model, or None when Ciw is not installed."""
    deps = Path(__file__).resolve().parent.parent / "out" / "bench-deps"
    if not (deps / "ciw").exists():
        return None
    env = {**os.environ, "PYTHONPATH": str(deps)}
    done = subprocess.run(
        [sys.executable, "-c", CIW_SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    return float(done.stdout.split()[-1])


def main() -> None:
    """Time the minimal script, both engines and Ciw; record the ratios."""
    model = engine_model()
    simpy_model = model.model_copy(update={"engine": "simpy"})
    run_replication(model.model_copy(update={"horizon": 10.0}), 0, 1)  # compiled, cached
    t_min = best_of(5, lambda: minimal_script(1))
    t_sim = best_of(5, lambda: run_replication(simpy_model, 0, 1))
    t_fast = best_of(7, lambda: run_replication(model, 0, 1))  # short: noisy
    long = model.model_copy(update={"horizon": HORIZON * 50})
    t_long = best_of(3, lambda: run_replication(long, 0, 1))
    print(f"model: M/M/{WORKERS}/{WORKERS + QUEUE}, {ARRIVALS:,} arrivals at {RATE:g}/s")
    print(f"minimal SimPy script : {t_min:6.3f} s CPU")
    print(f"SimPy engine         : {t_sim:6.3f} s CPU")
    print(f"fast path            : {t_fast:6.3f} s CPU")
    print(f"fast path, {ARRIVALS * 50:,} arrivals: {t_long:.3f} s CPU")
    record("SimPy engine / minimal SimPy script (CPU)", t_sim / t_min, 1.0, "x", False)
    rate = ARRIVALS * 50 / t_long
    record("fast path, requests per CPU second (10M arrivals)", rate, 5e6, "req/s", True)
    t_ciw = ciw_seconds()
    if t_ciw is None:
        print("Ciw not installed (make bench installs it): its ratios are skipped")
        return
    print(f"Ciw                  : {t_ciw:6.3f} s CPU")
    record("Ciw / SimPy engine (CPU, same model)", t_ciw / t_sim, 2.5, "x", True)
    record("Ciw / fast path (CPU, same model)", t_ciw / t_fast, 100, "x", True)


if __name__ == "__main__":
    main()
