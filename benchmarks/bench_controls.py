"""The SimPy engine on a graph with overload controls, against a minimal SimPy script of
the same semantics, and the realistic three-tier what-if.

The controls graph: gateway -> api -> db at 200 req/s for 500 s (about 100,000
requests), a token bucket at the gateway, the db call with a timeout, retries with
jittered exponential backoff and a count-based circuit breaker, and a 5x db slowdown
from 200 s to 260 s. Both print their success rate so the two can be seen to agree.
Target: the engine within 1.2x of the script (CPU time, best of three).

The three-tier what-if (benchmarks/models/three_tier.yaml): 6 replications of 900 s.
Target: half the 4 CPU-minutes it used to take. Then the studio's default what-if on that
model (10 points x 3 replications on every core), target a minute of waiting. A
measurement, not a pass/fail test.
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections import deque
from pathlib import Path

import simpy
from targets import best_of, record

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.engine.replication import run_replication  # noqa: E402
from sim.studio.knobs import knob_map  # noqa: E402

RATE, HORIZON = 200.0, 500.0
TOKENS_PER_S, BURST = 190.0, 40.0
SERVICES = {"gateway": (20, 50, 0.002), "api": (30, 60, 0.01), "db": (10, 40, 0.03)}
SLOW_FROM, SLOW_TO, SLOWDOWN = 200.0, 260.0, 5.0
TIMEOUT, ATTEMPTS, BASE, MULTIPLIER, CAP = 0.25, 3, 0.02, 2.0, 0.2
WINDOW, THRESHOLD, MIN_CALLS, OPEN_FOR, HALF_OPEN_CALLS = 50, 0.5, 20, 5.0, 5


def minimal_script(seed: int) -> float:
    """The same graph by hand: Resources, a bucket, a breaker; returns the success rate."""
    rnd, env = random.Random(seed), simpy.Environment()
    pools = {name: simpy.Resource(env, w) for name, (w, _, _) in SERVICES.items()}
    bucket = {"tokens": BURST, "at": 0.0}
    breaker = {"state": "closed", "since": 0.0, "results": deque(maxlen=WINDOW), "trial": 0}
    done = {"ok": 0, "all": 0}

    def serve(name: str):  # queue check, a worker, own work; then the caller's part
        workers, queue, mean = SERVICES[name]
        pool = pools[name]
        if pool.count >= workers and len(pool.queue) >= queue:
            return None
        request = pool.request()
        yield request
        work = rnd.expovariate(1 / mean)
        if name == "db" and SLOW_FROM <= env.now < SLOW_TO:
            work *= SLOWDOWN
        yield env.timeout(work)
        return request

    def db():
        request = yield from serve("db")
        if request is None:
            return False
        pools["db"].release(request)
        return True

    def allowed() -> bool:
        if breaker["state"] == "open" and env.now - breaker["since"] >= OPEN_FOR:
            breaker.update(state="half", trial=0)
            breaker["results"].clear()
        half = breaker["state"] == "half"
        if breaker["state"] == "open" or (half and breaker["trial"] >= HALF_OPEN_CALLS):
            return False
        breaker["trial"] += half
        return True

    def judge(ok: bool) -> None:
        results = breaker["results"]
        results.append(ok)
        enough = HALF_OPEN_CALLS if breaker["state"] == "half" else MIN_CALLS
        if len(results) >= enough:
            failing = results.count(False) / len(results) >= THRESHOLD
            if failing or breaker["state"] == "half":
                breaker.update(state="open" if failing else "closed", since=env.now)
                results.clear()

    def call_db():
        for attempt in range(ATTEMPTS):
            if allowed():
                response = env.process(db())
                yield response | env.timeout(TIMEOUT)
                ok = response.triggered and response.value
                judge(ok)
                if ok:
                    return True
            if attempt + 1 < ATTEMPTS:
                yield env.timeout(rnd.uniform(0, min(CAP, BASE * MULTIPLIER**attempt)))
        return False

    def api():
        request = yield from serve("api")
        if request is None:
            return False
        ok = yield from call_db()
        pools["api"].release(request)
        return ok

    def gateway():
        now = env.now
        bucket["tokens"] = min(BURST, bucket["tokens"] + (now - bucket["at"]) * TOKENS_PER_S)
        bucket["at"] = now
        done["all"] += 1
        if bucket["tokens"] < 1:
            return
        bucket["tokens"] -= 1
        request = yield from serve("gateway")
        if request is None:
            return
        ok = yield from api()
        pools["gateway"].release(request)
        done["ok"] += ok

    def source():
        while True:
            yield env.timeout(rnd.expovariate(RATE))
            env.process(gateway())

    env.process(source())
    env.run(until=HORIZON)
    return done["ok"] / done["all"]


def controls_model() -> sim.Model:
    """The same graph as a queuefull model."""
    services = {
        name: {
            "workers": workers,
            "queue": queue,
            "work": {"distribution": "exponential", "mean": mean},
        }
        for name, (workers, queue, mean) in SERVICES.items()
    }
    services["gateway"]["rate_limit"] = {
        "kind": "token_bucket",
        "rate": TOKENS_PER_S,
        "burst": BURST,
    }
    services["gateway"]["calls"] = [{"to": "api"}]
    services["api"]["calls"] = [
        {
            "to": "db",
            "timeout": TIMEOUT,
            "retries": {
                "max_attempts": ATTEMPTS,
                "base": BASE,
                "multiplier": MULTIPLIER,
                "cap": CAP,
                "jitter": "full",
            },
            "circuit_breaker": {
                "failure_rate_threshold": THRESHOLD * 100,
                "sliding_window_size": WINDOW,
                "minimum_number_of_calls": MIN_CALLS,
                "wait_duration_in_open_state": OPEN_FOR,
                "permitted_number_of_calls_in_half_open_state": HALF_OPEN_CALLS,
            },
        }
    ]
    services["db"]["incidents"] = [{"start": SLOW_FROM, "end": SLOW_TO, "slowdown": SLOWDOWN}]
    return sim.from_dict(
        {
            "name": "bench-controls",
            "horizon": HORIZON,
            "replications": 1,
            "workload": {"arrivals": {"process": "poisson", "rate": RATE}},
            "services": services,
        }
    )


def main() -> None:
    """Time the controls graph both ways, then the three-tier what-if."""
    model = controls_model()
    t_min = best_of(3, lambda: minimal_script(1))
    t_sim = best_of(3, lambda: run_replication(model, 0, 1))
    success = run_replication(model, 0, 1).metrics["all"]["success_rate"]
    print(f"controls graph, {RATE * HORIZON:,.0f} requests")
    print(f"minimal SimPy script : {t_min:6.2f} s CPU (success {minimal_script(1):.3f})")
    print(f"SimPy engine         : {t_sim:6.2f} s CPU (success {success:.3f})")
    record("controls graph: SimPy engine / minimal script (CPU)", t_sim / t_min, 1.2, "x", False)
    three = sim.load(ROOT / "benchmarks" / "models" / "three_tier.yaml")
    start = time.process_time()
    for replication in range(three.replications):
        run_replication(three, replication, three.seed)
    cpu = time.process_time() - start
    print(f"three-tier what-if, 6 x 900 s: {cpu:.0f} s CPU")
    record("three-tier what-if, 6 replications x 900 s (CPU)", cpu, 120, "s", False)
    first, wall = studio_whatif_seconds(three)
    print(
        f"the studio's default what-if on it, 10 points x 3 replications: {wall:.0f} s wall, "
        f"every point's first replication shown after {first:.0f} s"
    )
    record("studio's default what-if on the three-tier model (wall)", wall, 60, "s", False)
    record("  its first curve: every point's first replication (wall)", first, None, "s", False)


def studio_whatif_seconds(model: sim.Model) -> tuple[float, float]:
    """Wall times of the sweep the studio's What-if tab runs by default (the entry's
    workers over ten points of their knob's span, three replications each, on every
    core): until the page shows every point's first replication, and until the end."""
    knob = knob_map(model)["services.gateway.workers"]
    values = sorted({knob.clamp(value) for value in knob.span(10)})
    shown: list[float] = []
    start = time.perf_counter()
    sim.sweep(
        model,
        vary={knob.path: values},
        replications=3,
        budget=math.inf,
        progress=False,
        partial=lambda _: shown.append(time.perf_counter() - start),
    )
    wall = time.perf_counter() - start
    return (shown[0] if shown else wall), wall


if __name__ == "__main__":
    main()
