"""The clients: open-loop arrivals or closed-loop users, with their timeouts and retries."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from math import inf

import numpy as np
import simpy

from sim.distributions import Categorical, Sampler, Uniforms
from sim.engine.arrivals import arrival_times
from sim.engine.request import RequestInfo
from sim.engine.retrying import CallResult, Retrier, with_timeout
from sim.engine.service import ServiceRuntime
from sim.engine.streams import Streams
from sim.engine.tasks import TaskEnvironment, start
from sim.engine.tracing import CLIENT, Tracer
from sim.measure.recorders import BothRecorders, Recorder
from sim.model.workload import Workload
from sim.outcomes import OK, REJECTIONS


class Clients:
    """One workload's clients: sends requests, applies their timeout and retries, records.

    ``classes`` are the model's request classes (every workload's), which requests carry by
    index; ``name`` keys the random streams: ``("workload",)`` for a model's one workload,
    ``("scenario", NAME)`` for each of several. With ``passes_through`` (see
    :func:`sim.engine.replication.passes_through`) the clients record nothing: their entry's
    records are the end-to-end view, copied after the run."""

    def __init__(
        self,
        env: TaskEnvironment,
        spec: Workload,
        entry: ServiceRuntime,
        streams: Streams,
        recorder: Recorder | BothRecorders,
        classes: list[str] | None = None,
        name: tuple[str, ...] = ("workload",),
        passes_through: bool = False,
    ) -> None:
        self.env = env
        self.spec = spec
        self.entry = entry
        self.recorder = recorder
        self.streams = streams
        self.name = name
        self._class = Categorical(spec.class_shares, Uniforms(streams.rng(*name, "classes")))
        self._class_index = [(classes or spec.class_names).index(c) for c in spec.class_names]
        self._priorities = spec.priorities
        self._sizes = [
            (Sampler(c.size, streams.rng(*name, "size", c.name)), c.max_size or inf)
            if c.size is not None
            else None
            for c in spec.classes
        ]
        if not any(self._sizes):
            self._sizes = []
        weights: Sequence[float] = [1.0]
        if spec.clients is not None:
            ranks = np.arange(1, spec.clients.count + 1, dtype=float)
            weights = ranks**-spec.clients.zipf_exponent
        self._client = Categorical(weights, Uniforms(streams.rng(*name, "clients")))
        self.retrier = (
            Retrier(env, spec.retries, Uniforms(streams.rng(*name, "backoff")))
            if spec.retries is not None
            else None
        )
        self.tracer: Tracer | None = None  # samples requests for traces when set
        self.passes_through = passes_through
        # one class or one client key draws nothing: skip the call on every arrival
        self._several_classes = len(spec.class_shares) > 1
        self._several_clients = len(weights) > 1
        # neither retries nor a timeout: a request is its entry's handling, with no wrapper
        self.direct = self.retrier is None and spec.timeout is None

    @property
    def mirrored(self) -> bool:
        """Whether the end-to-end records are the entry's (a traced run keeps its own: the
        root spans are the clients')."""
        return self.passes_through and self.tracer is None

    def _sender(self) -> Callable[[float, RequestInfo], Generator[simpy.Event, object, object]]:
        """What sends one request (arrived, request): the entry's handler itself when
        mirrored, one generator frame less per event."""
        return self.entry.handle if self.mirrored else self.request

    def start(self, until: float) -> None:
        """Start the arrival process, or the users; no request starts at or after ``until``."""
        if self.spec.users is not None and self.spec.think_time is not None:
            think = Sampler(self.spec.think_time, self.streams.rng(*self.name, "think"))
            for user in range(self.spec.users):
                start(self.env, self._user(user, think, until))
        else:
            start(self.env, self._arrivals(until))

    def backlog(self, count: int) -> None:
        """``count`` client requests that arrived at t=0, all at once (a run that starts
        after an outage)."""
        for _ in range(count):
            start(self.env, self._backlogged(self._info()))

    def _backlogged(self, info: RequestInfo) -> Generator[simpy.Event, object, None]:
        yield from self._sender()(0.0, info)

    def _info(self, client: int | None = None) -> RequestInfo:
        own = self._class() if self._several_classes else 0
        if client is None:
            client = self._client() if self._several_clients else 0
        info = RequestInfo(self._class_index[own], client, self._priorities[own])
        if self.tracer is not None:
            info.trace = self.tracer.sample()
        if self._sizes and self._sizes[own] is not None:
            draw, most = self._sizes[own]
            info.size = min(draw(), most)
            info.reserved = most if most < inf else info.size
        return info

    def _arrivals(self, until: float) -> Generator[simpy.Event, object, None]:
        env = self.env
        rng = self.streams.rng(*self.name, "arrivals")
        assert self.spec.arrivals is not None  # an open-loop workload
        send = self._sender()
        for t in arrival_times(self.spec.arrivals, rng):
            if t >= until:
                return
            now = env.now
            if t > now:
                yield env.sleep(t - now)
                now = env.now
            start(env, send(now, self._info()), detached=True)

    def _user(
        self, user: int, think: Sampler, until: float
    ) -> Generator[simpy.Event, object, None]:
        env = self.env
        send = self._sender()
        while True:
            yield env.sleep(think())
            if env.now >= until:
                return
            yield from send(env.now, self._info(client=user))

    def _attempt(self, info: RequestInfo) -> Generator[simpy.Event, object, CallResult]:
        env, timeout = self.env, self.spec.timeout
        if timeout is None:
            outcome = yield from self.entry.handle(env.now, info, inf)
            return outcome, False
        work = self.entry.handle(env.now, info, env.now + timeout)
        return (yield from with_timeout(env, work, timeout))

    def _traced(self, arrived: float, info: RequestInfo) -> Generator[simpy.Event, object, None]:
        """The client request as the root CLIENT span, with its retries and final outcome;
        its attempts are the entry service's visits under it."""
        trace, tracer = info.trace, self.tracer
        assert trace is not None and tracer is not None
        who = self.name[-1] if self.name[0] == "scenario" else "clients"
        root = tracer.start(trace, f"GET {self.entry.name}", CLIENT, who, arrived)
        trace.parent, trace.entering = root.span, self
        yield from self.request(arrived, info)
        root.attributes["http.request.resend_count"] = trace.attempts - 1
        tracer.finish(root, self.env.now, trace.outcome)

    def request(self, arrived: float, info: RequestInfo) -> Generator[simpy.Event, object, None]:
        """One client request, from its first attempt to its final outcome."""
        trace = info.trace
        if trace is not None:  # a sampled request: its root span
            if trace.entering is not self:
                return (yield from self._traced(arrived, info))
            trace.entering = None
        recorder = self.recorder
        cls = info.cls
        counted = recorder.arrived(arrived, cls)
        recorder.in_system.add(arrived, 1)
        if self.direct:
            # the common case, without the attempt wrapper: one generator frame less per event
            outcome = yield from self.entry.handle(arrived, info, inf)
            attempts = 1
        elif self.retrier is None:
            outcome, _ = yield from self._attempt(info)
            attempts = 1
        else:
            (outcome, _), attempts = yield from self.retrier.run(lambda: self._attempt(info), info)
        if counted:
            recorder.attempts += attempts
        if trace is not None:
            trace.outcome, trace.attempts = outcome, attempts
        now = self.env.now
        recorder.in_system.add(now, -1)
        if outcome == OK:
            recorder.completed(arrived, now, counted, cls)
        elif outcome in REJECTIONS:
            recorder.rejected(now, outcome, counted, cls)
        else:
            recorder.failed(now, outcome, counted, cls)
