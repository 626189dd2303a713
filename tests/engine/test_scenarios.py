"""Several workloads at once (k6-style scenarios), reported each and together."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import sim
from sim import analytic
from sim.report.summary import build_report
from sim.report.terminal import render_report
from tests.helpers import assert_agrees, exponential


def _model(scenarios: dict[str, Any], services: dict[str, Any] | None = None, **extra: Any):
    return sim.from_dict(
        {
            "name": "scenarios",
            "horizon": 1000,
            "warmup": 100,
            "replications": 8,
            "seed": 5,
            "scenarios": scenarios,
            "services": services or {"api": {"workers": 3, "queue": 4, "work": exponential(0.05)}},
            **extra,
        }
    )


def _poisson(rate: float, **extra: Any) -> dict[str, Any]:
    return {"arrivals": {"process": "poisson", "rate": rate}, **extra}


@pytest.mark.slow
def test_two_poisson_scenarios_are_one_poisson_stream_of_their_summed_rate():
    """Superposition: 30 + 40 req/s into M/M/3/7 blocks as a 70 req/s stream does, and
    by PASTA each scenario sees the same blocking."""
    results = sim.run(_model({"web": _poisson(30), "mobile": _poisson(40)}), executor="inline")
    theory = analytic.mmck(70, 0.05, 3, 7)
    for name in ("all", "scenario:web", "scenario:mobile"):
        assert_agrees(results, "rejection_rate", theory.rejection, name)
    assert_agrees(results, "latency_mean", theory.W, "all")
    assert_agrees(results, "offered_rate", 30, "scenario:web")
    assert_agrees(results, "offered_rate", 40, "scenario:mobile")


def test_the_whole_is_the_sum_of_its_scenarios():
    results = sim.run(
        _model(
            {"a": _poisson(20), "b": _poisson(25, timeout=0.2)},
            horizon=300,
            warmup=30,
            replications=3,
        ),
        executor="inline",
    )
    for metric in ("arrivals", "completed", "rejected", "failed"):
        whole = results.values(metric, "all")
        parts = results.values(metric, "scenario:a") + results.values(metric, "scenario:b")
        assert np.array_equal(whole, parts), metric
    assert results.mean("timeout_rate", "scenario:a") == 0
    assert results.mean("timeout_rate", "scenario:b") > 0


@pytest.mark.slow
def test_each_scenario_has_its_own_target_mix_and_clients():
    services = {
        "web": {
            "workers": 4,
            "queue": 20,
            "work": exponential(0.02),
            "calls": [{"to": "db", "mode": "sync"}],
        },
        "admin": {"workers": 1, "queue": 5, "work": exponential(0.1)},
        "db": {
            "workers": 8,
            "queue": 50,
            "work": exponential(0.01),
            "classes": {"report": {"work": exponential(0.2)}},
        },
    }
    scenarios = {
        "shoppers": _poisson(50, target="web", classes=[{"name": "page", "weight": 1}]),
        "analysts": {
            "users": 5,
            "think_time": exponential(2.0),
            "target": "admin",
            "classes": [{"name": "report", "weight": 1}],
        },
    }
    model = _model(scenarios, services)
    assert model.class_names == ["page", "report"]
    results = sim.run(model, executor="inline")
    assert_agrees(results, "offered_rate", 50, "web")
    # admin sees only the analysts: a closed loop of 5 users on one worker (machine repairman)
    repair = analytic.machine_repairman(5, 2.0, 0.1, 1, 6)
    assert_agrees(results, "throughput", repair.throughput, "admin")
    assert_agrees(results, "throughput", repair.throughput, "scenario:analysts")
    assert results.mean("offered_rate", "db") == pytest.approx(
        results.mean("offered_rate", "web"), rel=1e-3
    )  # every page calls db once, a few milliseconds later


def test_changing_one_scenario_leaves_the_others_random_numbers_alone():
    base = {"a": _poisson(20), "b": _poisson(10)}
    first = sim.run(_model(base, replications=2, horizon=300, warmup=30), executor="inline")
    busier = sim.run(
        _model({**base, "b": _poisson(15)}, replications=2, horizon=300, warmup=30),
        executor="inline",
    )
    assert np.array_equal(
        first.values("arrivals", "scenario:a"), busier.values("arrivals", "scenario:a")
    )


def test_slos_and_the_report_name_scenarios():
    model = _model(
        {"web": _poisson(30), "mobile": _poisson(40)},
        slo=[{"metric": "rejection_rate", "service": "scenario:mobile", "max": 0.5}],
        replications=3,
        horizon=300,
        warmup=30,
    )
    results = sim.run(model, executor="inline")
    text = render_report(build_report(results))
    assert "scenario web: its requests end to end, into api" in text
    assert "PASS" in text and "scenario:mobile.rejection_rate" in text


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (
            {"workload": _poisson(1)},
            "workload: give workload, or scenarios (several workloads), not both",
        ),
        (
            {"scenarios": {"a": _poisson(1, target="nope")}},
            "scenarios.a.target: 'nope' is not a service; services: api",
        ),
        (
            {
                "scenarios": {
                    "a": _poisson(1, classes=[{"name": "x", "weight": 1, "priority": 1}]),
                    "b": _poisson(1, classes=[{"name": "x", "weight": 1, "priority": 2}]),
                }
            },
            "scenarios.b.classes.0: class 'x' has another priority or size in another "
            "scenario: a class is one kind of request everywhere",
        ),
        (
            {"scenarios": {"a": {"arrivals": {"process": "poisson", "rate": -1}}}},
            "scenarios.a.arrivals.rate: must be > 0",
        ),
    ],
)
def test_mistakes_name_the_scenario_field(change: dict[str, Any], line: str):
    data = {
        "horizon": 10,
        "scenarios": {"a": _poisson(1)},
        "services": {"api": {"workers": 1, "work": exponential(0.1)}},
        **change,
    }
    with pytest.raises(sim.ModelError) as info:
        sim.from_dict(data)
    assert info.value.lines == [line]


def test_preflight_judges_the_open_scenarios_and_the_engine_choice_says_why():
    from sim.engine.choice import blocker
    from sim.studies.preflight import check_stable

    services = {"api": {"workers": 1, "queue": "unbounded", "work": exponential(0.1)}}
    overloaded = _model({"a": _poisson(6), "b": _poisson(6)}, services)
    with pytest.raises(sim.UnstableError, match="120%"):
        check_stable(overloaded)
    users = {"users": 50, "think_time": exponential(0.01)}
    check_stable(_model({"a": _poisson(5), "b": users}, services))  # users slow down
    assert blocker(overloaded) == "scenarios"
