"""Replica-level models: GC pauses, CPU cores shared by threads, Java thread pools."""

from __future__ import annotations

import pytest

import sim
from sim import analytic
from tests.helpers import assert_agrees, assert_littles_law, exponential, single_service


def with_service(model: sim.Model, **fields) -> sim.Model:
    data = model.model_dump(mode="json", exclude_none=True)
    return sim.from_dict(
        sim.apply_overrides(data, {f"services.api.{k}": v for k, v in fields.items()})
    )


CONSTANT_100MS = {"distribution": "constant", "value": 0.1}


@pytest.mark.slow
def test_timed_gc_pauses_cost_exactly_their_share_of_capacity():
    # Saturated single worker, constant 50 ms work: 20 req/s when never paused.
    base = single_service(
        40.0,
        {"distribution": "constant", "value": 0.05},
        queue=10,
        horizon=1000,
        warmup=100,
        replications=4,
    )
    model = with_service(base, gc={"interval": 0.9, "pause": CONSTANT_100MS})
    res = sim.run(model)
    paused = 0.1 / (0.9 + 0.1)
    assert_agrees(res, "gc_paused_fraction", paused)
    assert_agrees(res, "throughput", 20.0 * (1 - paused))
    assert_littles_law(res)


@pytest.mark.slow
@pytest.mark.parametrize("rate", [20.0, 60.0])
def test_allocation_driven_gc_collects_more_often_under_load(rate):
    # 1 MB per request into a 100 MB young generation: a collection every 100 requests.
    base = single_service(
        rate, exponential(0.01), workers=10, queue=100, horizon=1000, replications=6
    )
    model = with_service(
        base,
        gc={
            "alloc_per_request": 1e6,
            "young_gen": 1e8,
            "pause": {"distribution": "constant", "value": 0.05},
        },
    )
    res = sim.run(model)
    assert_agrees(res, "gc_paused_fraction", rate / 100 * 0.05)


def test_gc_freezes_own_work_but_not_arrivals():
    base = single_service(
        5.0,
        {"distribution": "constant", "value": 0.01},
        workers=4,
        queue=100,
        horizon=600,
        replications=2,
    )
    model = with_service(
        base, gc={"interval": 9.0, "pause": {"distribution": "constant", "value": 1.0}}
    )
    res = sim.run(model)
    # a request caught by a 1 s pause waits it out; some arrive during it and queue
    assert res.get("latency_p999", "api") > 0.9
    assert res.get("queue_depth_max", "api") >= 4
    assert res.get("rejection_rate", "api") == 0


@pytest.mark.slow
def test_pauses_grow_with_requests_held():
    base = single_service(
        60.0, exponential(0.01), workers=2, queue=200, horizon=600, replications=3
    )
    flat = with_service(
        base,
        gc={
            "alloc_per_request": 1e6,
            "young_gen": 5e7,
            "pause": {"distribution": "constant", "value": 0.02},
        },
    )
    spiral = with_service(
        base,
        gc={
            "alloc_per_request": 1e6,
            "young_gen": 5e7,
            "pause": {"distribution": "constant", "value": 0.02},
            "pause_per_held_request": 0.005,
        },
    )
    a, b = sim.run(flat), sim.run(spiral)
    assert b.get("gc_paused_fraction", "api") > 1.25 * a.get("gc_paused_fraction", "api")
    assert b.get("latency_p99", "api") > a.get("latency_p99", "api")


@pytest.mark.slow
def test_cpu_shared_by_threads_is_processor_sharing():
    # 4 threads on 1 core with exponential work: the number in system is M/M/1's, so the
    # mean response is M/M/1's too; every request in service runs at 1/n speed.
    base = single_service(6.0, exponential(0.1), workers=4, horizon=3000, replications=8)
    res = sim.run(with_service(base, cpus=1))
    assert_agrees(res, "latency_mean", analytic.mmc(6.0, 0.1, 1).W)
    assert_agrees(res, "cpu_utilization", 0.6)
    assert res.get("utilization", "api") > 0.6 / 4 * 1.5  # threads busy longer than the core
    assert_littles_law(res)


@pytest.mark.slow
def test_as_many_cores_as_threads_changes_nothing():
    base = single_service(15.0, exponential(0.1), workers=2, horizon=2000, replications=8)
    res = sim.run(with_service(base, cpus=2))
    assert_agrees(res, "latency_mean", analytic.mmc(15.0, 0.1, 2).W)


def test_thread_pool_grows_past_core_only_when_the_queue_is_full():
    model = sim.from_dict(
        {
            "horizon": 400,
            "warmup": 50,
            "replications": 3,
            "workload": {"arrivals": {"process": "poisson", "rate": 50.0}},
            "services": {
                "api": {
                    "queue": 4,
                    "work": exponential(0.1),
                    "pool": {"core": 2, "max": 6, "keep_alive": 30},
                }
            },
        }
    )
    res = sim.run(model)
    assert res.get("utilization", "api") * 6 > 4  # well past the 2 core threads
    assert res.get("queue_depth_max", "api") == 4
    assert res.get("rejected_queue_full", "api") > 0


def test_thread_pool_with_an_unbounded_queue_never_passes_core():
    model = sim.from_dict(
        {
            "horizon": 1500,
            "warmup": 100,
            "replications": 4,
            "seed": 5,
            "workload": {"arrivals": {"process": "poisson", "rate": 15.0}},
            "services": {
                "api": {
                    "queue": "unbounded",
                    "work": exponential(0.1),
                    "pool": {"core": 2, "max": 50},
                }
            },
        }
    )
    res = sim.run(model)
    # an M/M/2 in disguise: Java's LinkedBlockingQueue gotcha
    assert_agrees(res, "latency_mean", analytic.mmc(15.0, 0.1, 2).W)
    assert_agrees(res, "utilization", 1.5 / 50)
