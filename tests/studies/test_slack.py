"""A sweep over a service's workers (or queue) takes, for the points whose workers (or
waiting places) never ran out, the run of the point with the most, and branches the
others off it where they first differ: the same numbers, bit for bit, for less work."""

from __future__ import annotations

import io
import json
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import sim
import sim.engine.replication as engine
import sim.studies.run as run_module
from sim.engine.branching import Axis, Branches
from sim.engine.pool import WorkerPool
from sim.engine.tasks import TaskEnvironment
from sim.measure.gauge import Gauge
from sim.studies.run import replicate_points
from sim.studies.slack import slack_reuse
from sim.studies.sweep import build
from sim.studies.sweep import points as sweep_points
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


def _results(points: list[sim.Model], reuse, start: int = 3, executor="inline") -> list[str]:
    """Each point's simulated numbers (the instant estimate left out: it is the model's,
    and on some random models slow), as JSON."""
    ran = replicate_points(points, start, start, 5, lambda _: True, executor, False, reuse=reuse)
    assert ran.complete
    return [_numbers(results) for results in ran.results]


def _numbers(results: sim.Results) -> str:
    tables = ["summary", "per_replication", "timeseries", "by_class", "scale_events"]
    return json.dumps({name: getattr(results, name).to_json() for name in tables})


def _reused_and_simulated(
    points: list[sim.Model], reuse, monkeypatch, branching: bool, vouched: int = 1
) -> list[str]:
    """The points, two replications each, with ``reuse`` and without: the same results,
    bit for bit. ``vouched`` of them simulated nothing; with ``branching`` (in a process
    pool, whose workers may fork) the others branched off the trunk, else they were
    simulated. The reused results' JSON."""
    if not branching:
        monkeypatch.setattr(engine, "can_branch", lambda: False)
    executor = "processes" if branching else "inline"
    sizes = _counted(monkeypatch)
    reused = _results(points, reuse, start=2, executor=executor)
    saved = sizes[:]
    sizes.clear()
    assert reused == _results(points, None, start=2, executor=executor)  # bit for bit
    assert sizes == [2 * len(points)]
    rest = 2 * (len(points) - 1 - vouched)
    assert saved == ([2] if branching else [2, rest])  # the trunk's runs, and the rest
    return reused


@pytest.mark.parametrize("branching", [True, False], ids=["branching", "no fork"])
def test_points_whose_workers_never_ran_out_take_the_largest_points_runs(monkeypatch, branching):
    model = sim.load(MODELS / "slow_database.yaml", {"horizon": 60, "warmup": 6})
    path = "services.gateway.workers"
    points = _points(model, path, [2, 20, 80])
    reuse = slack_reuse(points, [path])
    assert reuse is not None and reuse.source == 2 and reuse.first == {2}
    assert reuse.branches(0, [(0, 0), (1, 0), (2, 0), (0, 1)]) == Branches(
        (Axis("gateway", "workers"),), ((2,), (20,))
    )
    reused = _reused_and_simulated(points, reuse, monkeypatch, branching)
    utilization = [
        pd.read_json(io.StringIO(json.loads(text)["summary"]))
        .query("service == 'gateway' and metric == 'utilization'")["mean"]
        .item()
        for text in reused
    ]
    assert utilization[1] == pytest.approx(4 * utilization[2])  # its own workers divide


@pytest.mark.parametrize("branching", [True, False], ids=["branching", "no fork"])
def test_points_whose_queue_never_filled_take_the_longest_queues_runs(monkeypatch, branching):
    overrides = {"horizon": 60, "warmup": 6, "services.gateway.workers": 3}
    model = sim.load(MODELS / "slow_database.yaml", overrides)
    path = "services.gateway.queue"
    points = _points(model, path, [0, 350, 400])
    reuse = slack_reuse(points, [path])
    assert reuse is not None and (reuse.axes, reuse.source) == ((Axis("gateway", "queue"),), 2)
    _reused_and_simulated(points, reuse, monkeypatch, branching)


@pytest.mark.parametrize("branching", [True, False], ids=["branching", "no fork"])
@pytest.mark.parametrize(
    ("knob", "values", "connections"),
    [("max_connections", [2, 10, 80], 80), ("max_pending_requests", [0, 16, 100], 3)],
)
def test_a_connection_pool_that_never_ran_out_is_reused_too(
    monkeypatch, branching, knob, values, connections
):
    pool = "services.api.connection_pools.db"
    overrides = {"horizon": 60, "warmup": 6, f"{pool}.max_connections": connections}
    model = sim.load(MODELS / "slow_database.yaml", overrides)
    points = _points(model, f"{pool}.{knob}", values)
    reuse = slack_reuse(points, [f"{pool}.{knob}"])
    assert reuse is not None and reuse.axes == (Axis("api", knob, "db"),)
    _reused_and_simulated(points, reuse, monkeypatch, branching)


def _grid(model: sim.Model, vary: dict[str, list[int]]) -> list[sim.Model]:
    return [build(model, point) for point in sweep_points(vary)]


@pytest.mark.parametrize("branching", [True, False], ids=["branching", "no fork"])
def test_a_sweep_over_two_services_workers_branches_each_point_at_its_first_difference(
    monkeypatch, branching
):
    model = sim.load(MODELS / "slow_database.yaml", {"horizon": 60, "warmup": 6})
    gateway, api = "services.gateway.workers", "services.api.workers"
    points = _grid(model, {gateway: [2, 20, 80], api: [2, 20]})
    reuse = slack_reuse(points, [gateway, api])
    assert reuse is not None and reuse.values[reuse.source] == (80, 20)
    assert reuse.branches(1, [(p, 1) for p in range(6)]).points == (
        (2, 2), (2, 20), (20, 2), (20, 20), (80, 2)
    )  # fmt: skip
    # (20, 20) never ran out of either: it takes the trunk's runs; the rest branch off
    reused = _reused_and_simulated(points, reuse, monkeypatch, branching, vouched=1)
    utilization = [
        pd.read_json(io.StringIO(json.loads(text)["summary"]))
        .query("metric == 'utilization'")
        .set_index("service")["mean"]
        for text in reused
    ]
    twenty, trunk = utilization[3], utilization[5]  # (20, 20) and (80, 20)
    assert twenty["gateway"] == pytest.approx(4 * trunk["gateway"])
    assert twenty["api"] == trunk["api"] and twenty["db"] == trunk["db"]


@pytest.mark.parametrize("branching", [True, False], ids=["branching", "no fork"])
def test_a_sweep_over_one_services_workers_and_queue_watches_both(monkeypatch, branching):
    overrides = {"horizon": 60, "warmup": 6}
    model = sim.load(MODELS / "slow_database.yaml", overrides)
    workers, queue = "services.gateway.workers", "services.gateway.queue"
    points = _grid(model, {workers: [3, 4], queue: [0, 5, 400]})
    reuse = slack_reuse(points, [workers, queue])
    assert reuse is not None
    assert reuse.axes == (Axis("gateway", "workers"), Axis("gateway", "queue"))
    # the trunk (4, 400) queues: (4, 0) and (4, 5) branch as its queue reaches them
    _reused_and_simulated(points, reuse, monkeypatch, branching, vouched=0)


def test_a_pool_tells_its_watch_when_the_watched_count_is_reached():
    env = TaskEnvironment()
    pool = WorkerPool(env, 4, 1, Gauge(1.0, 10), Gauge(1.0, 10), "test")
    seen: list[int] = []

    class Watch:
        def reached(self, count: int) -> None:
            seen.append(count)
            pool.limit = pool.slots = 2  # as a branch does: it has 2 workers from now on

    pool.watch, pool.limit = Watch(), 2
    assert pool.admit() is True and pool.admit() is True and seen == []
    assert pool.admit() is not True and seen == [2]  # the third finds both taken, and waits
    assert pool.ran_out and pool.most == 2


def _branch_ends(model_data: dict, how: str):
    """In a pool worker: replication 0 of the model with a branch at 2 gateway workers,
    which raises (``how="raises"``) or is killed (``"killed"``) as it measures."""
    real = engine.measure

    def measure(system, replication):
        if system.recorders["gateway"].workers == 2:  # the branch
            if how == "raises":
                raise sim.UnstableError("the branch broke")
            os._exit(9)
        return real(system, replication)

    engine.measure = measure
    try:
        return engine.run_replication(
            sim.from_dict(model_data), 0, 5, Branches((Axis("gateway", "workers"),), ((2,), (20,)))
        )
    finally:
        engine.measure = real


def test_a_branch_that_fails_fails_its_trunk_and_one_killed_is_left_to_simulate():
    model = sim.load(MODELS / "slow_database.yaml", {"horizon": 60, "warmup": 6})
    data = build(model, {"services.gateway.workers": 80}).model_dump(mode="json")
    with ProcessPoolExecutor(1) as pool:
        with pytest.raises(sim.UnstableError, match="the branch broke"):
            pool.submit(_branch_ends, data, "raises").result()
        output = pool.submit(_branch_ends, data, "killed").result()
    assert output.branches == {}  # gateway never had 20 busy: no branch; the one at 2 died


def test_a_pool_remembers_whether_it_ran_out_and_the_most_it_held():
    env = TaskEnvironment()
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
    both = [path, "services.db.workers"]
    assert slack_reuse(_points(graph, path, [10, 20]), both) is not None
    crossed = [build(graph, {path: a, "services.db.workers": b}) for a, b in [(10, 20), (20, 10)]]
    assert slack_reuse(crossed, both) is None  # no point has the most of both
    assert slack_reuse(_points(graph, path, [10, 20]), [path, "services.api.replicas"]) is None
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
    pool = "services.api.connection_pools.db.max_connections"
    assert slack_reuse(_points(graph, pool, [5, 9]), [pool]) is not None
    pending = "services.api.connection_pools.db.max_pending_requests"
    assert slack_reuse(_points(graph, pending, [5, 9]), [pending]) is not None
    assert slack_reuse(_points(graph, "services.api.cpus", [1, 2]), ["services.api.cpus"]) is None


def _long_trunk(model_data: dict) -> None:
    """In a pool worker: a long replication with a branch at 2 gateway workers."""
    branches = Branches((Axis("gateway", "workers"),), ((2,),))
    engine.run_replication(sim.from_dict(model_data), 0, 5, branches)


def _children(pid: int) -> list[int]:
    """The live (not zombie) processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z" and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_branch_ends_when_its_trunk_dies():
    model = sim.load(MODELS / "slow_database.yaml", {"horizon": 100_000, "warmup": 6})
    data = build(model, {"services.gateway.workers": 80}).model_dump(mode="json")
    with ProcessPoolExecutor(1) as pool:  # a branch left alone would run for minutes
        pool.submit(_long_trunk, data)
        assert _wait_for(lambda: bool(pool._processes))
        (worker,) = pool._processes
        assert _wait_for(lambda: bool(_children(worker)))  # the branch is running
        (branch,) = _children(worker)
        os.kill(worker, signal.SIGKILL)
        assert _wait_for(lambda: not _alive(branch), seconds=10)


EXAMPLES = int(os.environ.get("QUEUEFULL_SLACK_EXAMPLES", "6"))


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(models(), st.data())
def test_on_random_models_a_reused_run_is_the_run_itself(data, draw):
    """Whatever else a model has (controls, calls, incidents, GC, classes, scenarios),
    a point that takes another's run, or branches off it, has the numbers its own
    simulation gives; over one knob or two at once."""
    try:
        model = sim.from_dict({**data, "engine": "simpy"})
    except sim.ModelError:
        assume(False)
    knobs = {}  # path -> the model's number
    for service, spec in model.services.items():
        for knob in ("workers", "queue"):
            knobs[f"services.{service}.{knob}"] = getattr(spec, knob)
        for callee, limits in spec.connection_pools.items():
            for knob in ("max_connections", "max_pending_requests"):
                knobs[f"services.{service}.connection_pools.{callee}.{knob}"] = getattr(
                    limits, knob
                )
    usable = sorted(p for p, v in knobs.items() if isinstance(v, int) and not isinstance(v, bool))
    assume(usable)
    paths = draw.draw(st.lists(st.sampled_from(usable), min_size=1, max_size=2, unique=True))
    multiples = [(1, 2, 4, 8), (1, 2, 8), (1, 8)][len(paths) - 1 :]  # 4 points, or 3 x 2
    spans = {
        path: sorted({knobs[path] * m + (m == 8) for m in factors})
        for path, factors in zip(paths, multiples, strict=False)
    }
    try:
        points = _grid(model, spans)
    except sim.ModelError:
        assume(False)
    reuse = slack_reuse(points, paths)
    assume(reuse is not None)
    try:
        reused = _results(points, reuse, start=2, executor="processes")  # branching
        assert reused == _results(points, None, start=2)
    except sim.UnstableError:
        return


@pytest.mark.parametrize("executor", ["processes", "inline"])
def test_a_sweep_shows_each_replication_of_every_point_as_it_comes(executor):
    # The first replication of every point, then the second: each the very table of a
    # sweep of that many (common random numbers), and the last the sweep's own.
    model = sim.load(MODELS / "slow_database.yaml", {"horizon": 60, "warmup": 6})
    vary = {"services.gateway.workers": [2, 20, 80]}
    shown: list[pd.DataFrame] = []

    def sweep(replications: int, **extra) -> pd.DataFrame:
        return sim.sweep(
            model, vary=vary, replications=replications, executor=executor, progress=False, **extra
        )

    final = sweep(3, partial=shown.append)
    counts = [set(table.replications) for table in shown]
    if executor == "inline":
        assert counts == [{1}, {2}]
    else:  # outputs arrive as processes finish: a point's first may come after a second
        assert counts in ([{1}, {2}], [{1}], [{2}], [])
    for table in shown:
        (count,) = set(table.replications)
        pd.testing.assert_frame_equal(table, sweep(count))
    pd.testing.assert_frame_equal(final, sweep(3))


def _branch_at(model_data: dict, niceness: int, asked: str):
    """In a pool worker: replication 0 of the model with a branch at 2 gateway workers at
    ``niceness``, each niceness a process asks for written to the file ``asked``."""

    def nice(increment: int) -> int:
        with open(asked, "a") as out:  # written by the forked branch
            out.write(f"{increment}\n")
        return increment

    real, os.nice = os.nice, nice
    try:
        axes = (Axis("gateway", "workers"),)
        return engine.run_replication(
            sim.from_dict(model_data), 0, 5, Branches(axes, ((2,),), niceness)
        )
    finally:
        os.nice = real


def test_the_branches_of_a_rounds_later_trunks_yield_the_cores(tmp_path):
    # A branch lowers its own priority (niceness) by its trunk's rank in the round; the
    # numbers are the same.
    model = sim.load(MODELS / "slow_database.yaml", {"horizon": 60, "warmup": 6})
    data = build(model, {"services.gateway.workers": 80}).model_dump(mode="json")
    asked = tmp_path / "niceness"
    with ProcessPoolExecutor(1) as pool:
        first = pool.submit(_branch_at, data, 0, str(asked)).result()
        later = pool.submit(_branch_at, data, 10, str(asked)).result()
    assert asked.read_text().split() == ["10"]  # the first trunk's branch asked for none
    assert first.branches.keys() == later.branches.keys() == {(2,)}
    for a, b in ((first, later), (first.branches[(2,)], later.branches[(2,)])):
        assert _numbers(sim.Results.from_outputs(model, 5, [a])) == _numbers(
            sim.Results.from_outputs(model, 5, [b])
        )
    path = "services.gateway.workers"
    reuse = slack_reuse(_points(model, path, [2, 20, 80]), [path])
    assert reuse is not None
    pairs = [(p, r) for p in range(3) for r in range(4)]
    ranked = [reuse.branches(r, pairs, rank).niceness for rank, r in enumerate(range(4))]
    assert ranked == [0, 10, 19, 19]
