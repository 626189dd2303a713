"""One recorder per service (and one end to end): outcomes, latencies and time-weighted gauges.

The engine calls these on its hot path, so they do plain arithmetic and append to
``array('d')``; turning raw records into metrics (:meth:`Recorder.metrics`) happens once,
after the replication, with numpy.

Population rules (see the README's "What the numbers mean"):
- request metrics (fractions, latencies, waits) count requests that *arrived* after the warm-up;
- rates and time averages count what happened in the window [warmup, horizon].
"""

from __future__ import annotations

import math
from array import array

import numpy as np

from sim import outcomes

PERCENTILES = {"latency_p50": 50, "latency_p90": 90, "latency_p99": 99, "latency_p999": 99.9}


class Gauge:
    """A piecewise-constant quantity integrated over time, in total and per time bin."""

    __slots__ = ("area", "bins", "edge", "index", "peak", "t", "value", "width")

    def __init__(self, width: float, nbins: int) -> None:
        self.value = 0
        self.t = 0.0
        self.area = 0.0
        self.peak = 0
        self.width = width
        self.bins = [0.0] * nbins
        self.index = 0
        self.edge = width

    def add(self, now: float, delta: int) -> None:
        """Change the value by ``delta`` at time ``now``."""
        if now >= self.edge:
            self._advance(now)
        area = self.value * (now - self.t)
        self.bins[self.index] += area
        self.area += area
        self.t = now
        self.value += delta
        if self.value > self.peak:
            self.peak = self.value

    def _advance(self, now: float) -> None:
        last = len(self.bins) - 1
        while now >= self.edge and self.index < last:
            area = self.value * (self.edge - self.t)
            self.bins[self.index] += area
            self.area += area
            self.t = self.edge
            self.index += 1
            self.edge = (self.index + 1) * self.width

    def restart(self, now: float) -> None:
        """Forget the totals so far (end of warm-up); bins are kept for the time series."""
        self.add(now, 0)
        self.area = 0.0
        self.peak = self.value


class Recorder:
    """Raw records of one service, or of the whole system (``service='all'``)."""

    def __init__(
        self, name: str, warmup: float, horizon: float, bin_width: float, workers: int = 0
    ) -> None:
        self.name = name
        self.warmup = warmup
        self.horizon = horizon
        self.bin_width = bin_width
        self.workers = workers
        nbins = max(1, math.ceil(horizon / bin_width - 1e-9))
        self.nbins = nbins
        self.arrivals = 0
        self.open = 0  # counted requests that arrived and have not finished
        self.in_system_start = 0  # requests in system when the window opened
        self.counts = dict.fromkeys(outcomes.ALL, 0)
        self.done_at = array("d")
        self.latency = array("d")
        self.rejected_at = array("d")
        self.wait_sum = 0.0
        self.wait_count = 0
        self.queue = Gauge(bin_width, nbins)
        self.busy = Gauge(bin_width, nbins)
        self.in_system = Gauge(bin_width, nbins)

    def restart(self, now: float) -> None:
        """End of the warm-up: time averages start here."""
        for gauge in (self.queue, self.busy, self.in_system):
            gauge.restart(now)
        self.in_system_start = self.in_system.value

    def arrived(self, now: float) -> bool:
        """A request reached this service (or the system); True if it counts (after warm-up)."""
        if now >= self.warmup:
            self.arrivals += 1
            self.open += 1
            return True
        return False

    def rejected(self, now: float, outcome: str, counted: bool) -> None:
        """A request refused at once with ``outcome``."""
        self.rejected_at.append(now)
        if counted:
            self.counts[outcome] += 1
            self.open -= 1

    def completed(self, arrived: float, now: float, counted: bool) -> None:
        """A request answered ``ok``."""
        self.done_at.append(now)
        self.latency.append(now - arrived)
        if counted:
            self.counts[outcomes.OK] += 1
            self.open -= 1

    def waited(self, seconds: float) -> None:
        """A counted request waited ``seconds`` for a worker."""
        self.wait_sum += seconds
        self.wait_count += 1

    # --- after the run ------------------------------------------------------------------

    def close(self, now: float) -> None:
        """Integrate the gauges up to the end of the run."""
        for gauge in (self.queue, self.busy, self.in_system):
            gauge.add(now, 0)

    def metrics(self) -> dict[str, float]:
        """Summary metrics of this replication (see README for definitions)."""
        window = self.horizon - self.warmup
        done_at = np.frombuffer(self.done_at, dtype=float)
        latency = np.frombuffer(self.latency, dtype=float)
        in_window = done_at >= self.warmup
        counted = (done_at - latency) >= self.warmup
        arrivals = self.arrivals
        rejected = sum(self.counts[o] for o in outcomes.REJECTIONS)
        m: dict[str, float] = {
            "arrivals": float(arrivals),
            "completed": float(self.counts[outcomes.OK]),
            "rejected": float(rejected),
            "offered_rate": arrivals / window,
            "throughput": int(in_window.sum()) / window,
            "rejection_rate": rejected / arrivals if arrivals else math.nan,
        }
        for reason in outcomes.REJECTIONS:
            m[f"rejected_{reason}"] = self.counts[reason] / arrivals if arrivals else math.nan
        sample = latency[counted]
        m["latency_mean"] = float(sample.mean()) if sample.size else math.nan
        for metric, q in PERCENTILES.items():
            m[metric] = float(np.percentile(sample, q)) if sample.size else math.nan
        if self.name != "all":
            m["queue_wait_mean"] = self.wait_sum / self.wait_count if self.wait_count else math.nan
            m["queue_depth_mean"] = self.queue.area / window
            m["queue_depth_max"] = float(self.queue.peak)
            m["utilization"] = self.busy.area / window / self.workers if self.workers else math.nan
        m["in_system_mean"] = self.in_system.area / window
        m["in_flight_end"] = float(self.open)
        # Not in the summary: boundary terms that let tests bound Little's law's edge effect.
        m["in_system_start"] = float(self.in_system_start)
        m["in_system_end"] = float(self.in_system.value)
        m["latency_max"] = float(latency.max()) if latency.size else 0.0
        return m

    def timeseries(self) -> dict[str, np.ndarray]:
        """Per-bin series over the whole run, warm-up included."""
        width, nbins = self.bin_width, self.nbins
        edges = np.arange(nbins + 1) * width
        last = min(self.horizon, nbins * width)
        durations = np.minimum(edges[1:], last) - edges[:-1]
        done_at = np.frombuffer(self.done_at, dtype=float)
        latency = np.frombuffer(self.latency, dtype=float)
        completions = np.histogram(done_at, edges)[0]
        rejections = np.histogram(np.frombuffer(self.rejected_at, dtype=float), edges)[0]
        p99 = np.full(nbins, np.nan)
        bounds = np.searchsorted(done_at, edges)  # completions are recorded in time order
        for i in range(nbins):
            chunk = latency[bounds[i] : bounds[i + 1]]
            if chunk.size:
                p99[i] = np.percentile(chunk, 99)
        series = {
            "time": edges[:-1],
            "throughput": completions / durations,
            "rejections": rejections / durations,
            "latency_p99": p99,
            "in_system": np.asarray(self.in_system.bins) / durations,
        }
        if self.name != "all":
            series["queue_depth"] = np.asarray(self.queue.bins) / durations
            series["utilization"] = np.asarray(self.busy.bins) / durations / max(self.workers, 1)
        return series
