"""The plots name what they draw (checked through matplotlib's artist tree), the CLI's
default output paths, and the self-contained HTML report."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.lines import Line2D

import sim
from sim.cli import main
from sim.plots import BAND_LABEL, sweep_figure, timeseries_figure
from tests.helpers import exponential, single_service

MODELS = Path(__file__).resolve().parents[2] / "models"


def legend_labels(fig) -> set[str]:
    return {text.get_text() for legend in fig.legends for text in legend.get_texts()}


def lines_labelled(fig, label: str) -> list[Line2D]:
    return [line for ax in fig.axes for line in ax.get_lines() if line.get_label() == label]


@pytest.fixture(scope="module")
def breaker_figure():
    model = sim.load(MODELS / "breaker_saves_pool.yaml", {"horizon": 400, "warmup": 30})
    fig = timeseries_figure(sim.run(model, replications=3, progress=False, executor="inline"))
    yield fig
    plt.close(fig)


def test_timeseries_names_bands_limits_reasons_and_windows(breaker_figure):
    labels = legend_labels(breaker_figure)
    assert {
        "mean of 3 replications",
        BAND_LABEL,
        "workers",
        "workers + queue (refusals start)",
        "SLO",
        "warm-up (not measured)",
        "recommendations incident",
        "refused: queue_full",
        "served (ok)",
    } <= labels
    workers = {float(line.get_ydata()[0]) for line in lines_labelled(breaker_figure, "workers")}
    assert workers == {30.0, 50.0}  # api and recommendations, one panel row each
    limits = lines_labelled(breaker_figure, "workers + queue (refusals start)")
    assert {float(line.get_ydata()[0]) for line in limits} == {230.0, 150.0}
    slo = lines_labelled(breaker_figure, "SLO")
    assert [float(line.get_ydata()[0]) for line in slo] == [1.0]  # api.latency_p99 <= 1s
    titles = [ax.get_title(loc="left") for ax in breaker_figure.axes]
    assert titles[:3] == [
        "api: requests in system",
        "api: p99 latency (s)",
        "api: req/s: served, refused",
    ]


def test_the_rate_limit_and_autoscaling_are_drawn():
    model = sim.from_dict(
        {
            "horizon": 120,
            "warmup": 10,
            "workload": {"arrivals": {"process": "poisson", "rate": 80}},
            "services": {
                "api": {
                    "workers": 4,
                    "queue": 20,
                    "work": {"distribution": "exponential", "mean": "20ms"},
                    "rate_limit": {"kind": "token_bucket", "rate": 50, "burst": 10},
                    "autoscaling": {"metric": "utilization", "target": 0.5, "max_replicas": 3},
                }
            },
        }
    )
    fig = timeseries_figure(sim.run(model, replications=2, progress=False, executor="inline"))
    labels = legend_labels(fig)
    assert {"rate limit", "replicas desired", "refused: rate_limited"} <= labels
    assert [float(line.get_ydata()[0]) for line in lines_labelled(fig, "rate limit")] == [50.0]
    plt.close(fig)


def test_sweep_bands_are_labelled_and_lines_kept_apart():
    rows = []
    for knob in (1, 2, 3):
        for service in ("all", "api"):
            rows.append((knob, service, "latency_p99", 0.1 * knob, 0.09 * knob, 0.11 * knob, "s"))
    table = pd.DataFrame(
        rows, columns=["workers", "service", "metric", "mean", "ci_low", "ci_high", "unit"]
    )
    fig = sweep_figure(table, "workers", ["latency_p99"], ["all", "api"])
    ax = fig.axes[0]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["all", BAND_LABEL, "api"]
    styles = {line.get_label(): line.get_linestyle() for line in ax.get_lines()}
    assert styles["all"] != styles["api"]  # identical lines stay visible
    assert np.allclose(ax.get_lines()[0].get_ydata(), [0.1, 0.2, 0.3])
    plt.close(fig)


def test_a_sweep_table_plots_one_line_per_service_through_every_point():
    model = single_service(40.0, exponential(0.1), workers=4, queue=4, horizon=60, warmup=5)
    table = sim.sweep(model, {"services.api.workers": [4, 5, 6]}, replications=2, executor="inline")
    assert table["estimate"].notna().any()  # its columns beside the knob's are not knobs
    fig = sweep_figure(table, "services.api.workers", ["latency_p99"], ["all", "api"])
    lines = {line.get_label(): list(line.get_xdata()) for line in fig.axes[0].get_lines()}
    assert lines == {"all": [4, 5, 6], "api": [4, 5, 6]}
    plt.close(fig)


class Page(HTMLParser):
    """The ids, images, links and preformatted texts of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.sources: list[str] = []
        self.links: list[str] = []
        self.pre: list[str] = []
        self._in_pre = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "img":
            self.sources.append(values.get("src", ""))
        if tag in ("link", "script", "a") and (values.get("href") or values.get("src")):
            self.links.append(values.get("href") or values.get("src"))
        if tag == "pre":
            self._in_pre = True
            self.pre.append("")

    def handle_endtag(self, tag):
        if tag == "pre":
            self._in_pre = False

    def handle_data(self, data):
        if self._in_pre:
            self.pre[-1] += data


@pytest.mark.slow
def test_report_writes_one_self_contained_page_and_default_paths(tmp_path, monkeypatch, capsys):
    shutil.copy(MODELS / "breaker_saves_pool.yaml", tmp_path / "breaker.yaml")
    monkeypatch.chdir(tmp_path)
    argv = ["report", "breaker.yaml", "--set", "horizon=300", "--set", "warmup=30"]
    assert main([*argv, "--replications", "2", "--quiet", "--plot"]) == 0
    out = capsys.readouterr().out
    assert "wrote out/breaker.png" in out and "wrote out/breaker.html" in out
    assert (tmp_path / "out" / "breaker.png").read_bytes()[:4] == b"\x89PNG"
    page = Page()
    page.feed((tmp_path / "out" / "breaker.html").read_text())
    assert {"summary", "slos", "services", "plots", "model", "reproduce"} <= page.ids
    assert {"service-api", "service-recommendations"} <= page.ids
    assert page.sources and all(s.startswith("data:image/png;base64,") for s in page.sources)
    assert not page.links  # nothing to fetch: the page travels alone
    model_text, command = page.pre
    assert "circuit_breaker:" in model_text and "#   horizon=300" in model_text
    assert command.startswith("queuefull report breaker.yaml --set horizon=300")
