"""The estimate stays an instant, finite answer on models far from its comfort zone: a
parallel step with a fire-and-forget entry, a bounded station far past saturation, a
load that never settles."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from sim.estimate import OUT_OF_RANGE, estimate_graph
from sim.estimate import graph as graph_module
from sim.estimate.station import solve, wait_samples

EXP = {"distribution": "exponential", "mean": 0.05}


def fan_out(loss: float) -> sim.Model:
    """front makes two calls at once: a sync call to b, and an enqueue call to sink whose
    messages are lost with probability ``loss`` (no timeout: a lost one is never answered)."""
    return sim.from_dict(
        {
            "horizon": 100,
            "workload": {"arrivals": {"process": "poisson", "rate": 20}},
            "services": {
                "front": {
                    "workers": 8,
                    "work": EXP,
                    "calls": [
                        {"to": "sink", "mode": "enqueue", "parallel": True, "loss": loss},
                        {"to": "b", "parallel": True},
                    ],
                },
                "b": {"workers": 4, "work": EXP},
                "sink": {"workers": 4, "work": EXP},
            },
        }
    )


def test_an_enqueue_entry_of_a_parallel_step_is_not_waited_for():
    # The engine sends the message and goes on; the estimate used to wait for its answer,
    # forever when the message was lost, and then failed on the infinite holding times.
    lossy, lossless = estimate_graph(fan_out(0.3)), estimate_graph(fan_out(0.0))
    for name in ("utilization", "latency_mean", "latency_p99"):  # equal but for sampling
        front = lossy.services["front"].metrics[name]
        assert front == pytest.approx(lossless.services["front"].metrics[name], rel=0.03), name
    assert math.isfinite(lossy.services["all"].metrics["latency_p99"])
    assert lossy.services["sink"].metrics["throughput"] == pytest.approx(20 * 0.7, rel=0.02)


@pytest.mark.parametrize("load", [1e9, 1e20])
def test_a_bounded_station_far_past_saturation_still_samples_waits(load):
    # 1 - P(full) cancels to nothing (or to zero) this far past saturation: the chances of
    # what an admitted request finds must still add up to one.
    station = solve(load, 1.0, 2, 50, 1.0, 1.0)
    assert station.waiting.sum() == pytest.approx(1.0, abs=1e-12)
    waits = wait_samples(station, 1.0, 2, np.random.default_rng(0), 1000)
    assert np.isfinite(waits).all() and waits.mean() == pytest.approx(25.0, rel=0.1)


def test_a_load_that_circles_gives_up_without_taking_every_round(monkeypatch):
    flows = graph_module.Graph.flows
    rounds = []

    def circling(self):
        rates = flows(self)
        rounds.append(len(rounds))
        return {name: r * (3.0 if len(rounds) % 2 else 1.0) for name, r in rates.items()}

    monkeypatch.setattr(graph_module.Graph, "flows", circling)
    estimate = estimate_graph(fan_out(0.0))
    assert not estimate.converged
    assert estimate.iterations == len(rounds) < graph_module.ITERATIONS
    assert len(rounds) < graph_module.ITERATIONS // 2
    assert estimate.services["front"].status == OUT_OF_RANGE
    assert any("did not settle" in why for why in estimate.services["front"].reasons)
