"""Does a calibrated model reproduce production? Simulated figures beside the ones measured
for the same period and load, each judged against the simulation's interval.

Measurements come as ``{service: {metric: value}}`` (``all`` for end to end), with the
summary metrics' names (``throughput``, ``latency_p50``, ``latency_p99``, ``error_rate``,
``utilization``...); durations may carry units ("380ms"). A measured figure agrees when it
lies inside the simulated 95 % interval widened by TOLERANCE of itself (production numbers
are noisy too, and a dashboard's percentiles are approximations); else the model is
``high`` or ``low`` there, which names what to recalibrate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sim.measure.display import format_value
from sim.measure.registry import METRICS
from sim.measure.results import Results
from sim.model.durations import parse_duration
from sim.model.yamlio import YamlError, parse_yaml

TOLERANCE = 0.10
"""Relative slack around the simulated interval (and 0.001 absolute for fractions)."""


class MeasurementError(ValueError):
    """Measurements that cannot be compared, with the key at fault."""


@dataclass(frozen=True)
class Agreement:
    """One measured figure beside the simulated one."""

    service: str
    metric: str
    measured: float
    mean: float
    low: float
    high: float
    verdict: str  # agrees, model high, model low, not simulated

    @property
    def agrees(self) -> bool:
        """Whether the model reproduces this figure."""
        return self.verdict == "agrees"


def read_measurements(path: str | Path) -> dict[str, dict[str, float]]:
    """Measurements from a YAML file (``{service: {metric: value}}``), or a k6 end-of-test
    summary (JSON with ``metrics``), read as end-to-end figures."""
    try:
        data = parse_yaml(Path(path).read_text(encoding="utf-8"))  # JSON is YAML too
    except (OSError, UnicodeDecodeError, YamlError) as exc:
        raise MeasurementError(f"{path}: cannot read the measurements: {exc}") from None
    if not isinstance(data, dict):
        raise MeasurementError(f"{path}: give a mapping of service -> metric -> value")
    if isinstance(data.get("metrics"), dict):
        from sim.calibrate.k6 import ExportError, measurements_from_k6

        try:
            return measurements_from_k6(data)
        except ExportError as exc:
            raise MeasurementError(f"{path}: {exc}") from None
    return parse_measurements(data)


def parse_measurements(data: Mapping[str, object]) -> dict[str, dict[str, float]]:
    """Validate ``{service: {metric: value}}``; durations may carry units."""
    out: dict[str, dict[str, float]] = {}
    for service, figures in data.items():
        if not isinstance(figures, Mapping):
            raise MeasurementError(f"{service}: give metric: value pairs")
        for metric, value in figures.items():
            if metric not in METRICS:
                raise MeasurementError(f"{service}.{metric}: not a summary metric")
            try:
                number = parse_duration(value) if METRICS[metric].unit == "s" else float(value)
            except (TypeError, ValueError) as exc:
                raise MeasurementError(f"{service}.{metric}: {exc}") from None
            out.setdefault(str(service), {})[str(metric)] = number
    if not out:
        raise MeasurementError("no measurements")
    return out


def agreement(
    results: Results, measured: Mapping[str, Mapping[str, float]], tolerance: float = TOLERANCE
) -> list[Agreement]:
    """Each measured figure beside the simulated one, with its verdict."""
    rows = []
    for service, figures in measured.items():
        for metric, value in figures.items():
            try:
                row = results.row(metric, service)
                mean, low, high = float(row["mean"]), float(row["ci_low"]), float(row["ci_high"])
            except KeyError:
                rows.append(Agreement(service, metric, value, *(math.nan,) * 3, "not simulated"))
                continue
            low, high = (mean, mean) if math.isnan(low) else (low, high)
            slack = tolerance * abs(value)
            if METRICS[metric].unit == "fraction":
                slack = max(slack, 0.001)
            if value < low - slack:
                verdict = "model high"
            elif value > high + slack:
                verdict = "model low"
            else:
                verdict = "agrees"
            rows.append(Agreement(service, metric, value, mean, low, high, verdict))
    return rows


def render_agreement(rows: list[Agreement]) -> str:
    """The table: measured, simulated with its interval, and the verdict."""
    lines = [f"{'measured against simulated':<34}{'measured':>12}{'simulated':>12}  95% CI"]
    for r in rows:
        unit = METRICS[r.metric].unit
        name = f"{r.service}.{r.metric}"
        interval = f"[{format_value(r.low, unit)}, {format_value(r.high, unit)}]"
        lines.append(
            f"{name:<34}{format_value(r.measured, unit):>12}{format_value(r.mean, unit):>12}"
            f"  {interval:<22}{r.verdict}"
        )
    bad = [r for r in rows if not r.agrees]
    lines.append(
        "every measured figure is reproduced"
        if not bad
        else f"{len(bad)} of {len(rows)} disagree: recalibrate what feeds "
        + ", ".join(f"{r.service}.{r.metric}" for r in bad)
    )
    return "\n".join(lines)
