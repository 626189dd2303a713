"""`queuefull check`: verdicts from intervals, exit codes, JUnit, baselines, every model."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import sim
from sim.cli import main
from sim.model import SLO
from sim.reference import model_header
from sim.studies.check import FAIL, INCONCLUSIVE, PASS, verdict

MODEL = """
name: checked
horizon: 300
warmup: 30
replications: 4
seed: 5
workload: {arrivals: {process: poisson, rate: 80}}
services:
  api: {workers: 10, queue: 20, work: {distribution: exponential, mean: 100ms}}
slo:
  - {metric: rejection_rate, max: BOUND}
  - {metric: latency_p99, service: api, max: 2.0}
"""


def model_file(tmp_path: Path, bound: float, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(MODEL.replace("BOUND", str(bound)))
    return path


@pytest.mark.parametrize(
    ("mean", "low", "high", "expected"),
    [
        (0.5, 0.4, 0.6, PASS),
        (1.5, 1.1, 1.9, FAIL),
        (0.9, 0.8, 1.1, INCONCLUSIVE),
        (1.0, 1.0, 1.0, PASS),
        (0.5, math.nan, math.nan, INCONCLUSIVE),
    ],
)
def test_verdict_from_the_interval(mean, low, high, expected):
    assert verdict(SLO(metric="latency_p99", max=1.0), mean, low, high) == expected


def test_min_bounds_and_both():
    slo = SLO(metric="success_rate", min=0.9, max=0.99)
    assert verdict(slo, 0.95, 0.94, 0.96) == PASS
    assert verdict(slo, 0.85, 0.84, 0.86) == FAIL
    assert verdict(slo, 0.995, 0.991, 0.999) == FAIL
    assert verdict(slo, 0.9, 0.89, 0.91) == INCONCLUSIVE


@pytest.mark.slow
def test_exit_codes_and_junit(tmp_path: Path, capsys):
    passing, failing = (
        model_file(tmp_path, 0.5, "pass.yaml"),
        model_file(tmp_path, 1e-4, "fail.yaml"),
    )
    junit = tmp_path / "junit.xml"
    assert main(["check", str(passing), "--quiet"]) == 0
    assert main(["check", str(passing), str(failing), "--junit", str(junit), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"PASS +all.rejection_rate <= 50.00%: ", out)
    assert re.search(r"FAIL +all.rejection_rate <= 0.01%: ", out)
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "4" and root.get("failures") == "1"
    names = [case.get("name") for case in root.iter("testcase")]
    assert names == [
        "all.rejection_rate <= 0.5",
        "api.latency_p99 <= 2",
        "all.rejection_rate <= 0.0001",
        "api.latency_p99 <= 2",
    ]
    failed = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["all.rejection_rate <= 0.0001"]


@pytest.mark.slow
def test_inconclusive_adds_replications_then_exits_3(tmp_path: Path, capsys):
    # the bound sits on the true blocking probability of M/M/10/30 at 80/s (0.095 %):
    # no interval can settle it
    edge = model_file(tmp_path, 0.00095)
    verdicts = tmp_path / "v.json"
    code = main(["check", str(edge), "--max-replications", "8", "--json", str(verdicts), "--quiet"])
    assert code == 3
    rows = json.loads(verdicts.read_text())
    assert rows[0]["verdict"] == "inconclusive"
    result = sim.check(sim.load(edge), max_replications=8)
    assert result.results.replications == 8  # 4, then doubled while inconclusive


def test_invalid_model_fails_the_check(tmp_path: Path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("horizon: -1\n")
    assert main(["check", str(bad), "--quiet"]) == 1
    assert "horizon: must be > 0" in capsys.readouterr().out


@pytest.mark.slow
def test_baseline_catches_a_shrunken_pool(tmp_path: Path, capsys):
    path = model_file(tmp_path, 0.5)
    baseline = tmp_path / "baseline.json"
    assert main(["run", str(path), "--json", str(baseline), "--quiet"]) == 0
    assert main(["check", str(path), "--baseline", str(baseline), "--quiet"]) == 0
    shrunk = [
        "check",
        str(path),
        "--baseline",
        str(baseline),
        "--set",
        "services.api.workers=9",
        "--quiet",
    ]
    junit = tmp_path / "j.xml"
    assert main([*shrunk, "--junit", str(junit)]) == 1
    out = capsys.readouterr().out
    assert "baseline all.rejection_rate" in out
    names = [c.get("name") for c in ET.parse(junit).getroot().iter("testcase")]
    assert "baseline all.rejection_rate" in names


SHIPPED = sorted(Path("models").glob("*.yaml"))


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_model_gets_the_verdict_its_header_gives(path: Path, tmp_path: Path):
    expected = model_header(path)["verdict"].split()[0]
    verdicts = tmp_path / "verdicts.json"
    options = ["--replications", "2", "--max-replications", "4", "--json", str(verdicts)]
    code = main(["check", str(path), *options, "--quiet"])
    got = {row["verdict"] for row in json.loads(verdicts.read_text())}
    overall = "fail" if "fail" in got else ("inconclusive" if "inconclusive" in got else "pass")
    assert (overall, code) == (expected, {"pass": 0, "fail": 1}[expected])


def test_the_shipped_models_include_passing_and_failing_ones():
    assert {model_header(p)["verdict"].split()[0] for p in SHIPPED} == {"pass", "fail"}


def test_slo_errors_name_the_field(tmp_path: Path, capsys):
    assert (
        main(
            [
                "capacity",
                "models/default.yaml",
                "--vary",
                "services.api.workers",
                "--slo",
                "latncy_p99<=1",
                "--quiet",
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert err.startswith("slo.0.metric: unknown metric 'latncy_p99' (did you mean 'latency_p99'?)")
    with pytest.raises(sim.ModelError, match=r"slo\.0\.service: 'db' is not a service"):
        sim.load(
            "models/default.yaml", {"slo": [{"metric": "latency_p99", "service": "db", "max": 1}]}
        )
