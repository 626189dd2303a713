"""A replica that goes bad, and Envoy's outlier detection ejecting it."""

from __future__ import annotations

import pytest

import sim
from sim.engine.replication import run_replication
from sim.policies.outlier import OutlierDetector
from tests.helpers import exponential


def fleet(extra: dict) -> sim.Model:
    """Four replicas behind round robin; replica 0 fails every request all run long."""
    return sim.from_dict(
        {
            "horizon": 600,
            "warmup": 0,
            "replications": 1,
            "workload": {"arrivals": {"process": "poisson", "rate": 40}},
            "services": {
                "api": {
                    "replicas": 4,
                    "workers": 10,
                    "work": exponential(0.02),
                    "incidents": [{"start": 0, "end": 600, "error_rate": 1, "replicas": [0]}],
                    **extra,
                }
            },
        }
    )


def test_an_incident_can_strike_one_replica():
    metrics = run_replication(fleet({}), 0, 1).metrics["api"]
    assert metrics["error_rate"] == pytest.approx(0.25, abs=0.001)  # one request in four


def test_outlier_detection_ejects_the_bad_replica_longer_each_time():
    detection = {"consecutive_5xx": 5, "base_ejection_time": 30, "max_ejection_percent": 50}
    metrics = run_replication(fleet({"outlier_detection": detection}), 0, 1).metrics["api"]
    # ejected for 30, 60, 90 ... s after each 5 failures: out at 0, 30, 90, 180, 300, 450
    assert metrics["outlier_ejections"] == 6
    assert metrics["error_rate"] == pytest.approx(30 / metrics["arrivals"], rel=0.05)


def test_ejection_is_capped_but_one_replica_may_always_go():
    detector = OutlierDetector(consecutive_5xx=2, base_ejection_time=10, max_ejection_percent=10)
    for host in (0, 1):
        for _ in range(2):
            detector.record(host, failed=True, now=1.0, hosts=4)
    assert detector.ejected(0, 1.0)  # one may always go
    assert not detector.ejected(1, 1.0)  # a second would be 50 % of four
    assert not detector.ejected(0, 11.0)  # back after its time
    detector.record(0, failed=False, now=12.0, hosts=4)
    assert detector.failures[0] == 0


def test_an_incident_on_a_replica_that_never_exists_is_refused():
    with pytest.raises(sim.ModelError, match=r"incidents\.0\.replicas: replica 7 does not exist"):
        sim.from_dict(
            {
                "horizon": 10,
                "workload": {"arrivals": {"process": "poisson", "rate": 1}},
                "services": {
                    "api": {
                        "replicas": 2,
                        "work": exponential(0.01),
                        "incidents": [{"start": 0, "end": 5, "down": "fail_fast", "replicas": [7]}],
                    }
                },
            }
        )
