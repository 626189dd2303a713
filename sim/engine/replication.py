"""One replication: build the system for a model, run it to the horizon, return raw metrics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from sim.engine.service import ServiceRuntime
from sim.engine.streams import Streams
from sim.engine.workload import OpenWorkload
from sim.metrics import Recorder
from sim.model import Model

END_TO_END = "all"


@dataclass
class ReplicationOutput:
    """What one replication measured: metrics and time series per service (and ``all``)."""

    replication: int
    metrics: dict[str, dict[str, float]]
    timeseries: dict[str, dict[str, np.ndarray]]


def run_replication(model: Model, replication: int, seed: int) -> ReplicationOutput:
    """Simulate ``model`` once, with the random streams of ``(seed, replication)``."""
    env = simpy.Environment()
    streams = Streams(seed, replication)
    width = model.bin_width
    recorders = {END_TO_END: Recorder(END_TO_END, model.warmup, model.horizon, width)}
    services = {}
    for name, spec in model.services.items():
        recorder = Recorder(name, model.warmup, model.horizon, width, spec.workers * spec.replicas)
        recorders[name] = recorder
        services[name] = ServiceRuntime(env, name, spec, streams, recorder)
    workload = OpenWorkload(
        env, model.workload, services[model.entry], streams, recorders[END_TO_END]
    )
    env.process(workload.run())
    if model.warmup > 0:
        env.run(until=model.warmup)
        for recorder in recorders.values():
            recorder.restart(env.now)
    env.run(until=model.horizon)
    for recorder in recorders.values():
        recorder.close(env.now)
    return ReplicationOutput(
        replication=replication,
        metrics={name: r.metrics() for name, r in recorders.items()},
        timeseries={name: r.timeseries() for name, r in recorders.items()},
    )
