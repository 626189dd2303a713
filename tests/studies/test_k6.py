"""The same load against a real system: k6 scripts from models, k6 summaries back."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import sim
from sim.calibrate.agreement import agreement, read_measurements
from sim.calibrate.k6 import ExportError, k6_script, measurements_from_k6

MODELS = Path(__file__).resolve().parents[2] / "models"


def _options(script: str) -> dict:
    start = script.index("export const options = ") + len("export const options = ")
    return json.loads(script[start : script.index(";\n\nfunction pick")])


def test_a_flash_sale_becomes_a_ramping_arrival_rate_that_holds_and_ramps():
    options = _options(k6_script(sim.load(MODELS / "flash_sale.yaml")))
    scenario = options["scenarios"]["workload"]
    assert scenario["executor"] == "ramping-arrival-rate" and scenario["timeUnit"] == "1m"
    assert scenario["startRate"] == 200 * 60
    assert scenario["stages"] == [
        {"target": 12000, "duration": "290s"},  # 200/s until the spike
        {"target": 120000, "duration": "10s"},  # k6 ramps linearly: up in one stage
        {"target": 120000, "duration": "110s"},
        {"target": 12000, "duration": "10s"},
        {"target": 12000, "duration": "480s"},
    ]


def test_scenarios_become_k6_scenarios_with_their_executors_and_entry_services():
    script = k6_script(sim.load(MODELS / "noisy_neighbour.yaml"), "http://staging:80")
    scenarios = _options(script)["scenarios"]
    assert scenarios["shoppers"] == {
        "executor": "constant-arrival-rate",
        "rate": 150,
        "timeUnit": "1s",
        "duration": "600s",
        "preAllocatedVUs": 150,
        "maxVUs": 1500,
        "exec": "send_shoppers",
    }
    assert scenarios["export"]["executor"] == "constant-vus" and scenarios["export"]["vus"] == 30
    assert "export function send_export() {" in script  # never the reserved word itself
    assert "${BASE_URL}/reports?class=${cls}" in script and "sleep(0.02);" in script
    assert 'const BASE_URL = __ENV.BASE_URL || "http://staging:80";' in script


@pytest.mark.skipif(
    shutil.which("node") is None, reason="Node.js checks the syntax (CI installs it)"
)
@pytest.mark.parametrize("name", sorted(p.stem for p in MODELS.glob("*.yaml")))
def test_every_shipped_model_exports_a_script_that_parses(name: str, tmp_path: Path):
    script = tmp_path / "load.mjs"
    script.write_text(k6_script(sim.load(MODELS / f"{name}.yaml")))
    done = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_trace_has_no_k6_executor():
    model = sim.load(
        MODELS / "default.yaml", {"workload.arrivals": {"process": "trace", "file": "t.csv"}}
    )
    with pytest.raises(ExportError, match=r"workload\.arrivals: k6 has no executor"):
        k6_script(model)


SUMMARY = {  # the shape of k6 run --summary-export
    "metrics": {
        "http_reqs": {"count": 54000, "rate": 89.8},
        "http_req_duration": {
            "avg": 120.5,
            "min": 2.0,
            "med": 88.0,
            "max": 2400.0,
            "p(90)": 250.0,
            "p(95)": 330.0,
        },
        "http_req_failed": {"passes": 540, "fails": 53460, "value": 0.01},
    }
}


def test_a_k6_summary_reads_as_end_to_end_measurements(tmp_path: Path):
    assert measurements_from_k6(SUMMARY) == {
        "all": {
            "throughput": 89.8,
            "latency_mean": 0.1205,
            "latency_p50": 0.088,
            "latency_p90": 0.25,
            "success_rate": 0.99,
        }
    }
    nested = {"metrics": {"http_reqs": {"type": "counter", "values": {"count": 9, "rate": 3.0}}}}
    assert measurements_from_k6(nested) == {"all": {"throughput": 3.0}}
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(SUMMARY))
    measured = read_measurements(path)
    model = sim.load(MODELS / "default.yaml", {"horizon": 200, "warmup": 20, "replications": 3})
    rows = agreement(sim.run(model, executor="inline", progress=False), measured)
    assert {r.metric for r in rows} == set(measured["all"])
    assert next(r for r in rows if r.metric == "throughput").agrees  # default.yaml: 90 req/s
