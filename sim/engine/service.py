"""A service at run time: replicas behind a balancer, incidents, and a request's path through it."""

from __future__ import annotations

import math
from collections.abc import Generator

import simpy

from sim import outcomes
from sim.distributions import Sampler
from sim.engine.calls import CallSite, Step, Uniforms, plan
from sim.engine.replica import Replica
from sim.engine.streams import Streams
from sim.metrics import EdgeRecorder, Recorder
from sim.policies.balancer import Balancer
from sim.policies.incidents import NO_EFFECT, effect_at
from sim.servicespec import Service

_HANG = "hang"


class ServiceRuntime:
    """Serves requests: incidents, balancer, a replica's worker pool, own work, calls, response."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        spec: Service,
        classes: list[str],
        streams: Streams,
        recorder: Recorder,
        deadline_propagation: bool,
    ) -> None:
        self.env = env
        self.name = name
        self.spec = spec
        self.recorder = recorder
        self.deadline_propagation = deadline_propagation
        self.work = [
            Sampler(spec.work_for(cls), streams.rng("service", name, "work", cls))
            for cls in classes
        ]
        self.replicas = [
            Replica(env, name, i, spec, recorder, streams) for i in range(spec.replicas)
        ]
        self.balancer = Balancer(
            spec.balancer, streams.rng("service", name, "balancer"), spec.choice_count
        )
        self.incidents = spec.incidents
        self.errors = Uniforms(streams.rng("service", name, "errors"))
        self.added_latency = {
            i: Sampler(inc.added_latency, streams.rng("service", name, "incident", str(i)))
            for i, inc in enumerate(spec.incidents)
            if inc.added_latency is not None
        }
        self.steps: list[list[Step]] = []
        self.edges: dict[str, EdgeRecorder] = {}
        self._classes = classes
        self._streams = streams

    def connect(self, services: dict[str, ServiceRuntime]) -> None:
        """Bind this service's calls to their callees (all services must exist first)."""
        rec = self.recorder
        for cls in self._classes:
            sites = []
            for index, call in enumerate(self.spec.calls_for(cls)):
                edge = self.edges.setdefault(call.to, EdgeRecorder(rec.warmup, rec.horizon))
                uniform = Uniforms(self._streams.rng("service", self.name, "call", cls, str(index)))
                sites.append(CallSite(self.env, call, services[call.to], edge, uniform))
            self.steps.append(plan(sites))

    def choose(self) -> Replica:
        """The replica that gets the next request."""
        replicas = self.replicas
        if len(replicas) == 1:
            return replicas[0]
        return replicas[self.balancer.choose([r.active for r in replicas])]

    def imbalance(self) -> float:
        """Busiest replica's share of requests over the mean share (1 = perfectly even)."""
        counts = [r.assigned for r in self.replicas]
        total = sum(counts)
        return max(counts) * len(counts) / total if total else 1.0

    def _work(self, cls: int, effect) -> float:
        work = self.work[cls]()
        if effect is not NO_EFFECT:
            work = work * effect.slowdown + sum(self.added_latency[i]() for i in effect.added)
        return work

    def handle(
        self, arrived: float, cls: int, deadline: float = math.inf
    ) -> Generator[simpy.Event, object, str]:
        """Serve one request that reached this service at ``arrived``; return its root outcome.

        ``deadline`` is when the caller stops waiting (infinity if it never does).
        """
        env = self.env
        recorder = self.recorder
        counted = recorder.arrived(arrived, cls)
        effect = effect_at(self.incidents, arrived) if self.incidents else NO_EFFECT
        if effect.down is not None:
            if effect.down == _HANG:
                yield env.event()  # never answered: the caller's timeout decides
            recorder.failed(env.now, outcomes.ERROR, counted, cls)
            return outcomes.ERROR
        replica = self.choose()
        if counted:
            replica.assigned += 1
        pool = replica.pool
        grant = pool.admit()
        if grant is None:
            recorder.rejected(arrived, outcomes.QUEUE_FULL, counted, cls)
            return outcomes.QUEUE_FULL
        replica.active += 1
        recorder.in_system.add(arrived, 1)
        if grant is not True:
            yield grant
        start = env.now
        if counted:
            recorder.waited(start - arrived)
        outcome, own, holding = outcomes.OK, True, True
        if self.deadline_propagation and start > deadline:
            outcome = outcomes.TIMEOUT  # the caller has gone: drop instead of serving
        else:
            if replica.gc_trigger is not None:
                replica.request_started()
            work = self._work(cls, effect)
            if replica.executor is None:
                yield env.timeout(work)
            else:
                yield replica.executor.run(work)
            if effect.error_rate and self.errors() < effect.error_rate:
                outcome = outcomes.ERROR
            else:
                for step in self.steps[cls]:
                    if step.releases_worker and holding:
                        pool.release()
                        holding = False
                        held = env.now - start
                    outcome, own = yield from step.run(replica, cls, deadline)
                    if outcome != outcomes.OK:
                        break
        if holding:
            pool.release()
            held = env.now - start
        replica.active -= 1
        now = env.now
        recorder.in_system.add(now, -1)
        if outcome == outcomes.OK:
            recorder.completed(arrived, now, counted, cls, now <= deadline, held)
        elif not own:
            recorder.failed(now, outcomes.DOWNSTREAM, counted, cls)
        elif outcome in outcomes.REJECTIONS:
            recorder.rejected(now, outcome, counted, cls)
        else:
            recorder.failed(now, outcome, counted, cls)
        return outcome
