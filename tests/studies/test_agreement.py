"""A calibrated model against production's numbers for the same load."""

from __future__ import annotations

import pytest

import sim
from sim.calibrate.agreement import MeasurementError, agreement, parse_measurements

MODEL = """\
horizon: 300
warmup: 30
replications: 4
workload: {arrivals: {process: poisson, rate: 50}}
services:
  api: {workers: 4, queue: 50, work: {distribution: exponential, mean: 40ms}}
"""


@pytest.fixture(scope="module")
def results() -> sim.Results:
    model = sim.from_dict(sim.model.parse_model_text(MODEL))
    return sim.run(model, executor="inline", progress=False)


def test_each_figure_is_judged_against_the_simulated_interval(results):
    # M/M/4 at 50/s x 40 ms: utilisation 0.5, mean latency 47.6 ms (Erlang C)
    measured = parse_measurements(
        {"api": {"utilization": 0.5, "latency_mean": "47ms", "throughput": 80}}
    )
    rows = {r.metric: r for r in agreement(results, measured)}
    assert rows["utilization"].agrees and rows["latency_mean"].agrees
    assert rows["throughput"].verdict == "model low"  # production saw more than modelled
    high = agreement(results, {"api": {"latency_mean": 0.02}})[0]
    assert high.verdict == "model high"
    missing = agreement(results, {"db": {"throughput": 1}})[0]
    assert missing.verdict == "not simulated" and not missing.agrees


def test_measurements_name_summary_metrics():
    with pytest.raises(MeasurementError, match=r"api\.p99: not a summary metric"):
        parse_measurements({"api": {"p99": "300ms"}})
    with pytest.raises(MeasurementError, match=r"api\.latency_p99"):
        parse_measurements({"api": {"latency_p99": "fast"}})


def test_queuefull_run_against_measurements_exits_1_on_a_disagreement(tmp_path, capsys):
    from sim.cli import main

    model = tmp_path / "m.yaml"
    model.write_text(MODEL)
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("api: {utilization: 0.5}\n")
    bad.write_text("api: {utilization: 0.9}\n")
    assert main(["run", str(model), "--against", str(good), "--quiet"]) == 0
    assert "every measured figure is reproduced" in capsys.readouterr().out
    assert main(["run", str(model), "--against", str(bad), "--quiet"]) == 1
    assert "1 of 1 disagree: recalibrate what feeds api.utilization" in capsys.readouterr().out
