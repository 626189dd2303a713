"""What the simulated system would show on a dashboard: OpenMetrics text that Prometheus's
own tool loads, with the numbers of the run."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.report.openmetrics import openmetrics

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture(scope="module", params=["breaker_saves_pool", "connection_pool_starvation"])
def text(request: pytest.FixtureRequest) -> str:
    model = sim.load(MODELS / f"{request.param}.yaml", {"horizon": 120, "warmup": 10})
    return openmetrics(model)


def _values(text: str, pattern: str) -> list[float]:
    return [float(m.group(1)) for m in re.finditer(pattern + r" (\S+) \S+$", text, re.M)]


def test_the_histogram_counts_every_answer_and_grows(text: str):
    counts = _values(text, r'http_server_request_duration_seconds_count\{service="api"\}')
    assert len(counts) == 100 and counts == sorted(counts)  # cumulative, one per bin
    inf = _values(text, r'http_server_request_duration_seconds_bucket\{service="api",le="\+Inf"\}')
    assert inf == counts
    first = _values(
        text, r'http_server_request_duration_seconds_bucket\{service="api",le="0.005"\}'
    )
    assert all(a <= b for a, b in zip(first, counts, strict=True))
    assert text.endswith("# EOF\n")


def test_the_export_is_the_run_it_came_from():
    model = sim.load(MODELS / "default.yaml", {"horizon": 60, "warmup": 6, "replications": 1})
    text = openmetrics(model, seed=3)
    results = sim.run(model, seed=3, executor="inline", progress=False)
    total = _values(text, r'http_server_request_duration_seconds_count\{service="api"\}')[-1]
    completed = results.get("completed", "api")  # counted: arrived in the window
    assert abs(total - completed) <= completed * 0.15  # the export counts the whole run
    refused = _values(
        text, r'queuefull_requests_refused_total\{service="api",reason="queue_full"\}'
    )
    assert refused == sorted(refused)
    active = np.array(_values(text, r'http_server_active_requests\{service="api"\}'))
    assert abs(active[10:].mean() - results.get("in_system_mean", "api")) < 0.1 * active.mean()


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (CI installs it)")
def test_promtool_loads_it_into_a_tsdb(text: str, tmp_path: Path):
    source = tmp_path / "run.om"
    source.write_text(text)
    done = subprocess.run(
        [
            "promtool",
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            str(source),
            str(tmp_path / "db"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    series = int(done.stdout.split()[-2])  # NUM SERIES in the block's table
    assert series >= 40
    broken = tmp_path / "broken.om"
    broken.write_text(text.replace("# EOF\n", ""))  # promtool refuses what is not OpenMetrics
    refused = subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(broken), str(tmp_path / "x")],
        capture_output=True,
    )
    assert refused.returncode != 0


def test_queuefull_run_writes_it_with_chosen_buckets(tmp_path: Path, capsys):
    from sim.cli import main

    out = tmp_path / "run.om"
    argv = [
        *("run", str(MODELS / "default.yaml"), "--set", "horizon=30", "--set", "warmup=3"),
        *("--replications", "1", "--quiet", "--openmetrics", str(out), "--buckets", "0.1,1"),
    ]
    assert main(argv) == 0
    text = out.read_text()
    assert 'le="0.1"' in text and 'le="0.005"' not in text
    assert main([*argv[:-1], "0,1"]) == 2


def test_connection_pools_show_under_the_database_client_names():
    model = sim.load(MODELS / "connection_pool_starvation.yaml", {"horizon": 120, "warmup": 10})
    text = openmetrics(model)
    used = _values(text, r'db_client_connection_count\{[^}]*db_client_connection_state="used"\}')
    idle = _values(text, r'db_client_connection_count\{[^}]*db_client_connection_state="idle"\}')
    assert used and len(used) == len(idle)
    assert all(0 <= u <= 10 + 1e-9 for u in used)  # at most the pool's 10 connections
    assert max(used) > 1
    assert "db_client_connection_pending_requests{" in text
