"""What a user has measured, read into seconds: latency samples, dashboard percentiles, and
Prometheus / OpenMetrics histograms (cumulative bucket counts with their ``le`` bounds)."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from sim.model.durations import parse_duration

UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
"""Units a file of plain numbers may be in."""

MAX_SAMPLES = 10_000_000
"""The most samples read from one file."""

_COLUMNS = ("latency", "duration", "value", "elapsed", "response_time", "time")


class ObservationError(ValueError):
    """Observations that cannot be used, with a message naming what is wrong."""


@dataclass(frozen=True)
class Histogram:
    """A cumulative histogram: ``counts[i]`` observations at or below ``bounds[i]``
    (seconds; the last bound may be infinity, Prometheus's ``+Inf``)."""

    bounds: np.ndarray
    counts: np.ndarray

    @property
    def total(self) -> float:
        """Observations in all."""
        return float(self.counts[-1])

    def quantile(self, q: float) -> float:
        """The ``q`` quantile by linear interpolation inside its bucket, as Prometheus's
        ``histogram_quantile`` does (NaN when it falls in the open last bucket)."""
        target = q * self.total
        index = int(np.searchsorted(self.counts, target, side="left"))
        if index >= len(self.bounds) or math.isinf(self.bounds[index]):
            return math.nan
        low = self.bounds[index - 1] if index > 0 else 0.0
        below = self.counts[index - 1] if index > 0 else 0.0
        inside = self.counts[index] - below
        share = (target - below) / inside if inside > 0 else 1.0
        return float(low + (self.bounds[index] - low) * share)


def read_samples(path: str | Path, unit: str = "s") -> np.ndarray:
    """Latency samples from a file: one number per line, or a CSV whose column is named
    latency, duration, value, elapsed, response_time or time (else its first column).
    Numbers are in ``unit`` (s, ms, us, ns); a value may also carry its own ("250ms")."""
    if unit not in UNITS:
        raise ObservationError(f"--unit {unit}: use one of {', '.join(UNITS)}")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ObservationError(f"{path}: cannot read the samples: {exc}") from None
    return parse_samples(text, unit, str(path))


def column_cells(text: str, names: tuple[str, ...], source: str) -> list[tuple[int, str]]:
    """The cells of one column of CSV text, with their line numbers: the column named by
    one of ``names`` when the first line is a header (it names one, or does not start
    with a number), else the first. Blank lines are skipped."""
    rows = [
        (line, row)
        for line, row in enumerate(csv.reader(io.StringIO(text)), start=1)
        if row and any(cell.strip() for cell in row)
    ]
    if not rows:
        raise ObservationError(f"{source}: empty")
    column = 0
    header = [cell.strip().lower() for cell in rows[0][1]]
    if any(name in names for name in header) or not is_number(rows[0][1][0]):
        column = next((i for i, name in enumerate(header) if name in names), 0)
        rows = rows[1:]
    return [(line, row[column].strip() if column < len(row) else "") for line, row in rows]


def parse_samples(text: str, unit: str = "s", source: str = "samples") -> np.ndarray:
    """Samples from text (see :func:`read_samples`), in seconds."""
    values = []
    for line, cell in column_cells(text, _COLUMNS, source)[:MAX_SAMPLES]:
        try:
            value = float(cell) * UNITS[unit] if is_number(cell) else parse_duration(cell)
        except ValueError:
            raise ObservationError(
                f"{source}, line {line}: {cell[:30]!r} is not a number"
            ) from None
        values.append(value)
    samples = np.asarray(values, dtype=float)
    if samples.size < 2:
        raise ObservationError(f"{source}: at least two samples are needed")
    if not np.all(np.isfinite(samples)) or np.any(samples < 0):
        raise ObservationError(f"{source}: latencies must be finite and >= 0")
    return samples


def is_number(cell: str) -> bool:
    """Whether ``cell`` reads as a plain number."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


_QUANTILE = re.compile(r"^p(\d+(?:\.\d+)?)$")


def parse_percentiles(given: dict[str, object]) -> dict[float, float]:
    """``{"p50": "120ms", "p99": 0.9, "p999": "2s"}`` -> ``{0.5: 0.12, 0.99: 0.9, 0.999: 2.0}``
    (p999 is the 99.9th percentile, as dashboards name it)."""
    out: dict[float, float] = {}
    for name, value in given.items():
        match = _QUANTILE.match(name.strip().lower())
        if not match:
            raise ObservationError(f"{name}: name a percentile as p50, p90, p99 or p999")
        digits = match.group(1)
        q = float(digits) / 100 if "." in digits or len(digits) <= 2 else float("0." + digits)
        q = round(q, 12)  # p99.9 is 0.999, not 0.9990000000000001
        if not 0 < q < 1:
            raise ObservationError(f"{name}: a percentile is between p0 and p100")
        try:
            out[q] = parse_duration(value)
        except ValueError as exc:
            raise ObservationError(f"{name}: {exc}") from None
    if len(out) < 2:
        raise ObservationError("give at least two percentiles, e.g. p50 and p99")
    ordered = [out[q] for q in sorted(out)]
    if any(b <= a for a, b in pairwise(ordered)) or ordered[0] <= 0:
        raise ObservationError("percentiles must be > 0 and grow with the percentile")
    return dict(sorted(out.items()))


_BUCKET = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)_bucket\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)"
    r"(?:\s+(?P<time>\S+))?"
)
_LE = re.compile(r'le="([^"]+)"')


def parse_prometheus(text: str, metric: str | None = None, unit: str = "s") -> Histogram:
    """The cumulative buckets of one histogram in Prometheus or OpenMetrics text: its
    ``NAME_bucket{...,le="0.1"} COUNT [TIME]`` lines, the latest sample of each series
    (an export over time holds many), summed over any other labels. ``metric`` picks the
    histogram when the text holds several; ``unit`` is its bounds' unit."""
    if unit not in UNITS:
        raise ObservationError(f"--unit {unit}: use one of {', '.join(UNITS)}")
    latest: dict[tuple[str, str, float], tuple[float, float]] = {}  # series -> (time, value)
    for line in text.splitlines():
        match = _BUCKET.match(line.strip())
        if not match:
            continue
        le = _LE.search(match.group("labels"))
        if le is None:
            continue
        bound = math.inf if le.group(1) in ("+Inf", "Inf", "+inf") else float(le.group(1))
        others = _LE.sub("", match.group("labels"))
        stamp = float(match.group("time") or 0.0)
        key = (match.group("name"), others, bound)
        if key not in latest or stamp >= latest[key][0]:
            latest[key] = (stamp, float(match.group("value")))
    by_name: dict[str, dict[float, float]] = {}
    for (name, _, bound), (_, value) in latest.items():  # the latest sample of each series
        buckets = by_name.setdefault(name, {})
        buckets[bound] = buckets.get(bound, 0.0) + value
    if not by_name:
        raise ObservationError('no histogram buckets (lines like NAME_bucket{le="0.1"} 42)')
    if metric is None:
        if len(by_name) > 1:
            raise ObservationError(f"several histograms: pick one of {', '.join(by_name)}")
        metric = next(iter(by_name))
    if metric not in by_name:
        raise ObservationError(f"{metric}: not in the text; histograms: {', '.join(by_name)}")
    bounds = np.array(sorted(by_name[metric]))
    counts = np.array([by_name[metric][b] for b in bounds])
    if np.any(np.diff(counts) < 0):
        raise ObservationError(f"{metric}: bucket counts must not fall as le grows")
    if counts[-1] <= 0:
        raise ObservationError(f"{metric}: the histogram is empty")
    return Histogram(bounds * UNITS[unit], counts)
