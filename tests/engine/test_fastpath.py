"""The exact fast path: the same requests, outcomes and metrics as the SimPy engine."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import sim
from sim.engine import fastpath
from sim.engine.choice import blocker, engine_for
from sim.engine.fastpath import record_fast
from sim.engine.kernel import count_buckets, idle_workers, serve
from sim.engine.replication import build, run_replication, simulate
from sim.engine.streams import Streams
from sim.measure import recorders as recorder_module
from sim.measure import stats
from sim.report.summary import build_report
from sim.report.terminal import render_report
from tests.helpers import exponential

CONSTANT = {"distribution": "constant", "value": 0.25}

# Each case is (arrivals, workers, queue, work): ties on an exact grid (constant arrivals
# and work, where SimPy's event order decides), a drain that hits its limit, every
# arrival process and several work distributions.
CASES = {
    "M/M/10/30": ({"process": "poisson", "rate": 90}, 10, 20, exponential(0.1)),
    "M/M/2/2 blocking": ({"process": "poisson", "rate": 30}, 2, 0, exponential(0.05)),
    "M/M/64/74 deep heap": ({"process": "poisson", "rate": 300}, 64, 10, exponential(0.2)),
    "D/D/1/1 ties": ({"process": "constant", "rate": 4}, 1, 0, CONSTANT),
    "D/D/1/2 ties": ({"process": "constant", "rate": 4}, 1, 1, CONSTANT),
    "D/D/3/5 overloaded": (
        {"process": "constant", "rate": 10},
        3,
        2,
        {"distribution": "constant", "value": 0.4},
    ),
    "M/G/10 overloaded drain": (
        {"process": "poisson", "rate": 90},
        10,
        "unbounded",
        {"distribution": "lognormal", "mean": 0.12, "cv": 2},
    ),
    "profile spike": (
        {
            "process": "profile",
            "rate": 50,
            "changes": [{"kind": "spike", "start": 100, "duration": 60, "factor": 3}],
        },
        10,
        20,
        {"distribution": "gamma", "mean": 0.1, "cv": 0.5},
    ),
    "mmpp mixture": (
        {"process": "mmpp", "rate": 80, "burst_factor": 3, "burst_duration": 5},
        4,
        10,
        {
            "distribution": "mixture",
            "components": [
                {"weight": 1, "distribution": "exponential", "mean": 0.01},
                {"weight": 1, "distribution": "uniform", "low": 0.05, "high": 0.1},
            ],
        },
    ),
}


def station(arrivals, workers, queue, work, warmup=50.0, horizon=400.0, **extra) -> sim.Model:
    """A single FIFO station."""
    return sim.from_dict(
        {
            "name": "fast",
            "horizon": horizon,
            "warmup": warmup,
            "replications": 2,
            "workload": {"arrivals": arrivals},
            "services": {"api": {"workers": workers, "queue": queue, "work": work}},
            **extra,
        }
    )


RAW = ("done_at", "latency", "done_class", "rejected_at", "rejected_reason", "late_at")
EXACT = ("arrivals", "open", "counts", "good", "attempts", "wait_count", "wait_sum")
EXACT += ("in_system_start",)


@pytest.mark.parametrize("chunk", [1 << 16, 777])
@pytest.mark.parametrize("case", list(CASES))
def test_every_request_ends_the_same_on_both_engines(case, chunk, monkeypatch):
    # Same seed, same streams: the same requests complete at the same instants with the
    # same latencies, the same are refused, in the same order. A small chunk puts many
    # chunk boundaries inside busy periods.
    monkeypatch.setattr(fastpath, "CHUNK", chunk)
    model = station(*CASES[case])
    system = build(model.model_copy(update={"engine": "simpy"}), Streams(3, 1))
    simulate(system)
    fast = record_fast(model, 1, 3)
    for name, slow in system.recorders.items():
        for field in RAW:
            got, expected = fast[name].records(field), slow.records(field)
            assert got.dtype == expected.dtype and np.array_equal(got, expected), f"{name}.{field}"
        for field in EXACT:
            assert getattr(fast[name], field) == getattr(slow, field), f"{name}.{field}"


@pytest.mark.parametrize("case", list(CASES))
def test_metrics_and_series_are_those_of_the_simpy_engine(case):
    model = station(*CASES[case])
    fast = run_replication(model, 0, 5)
    slow = run_replication(model.model_copy(update={"engine": "simpy"}), 0, 5)
    assert (fast.engine, slow.engine) == ("fast", "simpy")
    for name, metrics in slow.metrics.items():
        assert fast.metrics[name].keys() == metrics.keys()
        for metric, value in metrics.items():
            # time averages are summed in another order: equal to rounding
            assert fast.metrics[name][metric] == pytest.approx(value, rel=1e-9, nan_ok=True), (
                f"{name}.{metric}"
            )
        for key, series in slow.timeseries[name].items():
            np.testing.assert_allclose(
                fast.timeseries[name][key], series, rtol=1e-9, atol=1e-12, err_msg=key
            )


def test_without_numba_the_same_code_gives_the_same_answer():
    # The kernel is plain Python under numba; run both on one chunk.
    rng = np.random.default_rng(4)
    arrivals = np.cumsum(rng.exponential(0.01, 3000))
    works = rng.exponential(0.035, 3000)
    answers = []
    for kernel in (serve, getattr(serve, "py_func", serve)):
        workers = idle_workers(4)
        out = (np.empty(3000, np.bool_), np.empty(3000), np.empty(3000, np.int64))
        ended = np.empty((3000, 2))
        state, clock, waiting = np.zeros(3, np.int64), np.zeros(2), np.zeros((5, 2))
        used, n_ended = kernel(
            arrivals.copy(), works, workers, waiting, state, clock, 5.0, *out, ended
        )
        answers.append((used, n_ended, *out, ended[:n_ended], workers))
    assert answers[0][0] == answers[1][0] > 0
    assert answers[0][1] == answers[1][1] > 0
    for fast, plain in zip(answers[0][2:], answers[1][2:], strict=True):
        np.testing.assert_array_equal(fast, plain)
    ends = answers[0][-2][:, 1]
    assert (np.diff(ends) >= 0).all()  # requests leave the heap in the order they end


@pytest.mark.parametrize("size", [1, 7, 5000])
def test_the_compiled_bucket_count_is_numpys(size):
    rng = np.random.default_rng(size)
    offset = rng.integers(0, 40, size)  # some buckets empty, most shared
    values = rng.choice(rng.exponential(1.0, 60), size)  # ties within a bucket
    fast = count_buckets(offset, values, 45)
    plain = stats.count_buckets(offset, values, 45)
    for mine, numpys in zip(fast, plain, strict=True):
        assert mine.dtype == numpys.dtype
        np.testing.assert_array_equal(mine, numpys)


def test_folds_count_the_same_with_either_counter(monkeypatch):
    # Once the fast path has loaded its kernels every fold counts with the compiled
    # counter, in a long SimPy run as well: the same results, bit for bit.
    monkeypatch.setattr(recorder_module, "FOLD_AT", 500)
    model = station(*CASES["M/M/10/30"]).model_copy(update={"engine": "simpy", "horizon": 60.0})
    answers, calls = [], []

    def compiled(*args):
        calls.append(args[0].size)
        return count_buckets(*args)

    for counter in (stats.count_buckets, compiled):
        monkeypatch.setattr(stats, "_count_buckets", counter)
        output = run_replication(model, 0, 1)
        answers.append((output.metrics, output.timeseries, output.histograms))
    np.testing.assert_equal(answers[0], answers[1])  # to the last digit, NaN equal to NaN
    assert max(calls) >= 500  # whole folds were counted by it


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"services": {"api": {"rate_limit": {"kind": "token_bucket", "rate": 5}}}},
            "services.api.rate_limit",
        ),
        ({"services": {"api": {"replicas": 2}}}, "services.api.replicas"),
        ({"services": {"api": {"discipline": "lifo"}}}, "services.api.discipline"),
        ({"workload": {"timeout": 1.0}}, "workload.timeout"),
        ({"workload": {"users": 5, "think_time": exponential(1)}}, "workload.users (closed loop)"),
        ({"services": {"db": {"work": exponential(0.01)}}}, "services (more than one)"),
    ],
)
def test_a_model_the_fast_path_cannot_run_goes_to_simpy_and_says_why(change, field):
    data = station(*CASES["M/M/10/30"]).model_dump(exclude_none=True)
    for key, value in change.items():
        for inner, part in value.items():
            if isinstance(part, dict) and inner in data[key]:
                data[key][inner].update(part)
            else:
                data[key][inner] = part
    if "users" in change.get("workload", {}):
        data["workload"].pop("arrivals")
    model = sim.from_dict(data)
    assert blocker(model) == field
    assert engine_for(model) == "simpy"
    with pytest.raises(sim.ModelError, match=re.escape(f"single FIFO station; {field} is set")):
        engine_for(model.model_copy(update={"engine": "fast"}))


def test_a_single_station_runs_fast_unless_told_otherwise():
    model = station(*CASES["M/M/10/30"])
    assert blocker(model) is None
    assert sim.run(model, executor="inline").engine == "fast"
    forced = sim.run(model.model_copy(update={"engine": "simpy"}), executor="inline")
    assert forced.engine == "simpy"


def test_results_say_which_engine_ran_them(tmp_path):
    results = sim.run(station(*CASES["M/M/10/30"]), executor="inline")
    assert "exact fast path" in render_report(build_report(results)).splitlines()[0]
    again = sim.Results.from_json(results.to_json())
    assert again.engine == "fast"
    assert not math.isnan(again.get("latency_p99"))
