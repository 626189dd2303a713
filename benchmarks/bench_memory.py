"""Peak memory of one long replication, and what folding records into histograms costs in
accuracy.

The M/M/10/30 model of bench_engine, run for 10M requests on the SimPy engine and for
10M and 100M on the fast path, each in a fresh process (peak RSS of the whole process,
interpreter and libraries included). Target: within 300 MB at 10M and at 100M. The 10M
run is repeated with folding switched off: counts must be identical and the latency
percentiles within 0.5 %. ``--long`` adds 100M requests on the SimPy engine (about a
quarter of an hour). A measurement, not a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from targets import record

TARGET_MB = 300
RATE = 90.0

CHILD = """
import json, resource, sys, time
import sim
from sim.engine.replication import run_replication
from sim.measure import recorders
requests, engine, fold = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "fold"
if not fold:
    recorders.FOLD_AT = 1 << 62
model = sim.from_dict({
    "horizon": requests / RATE, "replications": 1, "engine": engine,
    "workload": {"arrivals": {"process": "poisson", "rate": RATE}},
    "services": {"api": {"workers": 10, "queue": 20,
                         "work": {"distribution": "exponential", "mean": 0.1}}},
})
start = time.process_time()
metrics = run_replication(model, 0, 1).metrics["api"]
print(json.dumps({
    "cpu": time.process_time() - start,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    **{k: metrics[k] for k in ("arrivals", "completed", "rejected",
                               "latency_p50", "latency_p99", "latency_p999")},
}))
""".replace("RATE", repr(RATE))


def replication(requests: int, engine: str, fold: bool = True) -> dict[str, float]:
    """Run one replication in a fresh process; its CPU time, peak RSS and figures."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(requests), engine, "fold" if fold else "raw"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    """Measure and record each case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", action="store_true", help="also 100M on the SimPy engine")
    args = parser.parse_args()
    cases = [(10_000_000, "simpy"), (10_000_000, "fast"), (100_000_000, "fast")]
    if args.long:
        cases.append((100_000_000, "simpy"))
    for requests, engine in cases:
        out = replication(requests, engine)
        print(
            f"{engine:>5} {requests:>12,} requests: {out['cpu']:7.1f} s CPU, {out['rss_mb']:.0f} MB"
        )
        label = f"peak RSS, {requests // 1_000_000}M requests, {engine} engine"
        record(label, out["rss_mb"], TARGET_MB, "MB", False)
    folded = replication(10_000_000, "fast")
    exact = replication(10_000_000, "fast", fold=False)
    same = all(folded[k] == exact[k] for k in ("arrivals", "completed", "rejected"))
    print(f"counts identical with and without folding: {same}")
    error = max(
        abs(folded[k] / exact[k] - 1) for k in ("latency_p50", "latency_p99", "latency_p999")
    )
    record("worst percentile error of folded records, 10M requests", error, 0.005, "%", False)
    if not same:
        record("folded counts identical (1 = yes)", 0, 1, "", True)


if __name__ == "__main__":
    main()
