"""Calls from a worker to another service: cache, breaker, connection pool, timeout, retries."""

from __future__ import annotations

from collections.abc import Callable, Generator
from math import inf
from typing import TYPE_CHECKING

import cython
import numpy as np
import simpy
from cython.cimports.libc.math import isinf  # C's, built

from sim.distributions import Sampler, Uniforms
from sim.engine.pool import WorkerPool
from sim.engine.replica import Replica
from sim.engine.request import RequestInfo
from sim.engine.retrying import CallResult, Retrier, first_or_after, with_timeout
from sim.engine.tasks import start
from sim.engine.tracing import CLIENT
from sim.measure.edges import EdgeRecorder
from sim.model.service import Call
from sim.outcomes import CIRCUIT_OPEN, OK, POOL_FULL, TIMEOUT
from sim.policies.circuit_breaker import CircuitBreaker

if TYPE_CHECKING:
    from sim.engine.service import ServiceRuntime


class CallSite:
    """One ``calls`` entry of a service, bound to its callee at run time."""

    def __init__(
        self,
        env: simpy.Environment,
        key: str,
        call: Call,
        target: ServiceRuntime,
        edge: EdgeRecorder,
        rng: Callable[[str], np.random.Generator],
        propagate: bool = False,
    ) -> None:
        self.env = env
        self.propagate = propagate  # deadlines propagate: a call gives up when its caller did
        self.key = key
        self.call = call
        self.target = target
        self.edge = edge
        self.uniform = Uniforms(rng("draws"))
        self.backoff_uniform = Uniforms(rng("backoff"))
        breaker = call.circuit_breaker
        self.fallback = (
            Sampler(breaker.fallback, rng("fallback"))
            if breaker is not None and breaker.fallback is not None
            else None
        )
        self.wire = (
            Sampler(call.network_latency, rng("network"))
            if call.network_latency is not None
            else None
        )
        self.losses = Uniforms(rng("loss")) if call.loss > 0 else None
        self.caller: ServiceRuntime | None = None  # for the spans of traced requests
        # what every attempt reads of the call, read once
        self.to = call.to
        self.timeout = inf if call.timeout is None else call.timeout
        self.enqueue = call.mode == "enqueue"
        self.breaker_spec = call.circuit_breaker
        self.at_once = call.retries is None and not call.cache_hit_ratio  # see request_now

    def copies(self) -> int:
        """How many requests this entry sends now: 0 if the call is skipped by probability."""
        call = self.call
        if call.probability < 1 and self.uniform() >= call.probability:
            return 0
        return call.count

    def request(
        self, replica: Replica, info: RequestInfo, deadline: float
    ) -> Generator[simpy.Event, object, CallResult]:
        """One logical call, with the call's retries if it has any."""
        call = self.call
        if call.cache_hit_ratio and self.uniform() < call.cache_hit_ratio:
            return OK, False
        started = self.env.now
        self.edge.logical(started)
        if call.retries is None:
            return (yield from self.attempt(replica, info, deadline, started))
        retrier = replica.retriers.get(self.key)
        if retrier is None:
            retrier = replica.retriers[self.key] = Retrier(
                self.env, call.retries, self.backoff_uniform
            )
        result, _ = yield from retrier.run(
            lambda: self.attempt(replica, info, deadline, started), info
        )
        return result

    def request_now(
        self, replica: Replica, info: RequestInfo, deadline: float
    ) -> Generator[simpy.Event, object, CallResult]:
        """:meth:`request`, for a caller that runs it at once: without retries or a cache,
        the attempt itself (one generator frame less on every event under it)."""
        if not self.at_once:
            return self.request(replica, info, deadline)
        started = self.env.now
        self.edge.logical(started)
        return self.attempt(replica, info, deadline, started)

    def _breaker(self, replica: Replica) -> CircuitBreaker | None:
        if self.breaker_spec is None:
            return None
        breaker = replica.breakers.get(self.key)
        if breaker is None:
            breaker = replica.breakers[self.key] = self.breaker_spec.build()
        return breaker  # type: ignore[no-any-return]

    @cython.locals(replica=Replica, info=RequestInfo, pool=WorkerPool, breaker=CircuitBreaker)
    def attempt(
        self, replica: Replica, info: RequestInfo, deadline: float, started: float
    ) -> Generator[simpy.Event, object, CallResult]:
        """One request to the callee, as the caller sees it, for a logical call that
        started at ``started``."""
        trace = info.trace
        if trace is not None:  # a sampled request: record this attempt as a span
            if trace.entering is not self:
                return (yield from self._traced(replica, info, deadline, started))
            trace.entering = None
        env = self.env
        issued = env.now
        breaker = self._breaker(replica)
        permit = None
        if breaker is not None:
            permit = breaker.try_acquire(issued)
            if permit is None:
                self.edge.record(started, issued, issued, CIRCUIT_OPEN)
                if self.fallback is not None:
                    yield env.timeout(self.fallback())
                    return OK, False
                return CIRCUIT_OPEN, True
        if info.cancelled:  # cancelled before it went out: it never does
            return TIMEOUT, True
        limit = issued + self.timeout
        if self.propagate:
            limit = min(limit, deadline)
        pool = replica.connections.get(self.to)
        result = None
        if pool is not None:
            grant = pool.admit()
            if grant is None:
                result = (POOL_FULL, True)
            elif grant is not True:
                if isinf(limit):
                    yield grant
                else:
                    yield first_or_after(env, grant, max(limit - env.now, 0.0))
                    if not grant.triggered:
                        pool.cancel(grant)
                        result = (TIMEOUT, True)
        if result is None:
            if self.enqueue:
                queued = info.fork() if info.trace is not None else info  # runs on its own
                start(env, self._request(queued, inf), detached=True)
                result = (OK, False)
            elif isinf(limit):
                result = ((yield from self._request(info, deadline)), False)
            else:
                # the callee is told the tighter of the two: it measures goodput (and, with
                # deadline propagation, drops) against the moment its caller stops waiting
                work = self._request(info, min(limit, deadline))
                result = yield from with_timeout(env, work, limit - env.now)
            if pool is not None:
                pool.release()
        now = env.now
        if breaker is not None:
            breaker.on_result(now, permit, now - issued, result[0] != OK)
        self.edge.record(started, issued, now, result[0])
        return result

    def _traced(
        self, replica: Replica, info: RequestInfo, deadline: float, started: float
    ) -> Generator[simpy.Event, object, CallResult]:
        """This attempt as a CLIENT span around :meth:`attempt`, with its resend count."""
        trace, tracer = info.trace, self.target.tracer
        assert trace is not None and tracer is not None and self.caller is not None
        resend = tracer.resend(trace.trace, self.key, started)
        span = tracer.start(
            trace, f"call {self.call.to}", CLIENT, self.caller.name, self.env.now,
            **{"peer.service": self.call.to, "http.request.resend_count": resend},
        )  # fmt: skip
        outer, trace.parent, trace.entering = trace.parent, span.span, self
        try:
            result = yield from self.attempt(replica, info, deadline, started)
        finally:
            trace.parent = outer
        tracer.finish(span, self.env.now, result[0])
        return result

    def _request(self, info: RequestInfo, patience: float) -> Generator[simpy.Event, object, str]:
        """The callee's handling of one attempt, over the wire if the call has one."""
        if self.wire is None and self.losses is None:
            return self.target.handle(self.env.now, info, patience)
        return self._across(info, patience)

    def _across(self, info: RequestInfo, patience: float) -> Generator[simpy.Event, object, str]:
        """The attempt on the wire: half the round trip out, the callee, half back. A lost
        request never reaches the callee; its caller hears nothing until it gives up."""
        env = self.env
        half = self.wire() / 2 if self.wire is not None else 0.0
        if half > 0:
            yield env.timeout(half)
        if self.losses is not None and self.losses() < self.call.loss:
            yield env.event()  # never answered
        outcome = yield from self.target.handle(env.now, info, patience)
        if half > 0:
            yield env.timeout(half)
        return outcome


class Step:
    """Calls made together: one sequential entry, or a group of adjacent parallel entries."""

    def __init__(self, sites: list[CallSite], parallel: bool, releases_worker: bool) -> None:
        self.sites = sites
        self.parallel = parallel
        self.releases_worker = releases_worker  # an async call frees the worker before it goes out
        site = sites[0]  # a parallel step may gain sites; a sequential one never does
        one = not parallel and site.call.count == 1 and site.call.probability == 1
        self.single = site if one else None  # the one call it always makes, if so

    def __repr__(self) -> str:
        return f"Step({self.sites!r}, {self.parallel!r}, {self.releases_worker!r})"

    def run(
        self, replica: Replica, info: RequestInfo, deadline: float
    ) -> Generator[simpy.Event, object, CallResult]:
        """Make the step's calls; the first failure (in call order) is the step's result."""
        if self.single is not None:
            return self.single.request_now(replica, info, deadline)  # one call: a frame less
        return self._run(replica, info, deadline)

    def _run(
        self, replica: Replica, info: RequestInfo, deadline: float
    ) -> Generator[simpy.Event, object, CallResult]:
        if not self.parallel:
            site = self.sites[0]
            for _ in range(site.copies()):
                result = yield from site.request(replica, info, deadline)
                if result[0] != OK:
                    return result
            return OK, False
        env = self.sites[0].env
        if any(site.call.quorum is not None for site in self.sites):
            return (yield from self._quorum(env, replica, info, deadline))
        traced = info.trace is not None  # parallel copies each keep their own trace context
        groups = [
            [
                start(env, site.request(replica, info.fork() if traced else info, deadline))
                for _ in range(site.copies())
            ]
            for site in self.sites
        ]
        processes = [process for group in groups for process in group]
        if processes:
            yield env.all_of(processes)
        for process in processes:
            if process.value[0] != OK:
                return process.value
        return OK, False

    def _quorum(
        self, env: simpy.Environment, replica: Replica, info: RequestInfo, deadline: float
    ) -> Generator[simpy.Event, object, CallResult]:
        """Done when every entry has its quorum of successes (all copies without one), or
        failed with the first failure that leaves an entry short of it. Copies still out
        run on, or are cancelled (``cancel_rest``): each copy is a fork of the request."""
        copies: list[list[RequestInfo]] = [
            [
                info.fork() if site.call.cancel_rest or info.trace is not None else info
                for _ in range(site.copies())
            ]
            for site in self.sites
        ]
        groups = [
            [start(env, site.request(replica, copy, deadline)) for copy in infos]
            for site, infos in zip(self.sites, copies, strict=True)
        ]
        needed = [
            min(site.call.quorum or len(group), len(group))
            for site, group in zip(self.sites, groups, strict=True)
        ]
        succeeded = [0] * len(groups)
        failed = [0] * len(groups)
        done = env.event()

        def answered(index: int, process: simpy.Process) -> None:
            if done.triggered:
                return
            if process.value[0] == OK:
                succeeded[index] += 1
                if all(ok >= need for ok, need in zip(succeeded, needed, strict=True)):
                    done.succeed((OK, False))
            else:
                failed[index] += 1
                if len(groups[index]) - failed[index] < needed[index]:
                    done.succeed(process.value)

        for index, group in enumerate(groups):
            for process in group:
                process.callbacks.append(lambda event, i=index: answered(i, event))
        if all(need == 0 for need in needed):
            return OK, False
        result = yield done
        for site, group, infos in zip(self.sites, groups, copies, strict=True):
            for process, copy in zip(group, infos, strict=True):
                if site.call.cancel_rest and not process.triggered:
                    copy.cancelled = True  # gRPC cancels the calls still out
        return result  # type: ignore[return-value]


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
