"""Diagnosis on small models: findings read from results, fixes generated from the model,
the report and the command line. The shipped stories are in tests/stories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.diagnose.findings import bottleneck, mechanisms, root_cause
from sim.diagnose.fixes import candidates
from sim.diagnose.headroom import analytic_limit
from sim.model import SLO

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"


def chain_model(**overrides: object) -> sim.Model:
    """gateway -> api -> db, with db ten times slower from 100 s to 160 s."""
    data = {
        "name": "chain",
        "horizon": 300,
        "warmup": 20,
        "replications": 3,
        "seed": 5,
        "workload": {"arrivals": {"process": "poisson", "rate": 60}},
        "services": {
            "gateway": {
                "workers": 20,
                "queue": 30,
                "work": {"distribution": "exponential", "mean": 0.002},
                "calls": [{"to": "api"}],
            },
            "api": {
                "workers": 8,
                "queue": 50,
                "work": {"distribution": "exponential", "mean": 0.01},
                "calls": [{"to": "db"}],
            },
            "db": {
                "workers": 16,
                "work": {"distribution": "exponential", "mean": 0.02},
                "incidents": [{"start": 100, "duration": 60, "slowdown": 10}],
            },
        },
        "slo": [{"metric": "rejection_rate", "service": "gateway", "max": 0.01}],
    }
    return sim.from_dict(sim.apply_overrides(data, overrides))


def test_root_cause_is_followed_down_the_calls():
    model = chain_model()
    results = sim.run(model, executor="inline", progress=False)
    neck = bottleneck(model, results)
    chain = root_cause(model, results, neck)
    root = next(f for f in chain if f.kind == "root_cause")
    assert root.service == "db" and root.figure > 3  # its p99 rose several times
    assert "incident at 100-160 s" in root.text
    symptoms = {f.service for f in chain if f.kind == "symptom"}
    assert "gateway" in symptoms and "db" not in symptoms


def test_fixes_are_valid_patches_of_the_model():
    model = chain_model()
    results = sim.run(model, executor="inline", progress=False)
    fixes = candidates(model, results, "gateway", "db")
    names = [f.name for f in fixes]
    assert names[0] == "breaker and timeout on calls to db"
    assert any("queue" in n for n in names) and any("workers" in n for n in names)
    data = model.model_dump(mode="json", exclude_none=True)
    for fix in fixes:
        sim.from_dict(sim.apply_overrides(data, fix.patch))  # every patch is a valid model


def test_an_unbounded_queue_gets_a_bound_and_the_edge_a_concurrency_limit():
    model = chain_model(**{"services.gateway.queue": "unbounded"})
    results = sim.run(model, executor="inline", progress=False)
    fixes = {f.name: f for f in candidates(model, results, "gateway", "gateway")}
    assert fixes["gateway: bound the queue at 40"].patch == {"services.gateway.queue": 40}
    limit = fixes["gateway: adaptive concurrency limit at the edge"].patch
    assert limit["services.gateway.concurrency_limit"]["kind"] == "aimd"


@pytest.mark.slow
def test_mechanisms_name_retries_with_their_figure():
    model = chain_model(**{"workload.timeout": 0.05, "workload.retries": {"max_attempts": 3}})
    results = sim.run(model, executor="inline", progress=False)
    found = {f.kind: f for f in mechanisms(model, results)}
    assert found["retry_amplification"].figure > 1.1


def test_analytic_headroom_is_the_m_m_c_k_edge():
    model = sim.load(MODELS / "default.yaml")
    limit, method = analytic_limit(model, list(model.slo))
    assert method == "M/M/c/K"
    rate = limit
    q = sim.analytic.mmck(rate, 0.1, 10, 30)
    p99 = sim.analytic.mmck_response_quantile(rate, 0.1, 10, 30, 0.99)
    assert abs(q.rejection - 0.02) < 1e-4 or abs(p99 - 0.6) < 1e-3  # one bound is tight
    assert q.rejection <= 0.02 + 1e-6 and p99 <= 0.6 + 1e-6
    slow = [SLO(metric="latency_mean", max=0.01)]
    assert analytic_limit(model, slow)[0] is None  # no load meets it


@pytest.mark.slow
def test_diagnose_reports_and_ranks():
    model = chain_model()
    found = sim.diagnose(model, replications=2, executor="inline", progress=False)
    report = found.report()
    assert report.splitlines()[0].startswith("chain: gateway.rejection_rate <= 0.01 FAIL")
    assert "Root cause: db" in report and "Best fix:" in report
    best = found.fixes[0]
    assert best.effect == "helps" and best.passes == 1
    assert any(w in best.patch_yaml for w in ("circuit_breaker", "cache_hit_ratio", "async"))
    data = found.to_dict()
    json.dumps(data)  # plain data


@pytest.mark.slow
def test_queuefull_diagnose_writes_the_report_and_json(tmp_path):
    out = tmp_path / "d.json"
    done = subprocess.run(
        [sys.executable, "-m", "sim.cli", "diagnose", "models/default.yaml", "--quiet",
         "--replications", "2", "--set", "horizon=120", "--set", "warmup=10",
         "--set", "workload.arrivals.rate=140", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("checkout-api: ")
    assert "Where it fills: api" in done.stdout and "patch:" in done.stdout
    data = json.loads(out.read_text())
    assert data["bottleneck"]["service"] == "api" and data["fixes"]


@pytest.mark.slow
def test_head_of_line_blocking_and_breaker_openings_are_named():
    hanging = "services.api.classes.recommend.calls.0.circuit_breaker"
    model = sim.load(
        MODELS / "breaker_saves_pool.yaml", {"horizon": 400, "warmup": 20, hanging: None}
    )
    results = sim.run(model, replications=2, executor="inline", progress=False)
    found = {f.kind: f for f in mechanisms(model, results)}
    blocked = found["head_of_line"]
    assert blocked.service == "api" and blocked.figure > 5 and "page requests" in blocked.text
    guarded = sim.load(MODELS / "breaker_saves_pool.yaml", {"horizon": 700, "warmup": 20})
    results = sim.run(guarded, replications=2, executor="inline", progress=False)
    opens = results.get("breaker_opens", "api->recommendations")
    assert opens >= 5  # it re-opens after each half-open probe during the 300 s hang
    breaker = {f.kind: f for f in mechanisms(guarded, results)}["breaker_open"]
    assert f"opened {opens:.0f} times" in breaker.text
