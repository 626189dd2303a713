"""The terminal report: the answer first, one number format per unit, colour only on a
terminal, and golden outputs of three shipped models (numbers masked, layout kept)."""

from __future__ import annotations

import io
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.measure.display import format_value
from sim.measure.results import SWEEP_COLUMNS
from sim.model import SLO
from sim.report.summary import build_report
from sim.report.terminal import (
    render_report,
    render_sweep,
    use_colour,
    verdict_line,
    verdict_word,
)
from sim.studies.check import SLOResult
from sim.studies.verdict import Verdict

GOLDEN = Path(__file__).parent / "golden"
SHORT = ["--replications", "3", "--quiet"]


def masked(text: str) -> str:
    """The report with every number replaced by ``#`` and runs of spaces and dashes folded:
    what rows, labels, units and formats appear, not the values or column widths."""
    text = re.sub(r"(?<![\w.])\d+(,\d{3})*(\.\d+)?", "#", text)
    text = re.sub(r"-{2,}", "--", text)
    lines = []
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        lines.append(" " * indent + re.sub(r" {2,}", "  ", line.strip()))
    return "\n".join(lines)


def check_golden(name: str, text: str) -> None:
    """Compare with ``golden/<name>.txt``; QUEUEFULL_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("QUEUEFULL_UPDATE_GOLDEN"):
        path.write_text(masked(text) + "\n")
    assert masked(text) + "\n" == path.read_text()


@pytest.mark.parametrize(
    ("name", "argv"),
    [
        (
            "run_default",
            ["run", "models/default.yaml", "--set", "horizon=200", "--set", "warmup=20"],
        ),
        (
            "run_breaker_saves_pool",
            ["run", "models/breaker_saves_pool.yaml", "--set", "horizon=400", "--set", "warmup=30"],
        ),
        (
            "sweep_breaker_saves_pool",
            [
                "sweep",
                "models/breaker_saves_pool.yaml",
                "--vary",
                "services.api.workers=10,30",
                "--set",
                "horizon=400",
                "--set",
                "warmup=30",
                "--service",
                "api",
                "--edge",
                "api->recommendations",
                "--metric",
                "latency_p99",
                "--metric",
                "call_failure_rate",
            ],
        ),
    ],
)
def test_golden_output(name, argv, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert main([*argv, *SHORT]) == 0
    check_golden(name, capsys.readouterr().out)


def test_no_scientific_notation_and_one_format_per_unit():
    for exponent in np.arange(-12, 1, 0.5):
        text = format_value(10.0**exponent, "fraction")
        assert text.endswith("%") and "e" not in text, text
    assert format_value(6.34e-06, "fraction") == "0.00063%"
    assert format_value(0.0087, "fraction") == "0.87%"
    assert format_value(12345.6, "requests") == "12,346"
    assert format_value(0.000123, "ratio") == "0.000123"
    assert format_value(0.0447, "s") == "44.7ms" and format_value(8.983, "s") == "8.983s"
    assert format_value(math.nan, "s") == "-"


@pytest.fixture(scope="module")
def breaker_results() -> sim.Results:
    model = sim.load("models/breaker_saves_pool.yaml", {"horizon": 400, "warmup": 30})
    return sim.run(model, replications=3, progress=False, executor="inline")


def test_the_answer_comes_first_and_edges_sit_under_their_caller(breaker_results):
    report = build_report(breaker_results)
    labels = [h.label for h in report.headline]
    assert labels[:2] == ["success", "refused"] and "p99 latency" in labels
    assert labels[-1] == "busiest" and report.headline[-1].subject == "api"
    names = [s.name for s in report.sections]
    assert names == ["api", "recommendations"]  # 'all' only repeated the entry service
    api = report.sections[0]
    assert [e.name for e in api.edges] == ["api->recommendations"]
    edge_metrics = {r.metric for r in api.edges[0].rows}
    assert {"call_rate", "call_circuit_open_rate", "breaker_open_fraction"} <= edge_metrics
    text = render_report(report)
    assert text.index("api -> recommendations") < text.index("recommendations: 1 replica")
    shown = sum(len(s.rows) + sum(len(e.rows) for e in s.edges) for s in report.sections)
    assert shown + sum(report.hidden.values()) == len(breaker_results.summary)
    assert re.search(r"\(\d+ rows hidden: .*--all shows them\)", text)


def test_all_shows_every_row(breaker_results):
    report = build_report(breaker_results, show_all=True)
    shown = sum(len(s.rows) + sum(len(e.rows) for e in s.edges) for s in report.sections)
    assert shown == len(breaker_results.summary) and not report.hidden
    assert report.sections[0].name == "all"


def test_colour_only_on_a_terminal(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert use_colour(Terminal()) and not use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(Terminal())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert use_colour(io.StringIO())
    assert "\033[" in verdict_word(Verdict.FAIL, colour=True)
    assert verdict_word(Verdict.FAIL) == "FAIL" + " " * 8


def test_an_inconclusive_verdict_says_what_it_ran():
    slo = SLO(metric="latency_p99", service="all", max=0.5)
    line = verdict_line(SLOResult(slo, Verdict.INCONCLUSIVE, 0.49, 0.45, 0.53), 8)
    assert line.startswith("INCONCLUSIVE  all.latency_p99 <= 500ms: 490ms [450ms, 530ms]")
    assert "after 8 replications" in line
    bare = verdict_line(SLOResult(slo, Verdict.INCONCLUSIVE, 0.49, math.nan, math.nan), 1)
    assert "no interval" in bare


def test_a_sweep_table_names_the_estimate_only_when_a_cell_shows_one():
    rows = [
        (8, "all", "latency_p99", 0.3, 0.29, 0.31, "s", 0.28, 2),
        (8, "api->db", "call_latency_p99", 0.1, 0.09, 0.11, "s", math.nan, 2),
    ]
    table = pd.DataFrame(rows, columns=["services.api.workers", *SWEEP_COLUMNS])
    knobs = ["services.api.workers"]
    edge = render_sweep(table, knobs, ["api->db"], ["call_latency_p99"])
    assert "est" not in edge  # the end-to-end row has one, but it is not shown
    assert "est: the instant estimate" in render_sweep(table, knobs, ["all"], ["latency_p99"])
