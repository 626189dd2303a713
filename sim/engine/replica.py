"""One instance of a service: worker pool, executor, GC and outgoing connection pools."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from functools import partial

import simpy

from sim import outcomes
from sim.distributions import Sampler
from sim.engine.admission import ConcurrencyLimiter, RateLimiter
from sim.engine.executor import Executor
from sim.engine.pool import Overflow, UnitPool, WorkerPool
from sim.engine.retrying import Retrier
from sim.engine.streams import Streams
from sim.engine.tasks import start
from sim.measure.recorders import Recorder
from sim.model.service import Service
from sim.policies.circuit_breaker import Breaker
from sim.policies.codel import Codel
from sim.policies.gc import AllocationTrigger, pause_length
from sim.policies.healthcheck import HealthState

CRASH = "crash"
"""The cause an instance's crash interrupts its requests with."""


def _overflow(spec: Service) -> Overflow | None:
    """The line in front of a replica's waiting room, if the service has one."""
    if spec.listen_backlog is not None:
        return Overflow(spec.listen_backlog.size, math.inf)
    if spec.block_when_full is not None:
        return Overflow(math.inf, spec.block_when_full.max_block)
    return None


class Replica:
    """Workers and waiting room, plus the optional GC and CPU model of one instance."""

    def __init__(
        self,
        env: simpy.Environment,
        service: str,
        index: int,
        spec: Service,
        recorder: Recorder,
        streams: Streams,
    ) -> None:
        self.env = env
        self.index = index
        self.recorder = recorder
        self.state = "ready"  # provisioning -> ready -> draining -> gone
        self.cold_until = 0.0  # a just-ready replica works slower until then
        self.active = 0  # requests assigned here and not yet answered (least_request)
        self.assigned = 0  # requests assigned here after the warm-up
        codel = None
        if spec.codel is not None:
            codel = Codel(spec.codel.target, spec.codel.interval)
        elif spec.discipline == "adaptive_lifo":
            codel = Codel()  # only to tell when a queue stands; it sheds nothing
        make_pool: Callable[..., WorkerPool] = WorkerPool
        if spec.unit_capacity is not None:  # workers that also share a budget of units
            make_pool = partial(UnitPool, units=spec.unit_capacity, held=recorder.units_held)
        self.pool = make_pool(
            env,
            spec.most_workers,
            spec.queue_limit,
            recorder.busy,
            recorder.queue,
            where=f"services.{service}.queue",
            thread_pool=spec.pool,
            discipline=spec.discipline,
            codel=codel,
            codel_sheds=spec.codel is not None,
            eager_timeout=spec.queue_timeout is not None and spec.queue_timeout.drop == "eager",
            overflow=_overflow(spec),
        )
        self.breakers: dict[str, Breaker] = {}  # per call site
        self.retriers: dict[str, Retrier] = {}  # per call site
        self.health: HealthState | None = None  # as the balancer's health checks see it
        self.working: set[simpy.Process] = set()  # requests in their own work (crashes)
        self.crashes = 0  # times it crashed: a request that saw another count is lost
        self.rate_limiter: RateLimiter | None = None  # its own, with scope: replica
        self.concurrency: ConcurrencyLimiter | None = None
        self.executor: Executor | None = None
        if spec.gc is not None or spec.cpus is not None:
            cores = float(spec.cpus) if spec.cpus is not None else math.inf
            cpu_gauge = recorder.cpu_busy if spec.cpus is not None else None
            self.executor = Executor(env, cores, cpu_gauge)
        self.connections: dict[str, WorkerPool] = {}
        for target, limits in spec.connection_pools.items():
            used, pending = recorder.pool(target)
            self.connections[target] = WorkerPool(
                env,
                limits.max_connections,
                limits.max_pending_requests,
                used,
                pending,
                where=f"services.{service}.connection_pools.{target}",
            )
        self.gc_trigger: AllocationTrigger | None = None
        self.paused = False
        gc = spec.gc
        if gc is not None:
            self._gc_spec = gc
            self._gc_pause = Sampler(gc.pause, streams.rng("service", service, "gc", str(index)))
            self.gc_trigger = gc.build_trigger()
            if gc.interval is not None:
                start(env, self._timed_collections(gc.interval))

    def request_started(self) -> None:
        """A request got a worker: it allocates, and may fill the young generation."""
        if self.gc_trigger.allocate() and not self.paused:
            start(self.env, self._collect())

    def crash(self) -> None:
        """The instance dies: the requests waiting for it and those in their own work fail
        at once (connections reset); those waiting on their calls fail when they return."""
        self.crashes += 1
        self.pool.fail_waiting(outcomes.ERROR)
        if self.executor is not None:
            self.executor.drop_all()
        for process in list(self.working):
            process.interrupt(CRASH)
        self.working.clear()

    def _timed_collections(self, interval: float) -> Generator[simpy.Event, object, None]:
        while self.state != "gone":
            yield self.env.timeout(interval)
            if not self.paused and self.state in ("ready", "draining"):
                yield from self._collect()

    def _collect(self) -> Generator[simpy.Event, object, None]:
        """One stop-the-world pause: own work on this replica makes no progress."""
        env = self.env
        self.paused = True
        held = len(self.pool)
        length = pause_length(self._gc_pause(), self._gc_spec.pause_per_held_request, held)
        self.executor.set_speed(0.0)
        self.recorder.paused.add(env.now, 1)
        yield env.timeout(length)
        self.executor.set_speed(1.0)
        self.recorder.paused.add(env.now, -1)
        self.paused = False
        if self.gc_trigger is not None:
            self.gc_trigger.collected()
            if self.gc_trigger.due:
                start(env, self._collect())
