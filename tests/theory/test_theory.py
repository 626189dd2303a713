"""The engine against queueing theory: every figure inside its confidence interval.

Each test runs a single service whose closed form is known and checks the blocking
probability, mean response of accepted requests and mean queue length, plus Little's law.
"""

from __future__ import annotations

import math

import pytest

import sim
from sim import analytic
from tests.helpers import assert_agrees, assert_littles_law, exponential, single_service

# Each single-station check runs on both engines: the SimPy engine and the exact fast path.
ENGINES = pytest.mark.parametrize("engine", ["simpy", "fast"])


@pytest.mark.slow
@ENGINES
def test_mm1_means_and_percentiles(engine):
    lam, mean = 8.0, 0.1  # rho = 0.8
    res = sim.run(single_service(lam, exponential(mean), horizon=4000, warmup=200, engine=engine))
    theory = analytic.mmc(lam, mean, 1)
    assert_agrees(res, "latency_mean", theory.W)
    assert_agrees(res, "queue_wait_mean", theory.Wq)
    assert_agrees(res, "queue_depth_mean", theory.Lq)
    assert_agrees(res, "in_system_mean", theory.L)
    assert_agrees(res, "utilization", lam * mean)
    # FIFO M/M/1 response time is exponential with rate mu - lambda.
    rate = 1 / mean - lam
    assert_agrees(res, "latency_p50", math.log(2) / rate)
    assert_agrees(res, "latency_p90", math.log(10) / rate)
    assert_agrees(res, "latency_p99", math.log(100) / rate)
    assert_littles_law(res)


@pytest.mark.slow
@ENGINES
def test_mmc_erlang_c(engine):
    lam, mean, c = 45.0, 0.2, 10  # a = 9 Erlangs, rho = 0.9
    res = sim.run(single_service(lam, exponential(mean), workers=c, horizon=2000, engine=engine))
    theory = analytic.mmc(lam, mean, c)
    assert_agrees(res, "latency_mean", theory.W)
    assert_agrees(res, "queue_wait_mean", theory.Wq)
    assert_agrees(res, "queue_depth_mean", theory.Lq)
    assert_agrees(res, "utilization", theory.utilization)
    assert_littles_law(res)


@pytest.mark.slow
@pytest.mark.parametrize(("lam", "c", "queue"), [(90.0, 10, 20), (120.0, 4, 6), (30.0, 2, 0)])
@ENGINES
def test_mmck_blocking_response_and_queue(lam, c, queue, engine):
    mean = 0.1 if c == 10 else 0.05
    res = sim.run(
        single_service(lam, exponential(mean), workers=c, queue=queue, horizon=1500, engine=engine)
    )
    theory = analytic.mmck(lam, mean, c, c + queue)
    assert_agrees(res, "rejection_rate", theory.rejection)
    assert_agrees(res, "rejected_queue_full", theory.rejection)
    assert_agrees(res, "latency_mean", theory.W)
    assert_agrees(res, "queue_depth_mean", theory.Lq)
    assert_agrees(res, "throughput", theory.throughput)
    assert_littles_law(res)


@pytest.mark.parametrize(
    "work",
    [
        {"distribution": "constant", "value": 0.2},
        {"distribution": "lognormal", "mean": 0.2, "cv": 2.0},
        {"distribution": "uniform", "low": 0.0, "high": 0.4},
    ],
    ids=["constant", "lognormal", "uniform"],
)
@pytest.mark.slow
@ENGINES
def test_erlang_b_is_insensitive_to_the_service_distribution(work, engine):
    lam, c = 40.0, 8  # a = 8 Erlangs on 8 servers, no waiting room
    res = sim.run(single_service(lam, work, workers=c, queue=0, horizon=1500, engine=engine))
    assert_agrees(res, "rejection_rate", analytic.erlang_b(c, lam * 0.2))
    assert_agrees(res, "latency_mean", 0.2)
    assert_littles_law(res)


@pytest.mark.slow
@ENGINES
def test_md1_pollaczek_khinchine(engine):
    lam, d = 7.0, 0.1
    res = sim.run(
        single_service(lam, {"distribution": "constant", "value": d}, horizon=3000, engine=engine)
    )
    theory = analytic.mg1(lam, d, 0.0)
    assert_agrees(res, "queue_wait_mean", theory.Wq)
    assert_agrees(res, "latency_mean", theory.W)
    assert_agrees(res, "queue_depth_mean", theory.Lq)
    assert_littles_law(res)


@pytest.mark.slow
@ENGINES
def test_mg1_high_variance_service(engine):
    lam, mean, cv = 5.0, 0.1, 2.0  # rho = 0.5, scv = 4
    work = {"distribution": "gamma", "mean": mean, "cv": cv}
    res = sim.run(single_service(lam, work, horizon=6000, replications=12, engine=engine))
    theory = analytic.mg1(lam, mean, cv**2)
    assert_agrees(res, "queue_wait_mean", theory.Wq)
    assert_agrees(res, "latency_mean", theory.W)
    assert_littles_law(res)


@pytest.mark.slow
def test_replicas_share_the_load_round_robin():
    # Round robin to 4 replicas of M/M/2: each replica sees a quarter of the arrivals.
    lam, mean = 60.0, 0.1
    model = single_service(lam, exponential(mean), workers=2, queue=50, replicas=4, horizon=800)
    res = sim.run(model)
    assert_agrees(res, "utilization", lam * mean / 8)
    assert_agrees(res, "throughput", lam)
    # Erlang-4 arrivals per replica are smoother than Poisson: less waiting than M/M/2.
    assert res.get("queue_wait_mean", "api") < analytic.mmc(lam / 4, mean, 2).Wq
    assert_littles_law(res)
