"""Matplotlib figures shared by the CLI, the app and notebooks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files, not windows: the CLI and CI have no screen

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.measure.results import SWEEP_COLUMNS, Results
from sim.measure.stats import CONFIDENCE, t_quantiles
from sim.model import Model
from sim.model.service import Service
from sim.model.windows import disturbances
from sim.outcomes import REJECTIONS

BAND_LABEL = "95 % interval across replications"
REASON_COLOURS = dict(
    zip(
        REJECTIONS,
        ["tab:red", "tab:brown", "tab:purple", "tab:pink", "tab:orange", "tab:olive", "tab:gray"],
        strict=False,
    )
)  # warm colours, apart from the blue mean line
LATENCY_SLOS = {"latency_p99"}  # the SLOs the p99 panel can show against its line
PANELS = (
    ("in_system", "requests in system"),
    ("latency_p99", "p99 latency (s)"),
    ("rates", "req/s: served, refused"),
)


def _mean_and_band(frame: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Per time bin: the mean across replications and its 95 % Student-t interval (the
    interval is NaN with a single replication)."""
    grouped = frame.groupby("time")[column]
    mean, spread, count = grouped.mean(), grouped.std(), grouped.count()
    with np.errstate(invalid="ignore", divide="ignore"):
        half = t_quantiles(CONFIDENCE, count - 1) * spread / np.sqrt(count)
    return mean, mean - half, mean + half


def _line_with_band(ax: Axes, frame: pd.DataFrame, column: str, label: str, colour: str) -> None:
    mean, low, high = _mean_and_band(frame, column)
    ax.plot(mean.index, mean.to_numpy(), color=colour, linewidth=1.4, label=label)
    if low.notna().any():
        ax.fill_between(
            mean.index, low.to_numpy(), high.to_numpy(), color=colour, alpha=0.2, label=BAND_LABEL
        )


def _capacity_lines(ax: Axes, frame: pd.DataFrame, service: Service) -> None:
    """Where waiting starts (every worker busy) and where refusals start (queues full too),
    following the ready replicas when the service scales."""
    if "replicas_ready" in frame:
        replicas = frame.groupby("time")["replicas_ready"].mean()
        times, count = replicas.index, replicas.to_numpy()
    else:
        count = np.array([float(service.replicas or 1)] * 2)
        times = pd.Index([frame.time.min(), frame.time.max() + 1e-9])
    workers = count * service.most_workers
    ax.step(
        times, workers, where="post", color="black", linestyle="--", linewidth=1, label="workers"
    )
    if service.queue != "unbounded":
        limit = count * (service.most_workers + int(service.queue))
        ax.step(
            times, limit, where="post", color="black", linestyle=":", linewidth=1.2,
            label="workers + queue (refusals start)",
        )  # fmt: skip


def _slo_lines(ax: Axes, model: Model, name: str) -> None:
    for slo in model.slo:
        mine = slo.service == name or (slo.service == "all" and name == model.entry)
        if mine and slo.metric in LATENCY_SLOS and slo.max is not None:
            ax.axhline(slo.max, color="tab:red", linestyle="--", linewidth=1, label="SLO")


def _rates(ax: Axes, frame: pd.DataFrame, service: Service) -> None:
    """Served requests as a line, refusals stacked by reason, the rate limit if any."""
    served, _, _ = _mean_and_band(frame, "throughput")
    reasons = [r for r in REJECTIONS if frame.get(f"refused_{r}", pd.Series([0])).sum() > 0]
    if reasons:
        layers = [frame.groupby("time")[f"refused_{r}"].mean() for r in reasons]
        ax.stackplot(
            layers[0].index,
            *(layer.to_numpy() for layer in layers),
            colors=[REASON_COLOURS[r] for r in reasons],
            alpha=0.6,
            labels=[f"refused: {r}" for r in reasons],
        )
    ax.plot(served.index, served.to_numpy(), color="tab:green", linewidth=1.4, label="served (ok)")
    limit = service.rate_limit
    if limit is not None and not getattr(limit, "per_client", False):
        ax.axhline(
            limit.refill_rate, color="black", linestyle="-.", linewidth=1, label="rate limit"
        )


def _shade(ax: Axes, model: Model) -> None:
    """The warm-up, incidents and traffic spikes, each labelled once in the legend."""
    if model.warmup > 0:
        ax.axvspan(0, model.warmup, color="0.85", zorder=0, label="warm-up (not measured)")
    for window in disturbances(model):
        if window.start >= model.horizon:
            continue
        colour = "tab:orange" if window.label.startswith("spike") else "tab:red"
        stop = min(window.stop, model.horizon)
        ax.axvspan(window.start, stop, color=colour, alpha=0.1, zorder=0, label=window.label)
    ax.set_xlim(0, model.horizon)


def timeseries_figure(results: Results, services: list[str] | None = None) -> Figure:
    """One row per service: requests in system against the worker and queue limits, p99
    latency against its SLO, and served and refused requests per second (refusals stacked
    by reason, against the rate limit), plus ready replicas where a service autoscales.
    Lines are means across replications, bands their 95 % intervals; the warm-up,
    incidents and spikes are shaded. One legend for the whole figure names everything."""
    model = results.model
    frame = results.timeseries
    names = services or list(model.services)
    scaled = any(model.services[n].autoscaling is not None for n in names)
    columns = [*PANELS, ("replicas", "replicas")] if scaled else list(PANELS)
    fig, axes = plt.subplots(
        len(names),
        len(columns),
        figsize=(4.2 * len(columns), 2.5 * len(names) + 1.3),
        sharex=True,
        squeeze=False,
        constrained_layout=True,
    )
    for row, name in enumerate(names):
        service, mine = model.services[name], frame[frame.service == name]
        for col, (kind, title) in enumerate(columns):
            ax = axes[row, col]
            ax.set_title(f"{name}: {title}", fontsize="medium", loc="left")
            ax.grid(alpha=0.3)
            if kind == "in_system":
                _line_with_band(ax, mine, "in_system", "mean", "tab:blue")
                _capacity_lines(ax, mine, service)
            elif kind == "latency_p99":
                _line_with_band(ax, mine, "latency_p99", "mean", "tab:blue")
                _slo_lines(ax, model, name)
            elif kind == "rates":
                _rates(ax, mine, service)
            elif "replicas_ready" in mine:
                _line_with_band(ax, mine, "replicas_ready", "mean", "tab:blue")
                desired = mine.groupby("time")["replicas_desired"].mean()
                ax.plot(desired.index, desired.to_numpy(), color="tab:green", linestyle="--",
                        linewidth=1, label="replicas desired")  # fmt: skip
            else:
                ax.set_visible(False)
                continue
            _shade(ax, model)
            ax.set_ylim(bottom=0)
    for ax in axes[-1]:
        ax.set_xlabel("simulated time (s)")
    handles: dict[str, Artist] = {}
    for ax in axes.flat:
        if ax.get_visible():
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                handles.setdefault(label, handle)
    if "mean" in handles:
        mean = {f"mean of {results.replications} replications": handles.pop("mean")}
        handles = mean | handles
    fig.suptitle(f"{model.name}: {results.replications} replications x {model.horizon:g}s")
    fig.legend(
        handles.values(), handles.keys(), loc="outside lower center", ncols=4, fontsize="small"
    )
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
    table: pd.DataFrame, knob: str, metrics: list[str], service: str | Sequence[str] = "all"
) -> Figure:
    """Each metric against the varied knob, one panel per metric: a line per service (or
    call edge) chosen and per value of a second varied path, each with its 95 % interval
    across replications as a band, named in the legend."""
    names = [service] if isinstance(service, str) else list(service)
    others = [c for c in table.columns if c not in SWEEP_COLUMNS and c != knob]
    fig, axes = plt.subplots(
        len(metrics),
        1,
        figsize=(8, 2.8 * len(metrics) + 0.6),
        sharex=True,
        constrained_layout=True,
        squeeze=False,
    )
    styles = ["-", "--", ":", "-."]  # lines that coincide (all = its entry) stay apart
    for ax, metric in zip(axes[:, 0], metrics, strict=True):
        unit = ""
        for index, name in enumerate(names):
            rows = table[(table.service == name) & (table.metric == metric)]
            if rows.empty:
                continue
            unit = rows.unit.iloc[0]
            groups = rows.groupby(others, sort=False) if others else [(None, rows)]
            for key, group in groups:
                group = group.sort_values(knob)
                parts = [name] if len(names) > 1 else []
                if key is not None:
                    parts += [
                        f"{other}={value}"
                        for other, value in zip(others, np.atleast_1d(key), strict=True)
                    ]
                (line,) = ax.plot(
                    group[knob], group["mean"], marker="o", markersize=3,
                    linestyle=styles[index % len(styles)], label=", ".join(parts) or "mean",
                )  # fmt: skip
                ax.fill_between(
                    group[knob], group.ci_low, group.ci_high, color=line.get_color(), alpha=0.2,
                    label=BAND_LABEL,
                )  # fmt: skip
        ax.set_ylabel(f"{metric} ({unit})" if unit else metric)
        ax.grid(alpha=0.3)
        handles: dict[str, Artist] = {}
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
        if handles:
            ax.legend(handles.values(), handles.keys(), fontsize="small")
    axes[0, 0].set_title(f"{', '.join(names)}: sweep of {knob}")
    axes[-1, 0].set_xlabel(knob)
    return fig


def save_sweep(
    table: pd.DataFrame,
    knob: str,
    metrics: list[str],
    path: str | Path,
    service: str | Sequence[str] = "all",
) -> Path:
    """Write :func:`sweep_figure` as a PNG and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = sweep_figure(table, knob, metrics, service)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
