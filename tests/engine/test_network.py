"""Links between services: latency on the wire and lost requests, left to the caller's
timeout and retries."""

from __future__ import annotations

import pytest

import sim
from tests.helpers import assert_agrees

CONSTANT = {"distribution": "constant"}


def graph(call: dict, replications: int = 10) -> sim.Model:
    """api calls db; neither ever queues, so what the caller sees is the wire and db."""
    return sim.from_dict(
        {
            "horizon": 300,
            "warmup": 10,
            "replications": replications,
            "seed": 2,
            "workload": {"arrivals": {"process": "poisson", "rate": 50}},
            "services": {
                "api": {
                    "workers": 200,
                    "work": {**CONSTANT, "value": 0.001},
                    "calls": [{"to": "db", **call}],
                },
                "db": {"workers": 200, "work": {**CONSTANT, "value": 0.01}},
            },
        }
    )


def test_the_round_trip_on_the_wire_adds_to_every_call():
    plain = sim.run(graph({}, 2), executor="inline")
    wired = sim.run(graph({"network_latency": {**CONSTANT, "value": 0.02}}, 2), executor="inline")
    assert plain.get("call_latency_mean", "api->db") == pytest.approx(0.01)
    assert wired.get("call_latency_mean", "api->db") == pytest.approx(0.03)
    assert wired.get("latency_p99") - plain.get("latency_p99") == pytest.approx(0.02)


@pytest.mark.slow
def test_a_lost_request_times_out_and_never_reaches_the_callee():
    loss = 0.2
    results = sim.run(graph({"timeout": 0.5, "loss": loss}), executor="inline")
    assert_agrees(results, "call_timeout_rate", loss, service="api->db")
    calls = results.get("call_rate", "api->db")
    assert_agrees(results, "offered_rate", calls * (1 - loss), service="db")


@pytest.mark.slow
def test_retries_leave_loss_to_the_power_of_the_attempts():
    loss = 0.2
    retries = {"max_attempts": 3, "base": 0.01, "retry_on": ["timeout"]}
    results = sim.run(graph({"timeout": 0.5, "loss": loss, "retries": retries}), executor="inline")
    assert_agrees(results, "success_rate", 1 - loss**3, service="all")
    assert_agrees(results, "call_failure_rate", loss, service="api->db")


def test_loss_without_a_timeout_is_refused_naming_the_field():
    with pytest.raises(sim.ModelError, match=r"services\.api\.calls\.0\.loss: .*give the call a"):
        graph({"loss": 0.1})
