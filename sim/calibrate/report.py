"""A fit as people read it: observed against fitted percentiles, the choice and why, the
YAML to paste into a model, and a plot of the fit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sim.calibrate.fit import Fit
from sim.model.durations import format_duration

DURATION_KEYS = {"mean", "p50", "p99", "value", "low", "high"}
"""Spec fields that are durations (written with their unit in the snippet)."""


def _percentile_name(q: float) -> str:
    return "p" + f"{q * 100:g}"


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1e3:.4g}ms"
    return f"{seconds:.4g}s"


def spec_yaml(spec: dict[str, Any]) -> str:
    """A distribution spec in YAML flow style, durations with their unit:
    ``{distribution: lognormal, p50: 120ms, p99: 900ms}``."""
    parts = []
    for key, value in spec.items():
        if key == "components":
            value = "[" + ", ".join(spec_yaml(c) for c in value) + "]"
        elif key == "samples":
            value = "[" + ", ".join(f"{v:.6g}" for v in value) + "]"
        elif key in DURATION_KEYS:
            value = _duration(float(value))
        elif isinstance(value, float):
            value = f"{value:.4g}"
        parts.append(f"{key}: {value}")
    return "{" + ", ".join(parts) + "}"


def snippet(spec: dict[str, Any], field: str = "services.api.work") -> str:
    """The YAML to paste: ``spec`` under ``field``'s dotted path."""
    keys = field.split(".")
    lines = [f"{'  ' * depth}{key}:" for depth, key in enumerate(keys[:-1])]
    lines.append(f"{'  ' * (len(keys) - 1)}{keys[-1]}: {spec_yaml(spec)}")
    return "\n".join(lines)


def render_fit(fit: Fit, field: str = "services.api.work") -> str:
    """The terminal report of a fit: observed and fitted percentiles, and each
    candidate's worst tail error (the criterion)."""
    qs = list(fit.observed)
    width = max(10, *(len(c.family) for c in fit.candidates))
    head = f"{'':<{width}}" + "".join(f"{_percentile_name(q):>10}" for q in qs)
    rows = [f"fitted to {fit.source}", "", head + "   tail error"]
    observed = "".join(f"{format_duration(v):>10}" for v in fit.observed.values())
    rows.append(f"{'observed':<{width}}{observed}")
    for candidate in fit.candidates:
        fitted = candidate.fitted.quantile(np.array(qs))
        cells = "".join(f"{format_duration(float(v)):>10}" for v in fitted)
        mark = "  <- chosen" if candidate is fit.chosen else ""
        rows.append(f"{candidate.family:<{width}}{cells}   {candidate.worst:>9.1%}{mark}")
    rows += [
        "",
        "tail error: the worst relative error of the share of requests slower than each",
        "observed percentile, as the fit predicts it",
        f"chosen: {fit.chosen.family}: {fit.reason}",
    ]
    if fit.ks is not None:
        rows.append(f"Kolmogorov-Smirnov distance to the samples: {fit.ks:.3f}")
    rows += ["", "paste into the model:", snippet(fit.spec, field)]
    return "\n".join(rows)


def plot_fit(fit: Fit, path: str | Path) -> Path:
    """Observed and fitted distribution functions on a log time axis, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    if fit.samples is not None:
        x = np.sort(fit.samples)
        x = x[x > 0]
        ax.step(
            x,
            np.arange(1, x.size + 1) / x.size,
            where="post",
            color="black",
            lw=1.5,
            label="samples",
        )
        grid = np.geomspace(x[0], x[-1], 300)
    elif fit.histogram is not None:
        bounds, counts = fit.histogram.bounds, fit.histogram.counts
        finite = np.isfinite(bounds)
        ax.plot(bounds[finite], counts[finite] / fit.histogram.total, "ks", label="buckets (le)")
        grid = np.geomspace(bounds[finite][0] / 4, bounds[finite][-1] * 2, 300)
    else:
        values = np.array(list(fit.observed.values()))
        ax.plot(values, list(fit.observed), "ks", label="percentiles given")
        grid = np.geomspace(values[0] / 4, values[-1] * 2, 300)
    for candidate in fit.candidates:
        style = "-" if candidate is fit.chosen else "--"
        ax.plot(grid, candidate.fitted.cdf(grid), style, lw=1.3, label=candidate.family)
    ax.set_xscale("log")
    ax.set_xlabel("seconds")
    ax.set_ylabel("share at or below")
    ax.set_title(f"fit of {fit.source}: {fit.chosen.family} chosen")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
