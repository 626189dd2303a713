"""Faults around a run: Ctrl-C, a worker process killed, the parent killed, a closed pipe,
and the same numbers, digit for digit, whatever runs them."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.studies import parallel

run_module = importlib.import_module("sim.studies.run")  # sim.studies.run is also the function

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--set", "horizon=60", "--set", "warmup=10", "--quiet"]

_real_simulate = parallel._simulate
_marker: Path | None = None


def _dies_once_at_replication_1(model_data, replication, seed, branches=None):
    """A worker that is killed the first time it runs replication 1 (as by the OOM killer)."""
    if replication == 1 and _marker is not None and not _marker.exists():
        _marker.touch()
        os._exit(1)
    return _real_simulate(model_data, replication, seed, branches)


def _always_dies_at_replication_1(model_data, replication, seed, branches=None):
    if replication == 1:
        os._exit(1)
    return _real_simulate(model_data, replication, seed, branches)


@pytest.fixture
def fresh_pool():
    """Pool workers forked after the test's patches, and none left behind."""
    parallel._reset_local_pool()
    yield
    parallel._reset_local_pool()


def _sweep(tmp_path: Path, capsys) -> tuple[int, pd.DataFrame | None, str]:
    csv = tmp_path / "sweep.csv"
    code = main(
        [
            "sweep",
            "models/default.yaml",
            "--vary",
            "services.api.workers=9,10",
            "--replications",
            "2",
            "--csv",
            str(csv),
            *SMALL,
        ]
    )
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, (pd.read_csv(csv) if csv.exists() else None), err


def test_a_killed_worker_is_retried_in_a_fresh_pool(tmp_path, capsys, monkeypatch, fresh_pool):
    global _marker
    code, expected, _ = _sweep(tmp_path, capsys)
    assert code == 0
    parallel._reset_local_pool()
    _marker = tmp_path / "died"
    monkeypatch.setattr(parallel, "_simulate", _dies_once_at_replication_1)
    try:
        code, table, _ = _sweep(tmp_path, capsys)
    finally:
        _marker = None
    assert (tmp_path / "died").exists()  # a worker did die
    assert code == 0
    pd.testing.assert_frame_equal(table, expected)


def test_a_worker_that_dies_twice_leaves_the_finished_points(
    tmp_path, capsys, monkeypatch, fresh_pool
):
    monkeypatch.setattr(parallel, "_simulate", _always_dies_at_replication_1)
    code, table, err = _sweep(tmp_path, capsys)
    assert code == 4 and "incomplete" in err
    assert table is not None and table.empty  # every point needs replication 1


def test_ctrl_c_during_a_sweep_keeps_the_points_and_exits_130(tmp_path, capsys, monkeypatch):
    real = run_module.run_tasks

    def interrupted_after_the_first_point(tasks, executor=None, progress=None, arrived=None):
        batch = real(tasks[:2], "inline", None, arrived)
        batch.outputs += [None] * (len(tasks) - 2)
        batch.interrupted = True
        return batch

    monkeypatch.setattr(run_module, "run_tasks", interrupted_after_the_first_point)
    code, table, err = _sweep(tmp_path, capsys)
    assert code == 130 and "interrupted" in err
    assert set(table["services.api.workers"]) == {9}


@pytest.mark.slow
def test_pool_workers_exit_when_their_parent_is_killed(tmp_path):
    script = (
        "import os, time\n"
        "from sim.studies.parallel import local_pool\n"
        "pool = local_pool()\n"
        "futures = [pool.submit(time.sleep, 120) for _ in range(2)]\n"
        "time.sleep(1.0)\n"
        "print(' '.join(str(p) for p in pool._processes), flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    pids = [int(p) for p in done.stdout.split()]
    assert pids
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.2)
    alive = [pid for pid in pids if _alive(pid)]
    for pid in alive:  # do not leave them behind even if the test fails
        os.kill(pid, signal.SIGKILL)
    assert not alive, "orphaned pool workers went on running"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.slow
def test_output_files_are_written_before_a_reader_goes_away(tmp_path):
    out = tmp_path / "r.json"
    err = tmp_path / "err.txt"
    command = (
        f"{sys.executable} -m sim.cli run models/default.yaml --replications 2 {' '.join(SMALL)} "
        f"--json {out} 2>{err} | head -1"
    )
    subprocess.run(command, shell=True, cwd=ROOT, check=True, timeout=120)
    assert sim.Results.from_json(out).replications == 2
    assert "Traceback" not in err.read_text() and "Broken pipe" not in err.read_text()


@pytest.mark.slow
def test_same_seed_same_json_across_processes_and_hash_seeds(tmp_path):
    texts = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"r{hash_seed}.json"
        subprocess.run(
            [sys.executable, "-m", "sim.cli", "run", "models/breaker_saves_pool.yaml",
             "--replications", "2", *SMALL, "--json", str(out)],
            cwd=ROOT, check=True, timeout=300, capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )  # fmt: skip
        texts.append(out.read_bytes())
    assert texts[0] == texts[1]
    model = sim.load("models/breaker_saves_pool.yaml", {"horizon": 60, "warmup": 10})
    inline = sim.run(model, replications=2, executor="inline", progress=False).to_json()
    pooled = sim.run(model, replications=2, executor="processes", progress=False).to_json()
    assert inline == pooled
    assert inline.encode() == texts[0]
