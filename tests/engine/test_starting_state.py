"""Runs that start from a known bad state: a backlog left by an outage, a breaker open."""

from __future__ import annotations

import math

import pytest

import sim
from sim.engine.replication import run_replication
from tests.helpers import exponential

RATE, WORK, WORKERS, BACKLOG = 80.0, 0.1, 10, 2000


def station(backlog: int) -> sim.Model:
    return sim.from_dict(
        {
            "horizon": 600,
            "warmup": 0,
            "replications": 1,
            "workload": {"arrivals": {"process": "poisson", "rate": RATE}},
            "services": {
                "api": {
                    "workers": WORKERS,
                    "queue": "unbounded",
                    "work": exponential(WORK),
                    "initial_backlog": backlog,
                }
            },
        }
    )


def test_a_backlog_arrives_at_t0_and_drains_at_the_spare_capacity():
    calm = run_replication(station(0), 0, 3).metrics
    late = run_replication(station(BACKLOG), 0, 3).metrics
    # the same arrivals, plus the backlog, all of them served
    assert late["all"]["arrivals"] == calm["all"]["arrivals"] + BACKLOG
    assert late["all"]["success_rate"] == 1.0
    # 2,000 waiting, 100 req/s of capacity against 80 arriving: about 100 s to drain
    drain = BACKLOG / (WORKERS / WORK - RATE)
    assert late["api"]["recovered"] == 1.0
    assert late["api"]["recovery_time"] == pytest.approx(drain, rel=0.3)
    assert "recovery_time" not in calm["api"]


def test_a_breaker_that_starts_open_stays_open_for_its_wait_then_closes():
    model = sim.from_dict(
        {
            "horizon": 100,
            "warmup": 0,
            "replications": 1,
            "workload": {"arrivals": {"process": "poisson", "rate": 50}},
            "services": {
                "api": {
                    "workers": 20,
                    "work": exponential(0.01),
                    "calls": [
                        {
                            "to": "db",
                            "circuit_breaker": {
                                "initial_state": "OPEN",
                                "wait_duration_in_open_state": 10,
                            },
                        }
                    ],
                },
                "db": {"workers": 20, "work": exponential(0.01)},
            },
        }
    )
    metrics = run_replication(model, 0, 1).metrics
    edge = metrics["api->db"]
    # open from 0 to the first call after 10 s (50 calls a second): a tenth of the run
    assert edge["breaker_open_fraction"] == pytest.approx(0.1, abs=0.002)
    assert edge["call_circuit_open_rate"] == pytest.approx(0.1, abs=0.01)
    assert math.isfinite(metrics["api"]["recovery_time"])
