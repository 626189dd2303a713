"""The SimPy engine's short paths change no number.

A plain service (its own work, then its calls; no incidents, limits, GC, CPUs...) serves
its requests through :meth:`ServiceRuntime._handle_plain`, and clients that add nothing to
their entry service (no timeout, retries or calls: :func:`passes_through`) record nothing,
their end-to-end view copied from the entry's records after the run. Both must give
exactly the results of the general path, on random models whose services are stripped of
what keeps them off it: every count and outcome exactly, and every float to its last few
digits (a mirrored end-to-end ``in_system`` gauge is the entry's, summed without the
zero-length steps the clients' own gauge takes at each refusal, so its area can differ in
the last bit).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings

import sim
import sim.engine.replication as replication
import sim.engine.service as service
from tests.studies.test_fuzz import models

PLAIN_KEYS = {
    "workers",
    "queue",
    "work",
    "replicas",
    "balancer",
    "choice_count",
    "discipline",
    "queue_timeout",
    "codel",
    "pool",
    "block_when_full",
    "unit_capacity",
    "retry_after",
    "calls",
    "connection_pools",
}
"""What a service may have and still take the short path."""


def plainer(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` on the SimPy engine, its services stripped to what plain services have."""
    services = {
        name: {key: value for key, value in spec.items() if key in PLAIN_KEYS}
        for name, spec in data["services"].items()
    }
    return {**data, "engine": "simpy", "services": services}


def both_ways(model: sim.Model, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The results (as JSON data) with the short paths, then with them switched off (the
    instant estimate left out: a function of the model alone, not of the engine's paths)."""
    short = sim.run(model, executor="inline", progress=False).to_json(estimate=False)
    with monkeypatch.context() as patched:
        patched.setattr(service, "is_plain", lambda spec, classes: False)
        patched.setattr(replication, "passes_through", lambda model: False)
        general = sim.run(model, executor="inline", progress=False).to_json(estimate=False)
    return json.loads(short), json.loads(general)


def same(first: Any, second: Any, where: str = "") -> None:
    """Assert two results agree: structure and strings exactly, floats to 1e-12."""
    if isinstance(first, dict):
        assert first.keys() == second.keys(), where
        for key in first:
            same(first[key], second[key], f"{where}/{key}")
    elif isinstance(first, list):
        assert len(first) == len(second), where
        for index, (a, b) in enumerate(zip(first, second, strict=True)):
            same(a, b, f"{where}[{index}]")
    elif isinstance(first, float) and isinstance(second, float):
        both_nan = math.isnan(first) and math.isnan(second)
        assert both_nan or math.isclose(first, second, rel_tol=1e-12), where
    else:
        assert first == second, where


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(models())
def test_short_paths_give_the_general_paths_numbers(data):
    try:
        model = sim.from_dict(plainer(data))
    except sim.ModelError:
        assume(False)
    monkeypatch = pytest.MonkeyPatch()
    try:
        short, general = both_ways(model, monkeypatch)
    except sim.UnstableError:
        return
    same(short, general)


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"discipline": "lifo", "queue_timeout": {"after": 0.05}},
        {"codel": {"target": 0.005, "interval": 0.1}},
        {"replicas": 3, "balancer": "least_request"},
        {"block_when_full": {"max_block": 0.2}},
        {"pool": {"core": 2, "max": 6, "keep_alive": 1}, "queue": 5},
    ],
)
def test_a_lone_station_mirrored_end_to_end_gives_the_same_numbers(extra, monkeypatch):
    station = {"workers": 4, "queue": 10, "work": {"distribution": "exponential", "mean": 0.1}}
    if "pool" in extra:
        del station["workers"]
    model = sim.from_dict(
        {
            "horizon": 100,
            "warmup": 10,
            "replications": 2,
            "engine": "simpy",
            "workload": {
                "arrivals": {"process": "poisson", "rate": 38},
                "classes": [{"name": "a", "weight": 3}, {"name": "b", "weight": 1, "priority": 1}],
            },
            "services": {"api": {**station, **extra}},
        }
    )
    assert replication.passes_through(model)
    short, general = both_ways(model, monkeypatch)
    same(short, general)
