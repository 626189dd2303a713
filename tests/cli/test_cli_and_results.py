"""The queuefull command and the Results tables and JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli import main

SMALL = ["--set", "horizon=120", "--set", "warmup=20", "--replications", "3"]


@pytest.mark.slow
def test_run_prints_a_table_and_writes_outputs(tmp_path: Path, capsys):
    out_json, out_csv, out_png = tmp_path / "r.json", tmp_path / "s.csv", tmp_path / "p" / "q.png"
    code = main(
        [
            "run",
            "models/default.yaml",
            *SMALL,
            "--json",
            str(out_json),
            "--csv",
            str(out_csv),
            "--plot",
            str(out_png),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "95% CI" in text and "rejection_rate" in text and "latency_p99" in text
    data = json.loads(out_json.read_text())
    assert {"model", "replications", "seed", "summary"} <= set(data)
    assert data["replications"] == 3 and data["model"]["horizon"] == 120
    frame = pd.read_csv(out_csv)
    assert list(frame.columns) == ["service", "metric", "mean", "ci_low", "ci_high", "unit"]
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_set_overrides_and_validates(capsys):
    assert main(["run", "models/default.yaml", *SMALL, "--set", "services.api.workers=12"]) == 0
    assert main(["run", "models/default.yaml", "--set", "services.api.workers=0"]) == 1
    err = capsys.readouterr().err
    assert "models/default.yaml: services.api.workers: must be >= 1" in err
    assert "Traceback" not in err


def test_validate_reports_every_bad_file(tmp_path: Path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "horizon: 10\nworkload: {arrivals: {process: poisson, rate: 1}}\n"
        "services: {api: {workers: 0, work: {distribution: exponential, mean: 1}}}\n"
    )
    assert main(["validate", "models/default.yaml", str(bad)]) == 1
    captured = capsys.readouterr()
    assert "models/default.yaml: ok" in captured.out
    assert f"{bad}: services.api.workers: must be >= 1" in captured.err
    assert main(["validate", "models/default.yaml"]) == 0


def test_unstable_model_is_one_clear_line(capsys):
    code = main(
        [
            "run",
            "models/default.yaml",
            "--set",
            "services.api.queue=unbounded",
            "--set",
            "workload.arrivals.rate=150",
        ]
    )
    assert code == 1
    err = capsys.readouterr().err.strip()
    expected = "models/default.yaml: services.api.queue: unbounded, but the offered load is 150%"
    assert err.startswith(expected)


def test_schema_command(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "queuefull capacity model"


@pytest.mark.slow
def test_console_script_is_installed():
    done = subprocess.run(
        [Path(sys.executable).with_name("queuefull"), "validate", "models/default.yaml"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ok" in done.stdout


def test_results_json_round_trip(default_model, tmp_path: Path):
    res = sim.run(default_model)
    path = tmp_path / "res.json"
    res.to_json(path)
    back = sim.Results.from_json(path)
    pd.testing.assert_frame_equal(back.summary, res.summary)
    assert back.model == res.model and back.seed == res.seed
    assert back.replications == res.replications
    assert len(back.timeseries) == len(res.timeseries)
    assert sim.Results.from_json(res.to_json()).get("throughput") == res.get("throughput")


def test_summary_shape_and_lookup(default_model):
    res = sim.run(default_model)
    summary = res.summary
    assert list(summary.columns) == ["service", "metric", "mean", "ci_low", "ci_high", "unit"]
    assert set(summary.service) == {"all", "api"}
    assert (summary.ci_low <= summary["mean"] + 1e-12).all()
    assert (summary["mean"] <= summary.ci_high + 1e-12).all()
    for metric in (
        "offered_rate",
        "throughput",
        "rejection_rate",
        "rejected_queue_full",
        "latency_mean",
        "latency_p50",
        "latency_p90",
        "latency_p99",
        "latency_p999",
        "queue_wait_mean",
        "queue_depth_mean",
        "queue_depth_max",
        "in_system_mean",
        "utilization",
    ):
        assert res.row(metric, "api")["unit"]
    with pytest.raises(KeyError):
        res.row("nonsense")


def test_json_never_holds_nan_or_infinity(default_model):
    res = sim.run(default_model)
    res.precision = pd.DataFrame(
        {
            "service": ["all"],
            "metric": ["latency_mean"],
            "relative_half_width": [float("inf")],
            "target": [0.05],
            "reached": [False],
        }
    )
    data = json.loads(res.to_json())
    assert data["precision"][0]["relative_half_width"] is None


def test_every_registered_metric_is_documented_and_every_reported_one_registered(default_model):
    from sim.measure.registry import INTERNAL, METRICS

    reference = Path("docs/reference/metrics.md").read_text()
    for name in METRICS:
        assert f"| `{name}` |" in reference, name
    res = sim.run(default_model, replications=2, progress=False)
    assert set(res.per_replication.metric) <= METRICS.keys() | INTERNAL


def test_the_timeseries_table_is_each_replications_frames_stacked():
    """Built column by column, it is exactly the frames of each replication and service
    stacked by pandas, with NaN where a service lacks a series (only the edge with a
    breaker has breaker_open)."""
    from sim.engine.replication import run_replication
    from sim.measure.results import timeseries_table

    model = sim.load("models/breaker_saves_pool.yaml", {"horizon": 60, "warmup": 10})
    outputs = [run_replication(model, replication, 5) for replication in range(2)]
    frames = []
    for out in outputs:
        for service, series in out.timeseries.items():
            frame = pd.DataFrame(series)
            frame.insert(0, "service", service)
            frame.insert(0, "replication", out.replication)
            frames.append(frame)
    stacked = pd.concat(frames, ignore_index=True)
    assert stacked["breaker_open"].isna().any() and stacked["breaker_open"].notna().any()
    pd.testing.assert_frame_equal(timeseries_table(outputs), stacked, check_exact=True)
