"""Results of a run: tidy summary, per-replication values and time series, with JSON round trip."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.measure.output import ReplicationOutput
from sim.measure.recorders import QUANTILE_METRICS
from sim.measure.registry import UNITS, check_registered
from sim.measure.stats import (
    CONFIDENCE,
    Histogram,
    merge,
    quantile,
    sectioning_interval,
    t_interval,
)
from sim.model import Model, ModelError, from_dict
from sim.model.base import YamlValue

if TYPE_CHECKING:
    from sim.estimate.result import GraphEstimate

SUMMARY_COLUMNS = ["service", "metric", "mean", "ci_low", "ci_high", "unit"]
SWEEP_COLUMNS = [*SUMMARY_COLUMNS, "estimate", "replications"]
"""A sweep table's columns after its point's labels (the varied paths, or ``variant``)."""
CLASS_COLUMNS = ["service", "class", "metric", "mean", "ci_low", "ci_high", "unit"]
EVENT_COLUMNS = ["replication", "time", "service", "replicas_from", "replicas_to"]


@dataclass
class Results:
    """What ``sim.run`` returns: tables an analyst, the app and CI all read the same way.

    ``summary``: one row per service x metric with the estimate and its 95 % interval (the
    mean over replications with a Student-t interval; percentiles from every replication's
    requests pooled, with a sectioning interval), cut to the metric's range; ``service`` is
    a service name or ``all`` (end to end).
    ``per_replication``: the value each replication measured (``replication, service, metric,
    value``). ``timeseries``: one row per replication x service x time bin. ``by_class``: the
    summary broken down by request class (``service, class, metric, ...``), when the
    workload has classes. ``precision`` (with ``replications: auto``): each target metric's
    relative CI half-width and whether it reached the target. ``scale_events``: every change
    of an autoscaler's desired count (``replication, time, service, replicas_from,
    replicas_to``). ``warnings``: what the reader must know about the intervals (too few
    replications). ``warmup_cut``: the warm-up chosen with ``warmup: auto``. ``engine``:
    which engine ran the replications, ``simpy`` or ``fast`` (the exact fast path).
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
    warnings: list[str] = field(default_factory=list)
    warmup_cut: float | None = None
    engine: str = "simpy"

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
        timeseries = timeseries_table(outputs)
        class_rows = [
            (service, name, metric, value)
            for out in outputs
            for service, classes in out.by_class.items()
            for name, metrics in classes.items()
            for metric, value in metrics.items()
        ]
        pooled = pool(outputs)
        by_class = summarise_classes(
            pd.DataFrame(class_rows, columns=["service", "class", "metric", "value"]), pooled
        )
        events = pd.DataFrame(
            [(out.replication, *event) for out in outputs for event in out.scale_events],
            columns=EVENT_COLUMNS,
        )
        return cls(
            model,
            len(outputs),
            seed,
            summarise(per_rep, pooled),
            per_rep,
            timeseries,
            by_class,
            events,
            warnings=replication_warnings(len(outputs)),
            engine=outputs[0].engine if outputs else "simpy",
        )

    def get(self, metric: str, service: str = "all") -> float:
        """The mean of one metric (end to end unless a service is named)."""
        return float(self.row(metric, service)["mean"])

    def mean(self, metric: str, service: str = "all") -> float:
        """Like :meth:`get`, but NaN where the run has no such metric (a service without a
        breaker has no breaker_open_fraction) instead of a KeyError."""
        try:
            return self.get(metric, service)
        except KeyError:
            return math.nan

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
        return np.asarray(chosen.sort_values("replication")["value"], dtype=float)

    @property
    def estimate(self) -> GraphEstimate | None:
        """The instant estimate of the same model (None where it has none): see
        :mod:`sim.estimate`. Made once, on first use."""
        if not hasattr(self, "_estimate"):
            from sim.estimate import NoEstimate, estimate_graph

            try:
                self._estimate: GraphEstimate | None = estimate_graph(self.model)
            except NoEstimate:
                self._estimate = None
        return self._estimate

    def to_dict(self, estimate: bool = True) -> dict[str, YamlValue]:
        """Plain data: ``model``, ``replications``, ``seed``, ``summary`` and the raw tables,
        and the instant estimate beside the simulation (``estimate``,
        ``estimate_vs_simulation``) where the model has one, unless ``estimate`` is False
        (the simulation's results alone, without computing the estimate)."""
        return {
            "model": self.model.model_dump(mode="json", exclude_none=True),
            "replications": self.replications,
            "seed": self.seed,
            "confidence": CONFIDENCE,
            "engine": self.engine,
            "warnings": list(self.warnings),
            **({"warmup_cut": self.warmup_cut} if self.warmup_cut is not None else {}),
            "summary": _records(self.summary),
            "per_replication": _records(self.per_replication),
            "timeseries": _records(self.timeseries),
            "by_class": _records(self.by_class),
            "scale_events": _records(self.scale_events),
            **({"precision": _records(self.precision)} if self.precision is not None else {}),
            **(self._estimate_dict() if estimate else {}),
        }

    def _estimate_dict(self) -> dict[str, YamlValue]:
        estimate = self.estimate
        if estimate is None:
            return {}
        from sim.estimate.compare import comparison_records

        return {
            "estimate": estimate.to_dict(),  # type: ignore[dict-item]
            "estimate_vs_simulation": comparison_records(estimate, self),  # type: ignore[dict-item]
        }

    def to_json(self, path: str | Path | None = None, estimate: bool = True) -> str:
        """JSON text of :meth:`to_dict`; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(estimate), indent=1, allow_nan=False)
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_json(cls, source: str | Path) -> Results:
        """Read results written by :meth:`to_json` (JSON text or a file path)."""
        text = str(source)
        where = None
        if not text.lstrip().startswith(("{", "[")):
            where = str(source)
            try:
                text = Path(source).read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                raise ModelError(["not UTF-8 text: not a results file"], where) from None
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ModelError([f"not valid JSON: {str(exc)[:120]}"], where) from None
        problem = _results_problem(data)
        if problem:
            raise ModelError(
                [f"not a results file written by 'queuefull run --json': {problem}"], where
            )
        model = from_dict(data["model"], where)
        try:
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
                warnings=[str(w) for w in data.get("warnings", [])],
                warmup_cut=data.get("warmup_cut"),
                engine=str(data.get("engine", "simpy")),
            )
        except (TypeError, ValueError) as exc:
            raise ModelError(
                [f"not a results file written by 'queuefull run --json': {str(exc)[:120]}"], where
            ) from None


Pooled = dict[tuple[str, str], Histogram]
"""(service, class or "") -> every replication's latency histogram merged."""


def bounds(unit: str) -> tuple[float, float]:
    """The range a metric of this unit can take: fractions in [0, 1], the rest >= 0."""
    return (0.0, 1.0) if unit == "fraction" else (0.0, math.inf)


def interval(
    values: np.ndarray, unit: str, pooled: Histogram | None = None, q: float | None = None
) -> tuple[float, float, float]:
    """Estimate and 95 % interval of one metric from its per-replication ``values``.

    Means get the Student-t interval; a percentile with the pooled histogram of its
    requests gets the pooled quantile with a sectioning interval. Either is then cut to
    the metric's range: the truth lies in it, so the cut keeps the coverage.
    """
    if pooled is not None and q is not None:
        mean = quantile(pooled, q / 100)
        low, high = sectioning_interval(mean, values)
    else:
        mean, low, high = t_interval(values)
    lo, hi = bounds(unit)
    if not math.isnan(low):
        low, high = min(max(low, lo), hi), max(min(high, hi), lo)
    return mean, low, high


def _results_problem(data: Any) -> str | None:
    """What keeps ``data`` from being results JSON, or None."""
    if not isinstance(data, dict):
        return f"the top level is a {type(data).__name__}, not a mapping"
    for key, kind in (("model", dict), ("summary", list), ("replications", int), ("seed", int)):
        if not isinstance(data.get(key), kind):
            return f"'{key}' is missing or not a {kind.__name__}"
    for key in ("summary", "per_replication", "by_class", "scale_events", "timeseries"):
        rows = data.get(key, [])
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            return f"'{key}' is not a list of records"
    return None


def timeseries_table(outputs: list[ReplicationOutput]) -> pd.DataFrame:
    """Every replication's series of every service, one row per replication, service and
    time bin (series a service lacks are NaN), built column by column: a frame per
    replication and service, concatenated, cost more than the rest of a short run's summary."""
    pieces = [(out.replication, service, series)
              for out in outputs for service, series in out.timeseries.items()]  # fmt: skip
    if not pieces:
        return pd.DataFrame()
    names = list(dict.fromkeys(name for _, _, series in pieces for name in series))
    sizes = [len(next(iter(series.values()), ())) for _, _, series in pieces]
    columns: dict[str, Any] = {
        "replication": np.repeat([replication for replication, _, _ in pieces], sizes),
        "service": np.repeat(np.array([service for _, service, _ in pieces], object), sizes),
    }
    for name in names:
        columns[name] = np.concatenate(
            [
                np.asarray(series[name]) if name in series else np.full(size, np.nan)
                for (_, _, series), size in zip(pieces, sizes, strict=True)
            ]
        )
    return pd.DataFrame(columns)


def _summarise(
    rows: pd.DataFrame, keys: list[str], columns: list[str], pooled: Pooled | None = None
) -> pd.DataFrame:
    """Estimate and CI per group of ``keys`` x metric: groups in first-seen order, metrics
    in report order."""
    out = []
    pooled = pooled or {}
    metrics = rows["metric"].tolist()
    check_registered(set(metrics))
    # plain lists, not a pandas selection per group and metric: a run has hundreds of those
    labels_of = list(zip(*(rows[key].tolist() for key in keys), strict=True))
    values = rows["value"].to_numpy(dtype=float)
    groups: dict[tuple[str, ...], dict[str, list[int]]] = {}
    for i, (labels, metric) in enumerate(zip(labels_of, metrics, strict=True)):
        groups.setdefault(labels, {}).setdefault(metric, []).append(i)
    for labels, where in groups.items():
        hist_key = (labels[0], labels[1] if len(labels) > 1 else "")
        for metric, unit in UNITS.items():
            if metric in where:
                q = QUANTILE_METRICS.get(metric)
                mean, low, high = interval(values[where[metric]], unit, pooled.get(hist_key), q)
                out.append((*labels, metric, mean, low, high, unit))
    return pd.DataFrame(out, columns=columns)


def summarise(per_rep: pd.DataFrame, pooled: Pooled | None = None) -> pd.DataFrame:
    """Estimate and CI per service x metric, services in model order, metrics in report order."""
    return _summarise(per_rep, ["service"], SUMMARY_COLUMNS, pooled)


def summarise_classes(rows: pd.DataFrame, pooled: Pooled | None = None) -> pd.DataFrame:
    """Estimate and CI per service x class x metric, from per-replication values."""
    return _summarise(rows, ["service", "class"], CLASS_COLUMNS, pooled)


def pool(outputs: list[ReplicationOutput]) -> Pooled:
    """Every replication's latency histograms merged, per service (or edge) and class."""
    parts: dict[tuple[str, str], list[Histogram]] = {}
    for out in outputs:
        for service, per_class in out.histograms.items():
            for cls, hist in per_class.items():
                parts.setdefault((service, cls), []).append(hist)
    return {key: merge(hists) for key, hists in parts.items()}


MIN_REPLICATIONS = 5
"""Fewer replications than this give intervals too wide, and too reliant on normality, to
judge by: results and verdicts say so."""


def replication_warnings(replications: int) -> list[str]:
    """What to tell a reader about intervals from this many replications."""
    if replications < 2:
        return ["one replication: no confidence intervals; run at least 5 (--replications)"]
    if replications < MIN_REPLICATIONS:
        return [
            f"only {replications} replications: their 95 % intervals are wide and lean on "
            f"normality; run at least {MIN_REPLICATIONS} (--replications)"
        ]
    return []


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts; NaN and infinities (JSON has neither) become null."""
    finite = frame.replace([np.inf, -np.inf], np.nan)
    clean = finite.astype(object).where(finite.notna(), None)
    records: list[dict[str, Any]] = clean.to_dict(orient="records")
    return records


def _frame(records: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=columns)
    for column in ("mean", "ci_low", "ci_high", "value"):
        if column in frame:
            frame[column] = frame[column].astype(float)
    return frame
