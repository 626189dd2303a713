"""The work behind the engine's CPU-time ratios, counted in instructions: a figure the
machine's speed on the day does not move.

On this shared machine CPU times move by a third from one day to the next, and the
engine's ratios to the minimal SimPy scripts move with them (the controls graph took 1.00x
its script on a fast day and 1.40x on a slow one), though both run on the same
interpreter in the same process. Valgrind's cachegrind runs a program on a simulated
processor and counts the instructions it executes: the same count on any day. For each
program, the instructions of a run of the whole length less those of a run of a moment
(imports, building the model), per request offered.

Cases: M/M/10/30 at 90 requests a second for 20,000 arrivals (the SimPy engine, the
minimal script, Ciw when ``make bench`` installed it), the controls graph at a fifth
of its length (100 s, its database slowed down from 40 s to 52 s; the engine and its
script), and the first minute of the three-tier model (the engine: its figure tracks the
three-tier targets' work). Informational rows: the targets are CPU time (``bench_engine.py``,
``bench_controls.py``). Needs ``valgrind`` (Debian: ``apt-get install valgrind``); skipped
without it. About two minutes on two cores.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import bench_controls as controls  # puts the project on sys.path, for sim below
import bench_engine as station
from targets import record

import sim

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
DEPS = ROOT / "out" / "bench-deps"

MM_ARRIVALS = 20_000
MM_HORIZON = MM_ARRIVALS / station.RATE
CONTROLS_SHARE = 0.2  # of the controls graph's length, its slowdown moved with it
MOMENT = 1.0  # seconds simulated by the run that counts the fixed costs
THREE_TIER = BENCH / "models" / "three_tier.yaml"
THREE_TIER_HORIZON = 60.0  # its first minute, long before its incident

PREAMBLE = f"import sys; sys.path[:0] = [{str(BENCH)!r}, {str(ROOT)!r}]\n"

PROGRAMS = {
    "mm engine": """
import bench_engine as b
from sim.engine.replication import run_replication
model = b.engine_model().model_copy(update={{"engine": "simpy", "horizon": {horizon}}})
run_replication(model, 0, 1)
""",
    "mm script": """
import bench_engine as b
b.HORIZON = {horizon}
b.minimal_script(1)
""",
    "mm ciw": f"""
import ciw
network = ciw.create_network(
    arrival_distributions=[ciw.dists.Exponential(rate={station.RATE})],
    service_distributions=[ciw.dists.Exponential(rate={1 / station.MEAN_WORK})],
    number_of_servers=[{station.WORKERS}],
    queue_capacities=[{station.QUEUE}],
)
ciw.seed(1)
ciw.Simulation(network).simulate_until_max_time({{horizon}})
""",
    "three-tier engine": """
import sim
from sim.engine.replication import run_replication
data = sim.load({model!r}).model_dump(mode="json", exclude_none=True)
run_replication(sim.from_dict({{**data, "horizon": {horizon}, "warmup": {horizon} / 12}}), 0, 1)
""",
    "controls engine": """
import bench_controls as c
from sim.engine.replication import run_replication
c.HORIZON, c.SLOW_FROM, c.SLOW_TO = ({horizon}, {slow_from}, {slow_to})
run_replication(c.controls_model(), 0, 1)
""",
    "controls script": """
import bench_controls as c
c.HORIZON, c.SLOW_FROM, c.SLOW_TO = ({horizon}, {slow_from}, {slow_to})
c.minimal_script(1)
""",
}

REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def _source(name: str, horizon: float) -> str:
    """The program ``name`` simulating ``horizon`` seconds (of its case's time scale)."""
    slow_from, slow_to = controls.SLOW_FROM * CONTROLS_SHARE, controls.SLOW_TO * CONTROLS_SHARE
    body = PROGRAMS[name].format(
        horizon=horizon, slow_from=slow_from, slow_to=slow_to, model=str(THREE_TIER)
    )
    return PREAMBLE + body


def _start(name: str, horizon: float) -> subprocess.Popen[str]:
    command = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        "-c",
        _source(name, horizon),
    ]
    env = {**os.environ, "PYTHONPATH": str(DEPS)} if name == "mm ciw" else None
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
    )


def _instructions(process: subprocess.Popen[str]) -> int:
    _, errors = process.communicate()
    found = REFS.search(errors or "")
    if process.returncode != 0 or found is None:
        raise RuntimeError(f"valgrind failed:\n{(errors or '')[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_request(runs: list[tuple[str, float, float]]) -> dict[str, float]:
    """Instructions per request offered of each ``(program, horizon, requests)``: its
    whole run less its moment (``requests`` are those of the difference), two valgrind
    processes at a time."""
    jobs = [(name, horizon) for name, horizon, _ in runs]
    jobs += [(name, MOMENT) for name, _, _ in runs]
    counts: dict[tuple[str, float], int] = {}
    for first in range(0, len(jobs), 2):
        batch = jobs[first : first + 2]
        started = [(job, _start(*job)) for job in batch]
        for job, process in started:
            counts[job] = _instructions(process)
    return {
        name: (counts[(name, horizon)] - counts[(name, MOMENT)]) / requests
        for name, horizon, requests in runs
    }


def main() -> None:
    """Count, print and record the instruction ratios."""
    if shutil.which("valgrind") is None:
        print("valgrind not installed (Debian: apt-get install valgrind): skipped")
        return
    controls_horizon = controls.HORIZON * CONTROLS_SHARE
    mm_requests = station.RATE * (MM_HORIZON - MOMENT)
    controls_requests = controls.RATE * (controls_horizon - MOMENT)
    arrivals = sim.load(THREE_TIER).workload.arrivals
    three_tier_rate = arrivals.rate  # type: ignore[union-attr]  # Poisson arrivals
    runs = [
        ("mm engine", MM_HORIZON, mm_requests),
        ("mm script", MM_HORIZON, mm_requests),
        ("controls engine", controls_horizon, controls_requests),
        ("controls script", controls_horizon, controls_requests),
        ("three-tier engine", THREE_TIER_HORIZON, three_tier_rate * (THREE_TIER_HORIZON - MOMENT)),
    ]
    if (DEPS / "ciw").exists():
        runs.append(("mm ciw", MM_HORIZON, mm_requests))
    counts = per_request(runs)
    for name, count in counts.items():
        print(f"{name:<16} {count:9,.0f} instructions per request")
    mm = counts["mm engine"] / counts["mm script"]
    graph = counts["controls engine"] / counts["controls script"]
    record("instructions: SimPy engine / minimal script, M/M/10/30", mm, None, "x", False)
    record("instructions: controls graph engine / its script", graph, None, "x", False)
    three = counts["three-tier engine"]
    record("instructions per request: three-tier model, SimPy engine", three, None, "", False)
    if "mm ciw" in counts:
        ciw = counts["mm ciw"] / counts["mm engine"]
        record("instructions: Ciw / SimPy engine, M/M/10/30", ciw, None, "x", True)


if __name__ == "__main__":
    main()
