"""The short request path of plain services gives the numbers of the full one.

A service with nothing but its own work, its calls and incidents that slow it down, add
latency or fail requests (see :func:`sim.engine.service.is_plain`) serves its requests
through ``_handle_plain``, the full path's steps written out without the checks for what
it has not got. Forced through the full path, every model must give the same results
JSON, byte for byte.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, assume, given, settings

import sim
import sim.engine.service as service
from tests.studies.test_fuzz import models

EXAMPLES = int(os.environ.get("QUEUEFULL_PLAIN_EXAMPLES", "15"))


def results_json(model: sim.Model) -> str:
    """The model's results as JSON, run in this process (without the instant estimate)."""
    return sim.run(model, executor="inline", progress=False).to_json(estimate=False)


def both_paths(model: sim.Model, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """The results JSON as the engine runs it, and with every service on the full path."""
    plain = results_json(model)
    with monkeypatch.context() as patch:
        patch.setattr(service, "is_plain", lambda spec, classes: False)
        full = results_json(model)
    return plain, full


INCIDENTS = {
    "horizon": 120,
    "warmup": 10,
    "replications": 2,
    "engine": "simpy",
    "workload": {"arrivals": {"process": "poisson", "rate": 60}},
    "services": {
        "api": {
            "workers": 4,
            "queue": 20,
            "work": {"distribution": "exponential", "mean": "20ms"},
            "calls": [{"to": "db", "timeout": "300ms", "retries": {"max_attempts": 2}}],
            "incidents": [
                {"start": 30, "duration": 40, "slowdown": 3},
                {"start": 50, "duration": 30, "error_rate": 0.2},
            ],
        },
        "db": {
            "workers": 3,
            "queue": 10,
            "work": {"distribution": "lognormal", "mean": "30ms", "cv": 1},
            "incidents": [
                {
                    "start": 40,
                    "duration": 30,
                    "added_latency": {"distribution": "exponential", "mean": "50ms"},
                }
            ],
        },
    },
}


def test_slowdowns_added_latency_and_errors_take_the_short_path(monkeypatch):
    model = sim.from_dict(INCIDENTS)
    assert all(service.is_plain(spec, ["default"]) for spec in model.services.values())
    plain, full = both_paths(model, monkeypatch)
    assert plain == full
    results = sim.run(model, executor="inline", progress=False)
    assert results.get("error_rate", "api") > 0  # the incidents did strike


def test_incidents_that_take_a_service_down_keep_the_full_path():
    for down in ({"down": "fail_fast"}, {"down": "crash"}, {"slowdown": 2, "replicas": [0]}):
        spec = sim.from_dict(
            {
                **INCIDENTS,
                "services": {
                    **INCIDENTS["services"],
                    "db": {
                        **INCIDENTS["services"]["db"],
                        "incidents": [{"start": 40, "duration": 30, **down}],
                    },
                },
            }
        ).services["db"]
        assert not service.is_plain(spec, ["default"]), down


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(models())
def test_plain_services_give_the_full_paths_numbers(data):
    try:
        model = sim.from_dict({**data, "engine": "simpy"})
    except sim.ModelError:
        assume(False)
    with pytest.MonkeyPatch.context() as monkeypatch:
        try:
            plain, full = both_paths(model, monkeypatch)
        except sim.UnstableError:
            return
    assert plain == full
