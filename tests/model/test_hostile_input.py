"""Hostile and mistaken input: every bad file or argument is one clear message, never a
traceback, a hang or an exhausted machine."""

from __future__ import annotations

import copy
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

import sim
from sim.cli import main
from sim.engine import clock
from sim.engine.replication import run_replication
from sim.model.durations import parse_duration
from sim.studies.budget import REPLICATION_COST, BudgetError, estimate_work
from sim.studies.capacity import capacity_work
from sim.studies.compare import compare_work
from sim.studies.sweep import sweep_work

BASE: dict[str, Any] = {
    "name": "hostile",
    "horizon": 100,
    "warmup": 10,
    "replications": 2,
    "seed": 1,
    "workload": {"arrivals": {"process": "poisson", "rate": 5}},
    "services": {
        "api": {"workers": 2, "queue": 5, "work": {"distribution": "exponential", "mean": 0.1}}
    },
}


def model_with(**changes: Any) -> dict[str, Any]:
    """BASE with dotted-path changes applied."""
    return sim.apply_overrides(copy.deepcopy(BASE), changes)


def write(tmp_path: Path, data: Any, name: str = "m.yaml") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return str(path)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


# --- 1. defaults go through validation ------------------------------------------------------


def test_autoscaling_defaults_run_inline():
    data = model_with(**{"services.api.autoscaling": {"max_replicas": 3, "target": 0.6}})
    del data["services"]["api"]["workers"]
    model = sim.from_dict(data)
    # the default provisioning delay is a distribution like a written one, not a float
    assert model.services["api"].autoscaling.provisioning_delay.distribution == "constant"
    res = sim.run(model, replications=1, executor="inline", progress=False)
    assert res.get("success_rate") > 0.9


# --- 2. a clock that stands still --------------------------------------------------------------


def _zero_time_loop() -> sim.Model:
    data = model_with(**{"services.api.work": {"distribution": "constant", "value": 0}})
    data["workload"] = {"users": 2, "think_time": {"distribution": "constant", "value": 0}}
    return sim.from_dict(data)


def test_zero_time_loop_is_refused_before_running():
    with pytest.raises(BudgetError, match=r"workload\.think_time.*services\.api\.work"):
        sim.run(_zero_time_loop(), progress=False)


def test_a_stalled_clock_stops_the_run_with_the_fields(monkeypatch):
    monkeypatch.setattr(clock, "STALL_EVENTS", 20_000)
    started = time.monotonic()
    with pytest.raises(clock.StalledError, match=r"stood still at t=0s.*workload\.think_time"):
        run_replication(_zero_time_loop(), 0, 1)
    assert time.monotonic() - started < 30


# --- 5. non-finite and out-of-range values --------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"horizon": float("inf")}, "horizon: inf is not a finite duration"),
        ({"horizon": "1e400s"}, "horizon: '1e400s' is not a finite duration"),
        ({"horizon": 1e12}, "horizon: must be <= 1e+09"),
        ({"workload.arrivals.rate": float("nan")}, "rate: must be a finite number"),
        (
            {"services.api.work": {"distribution": "lognormal", "mean": 1, "cv": 1e200}},
            "services.api.work.cv: must be <= 1000",
        ),
        (
            {"services.api.work": {"distribution": "gamma", "mean": 1, "cv": 1e-200}},
            "services.api.work.cv: must be >= 0.001",
        ),
        (
            {"services.api.work": {"distribution": "lognormal", "p50": 1e-3, "p99": 1e3}},
            "services.api.work.p99: must be at most 10,000 x p50",
        ),
        ({"services.api.workers": True}, "services.api.workers: must be a whole number"),
        ({"services.api.workers": 2.5}, "services.api.workers: must be a whole number"),
        ({"deadline_propagation": 1}, "deadline_propagation: must be true or false"),
        ({"timeseries_bin": 1e-6}, "timeseries_bin: gives 1e+08 time-series bins"),
        ({"workload.users": 10**9}, "workload.users: must be <= 100000"),
    ],
)
def test_validate_refuses_what_run_would_choke_on(changes, expected):
    with pytest.raises(sim.ModelError) as info:
        sim.from_dict(model_with(**changes))
    assert any(expected in line for line in info.value.lines), info.value.lines


def test_errors_quote_a_short_excerpt_of_a_huge_value():
    with pytest.raises(sim.ModelError) as info:
        sim.from_dict(model_with(horizon="x" * 100_000, **{"y" * 10_000: 1}))
    assert len(str(info.value)) < 1500


def test_compound_durations_as_go_envoy_and_prometheus_write_them():
    assert parse_duration("1m30s") == pytest.approx(90)
    assert parse_duration("500ns") == pytest.approx(5e-7)
    assert parse_duration("1h30m") == pytest.approx(5400)
    assert parse_duration("2s500ms") == pytest.approx(2.5)
    assert parse_duration("1d") == pytest.approx(86400)
    for bad in ("1m30", "30s1", "1x", "-1s", "s"):
        with pytest.raises(ValueError):
            parse_duration(bad)


# --- 6, 7, 13. files ------------------------------------------------------------------------


def test_deep_nesting_is_one_line(tmp_path, capsys):
    path = write(tmp_path, "horizon: " + "[" * 5000)
    code, _, err = run_cli(capsys, "validate", path)
    assert code == 1 and "nested more than" in err and path in err


def test_non_utf8_file_names_the_file(tmp_path, capsys):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    code, _, err = run_cli(capsys, "validate", str(path))
    assert code == 1 and str(path) in err and "UTF-8" in err


def test_alias_bomb_is_refused_fast_and_briefly(tmp_path, capsys):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines.append("horizon: *a9")
    path = write(tmp_path, "\n".join(lines) + "\n")
    started = time.monotonic()
    code, _, err = run_cli(capsys, "validate", path)
    assert time.monotonic() - started < 5
    assert code == 1 and "expands to more than" in err and len(err) < 500


def test_duplicate_keys_are_refused_with_the_path(tmp_path, capsys):
    text = (
        "horizon: 100\nworkload: {arrivals: {process: poisson, rate: 5}}\nservices:\n"
        "  api: {work: {distribution: constant, value: 0.1}}\n"
        "  api: {work: {distribution: constant, value: 0.2}}\n"
    )
    code, _, err = run_cli(capsys, "validate", write(tmp_path, text))
    assert code == 1 and "services.api: given twice" in err


def test_yaml_numbers_as_people_write_them(tmp_path):
    text = (
        "horizon: 1e2\nworkload: {arrivals: {process: poisson, rate: 5}}\n"
        "services: {api: {work: {distribution: exponential, mean: 2.0e-2}}}\n"
    )
    model = sim.load(write(tmp_path, text))
    assert model.horizon == 100 and model.services["api"].work.mean == 0.02


# --- 6, 8. the command line -------------------------------------------------------------------


def test_command_line_tracebacks_are_gone(tmp_path, capsys):
    path = write(tmp_path, BASE)
    code, _, err = run_cli(capsys, "sweep", path, "--vary", "services.api.workers=1:1e309:1")
    assert code == 1 and "finite" in err
    code, _, err = run_cli(capsys, "sweep", path, "--vary", "workload.arrivals.rate=1:1e12:1e-6")
    assert code == 1 and "at most" in err
    code, _, err = run_cli(capsys, "capacity", path, "--vary", "name", "--slo", "latency_p99<=1")
    assert code == 1 and "not a number" in err
    listing = tmp_path / "list.json"
    listing.write_text("[1, 2, 3]")
    code, _, err = run_cli(capsys, "check", path, "--baseline", str(listing))
    assert code == 1 and "not a results file" in err and str(listing) in err


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "{model}", "--tolerance", "-1"],
        ["check", "{model}", "--tolerance", "nan"],
        ["check", "{model}", "--max-replications", "0"],
        ["capacity", "{model}", "--vary", "services.api.workers", "--high", "inf"],
        ["run", "{model}", "--replications", "0"],
        ["run", "{model}", "--budget", "nan"],
    ],
)
def test_impossible_arguments_are_usage_errors(tmp_path, capsys, argv):
    path = write(tmp_path, BASE)
    with pytest.raises(SystemExit) as info:
        main([a.format(model=path) for a in argv])
    assert info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_sweep_metric_and_service_must_exist(tmp_path, capsys):
    path = write(tmp_path, BASE)
    code, _, err = run_cli(
        capsys, "sweep", path, "--vary", "services.api.workers=2,3", "--metric", "latency_p98"
    )
    assert code == 1 and "did you mean 'latency_p99'" in err
    code, _, err = run_cli(
        capsys, "sweep", path, "--vary", "services.api.workers=2,3", "--service", "apj"
    )
    assert code == 1 and "did you mean 'api'" in err


@pytest.mark.parametrize(
    "changes",
    [
        {"workload.arrivals.rate": 1e308},
        {"horizon": 1e9, "workload.arrivals.rate": 1000},
    ],
)
def test_the_work_budget_refuses_huge_runs_before_they_start(changes, tmp_path, capsys):
    path = write(tmp_path, model_with(**changes))
    started = time.monotonic()
    code, _, err = run_cli(capsys, "run", path)
    assert code == 1
    assert "request visits" in err and "work budget of 1e+09" in err
    assert "--budget" in err and "QUEUEFULL_BUDGET" in err
    code, _, err = run_cli(capsys, "validate", path)  # validate refuses it too
    assert code == 1 and "work budget" in err
    assert time.monotonic() - started < 10


def test_budget_counts_replications_points_and_can_be_raised(tmp_path, capsys, monkeypatch):
    model = sim.from_dict(BASE)
    per_replication = estimate_work(model, 1)
    assert per_replication == pytest.approx(5 * 100 + REPLICATION_COST)  # one visit a request
    path = write(tmp_path, BASE)
    code, _, err = run_cli(capsys, "run", path, "--replications", "1000000")
    assert code == 1 and "1,000,000 replications" in err
    with pytest.raises(BudgetError):
        sim.run(model, budget=per_replication)  # two replications: twice the budget
    assert sim.run(model, budget=2 * per_replication, progress=False).replications == 2
    monkeypatch.setenv("QUEUEFULL_BUDGET", "100")
    code, _, err = run_cli(capsys, "validate", path)
    assert code == 1 and "work budget of 100" in err
    code, out, _ = run_cli(capsys, "validate", path, "--budget", "1e5")
    assert code == 0 and "ok" in out


def test_budget_follows_the_call_graph_and_retries():
    data = model_with(
        **{
            "services.api.calls": [{"to": "db", "count": 3}],
            "services.db": {"work": {"distribution": "exponential", "mean": 0.01}},
            "workload.retries": {"max_attempts": 2},
        }
    )
    work = estimate_work(sim.from_dict(data), 1) - REPLICATION_COST
    assert work == pytest.approx(5 * 100 * (1 + 3) * 2)


def test_each_study_checks_its_budget_against_the_estimate_it_publishes():
    """sweep_work, compare_work and capacity_work are the numbers the studies enforce
    (the studio asks them before it runs one), each point at its own load."""
    model = sim.from_dict(BASE)
    rate = "workload.arrivals.rate"
    vary = {rate: [2, 5, 20]}
    work = sweep_work(model, vary=vary, replications=2)
    assert work == pytest.approx(2 * (2 + 5 + 20) * 100 + 6 * REPLICATION_COST)
    variants = {"baseline": {}, "busier": {rate: 20}}
    capacity = {"vary": rate, "low": 1, "high": 20, "replications": 2}
    slo = [{"metric": "latency_p99", "max": 1.0}]
    studies = [
        (work, lambda b: sim.sweep(model, vary=vary, replications=2, budget=b)),
        (
            compare_work(model, variants, 2),
            lambda b: sim.compare(model, variants, replications=2, budget=b),
        ),
        (
            capacity_work(model, **capacity),
            lambda b: sim.find_capacity(model, slo=slo, **capacity, budget=b),
        ),
    ]
    for estimate, study in studies:
        with pytest.raises(BudgetError, match=re.escape(f"about {estimate:.3g} request visits")):
            study(estimate * 0.999)


# --- 18. validate runs what run runs -------------------------------------------------------


def test_validate_refuses_an_unstable_model_naming_the_file(tmp_path, capsys):
    path = write(
        tmp_path, model_with(**{"services.api.queue": "unbounded", "workload.arrivals.rate": 30})
    )
    code, _, err = run_cli(capsys, "validate", path)
    assert code == 1
    assert err.startswith(f"{path}: services.api.queue: unbounded, but the offered load is 150%")
