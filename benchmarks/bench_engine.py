"""Engine speed against a minimal hand-written SimPy script of the same model.

M/M/10 with 20 waiting places, 90 arrivals/s, mean work 0.1 s, 200,000 arrivals, one
replication each, best of three. Target: the engine within 1.5x of the minimal script.
Also the peak memory of one replication (tracemalloc), per arrival. Run with ``make bench``;
this is a measurement, not a pass/fail test.
"""

from __future__ import annotations

import random
import time
import tracemalloc

import simpy

import sim

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


def best_of(repeats: int, fn) -> float:
    """Fastest wall time of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Time both and print the ratio."""
    model = engine_model()
    t_min = best_of(3, lambda: minimal_script(1))
    t_sim = best_of(3, lambda: sim.run(model, seed=1))
    _, _, mean = minimal_script(1)
    res = sim.run(model, seed=1)
    print(f"model: M/M/{WORKERS}/{WORKERS + QUEUE}, {ARRIVALS:,} arrivals at {RATE:g}/s")
    print(f"minimal SimPy script : {t_min:6.2f} s  (latency_mean {mean:.4f} s)")
    print(f"queuefull engine     : {t_sim:6.2f} s  (latency_mean {res.get('latency_mean'):.4f} s)")
    print(f"ratio engine/minimal : {t_sim / t_min:6.2f}x   (target <= 1.5x)")
    tracemalloc.start()
    sim.run(model, seed=1, executor="inline")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"peak memory          : {peak / 2**20:6.1f} MiB  ({peak / ARRIVALS:.0f} bytes/arrival)")


if __name__ == "__main__":
    main()
