"""Own work on a replica that can be frozen (GC) and shared among cores (processor sharing).

Every job in progress advances at ``speed x min(1, cores / jobs)`` seconds of work per
second: with more threads than cores each request slows down, as on a real CPU, and a
stop-the-world pause sets the speed to zero for everyone at once.
"""

from __future__ import annotations

import math

import simpy

from sim.measure.gauge import Gauge

_EPS = 1e-9  # seconds of work: what float rounding may leave of a finished job


class Executor:
    """Runs jobs of a given amount of work; :meth:`run` returns an event fired at completion."""

    def __init__(self, env: simpy.Environment, cores: float, cpu_busy: Gauge | None) -> None:
        self.env = env
        self.cores = cores
        self.cpu_busy = cpu_busy
        self.speed = 1.0
        self.jobs: dict[simpy.Event, float] = {}  # completion event -> work remaining
        self._last = 0.0
        self._version = 0
        self._busy_cores = 0.0

    def _rate(self) -> float:
        n = len(self.jobs)
        return self.speed * min(1.0, self.cores / n) if n else 0.0

    def _advance(self) -> None:
        now = self.env.now
        if self.jobs and now > self._last:
            done = (now - self._last) * self._rate()
            for job in self.jobs:
                self.jobs[job] -= done
        self._last = now

    def _reschedule(self) -> None:
        self._version += 1
        if self.cpu_busy is not None:
            busy = min(len(self.jobs), self.cores) if self.speed > 0 else 0.0
            self.cpu_busy.add(self.env.now, busy - self._busy_cores)
            self._busy_cores = busy
        rate = self._rate()
        if not self.jobs or rate <= 0:
            return
        delay = max(min(self.jobs.values()), 0.0) / rate
        version = self._version
        self.env.timeout(delay).callbacks.append(lambda _: self._complete(version))

    def _complete(self, version: int) -> None:
        if version != self._version:
            return  # superseded by a later change
        self._advance()
        for job, remaining in list(self.jobs.items()):
            if remaining <= _EPS:
                del self.jobs[job]
                job.succeed()
        self._reschedule()

    def run(self, work: float) -> simpy.Event:
        """Start a job of ``work`` seconds; the returned event fires when it is done."""
        event = self.env.event()
        if work <= 0 and self.speed > 0:
            event.succeed()
            return event
        self._advance()
        self.jobs[event] = work
        self._reschedule()
        return event

    def drop_all(self) -> None:
        """Forget every job (the process running them died): their events never fire."""
        self._advance()
        self.jobs.clear()
        self._reschedule()

    def set_speed(self, speed: float) -> None:
        """Change how fast all jobs progress (0 freezes them, 1 is normal)."""
        if speed < 0 or math.isnan(speed):
            raise ValueError("speed must be >= 0")
        self._advance()
        self.speed = speed
        self._reschedule()
