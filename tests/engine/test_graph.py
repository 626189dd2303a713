"""Service graphs: calls and their modes, pools, classes, incidents, deadlines, balancers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import sim
from sim import analytic
from tests.helpers import assert_agrees, assert_littles_law, constant, exponential, graph, per_rep


@pytest.mark.slow
def test_async_tandem_is_a_jackson_network():
    lam = 20.0
    model = graph(
        {
            "a": {
                "workers": 2,
                "queue": "unbounded",
                "work": exponential(0.08),
                "calls": [{"to": "b", "mode": "async"}],
            },
            "b": {
                "workers": 1,
                "queue": "unbounded",
                "work": exponential(0.03),
                "calls": [{"to": "c", "mode": "async"}],
            },
            "c": {"workers": 3, "queue": "unbounded", "work": exponential(0.12)},
        },
        rate=lam,
        horizon=2000,
        warmup=200,
        replications=10,
    )
    res = sim.run(model)
    stations = [analytic.mmc(lam, 0.08, 2), analytic.mmc(lam, 0.03, 1), analytic.mmc(lam, 0.12, 3)]
    assert_agrees(res, "latency_mean", sum(s.W for s in stations), service="all")
    # each service's latency includes everything downstream of it
    assert_agrees(res, "latency_mean", stations[2].W, service="c")
    assert_agrees(res, "latency_mean", stations[1].W + stations[2].W, service="b")
    # worker time is own work only: async frees the worker during the call
    assert_agrees(res, "utilization", lam * 0.08 / 2, service="a")
    for service in ("a", "b", "c"):
        assert_littles_law(res, service)


@pytest.mark.slow
def test_sync_call_holds_the_callers_worker_for_the_callees_response():
    lam = 10.0
    model = graph(
        {
            "api": {
                "workers": 8,
                "queue": "unbounded",
                "work": exponential(0.05),
                "calls": [{"to": "db", "mode": "sync"}],
            },
            "db": {"workers": 2, "queue": "unbounded", "work": exponential(0.1)},
        },
        rate=lam,
        horizon=1500,
    )
    res = sim.run(model)
    db_response = analytic.mmc(lam, 0.1, 2).W
    # busy workers = rate x (own work + callee response), by Little's law on the pool
    assert_agrees(res, "utilization", lam * (0.05 + db_response) / 8, service="api")
    assert_agrees(res, "call_latency_mean", db_response, service="api->db")
    assert_littles_law(res, "api")


@pytest.mark.slow
def test_slow_callee_makes_the_caller_reject_while_it_rejects_nothing():
    res = sim.run(sim.load("models/slow_database.yaml", {"replications": 3, "horizon": 500}))
    assert res.get("rejected_queue_full", "gateway") > 0.01
    for quiet in ("api", "db"):
        assert res.get("rejection_rate", quiet) == 0
    ts = res.timeseries[res.timeseries.service == "gateway"]
    before = ts[(ts.time >= 100) & (ts.time < 290)]
    during = ts[(ts.time >= 310) & (ts.time < 410)]
    after = ts[ts.time >= 440]
    assert before.rejections.max() == 0 and after.rejections.max() == 0
    assert during.rejections.min() > 0


def test_enqueue_answers_at_once_and_the_callee_still_reports():
    model = graph(
        {
            "api": {
                "workers": 4,
                "work": constant(0.01),
                "calls": [{"to": "worker", "mode": "enqueue"}],
            },
            "worker": {"workers": 1, "queue": 10, "work": exponential(0.2)},  # overloaded
        },
        rate=8.0,
        horizon=500,
        replications=3,
    )
    res = sim.run(model)
    assert res.get("latency_p999", "api") == pytest.approx(0.01)
    assert res.get("success_rate", "all") > 0.999
    assert res.get("rejected_queue_full", "worker") > 0.2
    assert res.get("offered_rate", "worker") == pytest.approx(
        res.get("offered_rate", "api"), rel=1e-3
    )


@pytest.mark.parametrize(("parallel", "expected"), [(False, 0.01 + 0.1 + 0.2), (True, 0.01 + 0.2)])
def test_parallel_calls_wait_for_the_slowest(parallel, expected):
    model = graph(
        {
            "api": {
                "workers": 50,
                "work": constant(0.01),
                "calls": [{"to": "b", "parallel": parallel}, {"to": "c", "parallel": parallel}],
            },
            "b": {"workers": 50, "work": constant(0.1)},
            "c": {"workers": 50, "work": constant(0.2)},
        },
        rate=5.0,
        horizon=200,
        warmup=10,
        replications=2,
    )
    res = sim.run(model)
    assert res.get("latency_mean") == pytest.approx(expected)
    assert res.get("latency_p999") == pytest.approx(expected)


@pytest.mark.slow
def test_probability_count_and_cache_thin_the_callee_load():
    lam = 40.0
    model = graph(
        {
            "api": {
                "workers": 64,
                "work": constant(0.001),
                "calls": [{"to": "db", "probability": 0.5, "count": 3, "cache_hit_ratio": 0.25}],
            },
            "db": {"workers": 64, "work": constant(0.001)},
        },
        rate=lam,
        horizon=400,
        replications=6,
    )
    res = sim.run(model)
    expected = analytic.offered_rates(model)["db"][0]
    assert expected == pytest.approx(lam * 0.5 * 3 * 0.75)
    assert_agrees(res, "offered_rate", expected, service="db")
    assert_agrees(res, "call_rate", expected, service="api->db")


def test_call_timeout_gives_up_but_the_callee_keeps_working():
    model = graph(
        {
            "api": {
                "workers": 20,
                "work": constant(0.001),
                "calls": [{"to": "slow", "timeout": "100ms"}],
            },
            "slow": {"workers": 20, "work": {"distribution": "uniform", "low": 0.0, "high": 0.2}},
        },
        rate=20.0,
        horizon=500,
        replications=4,
    )
    res = sim.run(model)
    assert_agrees(res, "timeout_rate", 0.5, service="api")
    assert res.get("timeout_rate") == pytest.approx(res.get("timeout_rate", "api"))
    assert res.get("latency_max" if False else "latency_p999", "api") <= 0.101 + 1e-9
    # the callee completes everything; half of it after its caller left
    assert res.get("success_rate", "slow") > 0.99
    assert res.get("goodput", "slow") == pytest.approx(res.get("throughput", "slow") / 2, rel=0.1)
    assert 0.6 < res.get("wasted_work", "slow") < 0.9  # late requests are the long ones
    assert res.get("call_timeout_rate", "api->slow") == pytest.approx(0.5, abs=0.05)


@pytest.mark.slow
def test_deadline_propagation_drops_abandoned_requests():
    base = {
        "api": {
            "workers": 40,
            "work": constant(0.001),
            "calls": [{"to": "db", "timeout": "200ms"}],
        },
        "db": {"workers": 2, "queue": 50, "work": exponential(0.1)},  # overloaded
    }
    wasteful = sim.run(graph(base, rate=25.0, horizon=400, replications=3))
    careful = sim.run(
        graph(base, rate=25.0, horizon=400, replications=3, deadline_propagation=True)
    )
    # Without propagation the database serves a queue of requests whose callers left
    # seconds ago: nearly all of its work is wasted and almost nothing is good.
    assert wasteful.get("wasted_work", "db") > 0.9
    assert wasteful.get("goodput", "db") < 0.05 * wasteful.get("throughput", "db")
    # With it, expired requests are dropped at pickup (timeout at the database) and the
    # workers go to requests someone still waits for.
    assert careful.get("timeout_rate", "db") > 0.2
    assert careful.get("goodput", "db") > 5 * wasteful.get("goodput", "db")
    assert careful.get("success_rate") > wasteful.get("success_rate") + 0.05


def test_connection_pool_overflow_fails_fast_and_caps_the_callee():
    model = graph(
        {
            "api": {
                "workers": 100,
                "work": constant(0.001),
                "calls": [{"to": "db"}],
                "connection_pools": {"db": {"max_connections": 2, "max_pending_requests": 3}},
            },
            "db": {"workers": 10, "work": exponential(0.1)},
        },
        rate=40.0,
        horizon=400,
        replications=3,
    )
    res = sim.run(model)
    assert res.get("rejected_pool_full", "api") > 0.3
    assert res.get("rejected_pool_full") == pytest.approx(res.get("rejected_pool_full", "api"))
    assert res.get("rejection_rate", "db") == 0
    assert res.get("utilization", "db") <= 2 / 10 + 1e-9  # never more than 2 connections


def test_request_classes_get_their_own_work_and_breakdown():
    model = graph(
        {
            "api": {
                "workers": 100,
                "work": constant(0.01),
                "classes": {"write": {"work": constant(0.2), "calls": [{"to": "db"}]}},
            },
            "db": {"workers": 100, "work": constant(0.05)},
        },
        rate=50.0,
        horizon=300,
        replications=3,
        workload={"classes": [{"name": "read", "weight": 9}, {"name": "write", "weight": 1}]},
    )
    res = sim.run(model)
    by = res.by_class.set_index(["service", "class", "metric"])["mean"]
    assert by[("api", "read", "latency_mean")] == pytest.approx(0.01)
    assert by[("api", "write", "latency_mean")] == pytest.approx(0.25)
    assert by[("all", "write", "offered_rate")] / by[("all", "read", "offered_rate")] == (
        pytest.approx(1 / 9, rel=0.1)
    )
    assert by[("db", "read", "offered_rate")] == 0


def test_incidents_start_and_stop_when_the_model_says():
    model = graph(
        {
            "api": {
                "workers": 50,
                "work": constant(0.01),
                "incidents": [
                    {"start": 100, "end": 150, "down": "fail_fast"},
                    {"start": 200, "duration": 50, "slowdown": 5},
                    {"start": 300, "end": 350, "error_rate": 1.0},
                    {"start": 400, "end": 450, "added_latency": constant(0.5)},
                ],
            },
        },
        rate=10.0,
        horizon=500,
        warmup=0,
        replications=1,
        timeseries_bin=5,
    )
    res = sim.run(model)
    ts = res.timeseries[res.timeseries.service == "api"].set_index("time")
    failing = ts.failures > 0
    assert failing[(ts.index >= 100) & (ts.index < 150)].all()
    assert failing[(ts.index >= 300) & (ts.index < 350)].all()
    assert not failing[
        (ts.index < 100) | ((ts.index >= 150) & (ts.index < 300)) | (ts.index >= 350)
    ].any()
    p99 = ts.latency_p99
    assert p99[(ts.index >= 200) & (ts.index < 250)].round(6).eq(0.05).all()
    assert p99[(ts.index >= 405) & (ts.index < 450)].round(6).eq(0.51).all()
    assert p99[(ts.index < 100)].round(6).eq(0.01).all()
    assert p99[(ts.index >= 455)].round(6).eq(0.01).all()


def test_hanging_service_holds_callers_until_their_timeout():
    model = graph(
        {
            "api": {
                "workers": 50,
                "work": constant(0.001),
                "calls": [{"to": "third_party", "timeout": "2s"}],
            },
            "third_party": {
                "workers": 50,
                "work": constant(0.05),
                "incidents": [{"start": 100, "end": 200, "down": "hang"}],
            },
        },
        rate=10.0,
        horizon=300,
        warmup=0,
        replications=1,
    )
    res = sim.run(model)
    assert res.get("timeout_rate", "api") == pytest.approx(100 / 300, abs=0.03)
    assert res.get("call_latency_p99", "api->third_party") == pytest.approx(2.0)


def test_a_hang_ends_with_every_waiting_connection_reset_at_once():
    model = graph(
        {
            "api": {"workers": 500, "work": constant(0.001), "calls": [{"to": "third_party"}]},
            "third_party": {
                "workers": 50,
                "work": constant(0.05),
                "incidents": [{"start": 100, "end": 130, "down": "hang"}],
            },
        },
        rate=10.0,
        horizon=300,
        warmup=0,
        replications=1,
    )
    res = sim.run(model)
    assert res.get("error_rate", "third_party") == pytest.approx(30 / 300, abs=0.03)
    assert res.get("downstream_failure_rate", "api") == pytest.approx(30 / 300, abs=0.03)
    assert res.get("in_flight_end") == 0  # nobody is left hanging
    ts = res.timeseries[res.timeseries.service == "third_party"].set_index("time")
    failing = ts.index[ts.failures > 0]
    assert len(failing) == 1 and failing[0] <= 130 < failing[0] + model.bin_width  # all at 130


@pytest.mark.slow
def test_least_request_beats_random_at_high_load():
    def p99(policy: str) -> float:
        model = graph(
            {
                "api": {
                    "replicas": 8,
                    "workers": 1,
                    "queue": 1000,
                    "balancer": policy,
                    "work": exponential(0.1),
                }
            },
            rate=72.0,
            horizon=600,
            warmup=60,
            replications=4,
        )
        return sim.run(model).row("latency_p99", "api")

    random, p2c = p99("random"), p99("least_request")
    assert p2c["ci_high"] < random["ci_low"] / 2  # far apart, not just noise


def test_round_robin_spreads_evenly():
    model = graph(
        {"api": {"replicas": 5, "workers": 2, "work": exponential(0.1)}},
        rate=40.0,
        horizon=300,
        replications=2,
    )
    res = sim.run(model)
    assert res.get("imbalance", "api") == pytest.approx(1.0, abs=1e-3)
    rnd = sim.run(
        graph(
            {"api": {"replicas": 5, "workers": 2, "balancer": "random", "work": exponential(0.1)}},
            rate=40.0,
            horizon=300,
            replications=2,
        )
    )
    assert rnd.get("imbalance", "api") > 1.005


def test_conservation_across_a_troubled_graph():
    model = graph(
        {
            "gw": {
                "workers": 5,
                "queue": 5,
                "work": exponential(0.01),
                "calls": [{"to": "api", "timeout": "300ms"}],
            },
            "api": {
                "workers": 3,
                "queue": 5,
                "work": exponential(0.05),
                "calls": [
                    {"to": "db"},
                    {"to": "cache", "parallel": True},
                    {"to": "search", "parallel": True, "mode": "async"},
                ],
                "connection_pools": {"db": {"max_connections": 1, "max_pending_requests": 1}},
                "incidents": [{"start": 50, "end": 80, "error_rate": 0.3}],
            },
            "db": {
                "workers": 2,
                "queue": 3,
                "work": exponential(0.05),
                "incidents": [{"start": 100, "end": 130, "down": "hang"}],
            },
            "cache": {"workers": 4, "work": exponential(0.002)},
            "search": {
                "workers": 2,
                "queue": 2,
                "work": exponential(0.05),
                "incidents": [{"start": 150, "end": 170, "down": "fail_fast"}],
            },
        },
        rate=40.0,
        horizon=200,
        warmup=20,
        replications=3,
    )
    res = sim.run(model)
    for service in ("all", "gw", "api", "db", "cache", "search"):
        for m in per_rep(res, service):
            assert (
                m["arrivals"] == m["completed"] + m["rejected"] + m["failed"] + m["in_flight_end"]
            ), service
            assert m["in_flight_end"] >= 0
    fractions = ["success_rate", "rejection_rate", "timeout_rate", "error_rate"]
    for m in per_rep(res, "all"):
        total = sum(m[f] for f in fractions) + m["in_flight_end"] / m["arrivals"]
        assert total == pytest.approx(1.0)
    for what in ("timeout_rate", "rejected_pool_full", "rejected_queue_full", "error_rate"):
        assert res.get(what) > 0, what


def test_graph_errors_name_the_field():
    def lines(services: dict[str, Any], **extra: Any) -> list[str]:
        with pytest.raises(sim.ModelError) as info:
            graph(services, rate=1.0, **extra)
        return info.value.lines

    ok = {"distribution": "constant", "value": 0.1}
    assert lines({"a": {"work": ok, "calls": [{"to": "b"}]}}) == [
        "services.a.calls.0.to: 'b' is not a service; services: a"
    ]
    assert lines(
        {"a": {"work": ok, "calls": [{"to": "b"}]}, "b": {"work": ok, "calls": [{"to": "a"}]}}
    ) == ["services.a.calls: calls form a cycle: a -> b -> a"]
    assert lines({"a": {"work": ok, "classes": {"bulk": {"work": ok}}}}) == [
        "services.a.classes.bulk: not a class of the workload; classes: default"
    ]
    assert lines({"a": {"work": ok, "connection_pools": {"db": {}}}}) == [
        "services.a.connection_pools.db: this service makes no calls to 'db'"
    ]
    assert lines({"a": {"work": ok, "calls": [{"to": "a", "mode": "rpc"}]}})[0].startswith(
        "services.a.calls.0.mode: must be one of: 'sync', 'async' or 'enqueue'"
    )
    assert lines({"a": {"work": ok, "incidents": [{"start": 5}]}}) == [
        "services.a.incidents.0: give end or duration"
    ]
    assert lines({"a": {"work": ok, "incidents": [{"start": 5, "end": 2}]}}) == [
        "services.a.incidents.0.end: must end after it starts"
    ]
    assert lines({"a": {"work": ok, "gc": {"pause": ok}}}) == [
        "services.a.gc: give interval, or alloc_per_request and young_gen"
    ]
    assert lines({"a": {"work": ok, "gc": {"pause": ok, "young_gen": 5}}}) == [
        "services.a.gc: allocation-driven GC needs both alloc_per_request and young_gen"
    ]
    assert lines({"a": {"work": ok, "workers": 3, "pool": {"core": 1, "max": 2}}}) == [
        "services.a.workers: give workers or pool, not both"
    ]
    assert lines({"a": {"work": ok, "pool": {"core": 3, "max": 2}}}) == [
        "services.a.pool.max: must be >= core"
    ]
    assert lines({"a": {"work": ok, "calls": [{"to": "a", "probability": 2}]}})[0] == (
        "services.a.calls.0.probability: must be <= 1"
    )


def test_unbounded_queue_check_follows_the_graph():
    model = graph(
        {
            "api": {"workers": 50, "work": constant(0.001), "calls": [{"to": "db", "count": 3}]},
            "db": {"workers": 2, "queue": "unbounded", "work": exponential(0.1)},
        },
        rate=10.0,
    )
    with pytest.raises(sim.UnstableError, match=r"services\.db\.queue: unbounded.*150%"):
        sim.run(model)


@pytest.mark.slow
def test_same_seed_same_graph_results():
    shorter = {"replications": 2, "horizon": 200, "services.db.incidents.0.start": 100}
    model = sim.load("models/slow_database.yaml", shorter)  # through its incident
    a, b = sim.run(model), sim.run(model)
    assert a.summary.equals(b.summary)
    assert np.isfinite(a.summary["mean"]).any()
