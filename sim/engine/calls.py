"""Calls from a worker to another service: cache, connection pool, timeout, modes."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import simpy

from sim import outcomes
from sim.metrics import EdgeRecorder
from sim.servicespec import Call

if TYPE_CHECKING:
    from sim.engine.replica import Replica
    from sim.engine.service import ServiceRuntime

CallResult = tuple[str, bool]
"""(root outcome, whether the failure is the caller's own: its timeout or its pool)."""


class Uniforms:
    """Uniform(0, 1) draws from a generator, in chunks."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._buffer: list[float] = []

    def __call__(self) -> float:
        """The next draw."""
        if not self._buffer:
            self._buffer = self._rng.random(4096).tolist()[::-1]
        return self._buffer.pop()


class CallSite:
    """One ``calls`` entry of a service, bound to its callee at run time."""

    def __init__(
        self,
        env: simpy.Environment,
        call: Call,
        target: ServiceRuntime,
        edge: EdgeRecorder,
        uniform: Callable[[], float],
    ) -> None:
        self.env = env
        self.call = call
        self.target = target
        self.edge = edge
        self.uniform = uniform

    def copies(self) -> int:
        """How many requests this entry sends now: 0 if the call is skipped by probability."""
        call = self.call
        if call.probability < 1 and self.uniform() >= call.probability:
            return 0
        return call.count

    def once(
        self, replica: Replica, cls: int, deadline: float
    ) -> Generator[simpy.Event, object, CallResult]:
        """One request to the callee, as the caller sees it."""
        call, env = self.call, self.env
        if call.cache_hit_ratio and self.uniform() < call.cache_hit_ratio:
            return outcomes.OK, False
        issued = env.now
        limit = deadline if call.timeout is None else min(deadline, issued + call.timeout)
        pool = replica.connections.get(call.to)
        if pool is not None:
            grant = pool.admit()
            if grant is None:
                self.edge.record(issued, env.now, outcomes.POOL_FULL)
                return outcomes.POOL_FULL, True
            if grant is not True:
                if call.timeout is None:
                    yield grant
                else:
                    yield grant | env.timeout(max(limit - env.now, 0.0))
                    if not grant.triggered:
                        pool.cancel(grant)
                        self.edge.record(issued, env.now, outcomes.TIMEOUT)
                        return outcomes.TIMEOUT, True
        outcome, own = yield from self._send(cls, deadline, limit)
        if pool is not None:
            pool.release()
        self.edge.record(issued, env.now, outcome)
        return outcome, own

    def _send(
        self, cls: int, deadline: float, limit: float
    ) -> Generator[simpy.Event, object, CallResult]:
        env, call = self.env, self.call
        if call.mode == "enqueue":
            env.process(self.target.handle(env.now, cls, math.inf))
            return outcomes.OK, False
        if call.timeout is None:
            outcome = yield from self.target.handle(env.now, cls, deadline)
            return outcome, False
        remaining = limit - env.now
        if remaining <= 0:
            return outcomes.TIMEOUT, True
        response = env.process(self.target.handle(env.now, cls, limit))
        yield response | env.timeout(remaining)
        if response.triggered:
            return response.value, False
        return outcomes.TIMEOUT, True  # the callee's work goes on: nobody cancels it


@dataclass
class Step:
    """Calls made together: one sequential entry, or a group of adjacent parallel entries."""

    sites: list[CallSite]
    parallel: bool
    releases_worker: bool  # an async call frees the worker before it goes out

    def run(
        self, replica: Replica, cls: int, deadline: float
    ) -> Generator[simpy.Event, object, CallResult]:
        """Make the step's calls; the first failure (in call order) is the step's result."""
        if not self.parallel:
            site = self.sites[0]
            for _ in range(site.copies()):
                result = yield from site.once(replica, cls, deadline)
                if result[0] != outcomes.OK:
                    return result
            return outcomes.OK, False
        env = self.sites[0].env
        processes = [
            env.process(site.once(replica, cls, deadline))
            for site in self.sites
            for _ in range(site.copies())
        ]
        if processes:
            yield env.all_of(processes)
        for process in processes:
            if process.value[0] != outcomes.OK:
                return process.value
        return outcomes.OK, False


def plan(sites: list[CallSite]) -> list[Step]:
    """Group a service's call sites into steps, in order."""
    steps: list[Step] = []
    for site in sites:
        asynchronous = site.call.mode == "async"
        if site.call.parallel and steps and steps[-1].parallel:
            steps[-1].sites.append(site)
            steps[-1].releases_worker |= asynchronous
        else:
            steps.append(Step([site], site.call.parallel, asynchronous))
    return steps
