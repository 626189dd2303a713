"""Recorders per service, per call edge and end to end: outcomes, latencies, time-weighted gauges.

The engine calls these on its hot path, so they do plain arithmetic and append to lists,
packed into arrays every few thousand records (see :data:`sim.measure.folding.GATHER`);
turning raw records into metrics happens once, after the replication, with numpy.

Population rules (see the README's "What the numbers mean"):
- request metrics (fractions, latencies, waits) count requests that *arrived* in the window
  [warmup, horizon), each followed to its end after the horizon (the drain), so the
  horizon's cut biases no ratio and no percentile;
- rates and time averages count what happened in the window [warmup, horizon].
"""

from __future__ import annotations

import copy
import math
from array import array
from collections.abc import Callable
from typing import Any, TypeVar, cast

import cython
import numpy as np

from sim import outcomes
from sim.measure.folding import FOLD_AT, GATHER, Folded, pack, per_bin, per_bin_by_reason
from sim.measure.gauge import Gauge
from sim.measure.stats import Histogram, histogram, sample_percentile, sample_percentiles

PERCENTILES = {"latency_p50": 50, "latency_p90": 90, "latency_p99": 99, "latency_p999": 99.9}
"""Latency percentiles of services and end to end, by metric name."""

T = TypeVar("T")

_OK = outcomes.OK
_REJECTION_INDEX = {reason: i for i, reason in enumerate(outcomes.REJECTIONS)}

RECORDS = {
    "done_at": "d",
    "latency": "d",
    "done_class": "b",
    "late_at": "d",
    "failed_at": "d",
    "rejected_at": "d",
    "rejected_reason": "b",
}
"""The per-request records a recorder keeps (array typecodes) until it folds them: each
gathered in a list of that name, then packed into an array (``packed``)."""

COMPLETIONS = ("done_at", "latency", "done_class", "late_at")
REFUSALS = ("rejected_at", "rejected_reason")
FAILURES = ("failed_at",)
"""The records of each kind of end, gathered and packed together (the first of each is
as long as the others, but for the late completions, fewer)."""

QUANTILE_METRICS = {**PERCENTILES, "call_latency_p99": 99}
"""Every metric that is a percentile: summarised from the pooled sample (sectioning)."""


def fraction(count: float, total: float) -> float:
    """count / total, NaN when there is nothing to divide by."""
    return count / total if total else math.nan


def utilization(busy_area: float, serving: float, workers: int) -> float:
    """Worker-seconds busy over worker-seconds available (``workers`` per replica serving)."""
    return fraction(busy_area, workers * serving)


def utilization_series(busy: np.ndarray, serving: np.ndarray, workers: int) -> np.ndarray:
    """:func:`utilization` per time bin (NaN where no replica served)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share: np.ndarray = busy / (workers * serving)
    return share


def latency_metrics(latency: np.ndarray, hist: Histogram | None = None) -> dict[str, float]:
    """Mean and percentiles of a latency sample (NaN when empty); ``hist``, the sample's
    histogram, makes the percentiles quicker to find (see
    :func:`sim.measure.stats.order_statistics`)."""
    if latency.size == 0:
        return {"latency_mean": math.nan, **dict.fromkeys(PERCENTILES, math.nan)}
    m = {"latency_mean": float(latency.mean())}
    values = sample_percentiles(latency, list(PERCENTILES.values()), hist)
    m.update(zip(PERCENTILES, values, strict=True))
    return m


GAUGES = (
    "queue",
    "busy",
    "in_system",
    "cpu_busy",
    "paused",
    "limit",
    "ready",
    "serving",
    "provisioned",
    "desired",
    "scaler_metric",
    "units_held",
)


class Recorder:
    """Raw records of one service, or of client requests end to end (``name='all'``, or
    one scenario's with ``end_to_end``)."""

    def __init__(
        self,
        name: str,
        warmup: float,
        horizon: float,
        bin_width: float,
        classes: list[str],
        workers: int = 0,
        cpus: int = 0,
        gc: bool = False,
        scaled: bool = False,
        end_to_end: bool = False,
        unit_capacity: float = 0.0,
    ) -> None:
        self.name = name
        self.end_to_end = end_to_end or name == "all"  # client requests, not one service's
        self.warmup = warmup
        self.horizon = horizon
        self.bin_width = bin_width
        self.classes = classes
        self.workers = workers  # per replica
        self.cpus = cpus  # per replica
        self.gc = gc
        self.scaled = scaled
        self.unit_capacity = unit_capacity  # per replica, with a budget of units
        nbins = max(1, math.ceil(horizon / bin_width - 1e-9))
        self.nbins = nbins
        self.arrivals = [0] * len(classes)
        self.open = 0  # counted requests that arrived and have not finished
        self.in_system_start: float = 0  # requests in system when the window opened
        self.counts = [dict.fromkeys(outcomes.ALL, 0) for _ in classes]
        # gathered records (see RECORDS), packed into ``packed`` every few thousand
        self.done_at: list[float] = []
        self.latency: list[float] = []
        self.done_class: list[int] = []
        self.rejected_at: list[float] = []
        self.rejected_reason: list[int] = []  # index into outcomes.REJECTIONS
        self.failed_at: list[float] = []
        self.late_at: list[float] = []  # completions whose caller had stopped waiting
        self.packed = {name: array(code) for name, code in RECORDS.items()}
        # how many of each kind to gather before packing (see _aim)
        self.pack_done = self.pack_refused = self.pack_failed = 0
        self._aim()
        self.good = 0  # completions in the window whose caller still waited
        self.wasted = 0.0  # worker-seconds spent on requests nobody waited for, in the window
        self.wait_sum = 0.0
        self.wait_count = 0
        self.queue = Gauge(bin_width, nbins)
        self.busy = Gauge(bin_width, nbins)
        self.in_system = Gauge(bin_width, nbins)
        self.cpu_busy = Gauge(bin_width, nbins)
        self.paused = Gauge(bin_width, nbins)  # replicas in a GC pause
        self.ready = Gauge(bin_width, nbins)  # replicas taking new requests
        self.serving = Gauge(bin_width, nbins)  # ready or draining: replicas with workers
        self.provisioned = Gauge(bin_width, nbins)  # every replica that exists (and costs)
        self.desired = Gauge(bin_width, nbins)  # the autoscaler's desired count
        self.scaler_metric = Gauge(bin_width, nbins)  # the metric the autoscaler saw
        self.limit = Gauge(bin_width, nbins)  # the concurrency limit, if the service has one
        self.units_held = Gauge(bin_width, nbins)  # units held by requests in service
        self.has_limit = False
        self.attempts = 0  # end to end: attempts made for counted requests that finished
        self.pools: dict[str, tuple[Gauge, Gauge]] = {}  # callee -> connections used, pending
        self.final: dict[str, Gauge] = {}  # the gauges as the window closed (see close)
        self.folded: Folded | None = None  # raw records folded so far (long runs only)
        self.measured: dict[object, Any] = {}  # figures computed after the run

    @property
    def gauges(self) -> tuple[Gauge, ...]:
        """Every time-weighted quantity of this recorder."""
        return tuple(getattr(self, name) for name in GAUGES)

    def restart(self, now: float) -> None:
        """End of the warm-up: time averages start here."""
        for gauge in (*self.gauges, *(g for pair in self.pools.values() for g in pair)):
            gauge.restart(now)
        self.in_system_start = self.in_system.value

    # --- hot path -----------------------------------------------------------------------

    def arrived(self, now: float, cls: int) -> bool:
        """A request reached this service (or the system); True if it counts (in the window)."""
        if self.warmup <= now < self.horizon:
            self.arrivals[cls] += 1
            self.open += 1
            return True
        return False

    def rejected(self, now: float, outcome: str, counted: bool, cls: int) -> None:
        """A request refused at once with ``outcome`` (one of outcomes.REJECTIONS)."""
        self.rejected_at.append(now)
        self.rejected_reason.append(_REJECTION_INDEX[outcome])
        if counted:
            self.counts[cls][outcome] += 1
            self.open -= 1
        if len(self.rejected_at) >= self.pack_refused:
            self._pack(REFUSALS)

    def failed(self, now: float, outcome: str, counted: bool, cls: int) -> None:
        """A request that ended with a timeout, an error or a callee's failure."""
        self.failed_at.append(now)
        if counted:
            self.counts[cls][outcome] += 1
            self.open -= 1
        if len(self.failed_at) >= self.pack_failed:
            self._pack(FAILURES)

    @cython.locals(at=cython.double)
    def completed(
        self,
        arrived: float,
        now: float,
        counted: bool,
        cls: int,
        good: bool = True,
        held_from: float = 0.0,
        held_to: float = 0.0,
    ) -> None:
        """A request answered ``ok``; ``good`` if its caller still waited for it, after
        holding a worker from ``held_from`` to ``held_to``."""
        self.done_at.append(now)
        self.latency.append(now - arrived)
        self.done_class.append(cls)
        if counted:
            self.counts[cls][_OK] += 1
            self.open -= 1
        if good:
            at = now
            if self.warmup <= at < self.horizon:
                self.good += 1
        else:  # only the worker time inside the window, which the busy gauge measures
            self.late_at.append(now)
            self.wasted += max(0.0, min(held_to, self.horizon) - max(held_from, self.warmup))
        if len(self.done_at) >= self.pack_done:
            self._pack(COMPLETIONS)

    def _pack(self, names: tuple[str, ...]) -> None:
        """Pack the gathered records of one kind of end (``names``); fold them all once
        the first of them holds FOLD_AT."""
        self._gather(names)
        if len(self.packed[names[0]]) >= FOLD_AT:
            self.fold()

    def _gather(self, names: tuple[str, ...]) -> None:
        """Move the records gathered in the lists ``names`` into their arrays, and aim
        the next packing by what the arrays now hold."""
        for name in names:
            pack(self.packed[name], getattr(self, name))
        self._aim()

    def _aim(self) -> None:
        """How many of each kind to gather before packing: GATHER, or fewer where FOLD_AT
        comes sooner, so that a recorder folds after the very record it would if it
        packed every one."""
        packed = self.packed
        self.pack_done = min(GATHER, FOLD_AT - len(packed["done_at"]))
        self.pack_refused = min(GATHER, FOLD_AT - len(packed["rejected_at"]))
        self.pack_failed = min(GATHER, FOLD_AT - len(packed["failed_at"]))

    def records(self, name: str) -> np.ndarray:
        """The raw records ``name`` (one of RECORDS) not folded yet, in order."""
        self._gather((name,))
        return np.frombuffer(self.packed[name], dtype=RECORDS[name])

    def extend(self, name: str, raw: bytes | memoryview) -> None:
        """Add records ``name`` in bulk: ``raw``, their bytes (RECORDS' type), after those
        recorded so far. :meth:`bounded` then folds if they are too many."""
        self._gather((name,))
        self.packed[name].frombytes(raw)

    def waited(self, seconds: float) -> None:
        """A counted request waited ``seconds`` for a worker."""
        self.wait_sum += seconds
        self.wait_count += 1

    def mirror(self, other: Recorder) -> None:
        """Take ``other``'s requests as this recorder's: arrivals, outcomes, latencies
        (the end-to-end view of a lone station, which records them once)."""
        other._gather(tuple(RECORDS))
        self.packed = dict(other.packed)  # other starts afresh when it folds
        for name in RECORDS:
            getattr(self, name).clear()
        self._aim()
        self.folded = copy.deepcopy(other.folded)
        self.arrivals = list(other.arrivals)
        self.counts = copy.deepcopy(other.counts)
        self.open, self.good = other.open, other.good
        self.measured = other.measured  # the same records: figures computed once for both

    def bounded(self) -> None:
        """Fold if any kind of raw records is full (after records added in bulk)."""
        self._gather(tuple(RECORDS))
        packed = self.packed
        if max(len(packed[kind[0]]) for kind in (COMPLETIONS, REFUSALS, FAILURES)) >= FOLD_AT:
            self.fold()

    def fold(self) -> None:
        """Fold the raw records into histograms and per-bin counts (see sim.measure.folding)
        and start afresh: memory stays bounded however long the run."""
        if self.folded is None:
            edges = np.arange(self.nbins + 1) * self.bin_width
            self.folded = Folded(self.warmup, self.horizon, edges, len(self.classes))
        folded = self.folded
        folded.add_completions(*self._arrays())
        folded.add_late(self.records("late_at"))
        folded.add_failures(self.records("failed_at"))
        folded.add_refusals(self.records("rejected_at"), self.records("rejected_reason"))
        self.packed = {name: array(code) for name, code in RECORDS.items()}
        self._aim()

    # --- after the run ------------------------------------------------------------------

    def close(self, now: float) -> None:
        """The window ends: freeze the time-weighted quantities at ``now`` (the horizon).

        The run goes on after it only to follow counted requests to their end (the drain);
        the metrics read the frozen copies.
        """
        for name in GAUGES:
            self.final[name] = getattr(self, name).snapshot(now)
        for callee, (used, pending) in self.pools.items():
            self.final[f"pool_used:{callee}"] = used.snapshot(now)
            self.final[f"pool_pending:{callee}"] = pending.snapshot(now)

    def pool(self, callee: str) -> tuple[Gauge, Gauge]:
        """The gauges of this service's connections to ``callee`` (every replica's pool
        together): connections in use, and requests waiting for one."""
        if callee not in self.pools:
            self.pools[callee] = (
                Gauge(self.bin_width, self.nbins),
                Gauge(self.bin_width, self.nbins),
            )
        return self.pools[callee]

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.records("done_at"), self.records("latency"), self.records("done_class")

    def _outcome_metrics(self, counts: dict[str, int], arrivals: int) -> dict[str, float]:
        rejected = sum(counts[o] for o in outcomes.REJECTIONS)
        m = {
            "success_rate": fraction(counts[outcomes.OK], arrivals),
            "rejection_rate": fraction(rejected, arrivals),
        }
        for reason in outcomes.REJECTIONS:
            m[f"rejected_{reason}"] = fraction(counts[reason], arrivals)
        m["timeout_rate"] = fraction(counts[outcomes.TIMEOUT], arrivals)
        m["error_rate"] = fraction(counts[outcomes.ERROR], arrivals)
        if not self.end_to_end:
            m["downstream_failure_rate"] = fraction(counts[outcomes.DOWNSTREAM], arrivals)
        return m

    def _masks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Completion times, latencies, classes; which arrived in the window (the counted
        requests) and which completed in it (for rates)."""
        done_at, latency, classes = self._arrays()
        arrived = done_at - latency
        counted = (arrived >= self.warmup) & (arrived < self.horizon)
        in_window = (done_at >= self.warmup) & (done_at < self.horizon)
        return latency, classes, counted, in_window

    def metrics(self) -> dict[str, float]:
        """Summary metrics of this replication (see README for definitions)."""
        window = self.horizon - self.warmup
        latency_figures, latency_max, completed_in_window = self._latency_figures(None)
        g = self.final
        arrivals = sum(self.arrivals)
        counts = {o: sum(c[o] for c in self.counts) for o in outcomes.ALL}
        rejected = sum(counts[o] for o in outcomes.REJECTIONS)
        failed = sum(counts[o] for o in (*outcomes.FAILURES, outcomes.DOWNSTREAM))
        m: dict[str, float] = {
            "arrivals": float(arrivals),
            "completed": float(counts[outcomes.OK]),
            "rejected": float(rejected),
            "failed": float(failed),
            "offered_rate": arrivals / window,
            "throughput": completed_in_window / window,
            "goodput": self.good / window,
            **self._outcome_metrics(counts, arrivals),
            **latency_figures,
        }
        if not self.end_to_end:
            busy_area = g["busy"].area
            m["queue_wait_mean"] = fraction(self.wait_sum, self.wait_count)
            m["queue_depth_mean"] = g["queue"].area / window
            m["queue_depth_max"] = float(g["queue"].peak)
            serving = g["serving"].area
            m["utilization"] = utilization(busy_area, serving, self.workers)
            m["wasted_work"] = min(1.0, self.wasted / busy_area) if busy_area else 0.0
            if self.cpus:
                m["cpu_utilization"] = fraction(g["cpu_busy"].area, self.cpus * serving)
            if self.unit_capacity:
                held = g["units_held"].area
                m["unit_utilization"] = fraction(held, self.unit_capacity * serving)
            if self.gc:
                m["gc_paused_fraction"] = fraction(g["paused"].area, serving)
            m["replicas_mean"] = g["ready"].area / window
            m["replica_seconds"] = g["provisioned"].area
            if self.has_limit:
                m["concurrency_limit_mean"] = g["limit"].area / window
        else:  # attempts are added when a request finishes: divide by the finished ones
            m["attempts_per_request"] = fraction(self.attempts, arrivals - self.open)
        m["in_system_mean"] = g["in_system"].area / window
        m["in_flight_end"] = float(self.open)
        # Not in the summary: boundary terms that let tests bound Little's law's edge effect.
        m["in_system_start"] = float(self.in_system_start)
        m["in_system_end"] = float(g["in_system"].value)
        m["latency_max"] = latency_max
        return m

    def _remember(self, key: object, compute: Callable[[], T]) -> T:
        """``compute()`` once per key: the figures are read after the run, when the records
        no longer change, and a mirroring recorder shares them (see :meth:`mirror`)."""
        if key not in self.measured:
            self.measured[key] = compute()
        return cast(T, self.measured[key])

    def _latency_figures(self, cls: int | None) -> tuple[dict[str, float], float, int]:
        """Of one class's requests (or all): latency mean and percentiles of the counted
        ones, their largest latency, and the completions in the window."""
        return self._remember(("latency", cls), lambda: self._measure_latency(cls))

    def _measure_latency(self, cls: int | None) -> tuple[dict[str, float], float, int]:
        if self.folded is not None:
            self.fold()
            folded = self.folded
            classes = range(len(self.classes)) if cls is None else [cls]
            most = max(folded.latency_max[i] for i in classes)
            return (
                folded.latency_metrics(cls, PERCENTILES),
                most if math.isfinite(most) else 0.0,
                sum(folded.in_window[i] for i in classes),
            )
        latency, classes_of, counted, in_window = self._masks()
        if cls is not None:
            mine = classes_of == cls
            counted, in_window = counted & mine, in_window & mine
        chosen = latency[counted]
        most = float(chosen.max()) if chosen.size else 0.0
        several = len(self.classes) > 1
        hist = self.histograms()[self.classes[cls] if cls is not None and several else ""]
        return latency_metrics(chosen, hist), most, int(in_window.sum())

    def histograms(self) -> dict[str, Histogram]:
        """Log-scale histograms of the counted latencies: ``""`` for all, then per class."""
        return dict(self._remember("histograms", self._measure_histograms))

    def _measure_histograms(self) -> dict[str, Histogram]:
        if self.folded is not None:
            self.fold()
            out = {"": self.folded.latency_histogram()}
            if len(self.classes) > 1:
                for index, name in enumerate(self.classes):
                    out[name] = self.folded.latency_histogram(index)
            return out
        latency, classes, counted, _ = self._masks()
        out = {"": histogram(latency[counted])}
        if len(self.classes) > 1:
            for index, name in enumerate(self.classes):
                out[name] = histogram(latency[counted & (classes == index)])
        return out

    def class_metrics(self) -> dict[str, dict[str, float]]:
        """Per request class: rates, outcome fractions and latency of that class alone."""
        window = self.horizon - self.warmup
        result = {}
        for index, name in enumerate(self.classes):
            figures, _, completed_in_window = self._latency_figures(index)
            arrivals = self.arrivals[index]
            result[name] = {
                "offered_rate": arrivals / window,
                "throughput": completed_in_window / window,
                **self._outcome_metrics(self.counts[index], arrivals),
                **figures,
            }
        return result

    def _per_bin(
        self, edges: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per time bin before the horizon: completions, good ones, refusals by reason
        (one row per reason), failures, and the p99 latency of the completions."""
        return self._remember("per_bin", lambda: self._measure_per_bin(edges))

    def _measure_per_bin(
        self, edges: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self.folded is not None:
            self.fold()
            f = self.folded
            return f.completions, f.completions - f.late, f.refused, f.failures, f.bin_p99()
        done_at, latency, _ = self._arrays()
        cut = int(np.searchsorted(done_at, self.horizon))  # the drain is not in the series
        done_at, latency = done_at[:cut], latency[:cut]
        bounds = np.searchsorted(done_at, edges)  # completions are recorded in time order
        completions = np.diff(bounds)
        refused = per_bin_by_reason(
            self.records("rejected_at"), self.records("rejected_reason"), edges, self.horizon
        )
        p99 = np.full(edges.size - 1, np.nan)
        for i in np.flatnonzero(np.diff(bounds)):
            p99[i] = sample_percentile(latency[bounds[i] : bounds[i + 1]], 99)
        late = per_bin(self.records("late_at"), edges, self.horizon)
        failures = per_bin(self.records("failed_at"), edges, self.horizon)
        return completions, completions - late, refused, failures, p99

    def timeseries(self) -> dict[str, np.ndarray]:
        """Per-bin series over the whole run, warm-up included."""
        width, nbins = self.bin_width, self.nbins
        edges = np.arange(nbins + 1) * width
        durations = np.minimum(edges[1:], self.horizon) - edges[:-1]
        completions, good, refused, failures, p99 = self._per_bin(edges)
        rejections = refused.sum(axis=0)
        by_reason = {
            f"refused_{reason}": refused[i] for i, reason in enumerate(outcomes.REJECTIONS)
        }
        g = self.final
        series = {
            "time": edges[:-1],
            "throughput": completions / durations,
            "goodput": good / durations,
            "rejections": rejections / durations,
            **{name: counts / durations for name, counts in by_reason.items()},
            "failures": failures / durations,
            "latency_p99": p99,
            "in_system": np.asarray(g["in_system"].bins) / durations,
        }
        if not self.end_to_end:
            series["queue_depth"] = np.asarray(g["queue"].bins) / durations
            serving = np.asarray(g["serving"].bins)
            series["utilization"] = utilization_series(
                np.asarray(g["busy"].bins), serving, self.workers
            )
            if self.gc:
                with np.errstate(divide="ignore", invalid="ignore"):
                    series["gc_paused"] = np.asarray(g["paused"].bins) / serving
            if self.scaled:
                series["replicas_ready"] = np.asarray(g["ready"].bins) / durations
                series["replicas_provisioned"] = np.asarray(g["provisioned"].bins) / durations
                series["replicas_draining"] = (serving - np.asarray(g["ready"].bins)) / durations
                series["replicas_desired"] = np.asarray(g["desired"].bins) / durations
                series["scaler_metric"] = np.asarray(g["scaler_metric"].bins) / durations
            if self.has_limit:
                series["concurrency_limit"] = np.asarray(g["limit"].bins) / durations
        return series


class _BothGauges:
    """The ``in_system`` gauge of two recorders, moved together."""

    __slots__ = ("_first", "_second")

    def __init__(self, first: Gauge, second: Gauge) -> None:
        self._first, self._second = first, second

    def add(self, now: float, delta: float) -> None:
        """Move both gauges by ``delta`` at ``now``."""
        self._first.add(now, delta)
        self._second.add(now, delta)


class BothRecorders:
    """What a scenario's clients record into: every request end to end (``all``) and the
    scenario's own recorder, so a model of several workloads reports each and the whole."""

    def __init__(self, whole: Recorder, own: Recorder) -> None:
        self.whole, self.own = whole, own
        self.in_system = _BothGauges(whole.in_system, own.in_system)

    @property
    def attempts(self) -> int:
        """Attempts made for counted requests that finished (the scenario's own)."""
        return self.own.attempts

    @attempts.setter
    def attempts(self, value: int) -> None:
        self.whole.attempts += value - self.own.attempts
        self.own.attempts = value

    def arrived(self, now: float, cls: int) -> bool:
        """A client request arrived; True if it counts (in the window)."""
        self.own.arrived(now, cls)
        return self.whole.arrived(now, cls)

    def rejected(self, now: float, outcome: str, counted: bool, cls: int) -> None:
        """A client request refused with ``outcome``."""
        self.whole.rejected(now, outcome, counted, cls)
        self.own.rejected(now, outcome, counted, cls)

    def failed(self, now: float, outcome: str, counted: bool, cls: int) -> None:
        """A client request that ended with a timeout or an error."""
        self.whole.failed(now, outcome, counted, cls)
        self.own.failed(now, outcome, counted, cls)

    def completed(self, arrived: float, now: float, counted: bool, cls: int) -> None:
        """A client request answered ``ok``."""
        self.whole.completed(arrived, now, counted, cls)
        self.own.completed(arrived, now, counted, cls)
