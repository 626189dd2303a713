"""A replica that crashes and restarts: what it holds fails at once, it refuses requests
until it is back, and it comes back empty."""

from __future__ import annotations

from typing import Any

import numpy as np

import sim
from sim.engine.replication import build, measure, simulate
from sim.engine.streams import Streams


def _fleet(service: dict[str, Any], incident: dict[str, Any] | None = None) -> sim.Model:
    """Two replicas behind round robin, one request a second, 10 s of work each: each
    replica holds five requests at any time."""
    crash = {"start": 100, "duration": 20, "down": "crash", "replicas": [0]}
    return sim.from_dict(
        {
            "horizon": 200,
            "warmup": 0,
            "replications": 1,
            "workload": {"arrivals": {"process": "constant", "rate": 1}},
            "services": {
                "api": {
                    "replicas": 2,
                    "workers": 10,
                    "queue": 20,
                    "work": {"distribution": "constant", "value": 10},
                    "incidents": [{**crash, **(incident or {})}],
                    **service,
                }
            },
        }
    )


def _run(model: sim.Model):
    system = build(model, Streams(model.seed, 0))
    simulate(system)
    recorder = system.recorders["api"]
    return recorder.records("failed_at"), recorder.records("done_at"), measure(system, 0)


def test_a_crash_fails_what_the_replica_holds_at_once_and_what_comes_until_it_is_back():
    failed, done, _ = _run(_fleet({}))
    assert np.count_nonzero(failed == 100.0) >= 5  # the five in service, at the crash
    assert failed.size == 5 + 10  # and the ten sent to it while it is down
    assert failed.max() < 120
    # no answer from before the crash comes from replica 0 after it: 5 of its requests
    # were lost, so completions in 100-110 s are replica 1's five only
    assert np.count_nonzero((done >= 100) & (done < 110)) == 5
    assert np.count_nonzero(done >= 130) > 0  # it serves again once back


def test_requests_waiting_in_its_queue_fail_too():
    """A backlog of ten at t=0 puts five on replica 0: two in service, three waiting."""
    failed, _, _ = _run(_fleet({"workers": 2, "initial_backlog": 10}, {"start": 5}))
    assert np.count_nonzero(failed == 5.0) >= 5


def test_the_restarted_replica_starts_empty():
    """Back at 102 s, replica 0 serves in exactly 10 s again, and the share of the cores
    its lost requests had is free: their jobs are gone from its executor."""
    model = _fleet({"cpus": 10}, {"duration": 2})
    system = build(model, Streams(model.seed, 0))
    system.env.run(until=100.5)
    crashed, fine = system.services["api"].replicas
    assert not crashed.executor.jobs and len(fine.executor.jobs) == 5
    simulate(system)
    recorder = system.recorders["api"]
    done, latency = recorder.records("done_at"), recorder.records("latency")
    later = done >= 102
    assert later.sum() > 90 and np.allclose(latency[later], 10.0)


def test_a_request_in_the_middle_of_a_call_fails_when_the_call_returns():
    model = sim.from_dict(
        {
            "horizon": 60,
            "warmup": 0,
            "replications": 1,
            "workload": {"arrivals": {"process": "constant", "rate": 1}},
            "services": {
                "api": {
                    "workers": 50,
                    "work": {"distribution": "constant", "value": 0.001},
                    "calls": [{"to": "db"}],
                    "incidents": [{"start": 30, "duration": 5, "down": "crash"}],
                },
                "db": {"workers": 50, "work": {"distribution": "constant", "value": 4}},
            },
        }
    )
    system = build(model, Streams(0, 0))
    simulate(system)
    failed = system.recorders["api"].records("failed_at")
    assert failed.size == 4 + 5  # four waiting on db at 30 s, five arrivals while down
    assert np.all(failed[failed < 35] >= 30)
