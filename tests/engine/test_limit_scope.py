"""Limits per replica multiply with the replicas; a service-wide limit does not."""

from __future__ import annotations

import pytest

import sim
from tests.helpers import exponential


def fleet(limits: dict, replicas: int | None = 3, scaling: dict | None = None) -> sim.Model:
    """Three replicas behind round robin, offered twice what a 10 req/s limit each allows."""
    api = {"workers": 20, "queue": 50, "work": exponential(0.01), **limits}
    if scaling is None:
        api["replicas"] = replicas
    else:
        api["autoscaling"] = scaling
    return sim.from_dict(
        {
            "horizon": 400,
            "warmup": 40,
            "replications": 4,
            "seed": 9,
            "workload": {"arrivals": {"process": "poisson", "rate": 60}},
            "services": {"api": api},
        }
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "limit",
    [
        {"kind": "token_bucket", "rate": 10, "burst": 5},
        {"kind": "fixed_window", "limit": 10, "window": 1},
    ],
    ids=["token_bucket", "fixed_window"],
)
def test_a_rate_limit_per_replica_lets_through_its_rate_times_the_replicas(limit):
    # Each replica sees 20 req/s and passes at most 10: 30 req/s in all; one limit for
    # the service passes 10.
    each = sim.run(fleet({"rate_limit": {**limit, "scope": "replica"}}), executor="inline")
    whole = sim.run(fleet({"rate_limit": limit}), executor="inline")
    assert each.get("throughput", "api") == pytest.approx(30, rel=0.04)
    assert whole.get("throughput", "api") == pytest.approx(10, rel=0.04)


@pytest.mark.slow
def test_a_concurrency_limit_per_replica_adds_up_and_follows_the_replicas():
    limit = {"concurrency_limit": {"kind": "static", "max_concurrency": 4, "scope": "replica"}}
    fixed = sim.run(fleet(limit), executor="inline")
    assert fixed.get("concurrency_limit_mean", "api") == pytest.approx(12)
    schedule = {
        "kind": "schedule",
        "schedule": [{"at": 0, "replicas": 3}, {"at": 220, "replicas": 1}],
    }
    scaled = sim.run(fleet(limit, scaling=schedule), executor="inline")
    # 3 x 4 until the scale-in at 220 s (once the two replicas drain), then 4: the window
    # [40, 400) spends half its time at each
    assert scaled.get("concurrency_limit_mean", "api") == pytest.approx(8, rel=0.02)
    series = scaled.timeseries
    late = series[(series.service == "api") & (series.time >= 240)]
    assert late.concurrency_limit.max() == pytest.approx(4)
