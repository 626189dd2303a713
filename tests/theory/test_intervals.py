"""Honest intervals and semantics: coverage, bounded intervals, warnings, the horizon's cut,
eager queue timeouts, automatic warm-up."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim
from sim import analytic
from sim.cli import main
from sim.studies.warmup import mser5
from tests.helpers import exponential, graph

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_coverage


def one_service(service: dict[str, Any], rate: float, **top: Any) -> sim.Model:
    """One service ``api`` at ``rate``; 8 replications of 600 s unless ``top`` says."""
    top = {"horizon": 600, "warmup": 50, "replications": 8, "seed": 3, **top}
    if "workload" in top:  # a whole workload replaces the Poisson arrivals
        data = {**top, "services": {"api": service}}
        return sim.from_dict(data)
    return graph({"api": service}, rate, **top)


@pytest.mark.slow
def test_intervals_cover_the_truth_93_to_97_percent():
    """600 seeds of M/M/2/6 (6 replications of 400 s each): mean latency, rejection rate
    and the exact p99 of the response time. The full-size check (1,200 s, where the
    warm-up's bias is smaller still) is benchmarks/bench_coverage.py."""
    found = bench_coverage.coverage(seeds=600, horizon=400, replications=6)
    for metric, result in found.items():
        assert 0.93 <= result["coverage"] <= 0.97, (metric, result)


def test_pooled_percentiles_match_theory_and_constant_latency_exactly():
    mm1 = sim.run(one_service({"workers": 1, "queue": "unbounded", "work": exponential(0.1)}, 5))
    expected = -math.log(0.01) / (10 - 5)  # M/M/1 response time is exponential(mu - lambda)
    row = mm1.row("latency_p99", "api")
    assert row.ci_low <= expected <= row.ci_high
    constant = {"distribution": "constant", "value": 0.002}
    flat = sim.run(one_service({"workers": 100, "work": constant}, 5), replications=2)
    assert flat.get("latency_p99", "api") == pytest.approx(0.002, abs=1e-12)


def test_two_replications_give_bounded_intervals_and_a_warning(tmp_path, capsys):
    model = one_service(
        {"workers": 1, "queue": 2, "work": exponential(0.5)}, 3, horizon=60, warmup=0
    )
    res = sim.run(model, replications=2, progress=False)
    for row in res.summary.itertuples():
        if math.isnan(row.ci_low):
            continue
        assert row.ci_low >= 0, row
        if row.unit == "fraction":
            assert row.ci_high <= 1, row
        assert row.ci_low <= row.mean <= row.ci_high, row
    assert res.warnings and "only 2 replications" in res.warnings[0]
    out = tmp_path / "r.json"
    res.to_json(out)
    assert "only 2 replications" in json.loads(out.read_text())["warnings"][0]
    path = tmp_path / "m.yaml"
    path.write_text(
        json.dumps(
            {**model.model_dump(mode="json"), "slo": [{"metric": "success_rate", "min": 0.1}]}
        )
    )
    assert main(["run", str(path), "--replications", "2", "--quiet"]) == 0
    assert "warning: only 2 replications" in capsys.readouterr().out
    code = main(["check", str(path), "--replications", "2", "--max-replications", "2", "--quiet"])
    assert code in (0, 3)
    assert "only 2 replications" in capsys.readouterr().out


def test_no_ratio_is_biased_by_the_horizon_cut():
    # heavy load: many requests are in flight when the horizon comes
    model = one_service({"workers": 2, "queue": 50, "work": exponential(0.2)}, 9.5)
    res = sim.run(model, replications=3, progress=False)
    assert res.values("attempts_per_request", "all").tolist() == [1.0, 1.0, 1.0]
    for m in ("success_rate", "rejection_rate"):
        assert 0 <= res.get(m) <= 1
    outcome = res.get("success_rate") + res.get("rejection_rate")
    assert outcome == pytest.approx(1.0)  # nothing left in flight: every request ended


def test_wasted_work_never_exceeds_one_with_timeouts_and_a_warmup():
    model = one_service(
        {"workers": 4, "queue": 200, "work": exponential(0.5)},
        10,
        warmup=100,
        horizon=400,
        workload={"arrivals": {"process": "poisson", "rate": 10}, "timeout": 0.3},
    )
    res = sim.run(model, replications=3, progress=False)
    values = res.values("wasted_work", "api")
    assert (values > 0.5).all() and (values <= 1).all()


@pytest.mark.slow
def test_eager_queue_timeout_is_mmck_with_abandonment():
    lam, mean, c, waiting, patience = 3.0, 1.0, 2, 4, 1.5
    service = {
        "workers": c,
        "queue": waiting,
        "work": exponential(mean),
        "queue_timeout": {"after": exponential(patience), "drop": "eager"},
    }
    res = sim.run(one_service(service, lam, horizon=3000, warmup=100, replications=10))
    theory = analytic.erlang_a(lam, mean, c, patience, places=c + waiting)
    for metric, expected in (
        ("rejected_queue_full", theory.blocking),
        ("rejected_queue_timeout", theory.rejection),
        ("queue_depth_mean", theory.Lq),
    ):
        row = res.row(metric, "api")
        assert row.ci_low <= expected <= row.ci_high, (metric, expected, row)
    lazy = sim.run(
        one_service({**service, "queue_timeout": exponential(patience)}, lam, horizon=3000,
                    warmup=100, replications=10)
    )  # fmt: skip
    # lazily dropped requests keep their waiting place: more arrivals find the queue full
    assert lazy.get("rejected_queue_full", "api") > 1.5 * res.get("rejected_queue_full", "api")


def test_mser5_finds_the_end_of_a_transient():
    rng = np.random.default_rng(1)
    series = np.concatenate([np.linspace(50, 5, 100), 5 + rng.normal(0, 1, 900)])
    assert 80 <= mser5(series) <= 150
    assert mser5(5 + rng.normal(0, 1, 1000)) < 100


@pytest.mark.slow
def test_warmup_auto_cuts_an_initial_backlog(tmp_path, capsys):
    # a spike to 12/s (capacity 10/s) for the first 120 s builds a backlog of about 240
    # requests, which drains at about 2/s over the next two minutes
    workload = {
        "arrivals": {
            "process": "profile",
            "rate": 8,
            "changes": [{"kind": "spike", "start": 0, "duration": 120, "factor": 1.5}],
        }
    }
    model = one_service(
        {"workers": 1, "queue": "unbounded", "work": exponential(0.1)},
        8,
        workload=workload,
        warmup="auto",
        horizon=2400,
        replications=6,
    )
    res = sim.run(model, progress=False)
    assert 150 <= res.warmup_cut <= 800
    assert res.model.warmup == res.warmup_cut
    steady = analytic.mmc(8, 0.1, 1)
    row = res.row("queue_depth_mean", "api")
    assert row.ci_low <= steady.Lq <= row.ci_high
    assert json.loads(res.to_json())["warmup_cut"] == res.warmup_cut
    path = tmp_path / "m.yaml"
    path.write_text(json.dumps(model.model_dump(mode="json")))
    assert main(["run", str(path), "--quiet"]) == 0
    assert "chosen by MSER-5" in capsys.readouterr().out
