"""Sweeps, executors, precision-driven replications and capacity search."""

from __future__ import annotations

import io
import itertools
import re
import sys
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import pytest
import yaml
from scipy import stats

import sim
from sim import analytic
from sim.cli import main
from sim.studies import progress as progress_module
from sim.studies.check import as_slos, judge
from sim.studies.progress import Progress
from sim.studies.sweep import build
from tests.helpers import CHECK_CONFIDENCE, exponential, single_service


def _mmck(**kw) -> sim.Model:
    return single_service(
        0.0 + kw.pop("rate", 40.0),
        exponential(0.1),
        workers=4,
        queue=4,
        horizon=kw.pop("horizon", 600),
        warmup=50,
        replications=6,
        **kw,
    )


@pytest.mark.slow
def test_sweep_follows_the_analytic_blocking_curve():
    rates = [20, 30, 40, 50, 60]
    table = sim.sweep(_mmck(), {"workload.arrivals.rate": rates})
    blocking = table[(table.service == "api") & (table.metric == "rejection_rate")]
    assert blocking["workload.arrivals.rate"].tolist() == rates
    n = 6
    widen = stats.t.ppf(0.5 + CHECK_CONFIDENCE / 2, n - 1) / stats.t.ppf(0.975, n - 1)
    for row in blocking.itertuples():
        theory = analytic.mmck(row[1], 0.1, 4, 8).rejection
        half = (row.ci_high - row.ci_low) / 2 * widen  # the 95 % interval, widened to 99.9 %
        assert abs(row.mean - theory) <= half + 1e-9, (row[1], row.mean, theory)
    assert blocking["mean"].is_monotonic_increasing


def test_sweep_columns_zip_and_variants():
    model = _mmck(horizon=100)
    grid = sim.sweep(
        model, {"workload.arrivals.rate": [20, 40], "services.api.workers": [4, 5]}, replications=2
    )
    assert list(grid.columns[:2]) == ["workload.arrivals.rate", "services.api.workers"]
    assert len(grid.groupby(["workload.arrivals.rate", "services.api.workers"])) == 4
    zipped = sim.sweep(
        model,
        {"workload.arrivals.rate": [20, 40], "services.api.workers": [4, 5]},
        mode="zip",
        replications=2,
    )
    assert len(zipped.groupby(["workload.arrivals.rate", "services.api.workers"])) == 2
    named = sim.sweep(
        model, variants={"small": {}, "big": {"services.api.workers": 8}}, replications=2
    )
    assert named.variant.unique().tolist() == ["small", "big"]
    with pytest.raises(ValueError, match="same number of values"):
        sim.sweep(model, {"workload.arrivals.rate": [1, 2], "seed": [1]}, mode="zip")


def test_every_point_is_validated_before_anything_runs():
    with pytest.raises(
        sim.ModelError,
        match=re.escape("sweep point services.api.workers=0: services.api.workers: must be >= 1"),
    ):
        sim.sweep(_mmck(), {"services.api.workers": [4, 0]})


def test_a_knob_that_changes_nothing_gives_identical_rows():
    table = sim.sweep(_mmck(horizon=200), {"name": ["a", "b", "c"]}, replications=3)
    values = [
        g[["service", "metric", "mean", "ci_low", "ci_high"]].reset_index(drop=True)
        for _, g in table.groupby("name")
    ]
    for other in values[1:]:
        pd.testing.assert_frame_equal(values[0], other)


@pytest.mark.slow
def test_same_numbers_in_process_in_a_pool_and_on_dask():
    model = _mmck(horizon=150)
    vary = {"workload.arrivals.rate": [30, 50]}
    inline = sim.sweep(model, vary, replications=3, executor="inline")
    with ProcessPoolExecutor(max_workers=2) as pool:
        pooled = sim.sweep(model, vary, replications=3, executor=pool)
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        dasked = sim.sweep(model, vary, replications=3, executor=client)
        single = sim.run(model, executor=client)
    pd.testing.assert_frame_equal(inline, pooled)
    pd.testing.assert_frame_equal(inline, dasked)
    assert single.summary.equals(sim.run(model, executor="inline").summary)


def test_run_replications_in_parallel_match_inline():
    model = _mmck(horizon=150)
    assert sim.run(model).summary.equals(sim.run(model, executor="inline").summary)


def test_interrupted_sweep_keeps_finished_points(monkeypatch):
    import sim.studies.parallel as parallel

    calls = {"n": 0}
    real = parallel.run_replication

    def flaky(model, replication, seed, branches=None):
        calls["n"] += 1
        if calls["n"] > 4:
            raise KeyboardInterrupt
        return real(model, replication, seed, branches)

    monkeypatch.setattr(parallel, "run_replication", flaky)
    table = sim.sweep(
        _mmck(horizon=100),
        {"workload.arrivals.rate": [20, 30, 40]},
        replications=2,
        executor="inline",
    )
    assert table.attrs["interrupted"]
    assert table["workload.arrivals.rate"].unique().tolist() == [20, 30]


def test_progress_bar_shows_time_left(monkeypatch):
    monkeypatch.setattr(progress_module, "SHOW_AFTER", 0.0)
    stream = io.StringIO()
    bar = Progress(4, "sweep", True, stream=stream)
    for _ in range(4):
        bar.advance()
    bar.close()
    text = stream.getvalue()
    assert "sweep:" in text and "/4 [00:00<" in text  # count, elapsed < time left
    quiet = io.StringIO()
    Progress(4, "x", stream=quiet).advance()
    assert quiet.getvalue() == ""  # not a terminal


def test_in_a_notebook_the_progress_bar_is_a_widget():
    from tqdm.notebook import tqdm as widget_bar

    loaded = "ipykernel" in sys.modules
    import ipykernel  # noqa: F401  # in sys.modules, as inside a Jupyter kernel

    try:
        bar = Progress(4, "sweep")
        assert isinstance(bar._bar, widget_bar)
        bar.advance(4)
        bar.close()
    finally:
        if not loaded:  # later tests in this process are not in a notebook
            del sys.modules["ipykernel"]


def test_progress_is_reported_through_a_callback():
    calls = []
    model = _mmck(horizon=100)
    sim.sweep(
        model, {"services.api.workers": [4, 5]}, replications=2, executor="inline",
        progress=lambda done, total: calls.append((done, total)),
    )  # fmt: skip
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


@pytest.mark.slow
def test_replications_auto_runs_until_the_precision_is_met():
    model = sim.from_dict(
        {
            **_mmck(horizon=300).model_dump(mode="json", exclude_none=True),
            "replications": "auto",
            "precision": {
                "relative_half_width": 0.02,
                "metrics": ["api.utilization", "all.latency_mean"],
                "min_replications": 3,
                "max_replications": 24,
            },
        }
    )
    res = sim.run(model)
    assert res.precision.reached.all()
    assert 3 < res.replications <= 24
    for rec in res.precision.itertuples():
        row = res.row(rec.metric, rec.service)
        assert (row.ci_high - row.ci_low) / 2 / row["mean"] <= 0.02 + 1e-12
    capped = sim.from_dict(
        {
            **model.model_dump(mode="json", exclude_none=True),
            "precision": {
                "relative_half_width": 1e-6,
                "max_replications": 6,
                "min_replications": 3,
            },
        }
    )
    res = sim.run(capped)
    assert res.replications == 6 and not res.precision.reached.any()


def _auto_mmck() -> sim.Model:
    """M/M/4/8 with precision-driven replications on the mean latency: at 10 req/s it
    takes 24 replications to reach +/-2 %, at 30 req/s 12."""
    return sim.from_dict(
        {
            **_mmck(horizon=200).model_dump(mode="json", exclude_none=True),
            "replications": "auto",
            "precision": {
                "relative_half_width": 0.02,
                "metrics": ["all.latency_mean"],
                "min_replications": 3,
                "max_replications": 24,
            },
        }
    )


def test_a_precision_driven_sweep_gives_each_point_what_sim_run_would():
    model = _auto_mmck()
    calls = []
    table = sim.sweep(
        model, {"workload.arrivals.rate": [10, 30]}, executor="inline",
        progress=lambda done, total: calls.append((done, total)),
    )  # fmt: skip
    assert [done for done, _ in calls] == list(range(1, 37))  # one count over every round
    assert calls[-1] == (36, 36)
    means = table[(table.service == "all") & (table.metric == "latency_mean")]
    counts = means.set_index("workload.arrivals.rate")["replications"].to_dict()
    assert counts == {10: 24, 30: 12}  # the noisier point got the replications
    for rate, count in counts.items():
        alone = sim.run(build(model, {"workload.arrivals.rate": rate}), executor="inline")
        assert alone.replications == count
        row = means[means["workload.arrivals.rate"] == rate].iloc[0]
        assert row["mean"] == alone.row("latency_mean", "all")["mean"]
    fixed = sim.sweep(model, {"workload.arrivals.rate": [10, 30]}, replications=2)
    assert set(fixed["replications"]) == {2}
    shown: list[pd.DataFrame] = []
    again = sim.sweep(
        model, {"workload.arrivals.rate": [10, 30]}, executor="inline", partial=shown.append
    )
    pd.testing.assert_frame_equal(again, table)  # shown as it went, the same answer
    counts_shown = [
        t[(t.service == "all") & (t.metric == "latency_mean")]["replications"].tolist()
        for t in shown
    ]
    # within each round, one more replication a point at a time; a point the precision
    # block let stop keeps its count while the other doubles
    assert counts_shown[0] == [1, 1] and counts_shown[-1] == [23, 12]
    for before, after in itertools.pairwise(counts_shown):
        assert all(b >= a for a, b in zip(before, after, strict=True))


def test_queuefull_sweep_replications_auto_shows_each_points_count(tmp_path, capsys):
    path = tmp_path / "auto.yaml"
    path.write_text(yaml.safe_dump(_auto_mmck().model_dump(mode="json", exclude_none=True)))
    argv = [
        "sweep",
        str(path),
        "--vary",
        "workload.arrivals.rate=10,30",
        "--metric",
        "latency_mean",
    ]
    assert main([*argv, "--replications", "auto"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["workload.arrivals.rate", "replications"]
    assert [line.split()[:2] for line in lines[2:4]] == [["10", "24"], ["30", "12"]]
    assert main([*argv, "--replications", "3"]) == 0
    assert "replications" not in capsys.readouterr().out  # every point ran 3


@pytest.mark.slow
def test_find_capacity_agrees_with_erlang_c():
    model = single_service(
        40.0, exponential(0.2), workers=8, horizon=2000, warmup=200, replications=6, seed=2
    )
    answer = sim.find_capacity(
        model,
        "services.api.workers",
        slo=[{"metric": "queue_wait_mean", "service": "api", "max": 0.05}],
        low=9,
        high=20,
    )
    theory = min(c for c in range(9, 30) if analytic.mmc(40.0, 0.2, c).Wq <= 0.05)
    assert answer.goal == "min" and answer.value == theory and answer.failing == theory - 1
    assert "smallest services.api.workers" in answer.message


@pytest.mark.slow
def test_find_capacity_largest_rate():
    model = single_service(
        30.0, exponential(0.1), workers=4, queue=20, horizon=1000, replications=6
    )
    answer = sim.find_capacity(
        model,
        "workload.arrivals.rate",
        slo=[{"metric": "rejection_rate", "max": 0.01}],
        low=10,
        high=60,
        tolerance=0.02,
    )
    # M/M/4/24 blocking crosses 1 % between these rates
    assert analytic.mmck(answer.value, 0.1, 4, 24).rejection < 0.012
    assert analytic.mmck(answer.failing, 0.1, 4, 24).rejection > 0.006
    assert answer.goal == "max" and answer.value < answer.failing
    assert set(answer.evaluations.verdict) <= {"pass", "fail", "inconclusive"}


def test_capacity_reports_a_range_that_never_or_always_passes():
    model = single_service(
        30.0, exponential(0.1), workers=4, queue=20, horizon=200, warmup=20, replications=2
    )
    always = sim.find_capacity(
        model, "services.api.workers", slo=[{"metric": "rejection_rate", "max": 0.9}], low=4, high=8
    )
    assert always.value is None and "widen the range" in always.message
    with pytest.raises(sim.ModelError, match="at least one SLO"):
        sim.find_capacity(model, "services.api.workers")


def test_capacity_search_counts_an_unstable_point_as_failing():
    """Past the stable range an unbounded queue has no steady state: a failing point,
    not an error that ends the search (diagnose's headroom search crossed it)."""
    model = single_service(8.0, exponential(0.1), workers=1, horizon=300, warmup=30, replications=3)
    found = sim.find_capacity(
        model,
        "workload.arrivals.rate",
        [{"metric": "latency_mean", "service": "api", "max": 0.5}],
        low=2,
        high=20,
    )
    assert found.goal == "max" and 5 < found.value < 9  # M/M/1: W = 0.5 s at 8/s
    unstable = found.evaluations[found.evaluations["workload.arrivals.rate"] == 20].iloc[0]
    assert unstable.verdict == "fail" and "grow without end" in unstable.note


def test_a_precision_driven_capacity_search_doubles_only_where_a_verdict_is_open():
    """With replications: auto a point starts with min_replications and doubles while an
    SLO's verdict is inconclusive: each point ran the fewest doublings that decided it
    (or the cap), and its verdict is what a run of that many gives."""
    model = _auto_mmck()  # 3 to 24 replications
    slo = [{"metric": "rejection_rate", "service": "api", "max": 0.05}]
    answer = sim.find_capacity(
        model, "workload.arrivals.rate", slo, low=5, high=40, tolerance=0.05, executor="inline"
    )
    table = answer.evaluations
    assert table.replications.max() > 3 and answer.replications == table.replications.max()
    for row in table.itertuples():
        reps = int(row.replications)
        point = build(model, {"workload.arrivals.rate": row[1]})
        verdict = judge(sim.run(point, replications=reps, executor="inline"), as_slos(slo))
        assert verdict[0].verdict == row.verdict
        if reps > 3:
            half = sim.run(point, replications=reps // 2, executor="inline")
            assert judge(half, as_slos(slo))[0].verdict == "inconclusive"
        if reps < 24:
            assert row.verdict != "inconclusive"
    assert "3 to " in answer.message and "replications at each of" in answer.message
    fixed = sim.find_capacity(
        model, "workload.arrivals.rate", slo, low=5, high=40, replications=3, executor="inline"
    )
    assert set(fixed.evaluations.replications) == {3}


def test_queuefull_capacity_replications_auto_names_each_points_count(tmp_path, capsys):
    path = tmp_path / "auto.yaml"
    path.write_text(yaml.safe_dump(_auto_mmck().model_dump(mode="json", exclude_none=True)))
    argv = ["capacity", str(path), "--vary", "workload.arrivals.rate", "--low", "5"]
    argv += ["--high", "40", "--slo", "api.rejection_rate<=0.05", "--replications", "auto"]
    main(argv)
    out = capsys.readouterr().out
    assert "24 replications" in out and "3 to 24 replications at each of" in out
