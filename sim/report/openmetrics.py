"""What the simulated system would show on a dashboard: one replication's time series as
OpenMetrics text with timestamps, under the names users already chart.

- ``http_server_request_duration_seconds``: OpenTelemetry's ``http.server.request.duration``
  histogram per service (answered requests; buckets default to OpenTelemetry's advice),
  and ``http_client_request_duration_seconds`` for the clients' requests end to end;
- ``http_server_active_requests``: OpenTelemetry's ``http.server.active_requests`` (requests
  in the service, waiting or served, averaged over each bin);
- ``queuefull_requests_refused_total{reason}`` and ``queuefull_requests_failed_total``;
- ``queuefull_queue_depth``, ``queuefull_workers_busy`` and ``queuefull_replicas`` gauges;
- ``db_client_connection_count{state}`` and ``db_client_connection_pending_requests``:
  OpenTelemetry's database client connection-pool metrics, per pool (caller->callee);
- ``queuefull_circuit_breaker_open_ratio{callee}``: the share of each bin the caller's
  breakers towards a callee were open.

One sample per series per time bin, stamped at the bin's end, from ``start`` (Unix
seconds; 2026-01-01T00:00:00Z by default). Histograms and counters are cumulative from
the start of the run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from sim.engine.replication import breaker_series, build, simulate
from sim.engine.streams import Streams
from sim.measure.output import END_TO_END
from sim.measure.recorders import Recorder
from sim.model import Model

OTEL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
"""OpenTelemetry's advised bucket bounds for http.server.request.duration (seconds)."""

START = 1_767_225_600.0
"""2026-01-01T00:00:00Z: where simulated time 0 is put, unless told otherwise."""


class ExportTooLong(ValueError):
    """A run too long to export request by request (its records were folded)."""


def openmetrics(
    model: Model,
    seed: int | None = None,
    replication: int = 0,
    buckets: tuple[float, ...] = OTEL_BUCKETS,
    start: float = START,
) -> str:
    """OpenMetrics text of one replication of ``model`` (with the model's seed unless
    ``seed`` is given)."""
    if not isinstance(model.warmup, float | int):
        raise ValueError("warmup: auto must be resolved first")
    system = build(model, Streams(model.seed if seed is None else seed, replication))
    simulate(system)
    width, horizon = model.bin_width, model.horizon
    recorders = system.recorders
    nbins = recorders[END_TO_END].nbins
    ends = np.minimum((np.arange(nbins) + 1) * width, horizon) + start
    bounds = tuple(sorted(set(buckets)))
    lines: list[str] = []
    services = [name for name in recorders if name in model.services]

    def family(name: str, kind: str, text: str, unit: str = "") -> None:
        lines.append(f"# TYPE {name} {kind}")
        if unit:
            lines.append(f"# UNIT {name} {unit}")
        lines.append(f"# HELP {name} {text}")

    family("http_server_request_duration_seconds", "histogram",
           "Duration of answered requests at each service.", "seconds")  # fmt: skip
    for name in services:
        lines += _histogram("http_server_request_duration_seconds", f'service="{name}"',
                            recorders[name], bounds, ends, width)  # fmt: skip
    family("http_client_request_duration_seconds", "histogram",
           "Duration of the clients' answered requests, end to end.", "seconds")  # fmt: skip
    lines += _histogram("http_client_request_duration_seconds", "", recorders[END_TO_END],
                        bounds, ends, width)  # fmt: skip
    series = {name: recorders[name].timeseries() for name in services}
    gauges = (
        ("http_server_active_requests", "in_system", "Requests in the service, bin mean."),
        ("queuefull_queue_depth", "queue_depth", "Requests waiting for a worker, bin mean."),
        ("queuefull_workers_busy", "busy", "Workers serving a request, bin mean."),
        ("queuefull_replicas", "serving", "Replicas with workers, bin mean."),
    )
    for metric, key, text in gauges:
        family(metric, "gauge", text)
        for name in services:
            values = series[name][key] if key in series[name] else _gauge(recorders[name], key)
            lines += _samples(metric, f'service="{name}"', values, ends)
    family("queuefull_requests_refused", "counter", "Requests refused at once, by reason.")
    for name in services:
        for key, rate in series[name].items():
            if key.startswith("refused_"):
                label = f'service="{name}",reason="{key.removeprefix("refused_")}"'
                counts = np.cumsum(np.nan_to_num(rate) * _durations(ends, start, width))
                lines += _samples("queuefull_requests_refused_total", label, counts, ends)
    family("queuefull_requests_failed", "counter", "Requests that timed out or failed.")
    for name in services:
        counts = np.cumsum(np.nan_to_num(series[name]["failures"]) * _durations(ends, start, width))
        lines += _samples("queuefull_requests_failed_total", f'service="{name}"', counts, ends)
    family("db_client_connection_count", "gauge",
           "Connections of a service's pool to a callee, by state, bin mean.")  # fmt: skip
    pending_lines = []
    for name in services:
        recorder, spec = recorders[name], model.services[name]
        for callee, limits in spec.connection_pools.items():
            pool = f'service="{name}",db_client_connection_pool_name="{name}->{callee}"'
            used = _gauge(recorder, f"pool_used:{callee}")
            size = limits.max_connections * _gauge(recorder, "serving")
            for state, values in (("used", used), ("idle", size - used)):
                labels = f'{pool},db_client_connection_state="{state}"'
                lines += _samples("db_client_connection_count", labels, values, ends)
            pending = _gauge(recorder, f"pool_pending:{callee}")
            pending_lines += _samples("db_client_connection_pending_requests", pool, pending, ends)
    family("db_client_connection_pending_requests", "gauge",
           "Requests waiting for a connection of the pool, bin mean.")  # fmt: skip
    lines += pending_lines
    family("queuefull_circuit_breaker_open_ratio", "gauge",
           "Share of each bin the caller's breakers towards the callee were open.")  # fmt: skip
    for name, service in system.services.items():
        for callee in service.edges:
            breakers = service.breakers_towards(callee)
            if breakers:
                ratio = breaker_series(breakers, nbins, width, horizon)["breaker_open"]
                lines += _samples("queuefull_circuit_breaker_open_ratio",
                                  f'service="{name}",callee="{callee}"', ratio, ends)  # fmt: skip
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _durations(ends: np.ndarray, start: float, width: float) -> np.ndarray:
    return np.diff(np.concatenate(([start], ends)))


def _gauge(recorder: Recorder, key: str) -> np.ndarray:
    """A frozen gauge's per-bin mean (busy workers, serving replicas)."""
    gauge = recorder.final[key]
    edges = np.arange(recorder.nbins + 1) * recorder.bin_width
    durations = np.minimum(edges[1:], recorder.horizon) - edges[:-1]
    return np.asarray(np.asarray(gauge.bins) / durations)


def _samples(metric: str, labels: str, values: np.ndarray, ends: np.ndarray) -> list[str]:
    out = []
    for value, stamp in zip(values, ends, strict=True):
        if math.isfinite(value):
            out.append(f"{metric}{{{labels}}} {_number(float(value))} {stamp:.3f}")
    return out


def _histogram(
    metric: str,
    labels: str,
    recorder: Recorder,
    bounds: tuple[float, ...],
    ends: np.ndarray,
    width: float,
) -> Iterator[str]:
    """Cumulative bucket counts, count and sum at each bin's end."""
    if recorder.folded is not None:
        raise ExportTooLong(
            f"{recorder.name}: more requests than are kept one by one; export a shorter "
            "horizon (the time series stay the same, bin for bin)"
        )
    done, latency = recorder.records("done_at"), recorder.records("latency")
    keep = done < recorder.horizon
    done, latency = done[keep], latency[keep]
    index = np.minimum((done // width).astype(np.int64), len(ends) - 1)
    bucket = np.searchsorted(np.asarray(bounds), latency, side="left")  # le: at or below
    grid = np.zeros((len(ends), len(bounds) + 1))
    np.add.at(grid, (index, bucket), 1)
    cumulative = np.cumsum(np.cumsum(grid, axis=0), axis=1)
    sums = np.cumsum(np.bincount(index, weights=latency, minlength=len(ends)))
    sep = "," if labels else ""
    les = [f"{bound:g}" for bound in bounds] + ["+Inf"]
    for k, stamp in enumerate(ends):
        for b, le in enumerate(les):
            yield f'{metric}_bucket{{{labels}{sep}le="{le}"}} {cumulative[k, b]:.0f} {stamp:.3f}'
        yield f"{metric}_count{{{labels}}} {cumulative[k, -1]:.0f} {stamp:.3f}"
        yield f"{metric}_sum{{{labels}}} {_number(float(sums[k]))} {stamp:.3f}"


def _number(value: float) -> str:
    return f"{value:.6g}" if value != int(value) else f"{int(value)}"
