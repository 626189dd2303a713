"""Closed forms against published values and against each other."""

from __future__ import annotations

import pytest

import sim
from sim import analytic
from tests.helpers import exponential, single_service


def test_erlang_b_table_values():
    # Standard Erlang B table entries.
    assert analytic.erlang_b(1, 1.0) == pytest.approx(0.5)
    assert analytic.erlang_b(10, 5.0) == pytest.approx(0.018385, abs=1e-6)
    assert analytic.erlang_b(20, 15.0) == pytest.approx(0.045593, abs=1e-6)


def test_erlang_c_known_values():
    assert analytic.erlang_c(1, 0.8) == pytest.approx(0.8)  # M/M/1: P(wait) = rho
    assert analytic.erlang_c(2, 1.0) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="a < c"):
        analytic.erlang_c(2, 2.0)


def test_mmc_reduces_to_mm1():
    q = analytic.mmc(8.0, 0.1, 1)
    assert q.W == pytest.approx(0.5) and q.L == pytest.approx(4.0) and q.Lq == pytest.approx(3.2)


def test_mmck_limits():
    # A huge waiting room is M/M/c; no waiting room is Erlang B.
    big = analytic.mmck(45.0, 0.2, 10, 2000)
    assert big.W == pytest.approx(analytic.mmc(45.0, 0.2, 10).W, rel=1e-9)
    assert analytic.mmck(40.0, 0.2, 8, 8).rejection == pytest.approx(analytic.erlang_b(8, 8.0))
    # M/M/1/K closed form: P_K = (1 - rho) rho^K / (1 - rho^(K+1))
    rho, k = 0.9, 5
    assert analytic.mmck(9.0, 0.1, 1, k).rejection == pytest.approx(
        (1 - rho) * rho**k / (1 - rho ** (k + 1))
    )
    # overload still has an answer with a bounded queue
    assert 0.5 < analytic.mmck(300.0, 0.1, 10, 30).rejection < 1


def test_pollaczek_khinchine():
    assert analytic.mg1(8.0, 0.1, 1.0).W == pytest.approx(analytic.mmc(8.0, 0.1, 1).W)
    md1 = analytic.mg1(8.0, 0.1, 0.0)
    assert md1.Wq == pytest.approx(analytic.mmc(8.0, 0.1, 1).Wq / 2)


def test_allen_cunneen_is_exact_for_mmc():
    assert analytic.allen_cunneen(45.0, 0.2, 10, 1.0, 1.0).Wq == pytest.approx(
        analytic.mmc(45.0, 0.2, 10).Wq
    )


@pytest.mark.parametrize(
    ("kwargs", "method", "exact"),
    [
        (dict(workers=3, queue=10), "M/M/c/K", True),
        (dict(workers=3, queue="unbounded"), "M/M/c (Erlang C)", True),
        (
            dict(workers=3, queue=0, work={"distribution": "constant", "value": 0.1}),
            "M/G/c/c (Erlang B)",
            True,
        ),
        (
            dict(workers=1, queue="unbounded", work={"distribution": "constant", "value": 0.04}),
            "M/G/1 (Pollaczek-Khinchine)",
            True,
        ),
        (
            dict(workers=3, queue="unbounded", work={"distribution": "constant", "value": 0.1}),
            "Allen-Cunneen",
            False,
        ),
        (
            dict(workers=3, queue=5, work={"distribution": "constant", "value": 0.1}),
            "M/M/c/K with the same means (approximation)",
            False,
        ),
        (dict(workers=3, queue=5, replicas=2), "M/M/c/K", False),
    ],
)
def test_estimate_says_whether_it_is_exact(kwargs, method, exact):
    work = kwargs.pop("work", exponential(0.1))
    est = analytic.estimate(single_service(20.0, work, **kwargs))
    assert est.method.startswith(method.split(" (")[0]) and est.exact is exact
    assert 0 <= est.metrics["rejection_rate"] < 1
    assert est.metrics["latency_mean"] > est.metrics["queue_wait_mean"] >= 0


def test_estimate_matches_the_default_model():
    est = analytic.estimate(sim.load("models/default.yaml"))
    assert est.exact
    assert est.metrics["rejection_rate"] == pytest.approx(0.00877, abs=1e-5)


def test_estimate_refuses_unstable_unbounded():
    with pytest.raises(ValueError, match="no steady state"):
        analytic.estimate(single_service(20.0, exponential(0.1), workers=1))
