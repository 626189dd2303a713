"""One replication: build the system for a model, run it to the horizon, return raw metrics."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import simpy

from sim.engine.autoscaler import start_autoscaler
from sim.engine.branching import Brancher, Branches, can_branch
from sim.engine.choice import FAST, engine_for
from sim.engine.clock import advance
from sim.engine.pool import WorkerPool
from sim.engine.service import ServiceRuntime
from sim.engine.streams import Streams
from sim.engine.tasks import TaskEnvironment
from sim.engine.workload import Clients
from sim.measure.edges import open_fraction, opens
from sim.measure.output import END_TO_END, ReplicationOutput, Slack, edge_name, scenario_name
from sim.measure.recorders import BothRecorders, Recorder
from sim.measure.recovery import recovery_time, trigger_window
from sim.model import Model
from sim.model.distributions import mean_of


def drain(
    env: simpy.Environment,
    recorders: Iterable[Recorder],
    limit: float,
    step: float,
    suspects: Callable[[], list[str]],
) -> None:
    """Go on past the horizon, without new arrivals, until every request that arrived in
    the window has finished (or ``limit``): requests cut off by the horizon would bias
    latency percentiles and ratios low. What is still open at ``limit`` is in flight."""
    recorders = list(recorders)
    while env.now < limit and any(r.open for r in recorders):
        advance(env, min(env.now + step, limit), suspects)


def zero_time_fields(model: Model) -> list[str]:
    """The model's durations whose mean is zero: what a loop without time could be made of."""
    fields = []
    for where, workload in model.workload_paths.items():
        if workload.think_time is not None and mean_of(workload.think_time) == 0:
            fields.append(f"{where}.think_time")
    for name, service in model.services.items():
        if any(service.holding_time(cls) == 0 for cls in model.class_names):
            fields.append(f"services.{name}.work")
    return fields


@dataclass
class System:
    """A model built for one replication: the SimPy environment, the services with their
    recorders (``all`` end to end too), and the autoscalers' scale events."""

    model: Model
    env: simpy.Environment | None  # None on the fast path
    services: dict[str, ServiceRuntime]
    recorders: dict[str, Recorder]
    events: list[tuple[float, str, int, int]]
    clients: list[Clients] = field(default_factory=list)


def make_recorders(model: Model) -> dict[str, Recorder]:
    """An empty recorder per service, ``all`` for the requests end to end, and one per
    scenario for its own requests end to end."""
    classes = model.class_names
    width, warmup, horizon = model.bin_width, float(model.warmup), model.horizon
    recorders = {END_TO_END: Recorder(END_TO_END, warmup, horizon, width, classes)}
    for scenario in map(scenario_name, model.scenarios):
        recorders[scenario] = Recorder(scenario, warmup, horizon, width, classes, end_to_end=True)
    for name, spec in model.services.items():
        recorders[name] = Recorder(
            name,
            warmup,
            horizon,
            width,
            classes,
            workers=spec.most_workers,
            cpus=spec.cpus or 0,
            gc=spec.gc is not None,
            scaled=spec.autoscaling is not None,
            unit_capacity=spec.unit_capacity or 0.0,
        )
    return recorders


def build(model: Model, streams: Streams) -> System:
    """Services, recorders, autoscalers and clients of ``model``, ready to run."""
    if not isinstance(model.warmup, float | int):
        raise ValueError("warmup: auto must be resolved first (sim.studies.run.resolve_warmup)")
    env = TaskEnvironment()
    classes = model.class_names
    recorders = make_recorders(model)
    services = {
        name: ServiceRuntime(
            env, name, spec, classes, streams, recorders[name], model.deadline_propagation
        )
        for name, spec in model.services.items()
    }
    events: list[tuple[float, str, int, int]] = []
    for service in services.values():
        service.connect(services)
        start_autoscaler(env, service, events)
    every_client = _clients(model, env, services, streams, recorders)
    for clients in every_client:
        clients.start(model.horizon)
    for service in services.values():  # a run that starts from a backlog
        front = next((c for c in every_client if c.entry is service), None)
        if front is not None:  # the first workload that sends requests here
            front.backlog(service.spec.initial_backlog)
        else:
            service.backlog(service.spec.initial_backlog)
    return System(model, env, services, recorders, events, every_client)


def _clients(
    model: Model,
    env: simpy.Environment,
    services: dict[str, ServiceRuntime],
    streams: Streams,
    recorders: dict[str, Recorder],
) -> list[Clients]:
    """The clients of the model's one workload, or of each scenario."""
    whole = recorders[END_TO_END]
    if model.workload is not None:
        entry = services[model.entry]
        through = passes_through(model)
        return [Clients(env, model.workload, entry, streams, whole, passes_through=through)]
    return [
        Clients(
            env,
            workload,
            services[model.target_of(workload)],
            streams,
            BothRecorders(whole, recorders[scenario_name(name)]),
            model.class_names,
            ("scenario", name),
        )
        for name, workload in model.scenarios.items()
    ]


def passes_through(model: Model) -> bool:
    """Whether the clients of the model's one workload see exactly what their entry
    service records: they neither time out nor retry, and the entry answers every request
    itself, taking it in the instant it arrives (no calls, rate limit, listen backlog or
    hanging incident). The end-to-end records are then the entry's, made once."""
    workload = model.workload
    if workload is None or workload.timeout is not None or workload.retries is not None:
        return False
    entry = model.services[model.entry]
    return (
        not any(entry.calls_for(cls) for cls in model.class_names)
        and entry.rate_limit is None
        and entry.listen_backlog is None
        and all(incident.down != "hang" for incident in entry.incidents)
    )


def _mirror_entries(system: System) -> None:
    """End to end, the requests of clients that record nothing are their entry's."""
    for clients in system.clients:
        if clients.mirrored:
            whole, entry = system.recorders[END_TO_END], clients.entry.recorder
            whole.mirror(entry)
            whole.attempts = sum(entry.arrivals) - entry.open  # one per finished request
            whole.in_system_start = entry.in_system_start
            whole.final["in_system"] = entry.final["in_system"]


def simulate(system: System) -> None:
    """Run the warm-up, the window, and the drain of the window's requests."""
    model, env, recorders = system.model, system.env, system.recorders
    warmup, horizon = model.warmup, model.horizon
    suspects = lambda: zero_time_fields(model)  # noqa: E731
    if warmup > 0:
        advance(env, warmup, suspects)
        for recorder in recorders.values():
            recorder.restart(env.now)
    advance(env, horizon, suspects)
    for recorder in recorders.values():
        recorder.close(horizon)
    drain(env, recorders.values(), horizon + (horizon - warmup), model.bin_width, suspects)
    _mirror_entries(system)


def measure(system: System, replication: int) -> ReplicationOutput:
    """What the replication measured: metrics, histograms, time series, recovery, classes."""
    model, recorders = system.model, system.recorders
    width, warmup, horizon = model.bin_width, model.warmup, model.horizon
    metrics = {name: r.metrics() for name, r in recorders.items()}
    histograms = {name: r.histograms() for name, r in recorders.items()}
    series = {name: r.timeseries() for name, r in recorders.items()}
    for name, service in system.services.items():
        if len(service.replicas) > 1:
            metrics[name]["imbalance"] = service.imbalance()
        if service.outliers is not None:
            ejected = [t for t, _, _ in service.outliers.events if warmup <= t < horizon]
            metrics[name]["outlier_ejections"] = float(len(ejected))
        if service.spec.health_check is not None:
            marked = [t for t, _, ok in service.health_events if not ok and warmup <= t < horizon]
            metrics[name]["marked_unhealthy"] = float(len(marked))
        for callee, edge in service.edges.items():
            edge_key = edge_name(name, callee)
            metrics[edge_key] = edge.metrics()
            histograms[edge_key] = {"": edge.histogram()}
            breakers = service.breakers_towards(callee)
            if breakers:
                metrics[edge_key]["breaker_open_fraction"] = float(
                    np.mean([open_fraction(b.transitions, warmup, horizon) for b in breakers])
                )
                metrics[edge_key]["breaker_opens"] = float(
                    np.mean([opens(b.transitions, warmup, horizon) for b in breakers])
                )
                series[edge_key] = breaker_series(breakers, recorders[name].nbins, width, horizon)
    window = trigger_window(model)
    if window is not None:
        entry = series[model.entry]
        seconds = recovery_time(
            entry["time"], entry["queue_depth"], entry["goodput"], warmup, window, width
        )
        if not math.isnan(seconds):
            recovered = math.isfinite(seconds)
            metrics[model.entry]["recovered"] = float(recovered)
            metrics[model.entry]["recovery_time"] = seconds if recovered else math.nan
    scenarios = set(map(scenario_name, model.scenarios))
    by_class = {
        name: r.class_metrics()
        for name, r in recorders.items()
        if any(w.classes for w in model.workloads) and name not in scenarios
    }
    return ReplicationOutput(
        replication=replication,
        metrics=metrics,
        timeseries=series,
        by_class=by_class,
        scale_events=[event for event in system.events if event[0] < horizon],
        histograms=histograms,
        slack=slack(system),
    )


def slack(system: System) -> dict[str, Slack]:
    """The services whose replicas never ran out of workers, or of waiting places, in the
    whole run, and by call edge the connection pools that never did (see :class:`Slack`)."""
    found = {}
    for name, service in system.services.items():
        replicas = service.replicas
        if not replicas:
            continue
        peaks = _peaks([replica.pool for replica in replicas])
        if peaks is not None:
            g = system.recorders[name].final
            found[name] = Slack(
                *peaks,
                busy_area=g["busy"].area,
                serving=g["serving"].area,
                busy_bins=np.asarray(g["busy"].bins),
                serving_bins=np.asarray(g["serving"].bins),
            )
        for callee in replicas[0].connections:
            peaks = _peaks([replica.connections[callee] for replica in replicas])
            if peaks is not None:
                found[edge_name(name, callee)] = Slack(*peaks)
    return found


def _peaks(pools: list[WorkerPool]) -> tuple[int | None, int | None] | None:
    """The most held, and the most waiting, at once on any of ``pools`` (each None where
    one ran out), or None where both ran out."""
    held = None if any(p.ran_out for p in pools) else max(p.most for p in pools)
    waiting = None if any(p.filled for p in pools) else max(p.most_waiting for p in pools)
    return None if held is None and waiting is None else (held, waiting)


def breaker_series(
    breakers: list, nbins: int, width: float, horizon: float
) -> dict[str, np.ndarray]:
    """Per time bin, the share of time the breakers were open (averaged over them)."""
    edges = np.arange(nbins + 1) * width
    bins = zip(edges[:-1], np.minimum(edges[1:], horizon), strict=True)
    return {
        "time": edges[:-1],
        "breaker_open": np.array(
            [np.mean([open_fraction(b.transitions, lo, hi) for b in breakers]) for lo, hi in bins]
        ),
    }


def run_replication(
    model: Model, replication: int, seed: int, branches: Branches | None = None
) -> ReplicationOutput:
    """Simulate ``model`` once, with the random streams of ``(seed, replication)``: on the
    exact fast path when the model qualifies (see :func:`engine_for`), else build the SimPy
    system, run it, measure it. With ``branches`` (and where this process may fork), the
    runs with those fewer workers or waiting places branch off it as they first differ
    (see :mod:`sim.engine.branching`); their outputs are in the output's ``branches``."""
    if engine_for(model) == FAST:
        from sim.engine.fastpath import run_fast

        return run_fast(model, replication, seed)
    system = build(model, Streams(seed, replication))
    if branches is None or not can_branch():
        simulate(system)
        return measure(system, replication)
    brancher = Brancher(system, branches)
    try:
        simulate(system)
        output = measure(system, replication)
    except BaseException as error:
        brancher.fail(error)
        raise
    output.branches = brancher.finish(output)
    return output
