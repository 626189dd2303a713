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


def _one_worker_store(cancel: bool) -> sim.Model:
    """Three copies, quorum 1, to a store with one FIFO worker: a request's copies queue one
    behind the other. When the first answers, the worker has already taken the second (at
    the same instant, before any cancellation could reach it); the third still waits."""
    call = {"to": "store", "parallel": True, "count": 3, "quorum": 1, "cancel_rest": cancel}
    return sim.from_dict(
        {
            "horizon": 600,
            "warmup": 60,
            "replications": 5,
            "seed": 8,
            "workload": {"arrivals": {"process": "poisson", "rate": 5}},
            "services": {
                "api": {
                    "workers": 100,
                    "work": {"distribution": "constant", "value": 1e-6},
                    "calls": [call],
                },
                "store": {"workers": 1, "queue": "unbounded", "work": exponential(MEAN)},
            },
        }
    )


def test_cancelled_copies_are_dropped_when_a_worker_would_pick_them_up():
    """Cancelled, the third copy costs the store nothing: utilisation is 2 x 5 x 50 ms =
    0.5 and a third of its arrivals are dropped; left running, it serves all three (0.75)."""
    cancelled = sim.run(_one_worker_store(True), executor="inline")
    assert_agrees(cancelled, "utilization", 2 * 5 * MEAN, "store")
    assert cancelled.mean("timeout_rate", "store") == pytest.approx(1 / 3, abs=0.002)
    assert cancelled.mean("success_rate") == 1.0
    running = sim.run(_one_worker_store(False), executor="inline")
    assert_agrees(running, "utilization", 3 * 5 * MEAN, "store")
    assert running.mean("timeout_rate", "store") == 0.0


def test_cancel_rest_goes_with_a_quorum():
    with pytest.raises(sim.ModelError, match=r"calls\.0\.cancel_rest: goes with quorum"):
        sim.from_dict(
            {
                "horizon": 10,
                "workload": {"arrivals": {"process": "poisson", "rate": 1}},
                "services": {
                    "api": {
                        "work": exponential(0.01),
                        "calls": [{"to": "db", "parallel": True, "cancel_rest": True}],
                    },
                    "db": {"work": exponential(0.01)},
                },
            }
        )
