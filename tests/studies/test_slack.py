"""A sweep over a service's workers (or queue) takes, for the points whose workers (or
waiting places) never ran out, the run of the point with the most: the same numbers, bit
for bit, for less work."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import simpy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import sim
import sim.studies.run as run_module
from sim.engine.pool import WorkerPool
from sim.measure.gauge import Gauge
from sim.studies.run import replicate_points
from sim.studies.slack import slack_reuse
from sim.studies.sweep import build
from tests.studies.test_fuzz import models

MODELS = Path(__file__).resolve().parents[2] / "models"


def _points(model: sim.Model, path: str, values: list[int]) -> list[sim.Model]:
    return [build(model, {path: value}) for value in values]


def _counted(monkeypatch) -> list[int]:
    """How many replications each batch simulates."""
    sizes: list[int] = []
    real = run_module.run_tasks

    def counting(tasks, *args, **kwargs):
        sizes.append(len(tasks))
        return real(tasks, *args, **kwargs)

    monkeypatch.setattr(run_module, "run_tasks", counting)
    return sizes


def _results(points: list[sim.Model], reuse, start: int = 3) -> list[str]:
    ran = replicate_points(points, start, start, 5, lambda _: True, "inline", False, reuse=reuse)
    assert ran.complete
    return [results.to_json() for results in ran.results]


def _reused_and_simulated(points: list[sim.Model], reuse, monkeypatch) -> list[str]:
    """Three points, two replications each, with ``reuse`` and without: the same results,
    bit for bit, and the middle point simulated nothing. The reused results' JSON."""
    sizes = _counted(monkeypatch)
    reused = _results(points, reuse, start=2)
    saved = sizes[:]
    sizes.clear()
    assert reused == _results(points, None, start=2)  # every point, bit for bit
    assert sizes == [6] and saved == [4]  # the middle point simulated nothing
    return reused


def test_points_whose_workers_never_ran_out_take_the_largest_points_runs(monkeypatch):
    model = sim.load(MODELS / "slow_database.yaml", {"horizon": 60, "warmup": 6})
    path = "services.gateway.workers"
    points = _points(model, path, [2, 20, 80])
    reuse = slack_reuse(points, [path])
    assert reuse is not None and reuse.source == 2 and reuse.first == {0, 2}
    reused = _reused_and_simulated(points, reuse, monkeypatch)
    utilization = [
        sim.Results.from_json(text).row("utilization", "gateway")["mean"] for text in reused
    ]
    assert utilization[1] == pytest.approx(4 * utilization[2])  # its own workers divide


def test_points_whose_queue_never_filled_take_the_longest_queues_runs(monkeypatch):
    model = sim.load(MODELS / "slow_database.yaml", {"horizon": 60, "warmup": 6})
    path = "services.api.queue"
    points = _points(model, path, [0, 50, 400])
    reuse = slack_reuse(points, [path])
    assert reuse is not None and (reuse.knob, reuse.source) == ("queue", 2)
    _reused_and_simulated(points, reuse, monkeypatch)


def test_a_pool_remembers_whether_it_ran_out_and_the_most_it_held():
    env = simpy.Environment()
    pool = WorkerPool(env, 2, 2, Gauge(1.0, 10), Gauge(1.0, 10), "test")
    assert pool.admit() is True and pool.admit() is True
    pool.release()
    assert (pool.ran_out, pool.most) == (False, 2)
    assert pool.admit() is True and pool.admit() is not True  # the third waits
    assert pool.ran_out and (pool.filled, pool.most_waiting) == (False, 1)
    assert pool.admit() is not True and pool.admit() is None  # two wait; the next is refused
    assert pool.filled and pool.most_waiting == 2


def test_reuse_applies_only_where_nothing_else_reads_the_workers():
    graph = sim.load(MODELS / "slow_database.yaml", {"horizon": 60, "warmup": 6})
    path = "services.api.workers"
    assert slack_reuse(_points(graph, path, [10, 20]), [path]) is not None
    assert slack_reuse(_points(graph, path, [10, 20]), [path, "services.db.workers"]) is None
    queue = "services.api.queue"
    assert slack_reuse(_points(graph, queue, [10, 20]), [queue]) is not None
    unbounded = [build(graph, {queue: q}) for q in (10, "unbounded")]
    assert slack_reuse(unbounded, [queue]) is None
    assert (
        slack_reuse(_points(graph, "services.api.replicas", [1, 2]), ["services.api.replicas"])
        is None
    )
    lone = sim.load(MODELS / "default.yaml", {"horizon": 60, "warmup": 6})  # the fast path
    assert (
        slack_reuse(_points(lone, "services.api.workers", [5, 9]), ["services.api.workers"]) is None
    )
    scaled = sim.load(MODELS / "autoscale_lag.yaml", {"horizon": 60, "warmup": 6})
    assert slack_reuse(_points(scaled, path, [5, 9]), [path]) is None


EXAMPLES = int(os.environ.get("QUEUEFULL_SLACK_EXAMPLES", "6"))


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(models(), st.data())
def test_on_random_models_a_reused_run_is_the_run_itself(data, draw):
    """Whatever else a model has (controls, calls, incidents, GC, classes, scenarios),
    a point that takes another's run has the numbers its own simulation gives."""
    try:
        model = sim.from_dict({**data, "engine": "simpy"})
    except sim.ModelError:
        assume(False)
    service = draw.draw(st.sampled_from(sorted(model.services)))
    knob = draw.draw(st.sampled_from(["workers", "queue"]))
    path = f"services.{service}.{knob}"
    base = getattr(model.services[service], knob)
    assume(isinstance(base, int) and not isinstance(base, bool))
    try:
        points = _points(model, path, sorted({base, 2 * base, 4 * base, 8 * base + 1}))
    except sim.ModelError:
        assume(False)
    reuse = slack_reuse(points, [path])
    assume(reuse is not None)
    try:
        assert _results(points, reuse, start=2) == _results(points, None, start=2)
    except sim.UnstableError:
        return
