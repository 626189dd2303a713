"""Ctrl-C and SIGTERM stop the long commands at once, with no worker process left behind.

Each command runs one replication long enough (a huge horizon) that a worker finishing
its replication before exiting would blow the timeout many times over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LONG = ["--set", "horizon=200000", "--set", "warmup=100", "--replications", "2", "--quiet"]
LONG += ["--budget", "1e12"]


def group_members(group: int) -> list[int]:
    """Processes still alive in a process group (zombies excepted)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != group:
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.append(int(entry.name))
    return alive


def _as_from_a_terminal() -> None:
    """In the child before exec: Ctrl-C at its default. A test run started in the
    background (``cmd &`` in a script, as some CI runners do) inherits SIGINT ignored, and
    a program rightly keeps ignoring it then."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(argv: list[str]) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", *argv, *LONG],
        cwd=ROOT,
        start_new_session=True,  # its own group: a terminal's Ctrl-C reaches all of it
        preexec_fn=_as_from_a_terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(group_members(process.pid)) < 2 and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        time.sleep(0.2)  # until the worker pool is up and simulating
    time.sleep(1.0)
    return process


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="reads process groups from /proc")
@pytest.mark.parametrize(
    ("argv", "how", "code"),
    [
        (["check", "models/default.yaml"], "ctrl-c", 130),
        (["check", "models/default.yaml"], "sigterm", 143),
        (["capacity", "models/default.yaml", "--vary", "workload.arrivals.rate"], "ctrl-c", 130),
        (["capacity", "models/default.yaml", "--vary", "workload.arrivals.rate"], "sigterm", 143),
    ],
)
def test_stops_at_once_and_leaves_no_workers(argv, how, code):
    process = start(argv)
    try:
        if how == "ctrl-c":
            os.killpg(process.pid, signal.SIGINT)  # what a terminal sends to the whole group
        else:
            process.send_signal(signal.SIGTERM)  # what a CI runner sends to the command
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == code, err
    assert "interrupted" in err and "Traceback" not in err
    deadline = time.monotonic() + 10
    while group_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert group_members(process.pid) == []
