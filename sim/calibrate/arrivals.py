"""Arrivals from logs: from request timestamps, the rate over time, its burstiness, and the
arrival process to put in a model (Poisson, a rate profile, or on/off bursts).

The rule, in order:

1. **Bursts.** The index of dispersion of counts, IDC(T) = Var N(T) / E N(T) over windows
   of T seconds, is 1 for Poisson arrivals at any T. When it exceeds BURSTY at windows of
   a few seconds, the arrivals come in bursts: an on/off Markov-modulated Poisson process
   (``process: mmpp``) is fitted to the IDC curve, whose closed form for on/off arrivals is
   ``1 + (I - 1) (1 - (1 - exp(-g T)) / (g T))`` with ``I - 1 = 2 r (b - 1) / g``
   (mean rate r, burst factor b, g the sum of the switching rates).
2. **A changing rate.** Otherwise, when the counts per ``bin`` (a minute) vary more than
   Poisson noise allows (a chi-square test at 0.1 %), the rate changes over time: a rate
   profile of steps (``process: profile``), one where a bin's rate leaves its level by
   more than four Poisson standard deviations.
3. **Poisson** at the mean rate otherwise.

The trace itself stays usable as it is: ``arrivals: {process: trace, file: ...}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize, stats

from sim.calibrate.observed import UNITS, ObservationError, column_cells, is_number

BURSTY = 1.3
"""IDC at a few seconds above which arrivals are called bursty."""

MAX_STEPS = 50
"""A profile with more steps than this is better replayed as a trace."""

_COLUMNS = ("time", "timestamp", "ts", "date", "datetime", "@timestamp")


@dataclass
class ArrivalFit:
    """What the timestamps show and the process chosen for them."""

    count: int
    span: float
    mean_rate: float
    per_bin: np.ndarray  # requests per second in each bin
    bin_width: float
    idc: dict[float, float]  # window (s) -> index of dispersion of counts
    spec: dict[str, Any]
    reason: str
    notes: list[str] = field(default_factory=list)


def parse_timestamps(text: str, unit: str = "s", source: str = "timestamps") -> np.ndarray:
    """Request times from text: one per line or a CSV column named time, timestamp, ts,
    date or datetime (else the first); numbers in ``unit`` or ISO 8601 date-times. Sorted,
    in seconds from the first."""
    if unit not in UNITS:
        raise ObservationError(f"--unit {unit}: use one of {', '.join(UNITS)}")
    cells = [cell for _, cell in column_cells(text, _COLUMNS, source)]
    try:
        if all(is_number(c) for c in cells):
            times = np.array([float(c) for c in cells]) * UNITS[unit]
        else:
            stamps = np.array([np.datetime64(c.replace("Z", "")) for c in cells])
            times = (stamps - stamps.min()) / np.timedelta64(1, "us") * 1e-6
    except ValueError as exc:
        raise ObservationError(f"{source}: not a number or an ISO 8601 time: {exc}") from None
    if times.size < 10:
        raise ObservationError(f"{source}: at least ten timestamps are needed")
    times = np.sort(times.astype(float))
    return np.asarray(times - times[0])


def read_timestamps(path: str | Path, unit: str = "s") -> np.ndarray:
    """Request times from a file (see :func:`parse_timestamps`)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ObservationError(f"{path}: cannot read the timestamps: {exc}") from None
    return parse_timestamps(text, unit, str(path))


MIN_WINDOWS = 50
"""An index of dispersion is read from at least this many windows."""


def _window_counts(times: np.ndarray, window: float) -> np.ndarray:
    windows = int(times[-1] // window)
    return np.bincount((times // window).astype(np.int64), minlength=windows)[:windows]


def dispersion(times: np.ndarray, window: float) -> float:
    """IDC: variance over mean of the counts in consecutive windows of ``window`` seconds."""
    counts = _window_counts(times, window)
    if counts.size < MIN_WINDOWS or counts.mean() <= 0:
        return math.nan
    return float(counts.var(ddof=1) / counts.mean())


def local_dispersion(times: np.ndarray, window: float, level: float) -> float:
    """IDC against the local rate: each window's count compared with the mean of the
    ``level``-second bin it falls in, so that a rate changing from bin to bin (a profile)
    does not pass for bursts while bursts shorter than a bin still show."""
    counts = _window_counts(times, window).astype(float)
    per_bin = max(2, int(level // window))
    bins = counts.size // per_bin
    if bins < 1 or bins * per_bin < MIN_WINDOWS:
        return math.nan
    grid = counts[: bins * per_bin].reshape(bins, per_bin)
    local = grid.mean(axis=1, keepdims=True)
    spread = ((grid - local) ** 2).sum() / (bins * (per_bin - 1))
    mean = grid.mean()
    return float(spread / mean) if mean > 0 else math.nan


def fit_arrivals(times: np.ndarray, bin_width: float = 60.0) -> ArrivalFit:
    """Describe ``times`` and choose a process for them (see the module's rule)."""
    times = np.sort(np.asarray(times, dtype=float))
    span = float(times[-1] - times[0])
    if span <= 0:
        raise ObservationError("the timestamps span no time")
    times = times - times[0]
    rate = (times.size - 1) / span
    bins = max(1, int(span // bin_width))
    counts = np.bincount((times // bin_width).astype(np.int64), minlength=bins)[:bins]
    per_bin = counts / bin_width
    short = max(1.0, 20 / rate)
    windows = [w for w in short * np.geomspace(1, 300, 16) if span / w >= MIN_WINDOWS]
    idc = {float(w): dispersion(times, w) for w in windows}
    local = local_dispersion(times, short, bin_width)
    notes: list[str] = []
    changing = bins >= 3 and _varies(counts)
    if math.isfinite(local) and local > BURSTY:
        spec, reason = _bursts(idc, rate, notes)
        if changing:
            notes.append(f"the rate also changes from one {bin_width:g} s bin to the next")
    elif changing:
        spec, reason = _profile(counts, bin_width, notes)
    else:
        spec = {"process": "poisson", "rate": _round(rate)}
        reason = "counts vary as Poisson noise does, at every window and from bin to bin"
    return ArrivalFit(times.size, span, rate, per_bin, bin_width, idc, spec, reason, notes)


def _varies(counts: np.ndarray) -> bool:
    """Chi-square test of one rate for every bin (0.1 %)."""
    mean = counts.mean()
    if mean <= 0:
        return False
    statistic = float(((counts - mean) ** 2).sum() / mean)
    return bool(stats.chi2.sf(statistic, counts.size - 1) < 1e-3)


def _bursts(idc: dict[float, float], rate: float, notes: list[str]) -> tuple[dict[str, Any], str]:
    t = np.array(list(idc))
    y = np.array(list(idc.values()))
    keep = np.isfinite(y)
    t, y = t[keep], y[keep]
    # a variance read from n windows is known to about sqrt(2 / n) of itself
    span = max(idc) * MIN_WINDOWS
    sigma = y * np.sqrt(2 / np.maximum(span / t - 1, 1))

    def curve(x: np.ndarray, excess: float, g: float) -> np.ndarray:
        gx = g * x
        return 1 + excess * (1 - (1 - np.exp(-gx)) / gx)

    start = (max(y.max() - 1, 0.1), 1 / t[len(t) // 2])
    try:
        (excess, g), _ = optimize.curve_fit(
            curve,
            t,
            y,
            p0=start,
            sigma=sigma,
            bounds=([0, 1e-6], [np.inf, np.inf]),
            maxfev=20_000,
        )
    except RuntimeError:
        excess, g = start
    factor = 1 + g * excess / (2 * rate)
    duration = factor / (g * (factor - 1))
    if factor <= 1.05:
        notes.append("the bursts are too weak to fit: Poisson at the mean rate instead")
        return {"process": "poisson", "rate": _round(rate)}, "IDC near 1 once fitted"
    spec = {
        "process": "mmpp",
        "rate": _round(rate),
        "burst_factor": _round(factor),
        "burst_duration": _round(duration),
    }
    first = next(iter(idc))
    reason = (
        f"bursty: the index of dispersion is {idc[first]:.3g} at {first:.3g} s windows (1 for "
        f"Poisson), tending to {1 + excess:.3g}: on/off bursts at {factor:.3g}x the mean "
        f"rate lasting {duration:.3g} s on average"
    )
    return spec, reason


def _profile(counts: np.ndarray, width: float, notes: list[str]) -> tuple[dict[str, Any], str]:
    """Steps where a bin's count leaves the current level by more than 4 Poisson sigma."""
    levels: list[tuple[int, float]] = [(0, float(counts[0]))]
    total, n = float(counts[0]), 1
    for index in range(1, counts.size):
        level = total / n
        if abs(counts[index] - level) > 4 * math.sqrt(max(level, 1.0)):
            levels.append((index, float(counts[index])))
            total, n = float(counts[index]), 1
        else:
            total, n = total + counts[index], n + 1
            levels[-1] = (levels[-1][0], total / n)
    if len(levels) - 1 > MAX_STEPS:
        notes.append(
            f"{len(levels) - 1} steps: replay the timestamps instead "
            "(arrivals: {process: trace, file: ...})"
        )
    changes = [
        {"kind": "step", "at": _round(start * width), "rate": _round(level / width)}
        for start, level in levels[1 : MAX_STEPS + 1]
    ]
    spec = {"process": "profile", "rate": _round(levels[0][1] / width), "changes": changes}
    reason = (
        f"the rate changes: counts per {width:g} s vary beyond Poisson noise (chi-square, 0.1 %) "
        f"while short windows stay Poisson; {len(changes)} step(s)"
    )
    return spec, reason


def _round(value: float) -> float:
    return float(f"{value:.4g}")


def arrivals_yaml(spec: dict[str, Any]) -> str:
    """``workload.arrivals`` as YAML to paste."""
    lines = ["workload:", "  arrivals:"]
    for key, value in spec.items():
        if key == "changes":
            lines.append("    changes:")
            lines += [
                f"      - {{kind: step, at: {c['at']:g}, rate: {c['rate']:g}}}" for c in value
            ]
        else:
            lines.append(f"    {key}: {value if isinstance(value, str) else f'{value:g}'}")
    return "\n".join(lines)


def render_arrivals(fit: ArrivalFit, source: str) -> str:
    """The terminal report of an arrivals fit."""
    rows = [
        f"{fit.count:,} requests over {fit.span:,.0f} s in {source}: {fit.mean_rate:.4g} req/s",
        f"per {fit.bin_width:g} s: {fit.per_bin.min():.4g} to {fit.per_bin.max():.4g} req/s",
        "index of dispersion of counts (1 for Poisson): "
        + ", ".join(f"{v:.2f} at {w:.3g} s" for w, v in list(fit.idc.items())[::3]),
        f"chosen: {fit.spec['process']}: {fit.reason}",
        *[f"note: {n}" for n in fit.notes],
        "",
        "paste into the model:",
        arrivals_yaml(fit.spec),
    ]
    return "\n".join(rows)
