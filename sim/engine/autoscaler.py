"""Autoscalers wired to time: the HPA's sync loop, step scaling on an alarm, a schedule."""

from __future__ import annotations

from collections.abc import Generator

import simpy

from sim.engine.service import ServiceRuntime
from sim.engine.tasks import start
from sim.model.scaling import ScheduleSpec
from sim.policies.scaling import Scaler


class MetricWindow:
    """A service's scaling metric per ready replica, averaged since the previous reading."""

    def __init__(self, service: ServiceRuntime, metric: str) -> None:
        self.service = service
        self.metric = metric
        self.last_time = 0.0
        self.last_value = 0.0

    def _integral(self, now: float) -> float:
        rec = self.service.recorder
        if self.metric == "utilization":
            return rec.busy.integral(now)
        if self.metric == "cpu":
            return rec.cpu_busy.integral(now)
        if self.metric == "in_flight":
            return rec.in_system.integral(now)
        if self.metric == "queue_depth":
            return rec.queue.integral(now)
        return float(self.service.arrival_count)  # request_rate

    def read(self, now: float) -> float:
        """The metric's mean per replica since the last reading."""
        value = self._integral(now)
        elapsed = now - self.last_time
        delta = value - self.last_value
        self.last_time, self.last_value = now, value
        service = self.service
        if elapsed <= 0:
            return 0.0
        per_second = delta / elapsed
        if self.metric in ("utilization", "cpu"):
            serving = service.recorder.serving.value
            unit = service.spec.most_workers if self.metric == "utilization" else service.spec.cpus
            return per_second / max(serving * unit, 1)
        return per_second / max(len(service.ready), 1)


def _record(service: ServiceRuntime, metric: float, events: list, desired: int) -> None:
    rec, now = service.recorder, service.env.now
    rec.scaler_metric.add(now, metric - rec.scaler_metric.value)
    before = service.wanted
    if desired != before:
        events.append((now, service.name, before, desired))
    service.scale_to(desired)


def scaling_loop(
    env: simpy.Environment,
    service: ServiceRuntime,
    scaler: Scaler,
    period: float,
    metric: str,
    events: list,
) -> Generator[simpy.Event, object, None]:
    """Every period: read the metric, ask the scaler, scale."""
    window = MetricWindow(service, metric)
    while True:
        yield env.timeout(period)
        value = window.read(env.now)
        desired = scaler.scale(
            env.now, value, len(service.ready), len(service.provisioning), service.wanted
        )
        _record(service, value, events, desired)


def schedule_loop(
    env: simpy.Environment, service: ServiceRuntime, spec: ScheduleSpec, events: list
) -> Generator[simpy.Event, object, None]:
    """Set the replica count at each scheduled time."""
    for entry in sorted(spec.schedule, key=lambda e: e.at):
        if entry.at > env.now:
            yield env.timeout(entry.at - env.now)
        _record(service, float(entry.replicas), events, entry.replicas)


def start_autoscaler(env: simpy.Environment, service: ServiceRuntime, events: list) -> None:
    """Start the service's autoscaler process, if it has one."""
    spec = service.spec.autoscaling
    if isinstance(spec, ScheduleSpec):
        start(env, schedule_loop(env, service, spec, events))
    elif spec is not None:
        start(env, scaling_loop(env, service, spec.build(), spec.period, spec.metric, events))
