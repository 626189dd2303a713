"""Parallel fan-out that completes when k of n copies have answered."""

from __future__ import annotations

import pytest

import sim
from tests.helpers import assert_agrees, exponential

MEAN = 0.05


def fan_out(call: dict, replications: int = 10) -> sim.Model:
    """api (no own work to speak of) fans out to store, which never queues."""
    return sim.from_dict(
        {
            "horizon": 250,
            "warmup": 20,
            "replications": replications,
            "seed": 6,
            "workload": {"arrivals": {"process": "poisson", "rate": 20}},
            "services": {
                "api": {
                    "workers": 100,
                    "work": {"distribution": "constant", "value": 1e-6},
                    "calls": [{"to": "store", "parallel": True, **call}],
                },
                "store": {"workers": 500, "work": exponential(MEAN)},
            },
        }
    )


@pytest.mark.slow
@pytest.mark.parametrize(("count", "quorum"), [(3, 1), (3, 2), (3, 3), (5, 3)])
def test_a_quorum_waits_for_the_kth_fastest_of_n(count, quorum):
    # n exponential responses: the k-th fastest arrives after MEAN x (1/n + ... + 1/(n-k+1))
    results = sim.run(fan_out({"count": count, "quorum": quorum}), executor="inline")
    expected = MEAN * sum(1 / (count - i) for i in range(quorum)) + 1e-6
    assert_agrees(results, "latency_mean", expected)
    # every copy still reaches the store: the slower ones are left running
    assert results.get("offered_rate", "store") == pytest.approx(20 * count, rel=0.03)


def test_a_quorum_needs_parallel_copies():
    with pytest.raises(sim.ModelError, match=r"calls\.0\.quorum: a quorum is of parallel copies"):
        sim.from_dict(
            {
                "horizon": 10,
                "workload": {"arrivals": {"process": "poisson", "rate": 1}},
                "services": {
                    "api": {"work": exponential(0.01), "calls": [{"to": "db", "quorum": 2}]},
                    "db": {"work": exponential(0.01)},
                },
            }
        )
