"""A service at run time: its replicas, the balancer in front of them, and a request's path."""

from __future__ import annotations

from collections.abc import Generator
from itertools import cycle

import simpy

from sim import outcomes
from sim.distributions import Sampler
from sim.engine.pool import WorkerPool
from sim.engine.streams import Streams
from sim.metrics import Recorder
from sim.model import Service


class ServiceRuntime:
    """Serves requests: admission, a replica's worker pool, own work, response."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        spec: Service,
        streams: Streams,
        recorder: Recorder,
    ) -> None:
        self.env = env
        self.name = name
        self.spec = spec
        self.recorder = recorder
        self.work = Sampler(spec.work, streams.rng("service", name, "work"))
        self.pools = [
            WorkerPool(env, spec.workers, spec.queue_limit, recorder, name)
            for _ in range(spec.replicas)
        ]
        self._next_pool = cycle(self.pools).__next__  # round robin

    def handle(self, arrived: float) -> Generator[simpy.Event, object, str]:
        """Serve one request that reached this service at ``arrived``; return its outcome."""
        env = self.env
        recorder = self.recorder
        counted = recorder.arrived(arrived)
        pool = self._next_pool()
        grant = pool.admit()
        if grant is None:
            recorder.rejected(arrived, outcomes.QUEUE_FULL, counted)
            return outcomes.QUEUE_FULL
        recorder.in_system.add(arrived, 1)
        if grant is not True:
            yield grant
            if counted:
                recorder.waited(env.now - arrived)
        elif counted:
            recorder.waited(0.0)
        yield env.timeout(self.work())
        pool.release()
        now = env.now
        recorder.in_system.add(now, -1)
        recorder.completed(arrived, now, counted)
        return outcomes.OK
