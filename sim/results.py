"""Results of a run: tidy summary, per-replication values and time series, with JSON round trip."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.engine.replication import ReplicationOutput
from sim.model import Model, from_dict
from sim.stats import CONFIDENCE, t_interval
from sim.units import UNITS

SUMMARY_COLUMNS = ["service", "metric", "mean", "ci_low", "ci_high", "unit"]
CLASS_COLUMNS = ["service", "class", "metric", "mean", "ci_low", "ci_high", "unit"]
EVENT_COLUMNS = ["replication", "time", "service", "replicas_from", "replicas_to"]


@dataclass
class Results:
    """What ``sim.run`` returns: tables an analyst, the app and CI all read the same way.

    ``summary``: one row per service x metric with the mean over replications and its 95 %
    Student-t interval; ``service`` is a service name or ``all`` (end to end).
    ``per_replication``: the value each replication measured (``replication, service, metric,
    value``). ``timeseries``: one row per replication x service x time bin. ``by_class``: the
    summary broken down by request class (``service, class, metric, ...``), when the
    workload has classes. ``precision`` (with ``replications: auto``): each target metric's
    relative CI half-width and whether it reached the target. ``scale_events``: every change
    of an autoscaler's desired count (``replication, time, service, replicas_from,
    replicas_to``).
    """

    model: Model
    replications: int
    seed: int
    summary: pd.DataFrame
    per_replication: pd.DataFrame
    timeseries: pd.DataFrame = field(repr=False)
    by_class: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CLASS_COLUMNS))
    scale_events: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=EVENT_COLUMNS), repr=False
    )
    precision: pd.DataFrame | None = field(default=None, repr=False)

    @classmethod
    def from_outputs(cls, model: Model, seed: int, outputs: list[ReplicationOutput]) -> Results:
        """Summarise replication outputs into tables."""
        rows = [
            (out.replication, service, metric, value)
            for out in outputs
            for service, metrics in out.metrics.items()
            for metric, value in metrics.items()
        ]
        per_rep = pd.DataFrame(rows, columns=["replication", "service", "metric", "value"])
        frames = []
        for out in outputs:
            for service, series in out.timeseries.items():
                frame = pd.DataFrame(series)
                frame.insert(0, "service", service)
                frame.insert(0, "replication", out.replication)
                frames.append(frame)
        timeseries = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        class_rows = [
            (service, name, metric, value)
            for out in outputs
            for service, classes in out.by_class.items()
            for name, metrics in classes.items()
            for metric, value in metrics.items()
        ]
        by_class = summarise_classes(
            pd.DataFrame(class_rows, columns=["service", "class", "metric", "value"])
        )
        events = pd.DataFrame(
            [(out.replication, *event) for out in outputs for event in out.scale_events],
            columns=EVENT_COLUMNS,
        )
        return cls(
            model, len(outputs), seed, summarise(per_rep), per_rep, timeseries, by_class, events
        )

    def get(self, metric: str, service: str = "all") -> float:
        """The mean of one metric (end to end unless a service is named)."""
        return float(self.row(metric, service)["mean"])

    def row(self, metric: str, service: str = "all") -> pd.Series:
        """The summary row of one metric: mean, ci_low, ci_high, unit."""
        match = self.summary[(self.summary.service == service) & (self.summary.metric == metric)]
        if match.empty:
            raise KeyError(f"no metric {metric!r} for service {service!r}")
        return match.iloc[0]

    def values(self, metric: str, service: str = "all") -> np.ndarray:
        """The per-replication values of one metric, in replication order."""
        frame = self.per_replication
        chosen = frame[(frame.service == service) & (frame.metric == metric)]
        return chosen.sort_values("replication")["value"].to_numpy()

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``model``, ``replications``, ``seed``, ``summary`` and the raw tables."""
        return {
            "model": self.model.model_dump(mode="json", exclude_none=True),
            "replications": self.replications,
            "seed": self.seed,
            "confidence": CONFIDENCE,
            "summary": _records(self.summary),
            "per_replication": _records(self.per_replication),
            "timeseries": _records(self.timeseries),
            "by_class": _records(self.by_class),
            "scale_events": _records(self.scale_events),
            **({"precision": _records(self.precision)} if self.precision is not None else {}),
        }

    def to_json(self, path: str | Path | None = None) -> str:
        """JSON text of :meth:`to_dict`; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=1, allow_nan=False)
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_json(cls, source: str | Path) -> Results:
        """Read results written by :meth:`to_json` (JSON text or a file path)."""
        text = str(source)
        if not text.lstrip().startswith("{"):
            text = Path(source).read_text()
        data = json.loads(text)
        model = from_dict(data["model"])
        return cls(
            model=model,
            replications=int(data["replications"]),
            seed=int(data["seed"]),
            summary=_frame(data["summary"], SUMMARY_COLUMNS),
            per_replication=_frame(
                data.get("per_replication", []), ["replication", "service", "metric", "value"]
            ),
            timeseries=pd.DataFrame.from_records(data.get("timeseries", [])),
            by_class=_frame(data.get("by_class", []), CLASS_COLUMNS),
            scale_events=_frame(data.get("scale_events", []), EVENT_COLUMNS),
        )


def _summarise(rows: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """Mean and CI per group of ``keys`` x metric: groups in first-seen order, metrics in
    report order."""
    out = []
    for group_key, group in rows.groupby(keys, sort=False):
        labels = group_key if isinstance(group_key, tuple) else (group_key,)
        for metric, unit in UNITS.items():
            values = group.loc[group.metric == metric, "value"].to_numpy()
            if values.size:
                mean, low, high = t_interval(values)
                out.append((*labels, metric, mean, low, high, unit))
    return pd.DataFrame(out, columns=columns)


def summarise(per_rep: pd.DataFrame) -> pd.DataFrame:
    """Mean and CI per service x metric, services in model order, metrics in report order."""
    return _summarise(per_rep, ["service"], SUMMARY_COLUMNS)


def summarise_classes(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and CI per service x class x metric, from per-replication values."""
    return _summarise(rows, ["service", "class"], CLASS_COLUMNS)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts; NaN and infinities (JSON has neither) become null."""
    finite = frame.replace([np.inf, -np.inf], np.nan)
    clean = finite.astype(object).where(finite.notna(), None)
    return clean.to_dict(orient="records")


def _frame(records: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=columns)
    for column in ("mean", "ci_low", "ci_high", "value"):
        if column in frame:
            frame[column] = frame[column].astype(float)
    return frame
