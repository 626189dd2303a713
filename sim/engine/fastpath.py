"""The exact fast path: a single station (G/G/c, FIFO, bounded or unbounded waiting room)
served by the compiled recursion of :mod:`sim.engine.kernel` instead of SimPy.

It draws the same random numbers from the same streams as the SimPy engine and records
the same requests in the same order into the same recorders, so every metric, interval
and time series is the one the SimPy engine gives (time averages to rounding). Arrivals
are served in chunks, so memory does not grow with the run's length beyond what the
recorders keep.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from sim import outcomes
from sim.distributions import Sampler
from sim.engine import pool
from sim.engine.arrivals import arrival_chunks
from sim.engine.fastgauge import IntervalGauges, constant
from sim.engine.kernel import (
    ARRIVED,
    BUSY,
    CAME,
    FREES,
    IN_SYSTEM,
    ORDER,
    OVERFLOW,
    PEAK,
    QUEUE,
    REFUSED,
    WAIT_SUM,
    WAITED,
    count_buckets,
    idle_workers,
    serve,
    tally,
)
from sim.engine.replication import System, make_recorders, measure
from sim.engine.streams import Streams
from sim.measure import stats
from sim.measure.gauge import Gauge
from sim.measure.output import END_TO_END, ReplicationOutput
from sim.measure.recorders import GAUGES, Recorder
from sim.model import Model, UnstableError

CHUNK = 1 << 17
"""Arrivals served per call of the compiled kernel."""


def run_fast(model: Model, replication: int, seed: int) -> ReplicationOutput:
    """One replication of a model that qualifies (see :mod:`sim.engine.choice`), with the
    random streams of ``(seed, replication)``: the SimPy engine's results, sooner."""
    output = measure(
        System(model, None, {}, record_fast(model, replication, seed), []), replication
    )
    output.engine = "fast"
    return output


def record_fast(model: Model, replication: int, seed: int) -> dict[str, Recorder]:
    """The recorders, filled with the very records the SimPy engine would make."""
    _compile_once()
    ((name, spec),) = model.services.items()
    streams = Streams(seed, replication)
    recorders = make_recorders(model)
    service, system = recorders[name], recorders[END_TO_END]
    (cls,) = model.class_names
    work = Sampler(spec.work_for(cls), streams.rng("service", name, "work", cls))
    tally = _Tally(model, service, system)
    workers = idle_workers(spec.most_workers)
    limit = spec.queue_limit
    waiting = np.zeros((max(1, int(min(limit, pool.MAX_UNBOUNDED_WAITING))), 2))
    state = np.zeros(3, dtype=np.int64)
    clock = np.zeros(2)
    spare = np.empty(0)
    rng = streams.rng("workload", "arrivals")
    assert model.workload is not None and model.workload.arrivals is not None  # see blocker
    for arrived in arrival_chunks(model.workload.arrivals, rng, model.horizon, CHUNK):
        n = arrived.size
        works = np.concatenate((spare, work.take(max(0, n - spare.size))))
        admitted = np.empty(n, dtype=np.bool_)
        start = np.empty(n)
        ahead = np.empty(n, dtype=np.int64)
        ended = np.empty((n, 2))
        used, n_ended = serve(
            arrived, works, workers, waiting, state, clock, limit, admitted, start, ahead, ended
        )
        if used == OVERFLOW:
            raise UnstableError(
                f"services.{name}.queue: more than {pool.MAX_UNBOUNDED_WAITING:,} requests waiting "
                f"in one replica's unbounded queue at t={clock[0]:.0f}s: the load exceeds "
                "capacity; bound the queue or add workers or replicas"
            )
        spare = works[used:]
        before = float(arrived[-1])
        tally.add(arrived, admitted, start, works, ahead, ended[:n_ended], held(workers, before))
    tally.finish(held(workers, np.inf))
    return recorders


def held(workers: np.ndarray, before: float) -> np.ndarray:
    """The requests the workers' heap still holds that end before ``before``, as
    (arrived, done) in the order they end; they are taken out (recorded once)."""
    ends = (workers[:, CAME] >= 0.0) & (workers[:, FREES] < before)
    rows = workers[ends]
    rows = rows[np.lexsort((rows[:, ORDER], rows[:, FREES]))]
    workers[ends, CAME] = -1.0
    return rows[:, [CAME, FREES]]


_compiled = False


def _compile_once() -> None:
    """Load the kernels from numba's cache, or compile and cache them, once per process
    and one process at a time: numba's cache is not safe against processes writing and
    reading it at once (a sweep's workers, a test run's), so the first run of each
    process serves a tiny station under a machine-wide lock."""
    global _compiled
    if _compiled:
        return
    _compiled = True
    tiny = Model.model_validate(
        {
            "horizon": 1.0,
            "replications": 1,
            "workload": {"arrivals": {"process": "poisson", "rate": 100}},
            "services": {"s": {"work": {"distribution": "exponential", "mean": 0.01}}},
        }
    )
    with _machine_lock():
        record_fast(tiny, 0, 0)
        count_buckets(np.zeros(1, dtype=np.int64), np.ones(1), 1)  # folds need it too
    stats.count_buckets_with(count_buckets)


@contextmanager
def _machine_lock() -> Iterator[None]:
    """An exclusive lock shared by every process of this machine (none without fcntl)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    path = Path(tempfile.gettempdir()) / "queuefull-kernels.lock"
    try:
        handle = open(path, "a")  # noqa: SIM115 - held across the yield
    except OSError:  # another user's lock file: go on without
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Tally:
    """Turns served chunks into the records the SimPy engine makes, in the same order."""

    def __init__(self, model: Model, service: Recorder, system: Recorder) -> None:
        self.model = model
        self.service, self.system = service, system
        self.warmup, self.horizon = float(model.warmup), model.horizon
        self.limit = self.horizon + (self.horizon - self.warmup)  # the drain's end
        self.window = np.array([self.warmup, self.horizon, self.limit])
        geometry = (model.bin_width, service.nbins, self.warmup, self.horizon)
        self.gauges = IntervalGauges(3, *geometry)
        self.totals = np.zeros(5)
        # requests that ended but are not recorded yet: (arrived, done), in the order they end
        self.pending = np.empty((0, 2))

    def add(
        self,
        arrived: np.ndarray,
        admitted: np.ndarray,
        start: np.ndarray,
        works: np.ndarray,
        ahead: np.ndarray,
        ended: np.ndarray,
        idle: np.ndarray,
    ) -> None:
        """Record one served chunk: refusals, gauges and totals; the requests that ended
        up to the chunk's last arrival (later ones may still interleave with the next
        chunk's refusals): those whose workers took another (``ended``), then those whose
        workers are still idle (``idle``), each in the order they end."""
        refused = np.empty(arrived.size)
        g = self.gauges
        n_refused = tally(
            arrived, admitted, start, works, ahead, self.window, g.cuts, g.points,
            g.area, g.covering, self.totals, refused,
        )  # fmt: skip
        _record_refusals(self.service, refused[:n_refused])
        self._complete(np.concatenate((self.pending, ended, idle)), float(arrived[-1]))
        self.service.bounded()

    def _complete(self, ended: np.ndarray, before: float) -> None:
        """Record the requests of ``ended`` (in the order they end) that end before
        ``before``; keep the rest pending."""
        cut = int(np.searchsorted(ended[:, 1], before, side="left"))
        came, done = ended[:cut, 0], ended[:cut, 1]
        counted = (came >= self.warmup) & (came < self.horizon)
        _record_completions(self.service, done, done - came, counted)
        self.system.attempts += int(counted.sum())
        self.pending = ended[cut:]

    def finish(self, busy: np.ndarray) -> None:
        """The drain: completions until every counted request is done (or the drain's end),
        then the totals, and the gauges frozen at the horizon. ``busy`` holds the requests
        the workers still hold, as (arrived, done) in the order they end."""
        ended = np.concatenate((self.pending, busy))
        came, done = ended[:, 0], ended[:, 1]
        counted = (came >= self.warmup) & (came < self.horizon)
        stop = self.limit
        if counted.any() and done[counted].max() < self.limit:
            stop = _drain_stop(float(done[counted].max()), self.horizon, self.limit, self.model)
        self._complete(ended, before=stop)
        service, system, totals = self.service, self.system, self.totals
        arrived, refused = int(totals[ARRIVED]), int(totals[REFUSED])
        service.arrivals[0] += arrived
        service.counts[0][outcomes.QUEUE_FULL] += refused
        service.open += arrived - refused
        service.wait_sum, service.wait_count = float(totals[WAIT_SUM]), int(totals[WAITED])
        system.mirror(service)  # end to end, every request is the station's
        system.attempts += refused
        g = self.gauges
        service.in_system_start = system.in_system_start = g.at_warmup(IN_SYSTEM)
        for recorder in (service, system):
            recorder.final = {key: Gauge(recorder.bin_width, recorder.nbins) for key in GAUGES}
        service.final["queue"] = g.frozen(QUEUE, int(totals[PEAK]))
        service.final["busy"] = g.frozen(BUSY)
        service.final["in_system"] = system.final["in_system"] = g.frozen(IN_SYSTEM)
        replicas = constant(1, g.width, g.nbins, g.warmup, g.horizon)
        for key in ("ready", "serving", "provisioned", "desired"):
            service.final[key] = replicas


def _drain_stop(last_done: float, horizon: float, limit: float, model: Model) -> float:
    """When the engine's drain stops: the first step boundary after the last counted
    request is done (steps of one bin from the horizon, the clock as the engine sums it)."""
    now = horizon
    while now <= last_done and now < limit:
        now = min(now + model.bin_width, limit)
    return now


def _record_refusals(recorder: Recorder, times: np.ndarray) -> None:
    recorder.extend("rejected_at", _raw(times))
    code = outcomes.REJECTIONS.index(outcomes.QUEUE_FULL)
    recorder.extend("rejected_reason", bytes([code]) * times.size)


def _record_completions(
    recorder: Recorder, done: np.ndarray, latency: np.ndarray, counted: np.ndarray
) -> None:
    recorder.extend("done_at", _raw(done))
    recorder.extend("latency", _raw(latency))
    recorder.extend("done_class", bytes(done.size))  # class 0
    in_window = int(((done >= recorder.warmup) & (done < recorder.horizon)).sum())
    recorder.good += in_window
    n_counted = int(counted.sum())
    recorder.counts[0][outcomes.OK] += n_counted
    recorder.open -= n_counted


def _raw(values: np.ndarray) -> memoryview:
    """The bytes of an array of floats, copied only if it is a strided view."""
    return memoryview(np.ascontiguousarray(values)).cast("B")
