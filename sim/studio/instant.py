"""The instant estimate in the studio: the model as the knobs stand, and a knob's values
before a sweep runs. Milliseconds per model, so it follows every change."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from sim.estimate import NoEstimate, estimate_graph
from sim.measure.display import format_value
from sim.measure.registry import METRICS
from sim.model import Model, ModelError, apply_overrides, from_dict
from sim.report.estimate import ESTIMATE_COLUMNS


def instant_estimate(model: Model) -> tuple[pd.DataFrame | None, str]:
    """One row per service and end to end (busy, queue, wait, latency, p99, refused,
    success, status, why), and the method; None and the reason when there is none."""
    try:
        estimate = estimate_graph(model)
    except NoEstimate as exc:
        return None, f"No instant estimate: {exc}"
    rows = []
    for name, figures in estimate.services.items():
        row: dict[str, object] = {"service": name}
        for metric, label in ESTIMATE_COLUMNS:
            value = figures.metrics.get(metric)
            row[label] = "" if value is None else format_value(value, METRICS[metric].unit)
        row["status"] = figures.status
        row["why"] = "; ".join(figures.reasons)
        rows.append(row)
    return pd.DataFrame(rows), f"Estimated by {estimate.method}"


def estimate_curve(
    model: Model, path: str, values: Sequence[float], metric: str, service: str
) -> pd.DataFrame:
    """The estimate of one figure at each value of the knob ``path`` (NaN where the point
    is not a valid model or has no estimate): what a sweep will show, before it runs."""
    data = model.model_dump(mode="json", exclude_none=True)
    rows = []
    for value in values:
        figure = math.nan
        try:
            point = from_dict(apply_overrides(data, {path: value}))
            figure = estimate_graph(point).services[service].metrics.get(metric, math.nan)
        except (ModelError, NoEstimate, KeyError):
            pass
        rows.append({path: value, metric: figure})
    return pd.DataFrame(rows)
