"""Parallel efficiency of a sweep: a 20-point x 5-replication sweep of the default model
(300 s each) on the SimPy engine, run in this process and then on every core, the better
of two runs each (a sweep now takes seconds, so a busy second on the machine would move a
single run's figure). Efficiency = serial time / (cores x parallel time); target at least
85 % on two cores, with results identical to the serial run. The same sweep on the exact
fast path takes about two seconds in all, too little for the cores to matter; its times
are printed for reference.
Run with ``make bench``; a measurement, not a pass/fail test.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
from targets import record  # noqa: E402

import sim  # noqa: E402

TARGET = 0.85
RATES = [60 + 2 * i for i in range(20)]


def timed_sweep(executor: str, engine: str = "simpy") -> tuple[float, pd.DataFrame]:
    """Wall seconds of the sweep on ``executor``, and its table."""
    overrides = {"horizon": 300, "warmup": 30, "engine": engine}
    model = sim.load(ROOT / "models" / "default.yaml", overrides)
    start = time.perf_counter()
    table = sim.sweep(
        model,
        {"workload.arrivals.rate": RATES},
        replications=5,
        executor=executor,
        progress=False,
    )
    return time.perf_counter() - start, table


def main() -> None:
    """Print the serial and parallel times, the efficiency and whether results match."""
    cores = os.cpu_count() or 1
    timed_sweep("processes")  # start the pool once, as a long session would have it
    serial, first = min((timed_sweep("inline") for _ in range(2)), key=lambda run: run[0])
    parallel, second = min((timed_sweep("processes") for _ in range(2)), key=lambda run: run[0])
    efficiency = serial / (cores * parallel)
    same = first.equals(second)
    print(f"20 points x 5 replications, {cores} cores")
    print(f"serial   : {serial:6.2f} s")
    print(f"parallel : {parallel:6.2f} s")
    print(f"results identical to the serial run: {same}")
    fast_serial, _ = timed_sweep("inline", "fast")
    fast_parallel, _ = timed_sweep("processes", "fast")
    print(f"on the fast path: serial {fast_serial:.2f} s, parallel {fast_parallel:.2f} s")
    record(f"parallel efficiency, 20 x 5 sweep on {cores} cores", efficiency, TARGET, "%", True)
    if not same:
        record("parallel results identical to serial (1 = yes)", 0, 1, "", True)


if __name__ == "__main__":
    main()
