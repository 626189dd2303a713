"""Matplotlib figures shared by the CLI, the app and notebooks."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files, not windows: the CLI and CI have no screen

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.measure.results import Results


def _band(ax: plt.Axes, frame: pd.DataFrame, column: str, label: str) -> None:
    """Mean across replications with the min-max envelope as a shaded band."""
    grouped = frame.groupby("time")[column]
    mean = grouped.mean()
    ax.plot(mean.index, mean.to_numpy(), label=label, linewidth=1.4)
    ax.fill_between(mean.index, grouped.min().to_numpy(), grouped.max().to_numpy(), alpha=0.2)


def timeseries_figure(results: Results, services: list[str] | None = None) -> Figure:
    """Queue depth, p99 latency and rejections over time, one line per service.

    The shaded band spans the replications; the warm-up is greyed out.
    """
    frame = results.timeseries
    names = services or list(results.model.services)
    scaled = [n for n in names if results.model.services[n].autoscaling is not None]
    panels = [
        ("queue_depth", "queue depth (requests waiting)"),
        ("latency_p99", "p99 latency (s)"),
        ("rejections", "rejections (per s)"),
    ]
    if scaled:
        panels.append(("replicas_ready", "replicas ready (dashed: desired)"))
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(9, 2.6 * len(panels) + 0.4), sharex=True, constrained_layout=True
    )
    for ax, (column, title) in zip(axes, panels, strict=True):
        for name in scaled if column == "replicas_ready" else names:
            _band(ax, frame[frame.service == name], column, name)
            if column == "replicas_ready":
                desired = frame[frame.service == name].groupby("time")["replicas_desired"].mean()
                ax.plot(desired.index, desired.to_numpy(), linestyle="--", linewidth=1)
        ax.set_ylabel(title)
        if results.model.warmup > 0:
            ax.axvspan(0, results.model.warmup, color="0.85", zorder=0)
        for service in results.model.services.values():
            for incident in service.incidents:
                ax.axvspan(incident.start, incident.stop, color="tab:red", alpha=0.08, zorder=0)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper left", fontsize="small")
    axes[0].set_title(
        f"{results.model.name}: {results.replications} replications (grey: warm-up, red: incidents)"
    )
    axes[-1].set_xlabel("simulated time (s)")
    return fig


def save_timeseries(results: Results, path: str | Path) -> Path:
    """Write :func:`timeseries_figure` as a PNG and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = timeseries_figure(results)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def sweep_figure(
    table: pd.DataFrame, knob: str, metrics: list[str], service: str = "all"
) -> Figure:
    """Each metric against the varied knob, with its 95 % CI band; one line per value of a
    second varied path, if there is one."""
    known = {"service", "metric", "mean", "ci_low", "ci_high", "unit"}
    others = [c for c in table.columns if c not in known and c != knob]
    fig, axes = plt.subplots(
        len(metrics),
        1,
        figsize=(8, 2.8 * len(metrics) + 0.4),
        sharex=True,
        constrained_layout=True,
        squeeze=False,
    )
    for ax, metric in zip(axes[:, 0], metrics, strict=True):
        rows = table[(table.service == service) & (table.metric == metric)]
        groups = rows.groupby(others, sort=False) if others else [(None, rows)]
        for key, group in groups:
            group = group.sort_values(knob)
            label = (
                None
                if key is None
                else ", ".join(
                    f"{name}={value}"
                    for name, value in zip(others, np.atleast_1d(key), strict=True)
                )
            )
            ax.plot(group[knob], group["mean"], marker="o", markersize=3, label=label)
            ax.fill_between(group[knob], group.ci_low, group.ci_high, alpha=0.2)
        unit = rows.unit.iloc[0] if not rows.empty else ""
        ax.set_ylabel(f"{metric} ({unit})")
        ax.grid(alpha=0.3)
        if others:
            ax.legend(fontsize="small")
    axes[0, 0].set_title(f"{service}: sweep of {knob} (bands: 95 % CI)")
    axes[-1, 0].set_xlabel(knob)
    return fig


def save_sweep(
    table: pd.DataFrame, knob: str, metrics: list[str], path: str | Path, service: str = "all"
) -> Path:
    """Write :func:`sweep_figure` as a PNG and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = sweep_figure(table, knob, metrics, service)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
