"""The graph estimate reduces to the closed forms where they exist: single stations
(Erlang B and C, M/M/c/K, Pollaczek-Khinchine), Jackson networks (tandems and
feedback-free splits, through async and enqueued calls), and closed workloads by MVA
(the machine repairman)."""

from __future__ import annotations

import math

import pytest

import sim
from sim import analytic
from sim.estimate import APPROXIMATE, EXACT, OUT_OF_RANGE, estimate_graph
from sim.estimate.mva import mva

EXP = {"distribution": "exponential", "mean": 0.1}


def model(services: dict, workload: dict | None = None) -> sim.Model:
    return sim.from_dict(
        {
            "horizon": 100,
            "workload": workload or {"arrivals": {"process": "poisson", "rate": 30}},
            "services": services,
        }
    )


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def assert_station(figures, q: analytic.QueueMetrics, replicas: int = 1) -> None:
    assert close(figures["utilization"], q.utilization)
    assert close(figures["rejection_rate"], q.rejection)
    assert close(figures["latency_mean"], q.W)
    assert close(figures["queue_wait_mean"], q.Wq)
    assert close(figures["queue_depth_mean"], q.Lq * replicas)
    assert close(figures["in_system_mean"], q.L * replicas)
    assert close(figures["throughput"], q.throughput * replicas)


def test_mmck_station_is_exact():
    e = estimate_graph(model({"api": {"workers": 4, "queue": 6, "work": EXP}}))
    api = e.services["api"]
    assert api.status == EXACT and e.services["all"].status == EXACT
    assert_station(api.metrics, analytic.mmck(30, 0.1, 4, 10))
    assert close(e.services["all"].metrics["latency_mean"], api.metrics["latency_mean"])
    assert close(e.services["all"].metrics["success_rate"], 1 - api.metrics["rejection_rate"])


def test_erlang_c_station_is_exact():
    e = estimate_graph(model({"api": {"workers": 4, "queue": "unbounded", "work": EXP}}))
    assert e.services["api"].status == EXACT
    assert_station(e.services["api"].metrics, analytic.mmc(30, 0.1, 4))


def test_pollaczek_khinchine_station_is_exact():
    work = {"distribution": "gamma", "mean": 0.02, "cv": 1.7}
    e = estimate_graph(model({"api": {"workers": 1, "queue": "unbounded", "work": work}}))
    assert e.services["api"].status == EXACT
    assert_station(e.services["api"].metrics, analytic.mg1(30, 0.02, 1.7**2))


def test_erlang_b_holds_for_any_work():
    work = {"distribution": "lognormal", "mean": 0.1, "cv": 2}
    e = estimate_graph(model({"api": {"workers": 5, "queue": 0, "work": work}}))
    assert e.services["api"].status == EXACT
    assert close(e.services["api"].metrics["rejection_rate"], analytic.erlang_b(5, 3.0))


@pytest.mark.parametrize("mode", ["async", "enqueue"])
def test_a_jackson_tandem_is_exact(mode):
    """s0's departures are Poisson (Burke): s1 is M/M/c at the same rate; through an
    async call the request waits for s1 too, so its latency is the sum of both."""
    services = {
        "s0": {
            "workers": 4,
            "queue": "unbounded",
            "work": EXP,
            "calls": [{"to": "s1", "mode": mode}],
        },
        "s1": {
            "workers": 2,
            "queue": "unbounded",
            "work": {"distribution": "exponential", "mean": 0.05},
        },
    }
    e = estimate_graph(model(services))
    s0, s1 = analytic.mmc(30, 0.1, 4), analytic.mmc(30, 0.05, 2)
    assert e.services["s1"].status == EXACT
    assert_station(e.services["s1"].metrics, s1)
    end = e.services["all"].metrics["latency_mean"]
    assert close(end, s0.W + s1.W if mode == "async" else s0.W)
    assert e.services["all"].status == EXACT


def test_a_feedback_free_split_is_exact():
    services = {
        "front": {
            "workers": 4,
            "queue": "unbounded",
            "work": EXP,
            "calls": [
                {"to": "a", "mode": "enqueue", "probability": 0.3},
                {"to": "b", "mode": "enqueue", "probability": 0.6},
            ],
        },
        "a": {"workers": 1, "queue": "unbounded", "work": EXP},
        "b": {"workers": 2, "queue": "unbounded", "work": EXP},
    }
    e = estimate_graph(model(services))
    assert e.services["a"].status == EXACT and e.services["b"].status == EXACT
    assert_station(e.services["a"].metrics, analytic.mmc(9, 0.1, 1))
    assert_station(e.services["b"].metrics, analytic.mmc(18, 0.1, 2))


def test_machine_repairman_by_mva():
    workload = {"users": 25, "think_time": {"distribution": "exponential", "mean": 1.0}}
    e = estimate_graph(model({"api": {"workers": 3, "queue": "unbounded", "work": EXP}}, workload))
    q = analytic.machine_repairman(25, 1.0, 0.1, 3)
    api = e.services["api"]
    assert api.status == EXACT
    assert close(api.metrics["throughput"], q.throughput)
    assert close(api.metrics["utilization"], q.utilization)
    assert close(api.metrics["latency_mean"], q.W)
    assert close(api.metrics["queue_depth_mean"], q.Lq)


def test_mva_of_two_equal_stations():
    """N users, no think time, two single-server stations of demand D: X(N) = N / ((N+1) D)."""
    for users in (1, 2, 5, 40):
        solution = mva(users, 0.0, [0.2, 0.2], [1, 1])
        assert close(solution.throughput, users / ((users + 1) * 0.2))
        assert close(solution.population.sum(), users)


def test_sync_calls_are_an_approximation_and_incidents_out_of_range():
    services = {
        "api": {"workers": 8, "queue": 50, "work": EXP, "calls": [{"to": "db"}]},
        "db": {
            "workers": 4,
            "queue": 20,
            "work": EXP,
            "incidents": [{"start": 10, "duration": 10, "slowdown": 3}],
        },
    }
    e = estimate_graph(model(services))
    assert e.services["api"].status == APPROXIMATE
    assert "sync calls" in e.services["api"].reasons[0]
    assert e.services["db"].status == OUT_OF_RANGE
    assert "incidents" in e.services["db"].reasons[0]
    assert e.services["all"].status == OUT_OF_RANGE
    # the caller's workers are held for the db's whole latency
    api, db = e.services["api"].metrics, e.services["db"].metrics
    held = 0.1 + db["latency_mean"]
    assert api["utilization"] == pytest.approx(30 * held / 8, rel=0.02)


def test_many_users_take_approximate_mva_close_to_the_exact_one():
    from sim.estimate.mva import schweitzer

    demands, servers = [0.01, 0.02, 0.005], [4, 8, 2]
    exact = mva(800, 1.0, demands, servers).throughput
    assert schweitzer(800, 1.0, demands, servers)[0] == pytest.approx(exact, rel=0.03)
    workload = {"users": 1500, "think_time": {"distribution": "exponential", "mean": 1.0}}
    e = estimate_graph(model({"api": {"workers": 40, "queue": "unbounded", "work": EXP}}, workload))
    assert e.services["api"].status == APPROXIMATE
    assert "Schweitzer" in e.services["api"].reasons[0]
    assert e.services["api"].metrics["throughput"] == pytest.approx(400, rel=0.01)  # saturated
    assert e.services["api"].metrics["utilization"] == pytest.approx(1.0, rel=0.01)
