"""Work that stretches with concurrency, per the Universal Scalability Law."""

from __future__ import annotations

import math

import pytest

import sim
from sim.policies.scalability import peak_concurrency, stretch, throughput
from tests.helpers import assert_agrees, exponential

CONTENTION, COHERENCY, WORK = 0.1, 0.01, 0.1


def test_the_law_itself():
    assert stretch(1, 0.3, 0.1) == 1
    assert stretch(8, 0.1, 0.01) == pytest.approx(1 + 0.7 + 0.56)
    assert throughput(8, 0.1, 0.1, 0.01) == pytest.approx(8 / (0.1 * 2.26))
    assert peak_concurrency(0.1, 0.01) == pytest.approx(math.sqrt(90))
    assert peak_concurrency(0.2, 0.0) == math.inf  # contention alone only flattens the curve


def saturated(workers: int) -> sim.Model:
    """Far more traffic than the workers can take: all of them are always busy."""
    return sim.from_dict(
        {
            "horizon": 200,
            "warmup": 20,
            "replications": 10,
            "seed": 5,
            "workload": {"arrivals": {"process": "poisson", "rate": 100}},
            "services": {
                "api": {
                    "workers": workers,
                    "queue": 50,
                    "work": exponential(WORK),
                    "scalability": {"contention": CONTENTION, "coherency": COHERENCY},
                }
            },
        }
    )


@pytest.mark.slow
def test_more_threads_do_less_past_the_peak_as_the_law_says():
    # The peak is at sqrt(0.9 / 0.01) = 9.5 workers: 8 workers serve 35.4 req/s, 16 only
    # 32.7, each what the law gives for the concurrency the workers run at.
    done = {}
    for workers in (8, 16):
        results = sim.run(saturated(workers), executor="inline")
        assert results.engine == "simpy"  # the fast path has no concurrency-dependent work
        expected = throughput(workers, WORK, CONTENTION, COHERENCY)
        assert_agrees(results, "throughput", expected)
        done[workers] = results.get("throughput", "api")
    assert done[16] < done[8]
