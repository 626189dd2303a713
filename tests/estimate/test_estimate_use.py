"""The estimate where users meet it: ``queuefull estimate``, the results JSON, the run
report, sweeps, and the comparison that names a disagreement's likely cause."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import sim
from sim.cli import main
from sim.estimate import NoEstimate, estimate_graph
from sim.estimate.compare import disagreements

MODELS = Path(__file__).resolve().parents[2] / "models"


def test_the_command_prints_every_service_and_writes_json(tmp_path, capsys):
    out = tmp_path / "estimate.json"
    code = main(["estimate", str(MODELS / "slow_database.yaml"), "--json", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    for name in ("gateway", "api", "db", "all"):
        assert any(line.startswith(name) for line in text.splitlines())
    assert "db: out of range: incidents" in text
    data = json.loads(out.read_text())
    assert data["services"]["db"]["status"] == "out of range"
    assert 0 < data["services"]["api"]["metrics"]["utilization"] < 1


def test_the_command_says_why_a_model_has_no_estimate(capsys):
    code = main(["estimate", str(MODELS / "noisy_neighbour.yaml")])
    assert code == 1
    assert "open and closed workloads together" in capsys.readouterr().err


def test_every_shipped_model_has_an_estimate_or_says_why():
    for path in sorted(MODELS.glob("*.yaml")):
        model = sim.load(path)
        try:
            estimate = estimate_graph(model)
        except NoEstimate:
            assert any(w.closed for w in model.workloads)
            continue
        assert set(estimate.services) == {*model.services, "all"}
        for figures in estimate.services.values():
            assert figures.status == "exact" or figures.reasons
            assert all(not math.isnan(v) for k, v in figures.metrics.items() if k != "latency_p99")


@pytest.mark.slow
def test_results_carry_the_estimate_and_where_it_disagrees():
    model = sim.load(MODELS / "slow_database.yaml", {"horizon": 360, "warmup": 20})
    results = sim.run(model, replications=2, executor="inline", progress=False)
    data = json.loads(results.to_json())
    assert data["estimate"]["services"]["db"]["status"] == "out of range"
    rows = data["estimate_vs_simulation"]
    db = [r for r in rows if r["service"] == "db" and r["disagrees"]]
    assert db and all("incidents" in r["cause"] for r in db)
    api = [r for r in rows if r["service"] == "api" and r["disagrees"]]
    assert all("db" in r["cause"] for r in api)  # it waits on the db
    found = disagreements(results.estimate, results)
    assert {c.service for c in found} >= {"db"}
    alone = json.loads(results.to_json(estimate=False))
    assert alone == {k: v for k, v in data.items() if not k.startswith("estimate")}


def test_an_exact_estimate_agrees_with_the_simulation():
    model = sim.load(MODELS / "default.yaml", {"horizon": 600})
    results = sim.run(model, replications=5, executor="inline", progress=False)
    assert not disagreements(results.estimate, results)
    assert results.estimate.services["api"].status == "exact"


def test_sweeps_put_the_estimate_beside_each_point():
    model = sim.load(MODELS / "default.yaml", {"horizon": 120})
    table = sim.sweep(
        model, vary={"services.api.workers": [9, 12]}, replications=2, progress=False,
        executor="inline",
    )  # fmt: skip
    p99 = table[(table.service == "api") & (table.metric == "latency_p99")]
    assert p99.estimate.notna().all()
    assert p99.estimate.iloc[0] > p99.estimate.iloc[1]  # more workers, shorter tail
    assert table[table.metric == "latency_p50"].estimate.isna().all()


@pytest.mark.slow
def test_random_graphs_stay_close_to_the_simulation():
    """A slice of the accuracy battery (benchmarks/bench_estimate.py runs 40 graphs):
    utilisation and mean latency, at utilisation below 0.8."""
    from sim.estimate.battery import random_graph

    util, latency = [], []
    for seed in range(8):
        model = random_graph(seed).model_copy(update={"horizon": 400.0, "warmup": 40.0})
        estimate = estimate_graph(model)
        results = sim.run(model, replications=3, executor="inline", progress=False)
        for name in model.services:
            figures = estimate.services[name].metrics
            busy = results.mean("utilization", name)
            if busy > 0 and figures["utilization"] < 0.8:
                util.append(abs(figures["utilization"] - busy) / busy)
                mean = results.mean("latency_mean", name)
                latency.append(abs(figures["latency_mean"] - mean) / mean)
    util.sort()
    latency.sort()
    assert util[len(util) // 2] < 0.02 and latency[len(latency) // 2] < 0.05
    assert latency[int(0.9 * len(latency))] < 0.15
