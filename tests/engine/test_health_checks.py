"""Envoy's active health checks, and the panic threshold that stops them (or outlier
ejection) from piling the whole load onto the few replicas left."""

from __future__ import annotations

from typing import Any

import pytest

import sim
from sim.engine.replication import build, measure, simulate
from sim.engine.streams import Streams
from sim.policies.healthcheck import HealthState, in_panic
from tests.helpers import exponential

CHECKS = {"interval": 1.0, "timeout": 0.5, "unhealthy_threshold": 3, "healthy_threshold": 2}


def test_thresholds_count_checks_in_a_row():
    host = HealthState(unhealthy_threshold=3, healthy_threshold=2)
    assert [host.record(p) for p in (False, False, True, False, False)] == [False] * 5
    assert host.record(False) and not host.healthy  # the third failure in a row
    assert not host.record(True) and host.record(True) and host.healthy
    new = HealthState(3, 2, healthy=False)  # never checked: one pass will do
    assert new.record(True) and new.healthy


def test_panic_below_the_threshold_share_of_healthy_hosts():
    assert not in_panic(2, 4, 50) and in_panic(1, 4, 50)
    assert not in_panic(0, 4, 0)  # 0 disables panic: no healthy host, no traffic
    assert in_panic(0, 1, 50)


def _fleet(service: dict[str, Any], incident: dict[str, Any]) -> sim.Model:
    return sim.from_dict(
        {
            "horizon": 300,
            "warmup": 0,
            "replications": 1,
            "seed": 3,
            "workload": {"arrivals": {"process": "poisson", "rate": 40}},
            "services": {
                "api": {
                    "replicas": 4,
                    "workers": 10,
                    "work": exponential(0.02),
                    "incidents": [{"start": 100, "end": 200, **incident}],
                    **service,
                }
            },
        }
    )


def _run(model: sim.Model):
    system = build(model, Streams(model.seed, 0))
    simulate(system)
    return system.services["api"].health_events, measure(system, 0).metrics


def test_a_down_replica_is_marked_unhealthy_after_three_checks_and_back_after_two():
    """Checks every second: the third failed one, 2 to 3 s after the crash at 100 s, takes
    replica 0 out; the second passed one, 1 to 2 s after it is back at 200 s, returns it."""
    events, metrics = _run(_fleet({"health_check": CHECKS}, {"down": "fail_fast", "replicas": [0]}))
    (out_at, out, healthy), (in_at, back, recovered) = events
    assert (out, healthy, back, recovered) == (0, False, 0, True)
    assert 102 <= out_at < 103 and 201 <= in_at < 202
    assert metrics["api"]["marked_unhealthy"] == 1
    # a quarter of 40 req/s fail until replica 0 is out: 2 to 3 s of 10 req/s
    assert 10 <= metrics["api"]["failed"] <= 45


def test_a_replica_that_hangs_fails_its_checks_by_timeout():
    events, _ = _run(_fleet({"health_check": CHECKS}, {"down": "hang", "replicas": [0]}))
    out_at = events[0][0]
    assert 103 <= out_at < 104.5  # three checks of 0.5 s timeout, 1 s apart


@pytest.mark.parametrize(("threshold", "failing"), [(50, 0.75), (0, 0.0)])
def test_panic_sends_traffic_to_unhealthy_replicas_again(threshold: float, failing: float):
    """Three of four replicas down: 25 % healthy is below the 50 % panic threshold, so
    the balancer uses all four and three quarters of requests fail; with panic off, the
    one healthy replica takes everything (40 req/s x 20 ms = 0.8 of its 10 workers)."""
    service = {"health_check": CHECKS, "panic_threshold": threshold}
    events, metrics = _run(_fleet(service, {"down": "fail_fast", "replicas": [0, 1, 2]}))
    assert len([e for e in events if not e[2]]) == 3
    during = metrics["api"]["failed"] / (40 * 100)
    assert during == pytest.approx(failing, abs=0.03)


def test_an_overloaded_replica_fails_checks_waiting_in_its_own_queue():
    """Checks wait for a worker like requests: a 100x slowdown makes replica 0 take 2 s a
    request at 10 a second on 10 workers; its queue grows past what a worker clears within
    the timeout, and it is marked unhealthy without ever being down."""
    events, _ = _run(
        _fleet({"health_check": CHECKS, "queue": 100}, {"slowdown": 100, "replicas": [0]})
    )
    assert events and events[0][1] == 0 and events[0][2] is False


def test_a_new_replica_serves_after_its_first_passed_check():
    model = sim.from_dict(
        {
            "horizon": 60,
            "replications": 1,
            "workload": {"arrivals": {"process": "poisson", "rate": 5}},
            "services": {
                "api": {
                    "workers": 4,
                    "work": exponential(0.05),
                    "health_check": {**CHECKS, "interval": 10},
                    "autoscaling": {
                        "kind": "schedule",
                        "schedule": [{"at": 0, "replicas": 1}, {"at": 20, "replicas": 2}],
                    },
                }
            },
        }
    )
    events, _ = _run(model)
    assert events[0][1:] == (1, True)  # replica 1 passes its first check when it is ready
