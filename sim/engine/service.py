"""A service at run time: admission, replicas behind a balancer, incidents, a request's path."""

from __future__ import annotations

from collections.abc import Callable, Generator
from math import inf, nan

import cython
import simpy
from cython.cimports.libc.math import isnan  # C's, built

from sim.distributions import Sampler, Uniforms
from sim.engine.admission import ConcurrencyLimiter, RateLimiter
from sim.engine.calls import CallSite, Step, plan
from sim.engine.replica import CRASH, Replica
from sim.engine.request import RequestInfo
from sim.engine.retrying import first_or_after
from sim.engine.streams import Streams
from sim.engine.tasks import TaskEnvironment, start
from sim.engine.tracing import SERVER, Tracer
from sim.measure.edges import EdgeRecorder
from sim.measure.recorders import Recorder
from sim.model.controls import SIZE
from sim.model.service import Incident, Service
from sim.outcomes import (
    CONCURRENCY_LIMITED,
    DOWNSTREAM,
    ERROR,
    OK,
    QUEUE_FULL,
    RATE_LIMITED,
    REJECTIONS,
    TIMEOUT,
)
from sim.policies.balancer import Balancer
from sim.policies.healthcheck import HealthState, in_panic
from sim.policies.incidents import NO_EFFECT, Effect, IncidentSchedule
from sim.policies.outlier import OutlierDetector
from sim.policies.scalability import stretch

_HANG = "hang"

Handler = Callable[..., Generator[simpy.Event, object, str]]
"""What serves one request at a service: (arrived, request[, deadline]) -> root outcome."""


def is_plain(spec: Service, classes: list[str]) -> bool:
    """Whether a service answers each request with its own work, then its calls in order,
    from one shared worker pool: no incidents that take it down or strike chosen replicas
    (slowdowns, added latency and errors are fine), no admission limits, listen backlog,
    GC, CPUs, contention, per-unit work, autoscaling, outlier detection or health checks.
    Its requests take the short path, :meth:`ServiceRuntime._handle_plain`."""
    return not (
        any(inc.down is not None or inc.replicas is not None for inc in spec.incidents)
        or spec.rate_limit is not None
        or spec.concurrency_limit is not None
        or spec.listen_backlog is not None
        or spec.gc is not None
        or spec.cpus is not None
        or spec.scalability is not None
        or spec.work_per_unit
        or spec.autoscaling is not None
        or spec.outlier_detection is not None
        or spec.health_check is not None
    )


class ServiceRuntime:
    """Serves requests: incidents, admission limits, balancer, a replica's worker pool, own
    work, calls, response."""

    def __init__(
        self,
        env: TaskEnvironment,
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
            Replica(env, name, i, spec, recorder, streams) for i in range(spec.initial_replicas)
        ]
        self.ready = list(self.replicas)  # the balancer chooses among these
        self.provisioning: list[Replica] = []
        self.arrival_count = 0  # every arrival, warm-up included: for the autoscaler
        for gauge in (recorder.ready, recorder.serving, recorder.provisioned, recorder.desired):
            gauge.add(0.0, len(self.replicas))
        scaling = spec.autoscaling
        self._provisioning_delay = (
            Sampler(scaling.provisioning_delay, streams.rng("service", name, "provisioning"))
            if scaling is not None
            else None
        )
        self.balancer = Balancer(
            spec.balancer, streams.rng("service", name, "balancer"), spec.choice_count
        )
        self.incidents = IncidentSchedule(spec.incidents) if spec.incidents else None
        self.errors = Uniforms(streams.rng("service", name, "errors"))
        self.added_latency = {
            i: Sampler(inc.added_latency, streams.rng("service", name, "incident", str(i)))
            for i, inc in enumerate(spec.incidents)
            if inc.added_latency is not None
        }
        self.patience = (
            Sampler(spec.queue_timeout.after, streams.rng("service", name, "queue_timeout"))
            if spec.queue_timeout is not None
            else None
        )
        rate, concurrency = spec.rate_limit, spec.concurrency_limit
        self.rate_limiter = (
            RateLimiter(rate, streams, name)
            if rate is not None and rate.scope == "service"
            else None
        )
        self.concurrency = None
        if concurrency is not None:
            recorder.has_limit = True
            if concurrency.scope == "service":
                self.concurrency = ConcurrencyLimiter(concurrency, recorder.limit)
        # with a limit or an incident of its own, the replica is chosen before admission
        self.replica_incidents = any(inc.replicas is not None for inc in spec.incidents)
        self.per_replica = self.replica_incidents or any(
            limit is not None and limit.scope == "replica" for limit in (rate, concurrency)
        )
        self.crashable = any(inc.down == CRASH for inc in spec.incidents)
        for incident in spec.incidents:
            if incident.down == CRASH:
                start(env, self._crash(incident))
        self.usl = spec.scalability
        self.per_unit = spec.work_per_unit or 0.0
        self.reconciles = rate is not None and rate.cost == SIZE
        outliers = spec.outlier_detection
        self.outliers = (
            OutlierDetector(
                outliers.consecutive_5xx,
                outliers.base_ejection_time,
                outliers.max_ejection_percent,
            )
            if outliers is not None
            else None
        )
        self._streams = streams
        # replicas can be passed over: ejected by outlier detection, failing health checks
        self.screens = self.outliers is not None or spec.health_check is not None
        self.plain = is_plain(spec, classes)
        self.tracer = None  # set when requests are traced; chooses the handler
        self.health_events: list[tuple[float, int, bool]] = []  # (time, replica, healthy)
        self._check_phase = (  # where in its first interval each replica is first checked
            Uniforms(streams.rng("service", name, "health_check"))
            if spec.health_check is not None
            else None
        )
        for replica in self.replicas:
            self._equip(replica, initial=True)
        self.steps: list[list[Step]] = []
        self.edges: dict[str, EdgeRecorder] = {}
        self._classes = classes

    @property
    def tracer(self) -> Tracer | None:
        """Samples requests for traces, when set."""
        return self._tracer

    @tracer.setter
    def tracer(self, tracer: Tracer | None) -> None:
        self._tracer = tracer
        self.handle: Handler = (
            self._handle_plain if self.plain and tracer is None else self._handle_any
        )
        """Serve one request that reached this service at ``arrived``; return its root
        outcome (see :meth:`_handle_any`)."""

    def _equip(self, replica: Replica, initial: bool = False) -> None:
        """Give a replica that starts serving its own limits (scope: replica) and its
        health checks: one present from the start counts as healthy and is first checked
        at a random point of the first interval; one added later is unhealthy until its
        first check, made at once, passes."""
        checks = self.spec.health_check
        if checks is not None:
            replica.health = HealthState(
                checks.unhealthy_threshold, checks.healthy_threshold, healthy=initial
            )
            assert self._check_phase is not None  # made for a service with checks
            first = self._check_phase() * checks.interval if initial else 0.0
            start(self.env, self._health_checks(replica, first))
        rate, concurrency = self.spec.rate_limit, self.spec.concurrency_limit
        if rate is not None and rate.scope == "replica":
            replica.rate_limiter = RateLimiter(rate, self._streams, self.name, str(replica.index))
        if concurrency is not None and concurrency.scope == "replica":
            replica.concurrency = ConcurrencyLimiter(concurrency, self.recorder.limit, self.env.now)

    def _concurrency_of(self, replica: Replica | None) -> ConcurrencyLimiter | None:
        """The concurrency limit a request at ``replica`` answers to, if any."""
        return self.concurrency or (replica.concurrency if replica is not None else None)

    def connect(self, services: dict[str, ServiceRuntime]) -> None:
        """Bind this service's calls to their callees (all services must exist first)."""
        rec = self.recorder
        for cls in self._classes:
            sites = []
            for index, call in enumerate(self.spec.calls_for(cls)):
                edge = self.edges.setdefault(call.to, EdgeRecorder(rec.warmup, rec.horizon))
                key = f"{cls}/{index}"

                def rng(part: str, key: str = key):
                    return self._streams.rng("service", self.name, "call", key, part)

                site = CallSite(self.env, key, call, services[call.to], edge, rng)
                site.caller = self
                sites.append(site)
            self.steps.append(plan(sites))

    def backlog(self, count: int) -> None:
        """``count`` requests that reached this service at t=0 (a backlog left by an
        outage), from callers that are not part of the run."""
        for _ in range(count):
            start(self.env, self.handle(0.0, RequestInfo()))

    @cython.locals(replica=Replica)
    def choose(self) -> Replica | None:
        """The ready replica that gets the next request (None if none is ready). Ejected
        and unhealthy replicas are passed over, unless too few are left (Envoy's panic)."""
        ready = self.ready
        if self.screens:
            ready = self._usable(ready)
        if len(ready) == 1:
            return ready[0]
        if not ready:
            return None
        active = []
        for replica in ready:
            active.append(replica.active)
        return ready[self.balancer.choose(active)]

    def _usable(self, ready: list[Replica]) -> list[Replica]:
        """The ready replicas neither ejected nor failing their checks; all of them when
        that leaves fewer than ``panic_threshold`` percent."""
        now, outliers = self.env.now, self.outliers
        usable = [
            r
            for r in ready
            if (r.health is None or r.health.healthy)
            and (outliers is None or not outliers.ejected(r.index, now))
        ]
        return ready if in_panic(len(usable), len(ready), self.spec.panic_threshold) else usable

    def _health_checks(
        self, replica: Replica, first: float
    ) -> Generator[simpy.Event, object, None]:
        """Check ``replica`` every interval (after the previous check ends) while it exists."""
        spec, env = self.spec.health_check, self.env
        yield env.timeout(first)
        while replica.state in ("ready", "draining"):
            passed = yield from self._check(replica, spec.timeout)
            if replica.health.record(passed):
                self.health_events.append((env.now, replica.index, replica.health.healthy))
            yield env.timeout(spec.interval)

    def _check(self, replica: Replica, timeout: float) -> Generator[simpy.Event, object, bool]:
        """One health check: refused by a replica that is down or full, unanswered by one
        that hangs, else answered once a worker is free (no work of its own)."""
        env = self.env
        incidents = self.incidents
        effect = incidents.at(env.now, replica.index) if incidents is not None else NO_EFFECT
        if effect.down is not None:
            if effect.down == _HANG:
                yield env.timeout(timeout)
            return False
        grant = replica.pool.admit(0, inf)
        if grant is None:
            return False
        if grant is not True:
            yield first_or_after(env, grant, timeout)
            if not grant.triggered:
                replica.pool.cancel(grant)
                return False
            if grant.value is not None:
                return False  # shed from the queue
        replica.pool.release()
        return True

    # --- scaling ------------------------------------------------------------------------

    @property
    def wanted(self) -> int:
        """Replicas ready or on their way (the HPA's current count)."""
        return len(self.ready) + len(self.provisioning)

    def scale_to(self, desired: int) -> None:
        """Start or remove replicas so that ``desired`` are ready or on their way.

        New replicas serve after their provisioning delay. Removal takes replicas still
        provisioning first, then the newest ready ones, which drain: no new requests, gone
        when their last request is answered.
        """
        recorder, now = self.recorder, self.env.now
        recorder.desired.add(now, desired - recorder.desired.value)
        while self.wanted < desired:
            replica = Replica(
                self.env, self.name, len(self.replicas), self.spec, recorder, self._streams
            )
            replica.state = "provisioning"
            self.replicas.append(replica)
            self.provisioning.append(replica)
            recorder.provisioned.add(now, 1)
            start(self.env, self._provision(replica))
        while self.wanted > desired:
            if self.provisioning:
                replica = self.provisioning.pop()
                replica.state = "gone"
                recorder.provisioned.add(now, -1)
                continue
            replica = max(self.ready, key=lambda r: r.index)
            self.ready.remove(replica)
            replica.state = "draining"
            recorder.ready.add(now, -1)
            if replica.active == 0:
                self._retire(replica)

    def _provision(self, replica: Replica) -> Generator[simpy.Event, object, None]:
        yield self.env.timeout(self._provisioning_delay())
        if replica.state != "provisioning":
            return  # cancelled while it started
        now = self.env.now
        self.provisioning.remove(replica)
        replica.state = "ready"
        replica.cold_until = now + self.spec.autoscaling.warmup_duration
        self._equip(replica)
        self.ready.append(replica)
        self.recorder.ready.add(now, 1)
        self.recorder.serving.add(now, 1)

    def _leave(self, replica: Replica) -> None:
        """A request admitted to ``replica`` is done with it: a draining replica may go."""
        replica.active -= 1
        if replica.state == "draining" and replica.active == 0:
            self._retire(replica)
        self.recorder.in_system.add(self.env.now, -1)

    def _retire(self, replica: Replica) -> None:
        replica.state = "gone"
        now = self.env.now
        if replica.concurrency is not None:
            replica.concurrency.retire(now)
        self.recorder.serving.add(now, -1)
        self.recorder.provisioned.add(now, -1)

    def breakers_towards(self, callee: str) -> list:
        """Every replica's circuit breakers on calls to ``callee``, in a fixed order (sums of
        floats depend on their order, and same seed must mean the same digits)."""
        keys = dict.fromkeys(
            site.key
            for steps in self.steps
            for step in steps
            for site in step.sites
            if site.call.to == callee and site.call.circuit_breaker is not None
        )
        return [r.breakers[k] for r in self.replicas for k in keys if k in r.breakers]

    def imbalance(self) -> float:
        """Busiest replica's share of requests over the mean share (1 = perfectly even)."""
        counts = [r.assigned for r in self.replicas]
        total = sum(counts)
        return max(counts) * len(counts) / total if total else 1.0

    def _work(self, info: RequestInfo, effect: Effect, replica: Replica) -> float:
        work = self.work[info.cls]()
        if self.per_unit:
            work += self.per_unit * info.size
        usl = self.usl
        if usl is not None:  # the worker is held: busy counts this request too
            work *= stretch(replica.pool.busy, usl.contention, usl.coherency)
        if effect is not NO_EFFECT:
            work = self._under(effect, work)
        if replica.cold_until > self.env.now:
            scaling = self.spec.autoscaling
            left = (replica.cold_until - self.env.now) / scaling.warmup_duration
            work *= 1 + (scaling.cold_slowdown - 1) * left
        return work

    def _under(self, effect: Effect, work: float) -> float:
        """``work`` under the incidents' ``effect``: slowed down, and their added latency."""
        return work * effect.slowdown + sum(self.added_latency[i]() for i in effect.added)

    def _refuse(self, info: RequestInfo, outcome: str, retry_after: float) -> str:
        if retry_after > 0:
            info.retry_after = retry_after
        return outcome

    def _handle_any(
        self, arrived: float, info: RequestInfo, deadline: float = inf
    ) -> Generator[simpy.Event, object, str]:
        """Serve one request that reached this service at ``arrived``; return its root outcome.

        The request path, step by step: incidents, admission (rate limit, concurrency
        limit), a replica's queue, service (own work, then calls), response. ``deadline``
        is when the caller stops waiting (infinity if it never does).
        """
        trace = info.trace
        if trace is not None:  # a sampled request: record this visit as a span
            if trace.entering is not self:
                return (yield from self._traced(arrived, info, deadline))
            trace.entering = None
        counted = self.recorder.arrived(arrived, info.cls)
        self.arrival_count += 1
        incidents = self.incidents
        effect = incidents.at(arrived) if incidents is not None else NO_EFFECT
        if effect.down is not None:
            return (yield from self._down(effect, info, counted))
        chosen = None
        if self.per_replica:
            chosen = self.choose()
            if chosen is None:  # nothing ready: refused like a full queue (503), unadmitted
                self.recorder.rejected(arrived, QUEUE_FULL, counted, info.cls)
                return self._refuse(info, QUEUE_FULL, self.spec.retry_after or 0)
            if self.replica_incidents:
                effect = incidents.at(arrived, chosen.index)
                if effect.down is not None:
                    return (yield from self._down(effect, info, counted, chosen))
        if self.rate_limiter is not None or self.concurrency is not None or chosen is not None:
            refusal = yield from self._admit(arrived, info, counted, chosen)
            if refusal is not None:
                return refusal
        replica, grant = self._queue(info, counted, chosen)
        if grant is None and self.spec.listen_backlog is not None:
            replica, grant = yield from self._retransmit(info, counted, chosen)
            if grant is None:
                return (yield from self._connect_failed(info, counted, replica))
        if grant is None:
            return self._finish_rejected(info, QUEUE_FULL, counted, replica, arrived)
        if grant is not True:
            shed = yield grant
            if shed is not None:
                self._leave(replica)
                return self._finish_rejected(info, shed, counted, replica, arrived)
        start = self.env.now
        if counted:
            self.recorder.waited(start - arrived)
        if trace is not None and trace.span is not None:
            trace.span.events.append((start, "dequeued", {"queue.wait.seconds": start - arrived}))
        outcome, own, released = yield from self._serve(replica, info, effect, start, deadline)
        return self._respond(
            replica, info, counted, arrived, start, released, deadline, outcome, own
        )

    @cython.locals(info=RequestInfo, replica=Replica, step=Step, sampler=Sampler)
    def _handle_plain(
        self, arrived: float, info: RequestInfo, deadline: float = inf
    ) -> Generator[simpy.Event, object, str]:
        """:meth:`_handle_any` for a plain service (see :func:`is_plain`): the same steps,
        without the checks for what it has not got."""
        recorder = self.recorder
        counted = recorder.arrived(arrived, info.cls)
        self.arrival_count += 1
        incidents = self.incidents  # none takes it down (see is_plain)
        effect = incidents.at(arrived) if incidents is not None else NO_EFFECT
        replica, grant = self._queue(info, counted)
        if grant is None:
            return self._finish_rejected(info, QUEUE_FULL, counted, replica, arrived)
        if grant is not True:
            shed = yield grant
            if shed is not None:
                self._leave(replica)
                return self._finish_rejected(info, shed, counted, replica, arrived)
        env = self.env
        start = env.now
        if counted:
            recorder.waited(start - arrived)
        if (self.deadline_propagation and start > deadline) or info.cancelled:
            replica.pool.release(info.size)  # the caller has gone: drop instead of serving
            return self._respond(
                replica, info, counted, arrived, start, start, deadline, TIMEOUT, True
            )
        sampler = self.work[info.cls]
        work = sampler.draw()
        if effect is not NO_EFFECT:
            work = self._under(effect, work)
        yield env.sleep(work)
        outcome, own, released = OK, True, nan
        if effect is not NO_EFFECT and effect.error_rate and self.errors() < effect.error_rate:
            outcome = ERROR
        else:
            # the calls as _serve makes them, written out here: a frame of their own
            # would cost every event under them
            for step in self.steps[info.cls]:
                if info.cancelled:  # cancelled while working: no more calls go out
                    outcome = TIMEOUT
                    break
                if step.releases_worker and isnan(released):
                    replica.pool.release(info.size)
                    released = env.now
                outcome, own = yield from step.run(replica, info, deadline)
                if outcome != OK:
                    break
        if isnan(released):
            replica.pool.release(info.size)
            released = env.now
        if outcome != OK:
            return self._respond(
                replica, info, counted, arrived, start, released, deadline, outcome, own
            )
        self._leave(replica)  # what _respond does for a plain service's success
        now = env.now
        recorder.completed(arrived, now, counted, info.cls, now <= deadline, start, released)
        return OK

    def _traced(
        self, arrived: float, info: RequestInfo, deadline: float
    ) -> Generator[simpy.Event, object, str]:
        """This visit as a SERVER span around :meth:`handle`; the queue wait an event."""
        trace, tracer = info.trace, self.tracer
        assert trace is not None and tracer is not None
        span = tracer.start(trace, self.name, SERVER, self.name, arrived)
        outer = trace.parent, trace.span
        trace.parent, trace.span, trace.entering = span.span, span, self
        try:
            outcome = yield from self.handle(arrived, info, deadline)
        finally:
            trace.parent, trace.span = outer
        tracer.finish(span, self.env.now, outcome)
        return outcome

    def _down(
        self, effect: Effect, info: RequestInfo, counted: bool, replica: Replica | None = None
    ) -> Generator[simpy.Event, object, str]:
        """An incident has the service down: fail at once, or hang until the window closes.

        A hung request gets no answer while the service is down; when it comes back (a
        restart) its connection is reset, so every caller still waiting fails at once.
        """
        if effect.down == _HANG:
            yield self.env.timeout(effect.down_until - self.env.now)
        self.recorder.failed(self.env.now, ERROR, counted, info.cls)
        self._answered(replica, failed=True)
        return ERROR

    def _answered(self, replica: Replica | None, failed: bool) -> None:
        """What outlier detection sees of a response from ``replica``: a 5xx, or not."""
        if self.outliers is not None and replica is not None:
            self.outliers.record(replica.index, failed, self.env.now, len(self.ready))

    def _admit(
        self, arrived: float, info: RequestInfo, counted: bool, replica: Replica | None
    ) -> Generator[simpy.Event, object, str | None]:
        """Rate limit, then concurrency limit (the service's, or ``replica``'s own): the
        refusal's outcome, or None if admitted."""
        rate_limiter = self.rate_limiter
        if rate_limiter is None and replica is not None:
            rate_limiter = replica.rate_limiter
        if rate_limiter is not None:
            admission = rate_limiter.admit(arrived, info)
            if not admission.admitted:
                self.recorder.rejected(arrived, RATE_LIMITED, counted, info.cls)
                return self._refuse(info, RATE_LIMITED, admission.retry_after)
            if admission.delay > 0:
                yield self.env.timeout(admission.delay)  # nginx holds it, then passes it on
        concurrency = self._concurrency_of(replica)
        if concurrency is not None and not concurrency.try_enter():
            now = self.env.now
            self.recorder.rejected(now, CONCURRENCY_LIMITED, counted, info.cls)
            return self._refuse(info, CONCURRENCY_LIMITED, self.spec.retry_after or 0)
        return None

    @cython.locals(replica=Replica)
    def _queue(
        self, info: RequestInfo, counted: bool, chosen: Replica | None = None
    ) -> tuple[Replica | None, object]:
        """A ready replica's pool (``chosen``, or the balancer's choice now): (replica, True)
        with a worker now, (replica, event) to wait for one, or (…, None) when there is no
        replica or no room (queue_full)."""
        replica = chosen if chosen is not None else self.choose()
        if replica is None:  # nothing ready: refused like a full queue (503)
            return None, None
        if counted:
            replica.assigned += 1
        patience = self.patience() if self.patience is not None else inf
        grant = replica.pool.admit(info.priority, patience, info.size)
        if grant is not None:
            replica.active += 1
            self.recorder.in_system.add(self.env.now, 1)
        return replica, grant

    def _retransmit(
        self, info: RequestInfo, counted: bool, chosen: Replica | None
    ) -> Generator[simpy.Event, object, tuple[Replica | None, object]]:
        """The SYN was dropped (backlog full): the client's TCP tries again after 1 s, then
        2, 4, ... s (Linux's initial RTO, doubled each time), up to ``syn_retries`` times."""
        replica, grant = chosen, None
        for attempt in range(self.spec.listen_backlog.syn_retries):
            yield self.env.timeout(2.0**attempt)
            replica, grant = self._queue(info, counted, chosen)
            if grant is not None:
                break
        return replica, grant

    def _connect_failed(
        self, info: RequestInfo, counted: bool, replica: Replica | None
    ) -> Generator[simpy.Event, object, str]:
        """Every SYN was dropped: the client waits out the last backoff, then connect()
        fails (ETIMEDOUT, 127 s after the first try with the default six retries)."""
        yield self.env.timeout(2.0**self.spec.listen_backlog.syn_retries)
        now = self.env.now
        self.recorder.failed(now, ERROR, counted, info.cls)
        concurrency = self._concurrency_of(replica)
        if concurrency is not None:
            concurrency.leave(now, 0.0, True)
        return ERROR

    def _serve(
        self, replica: Replica, info: RequestInfo, effect: Effect, start: float, deadline: float
    ) -> Generator[simpy.Event, object, tuple[str, bool, float]]:
        """Own work, then the calls in order, holding the worker until a call releases it.

        Returns the outcome, whether it is this service's own (not a callee's), and when
        the worker was released.
        """
        env, pool = self.env, replica.pool
        outcome, own, released = OK, True, nan
        if (self.deadline_propagation and start > deadline) or info.cancelled:
            outcome = TIMEOUT  # the caller has gone: drop instead of serving
        else:
            if replica.gc_trigger is not None:
                replica.request_started()
            work = self._work(info, effect, replica)
            lives = replica.crashes
            if self.crashable:
                outcome = yield from self._work_unless_crash(replica, work)
            elif replica.executor is None:
                yield env.sleep(work)
            else:
                yield replica.executor.run(work)
            if outcome != OK:
                pass  # its replica crashed under it
            elif effect.error_rate and self.errors() < effect.error_rate:
                outcome = ERROR
            else:
                for step in self.steps[info.cls]:
                    if info.cancelled:  # cancelled while working: no more calls go out
                        outcome = TIMEOUT
                        break
                    if step.releases_worker and isnan(released):
                        pool.release(info.size)
                        released = env.now
                    outcome, own = yield from step.run(replica, info, deadline)
                    if outcome != OK:
                        break
                if replica.crashes != lives:  # it crashed while the calls were out
                    outcome, own = ERROR, True
        if isnan(released):
            pool.release(info.size)
            released = env.now
        return outcome, own, released

    def _work_unless_crash(
        self, replica: Replica, work: float
    ) -> Generator[simpy.Event, object, str]:
        """Own work on a replica that may crash meanwhile: ``error`` at once if it does."""
        env = self.env
        process = env.active_process
        replica.working.add(process)
        try:
            if replica.executor is None:
                yield env.timeout(work)
            else:
                yield replica.executor.run(work)
        except simpy.Interrupt:
            return ERROR
        finally:
            replica.working.discard(process)
        return OK

    def _crash(self, incident: Incident) -> Generator[simpy.Event, object, None]:
        """At the incident's start its replicas crash; its window keeps them down."""
        yield self.env.timeout(incident.start)
        for replica in self.replicas:
            chosen = incident.replicas is None or replica.index in incident.replicas
            if chosen and replica.state in ("ready", "draining"):
                replica.crash()

    def _respond(
        self,
        replica: Replica,
        info: RequestInfo,
        counted: bool,
        arrived: float,
        start: float,
        released: float,
        deadline: float,
        outcome: str,
        own: bool,
    ) -> str:
        """The response leaves: the replica and the concurrency limit let go, one outcome
        is recorded."""
        self._leave(replica)
        now, recorder, cls = self.env.now, self.recorder, info.cls
        if self.reconciles:
            self._reconcile(replica, info, arrived, info.size)
        concurrency = self.concurrency or replica.concurrency  # the hot path: no calls
        if concurrency is not None:
            concurrency.leave(now, now - arrived, outcome != OK)
        if self.outliers is not None:
            self._answered(replica, failed=outcome != OK)
        if outcome == OK:
            recorder.completed(arrived, now, counted, cls, now <= deadline, start, released)
        elif not own:
            recorder.failed(now, DOWNSTREAM, counted, cls)
        elif outcome in REJECTIONS:
            recorder.rejected(now, outcome, counted, cls)
        else:
            recorder.failed(now, outcome, counted, cls)
        return outcome

    def _reconcile(
        self, replica: Replica | None, info: RequestInfo, admitted: float, spent: float
    ) -> None:
        """A token limit charged the request's reservation at admission: give back what
        it did not spend."""
        limiter = self.rate_limiter or (replica.rate_limiter if replica is not None else None)
        if limiter is not None and info.reserved > spent:
            limiter.refund(self.env.now, admitted, info, info.reserved - spent)

    def _finish_rejected(
        self,
        info: RequestInfo,
        outcome: str,
        counted: bool,
        replica: Replica | None,
        admitted: float = nan,
    ) -> str:
        now = self.env.now
        if self.reconciles and not isnan(admitted):
            self._reconcile(replica, info, admitted, 0.0)  # refused after admission: no work
        crashed = outcome == ERROR  # its replica crashed while it waited
        if crashed:
            self.recorder.failed(now, outcome, counted, info.cls)
        else:
            self.recorder.rejected(now, outcome, counted, info.cls)
        concurrency = self._concurrency_of(replica)
        if concurrency is not None:
            concurrency.leave(now, 0.0, True)
        self._answered(replica, failed=True)  # a 503 from it, or a reset connection
        return outcome if crashed else self._refuse(info, outcome, self.spec.retry_after or 0)
