"""A request's size in units (an LLM request's tokens): drawn once per request, it drives
its work (work_per_unit), its hold on a budget of units (unit_capacity) and its token cost
(a rate limit's cost: size, reserved at admission and reconciled after the response)."""

from __future__ import annotations

from typing import Any

import pytest

import sim
from sim import analytic
from sim.engine.pool import UnitPool
from sim.engine.tasks import TaskEnvironment
from sim.measure.gauge import Gauge
from tests.helpers import assert_agrees, exponential


def _model(
    size: dict[str, Any],
    service: dict[str, Any],
    rate: float = 5.0,
    horizon: float = 2000,
    **extra: Any,
):
    cls = {"name": "chat", "weight": 1, "size": size, **extra}
    return sim.from_dict(
        {
            "horizon": horizon,
            "warmup": horizon / 10,
            "replications": 8,
            "seed": 9,
            "workload": {"arrivals": {"process": "poisson", "rate": rate}, "classes": [cls]},
            "services": {"api": service},
        }
    )


def _uniform(low: float, high: float) -> dict[str, Any]:
    return {"distribution": "uniform", "low": low, "high": high}


def test_work_grows_with_size_and_the_size_is_capped_at_max_size():
    """No queue (many workers): latency = 0.2 s + 1 ms x min(size, 250) with size uniform
    on [100, 300], whose capped mean is 0.75 x 175 + 0.25 x 250 = 193.75 units."""
    service = {
        "workers": 200,
        "queue": 0,
        "work": {"distribution": "constant", "value": 0.2},
        "work_per_unit": "1ms",
    }
    model = _model(_uniform(100, 300), service, horizon=800, max_size=250)
    results = sim.run(model, executor="inline")
    assert_agrees(results, "latency_mean", 0.2 + 0.19375)
    assert results.mean("latency_p999") <= 0.2 + 0.250 + 1e-9


def test_a_budget_of_units_that_fits_two_requests_is_two_servers():
    """16 workers but 1,000 units, and every request holds 500: at most two in service,
    so the station is M/M/2 (Erlang C), whatever the worker count says."""
    service = {"workers": 16, "queue": "unbounded", "work": exponential(1.0), "unit_capacity": 1000}
    results = sim.run(_model({"distribution": "constant", "value": 500}, service, rate=1.5))
    theory = analytic.mmc(1.5, 1.0, 2)
    assert_agrees(results, "latency_mean", theory.W)
    assert_agrees(results, "unit_utilization", theory.utilization)


def test_the_head_of_the_line_holds_back_smaller_requests_behind_it():
    """First come, first served (vLLM's scheduler): 6 + 6 units do not fit in 10, so the
    second waits, and the 2-unit request behind it waits too although it would fit."""
    env = TaskEnvironment()
    gauge = lambda: Gauge(1.0, 10)  # noqa: E731
    pool = UnitPool(env, 8, 10, gauge(), gauge(), "test", units=10, held=gauge())
    assert pool.admit(size=6) is True
    second, third = pool.admit(size=6), pool.admit(size=2)
    assert not second.triggered and not third.triggered and pool.held == 6
    pool.release(6)
    assert second.triggered and third.triggered and pool.held == 8 and pool.busy == 2
    assert pool.admit(size=20) is not True  # larger than the budget: it will hold all of it
    pool.release(6)
    pool.release(2)
    assert pool.held == 10 and pool.busy == 1


def test_a_token_limit_reconciled_after_the_response_lets_through_what_is_spent():
    """A bucket refilled at 500 tokens/s, requests of 100 tokens reserving 400: charged
    400 at admission and given 300 back after the response, they pass at 500 / 100 = 5/s,
    not at the 500 / 400 = 1.25/s the reservation alone would allow."""
    limit = {"kind": "token_bucket", "rate": 500, "burst": 4000, "cost": "size"}
    service = {"workers": 50, "queue": 0, "work": {"distribution": "constant", "value": 0.1},
               "rate_limit": limit}  # fmt: skip
    constant = {"distribution": "constant", "value": 100}
    reserving = _model(constant, service, rate=10, horizon=500, max_size=400)
    results = sim.run(reserving, executor="inline")
    assert results.mean("throughput") == pytest.approx(5.0, rel=0.01)
    unreconciled = sim.run(
        _model({"distribution": "constant", "value": 400}, service, rate=10, horizon=500),
        executor="inline",
    )
    assert unreconciled.mean("throughput") == pytest.approx(1.25, rel=0.01)


@pytest.mark.parametrize(
    ("service", "line"),
    [
        ({"work_per_unit": 0.001}, "services.api.work_per_unit"),
        ({"unit_capacity": 100}, "services.api.unit_capacity"),
        (
            {"rate_limit": {"kind": "fixed_window", "limit": 10, "window": 60, "cost": "size"}},
            "services.api.rate_limit.cost",
        ),
    ],
)
def test_what_reads_the_size_needs_a_size_on_every_class(service: dict[str, Any], line: str):
    data = {
        "horizon": 10,
        "workload": {"arrivals": {"process": "poisson", "rate": 1}},
        "services": {"api": {"work": exponential(0.1), **service}},
    }
    with pytest.raises(sim.ModelError) as info:
        sim.from_dict(data)
    assert info.value.lines == [
        f"{line}: reads the request's size, but class 'default' has none: give each class "
        "a size (workload.classes)"
    ]


def test_max_size_goes_with_a_size_and_a_cost_is_a_distribution_or_size():
    with pytest.raises(sim.ModelError, match="max_size: goes with size"):
        sim.from_dict(
            {
                "horizon": 10,
                "workload": {
                    "arrivals": {"process": "poisson", "rate": 1},
                    "classes": [{"name": "a", "weight": 1, "max_size": 10}],
                },
                "services": {"api": {"work": exponential(0.1)}},
            }
        )
    with pytest.raises(sim.ModelError, match="cost: give a distribution of tokens, or 'size'"):
        sim.from_dict(
            {
                "horizon": 10,
                "workload": {"arrivals": {"process": "poisson", "rate": 1}},
                "services": {
                    "api": {
                        "work": exponential(0.1),
                        "rate_limit": {
                            "kind": "token_bucket",
                            "rate": 1,
                            "burst": 1,
                            "cost": "tokens",
                        },
                    }
                },
            }
        )
