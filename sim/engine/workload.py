"""The clients: open-loop arrivals that each become one end-to-end request."""

from __future__ import annotations

import math
from collections.abc import Generator
from itertools import accumulate

import simpy

from sim import outcomes
from sim.engine.calls import Uniforms
from sim.engine.service import ServiceRuntime
from sim.engine.streams import Streams
from sim.metrics import Recorder
from sim.model import ConstantArrivals, PoissonArrivals, Workload


class OpenWorkload:
    """Sends requests to the entry service at the model's arrival process."""

    def __init__(
        self,
        env: simpy.Environment,
        spec: Workload,
        entry: ServiceRuntime,
        streams: Streams,
        recorder: Recorder,
    ) -> None:
        self.env = env
        self.spec = spec
        self.entry = entry
        self.recorder = recorder
        self.rng = streams.rng("workload", "arrivals")
        self._class_uniform = Uniforms(streams.rng("workload", "classes"))
        self._cumulative = list(accumulate(spec.class_shares))

    def gaps(self) -> Generator[float, None, None]:
        """Inter-arrival times of the arrival process."""
        arrivals = self.spec.arrivals
        if isinstance(arrivals, ConstantArrivals):
            gap = 1.0 / arrivals.rate
            while True:
                yield gap
        elif isinstance(arrivals, PoissonArrivals):
            mean = 1.0 / arrivals.rate
            while True:
                yield from self.rng.exponential(mean, 4096).tolist()
        else:  # pragma: no cover - the schema admits nothing else
            raise TypeError(f"unknown arrival process {arrivals!r}")

    def next_class(self) -> int:
        """The class of the next request, drawn by the workload's weights."""
        if len(self._cumulative) == 1:
            return 0
        u = self._class_uniform()
        for index, edge in enumerate(self._cumulative):
            if u < edge:
                return index
        return len(self._cumulative) - 1

    def run(self) -> Generator[simpy.Event, object, None]:
        """The arrival process: start one request process per arrival, for ever."""
        env = self.env
        timeout = env.timeout
        process = env.process
        request = self.request
        next_class = self.next_class
        for gap in self.gaps():
            yield timeout(gap)
            process(request(env.now, next_class()))

    def request(self, arrived: float, cls: int) -> Generator[simpy.Event, object, None]:
        """One client request, from its arrival to its final outcome."""
        recorder = self.recorder
        counted = recorder.arrived(arrived, cls)
        recorder.in_system.add(arrived, 1)
        outcome = yield from self.entry.handle(arrived, cls, math.inf)
        now = self.env.now
        recorder.in_system.add(now, -1)
        if outcome == outcomes.OK:
            recorder.completed(arrived, now, counted, cls)
        elif outcome in outcomes.REJECTIONS:
            recorder.rejected(now, outcome, counted, cls)
        else:
            recorder.failed(now, outcome, counted, cls)
