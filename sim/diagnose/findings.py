"""What a run shows about where and why queues fill: the bottleneck, the root cause as
against its symptoms, and the overload mechanisms present, each with its measured figure.
Pure reading of results: nothing here simulates."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.analytic import offered_load
from sim.measure.output import END_TO_END, edge_name
from sim.measure.results import Results
from sim.model import Model
from sim.model.graph import call_lists
from sim.model.service import Service
from sim.model.windows import Window, disturbances
from sim.outcomes import REJECTIONS

BUSY = 0.85
"""Utilisation from which a pool counts as saturated."""
AMPLIFIED = 1.1
"""Attempts per request from which retries count as amplifying the load."""
PAUSED = 0.02
"""GC pause fraction from which garbage collection counts as a cause."""
FLAPPING = 3
"""Breaker openings per replication from which a breaker open under a fifth of the time
counts as flapping (tripping on and off rather than guarding a long outage)."""
BLOCKED = 5.0
"""How many times its own work a class must wait, behind a class that holds workers that
many times longer, to count as head-of-line blocked."""


@dataclass(frozen=True)
class Finding:
    """One thing the run shows: its kind, where, the figure behind it, and a sentence."""

    kind: str  # bottleneck, root_cause, symptom, retry_amplification, non_recovery, gc, ...
    service: str
    figure: float
    text: str
    evidence: dict[str, float] = field(default_factory=dict)


def _finite(x: float) -> float:
    return x if math.isfinite(x) else 0.0


def refusals(results: Results, service: str) -> dict[str, float]:
    """The service's refusal shares by reason, the non-zero ones."""
    found = {r: _finite(results.mean(f"rejected_{r}", service)) for r in REJECTIONS}
    return {r: share for r, share in found.items() if share > 0}


def peak_utilization(results: Results, service: str) -> float:
    """The service's busiest time bin after the warm-up (utilisation averaged over the
    replications bin by bin): a pool saturated only during an incident shows here."""
    series = results.timeseries
    rows = series[(series.service == service) & (series.time >= results.model.warmup)]
    if rows.empty or "utilization" not in rows:
        return 0.0
    per_bin = rows.groupby("time")["utilization"].mean()
    return _finite(float(per_bin.max()))


def saturation(results: Results, service: str) -> float:
    """How close the service is to refusing: its busiest resource (workers, cores) at its
    busiest, or 1 when a pool or limit of its own already refuses."""
    busy = max(
        _finite(results.mean("utilization", service)),
        _finite(results.mean("cpu_utilization", service)),
        peak_utilization(results, service),
    )
    own = refusals(results, service)
    if own.get("pool_full", 0) > 0 or own.get("concurrency_limited", 0) > 0:
        busy = max(busy, 1.0)
    return busy


def bottleneck(model: Model, results: Results) -> Finding:
    """The service that saturates first: the most saturated, ties to the one refusing most."""

    def rank(name: str) -> tuple[float, float]:
        return (round(saturation(results, name), 2), sum(refusals(results, name).values()))

    name = max(model.services, key=rank)
    busy = saturation(results, name)
    average = _finite(results.mean("utilization", name))
    queue = _finite(results.mean("queue_depth_mean", name))
    own = refusals(results, name)
    workers = results.model.services[name].most_workers
    parts = [
        f"its {workers} workers {busy:.0%} busy at the peak ({average:.0%} on average)",
        f"{queue:.3g} waiting on average",
    ]
    if own:
        parts.append(", ".join(f"{share:.1%} {r.replace('_', ' ')}" for r, share in own.items()))
    evidence = {"utilization": busy, "queue_depth_mean": queue}
    evidence.update({f"rejected_{r}": share for r, share in own.items()})
    return Finding("bottleneck", name, busy, f"{name}: " + ", ".join(parts), evidence)


def _window_ratio(results: Results, service: str, windows: list[Window]) -> float:
    """The service's p99 in the disturbance windows over its p99 before the first one."""
    series = results.timeseries
    rows = series[series.service == service]
    if rows.empty or not windows:
        return math.nan
    inside = np.zeros(len(rows), dtype=bool)
    for w in windows:
        inside |= (rows.time >= w.start).to_numpy() & (rows.time < w.stop).to_numpy()
    before = (rows.time < windows[0].start).to_numpy() & (rows.time >= results.model.warmup)
    during, normal = rows.latency_p99[inside].mean(), rows.latency_p99[before].mean()
    return float(during / normal) if normal and math.isfinite(normal) else math.nan


def _waiting_on(model: Model, results: Results, name: str) -> tuple[str, float] | None:
    """The callee a service's workers spend most of their held time waiting on, with the
    share of held time it takes (None without calls)."""
    service = model.services[name]
    own = service.holding_time(model.class_names[0])
    waits: dict[str, float] = {}
    for _, calls in call_lists(name, service):
        for call in calls:
            if call.mode != "sync":
                continue
            latency = _finite(results.mean("call_latency_mean", edge_name(name, call.to)))
            waits[call.to] = waits.get(call.to, 0.0) + latency * call.expected_calls
    if not waits:
        return None
    callee = max(waits, key=waits.__getitem__)
    return callee, waits[callee] / (own + sum(waits.values()))


def root_cause(model: Model, results: Results, neck: Finding) -> list[Finding]:
    """Follow the bottleneck's held time down the sync calls to where it originates; the
    refusing services above the origin are symptoms."""
    found: list[Finding] = []
    windows = disturbances(model)
    chain, name = [neck.service], neck.service
    held_on: tuple[str, float] | None = None  # a healthy callee the origin's workers wait on
    while (step := _waiting_on(model, results, name)) is not None and step[1] >= 0.5:
        callee, share = step
        if callee in chain:
            break
        if not _troubled(model, results, callee, windows):
            held_on = step  # the wait is the callee's normal time: the trouble is up here
            break
        found.append(
            Finding(
                "waiting",
                name,
                share,
                f"{name}'s workers spend {share:.0%} of their held time waiting on {callee}",
                {"waiting_share": share},
            )
        )
        chain.append(callee)
        name = callee
    origin = chain[-1]
    ratio = _window_ratio(results, origin, [w for w in windows if w.label.startswith(origin)])
    load = offered_load(model).get(origin, math.nan)
    if held_on is not None:
        found.append(_held_on_a_healthy_callee(model, results, origin, *held_on))
    elif math.isfinite(ratio) and ratio > 1.5:
        window = next(w for w in windows if w.label.startswith(origin))
        text = (
            f"{origin}: its p99 rose {ratio:.1f}x during the incident at "
            f"{window.start:g}-{window.stop:g} s"
        )
        found.append(Finding("root_cause", origin, ratio, text, {"p99_ratio": ratio}))
    elif load >= 1:
        text = f"{origin}: demand over supply, offered load {load:.2f} of its workers"
        found.append(Finding("root_cause", origin, load, text, {"offered_load": load}))
    else:
        busy = saturation(results, origin)
        text = f"{origin}: {busy:.0%} busy with its own work"
        found.append(Finding("root_cause", origin, busy, text, {"utilization": busy}))
        for window in windows:  # trouble staged elsewhere set it off
            found.append(
                Finding(
                    "trigger",
                    window.label.split(" ")[0],
                    window.stop - window.start,
                    f"the trigger: {window.label} at {window.start:g}-{window.stop:g} s",
                )
            )
    for name in model.services:
        own = sum(refusals(results, name).values())
        if name != origin and own > 0 and name in _callers_of(model, origin):
            found.append(
                Finding(
                    "symptom",
                    name,
                    own,
                    f"{name}'s refusals ({own:.1%}) are a symptom of {origin}",
                    {"rejection_rate": own},
                )
            )
    return found


def _reachable(model: Model, start: str) -> set[str]:
    """``start`` and every service it reaches through calls."""
    seen, frontier = {start}, [start]
    while frontier:
        name = frontier.pop()
        for _, calls in call_lists(name, model.services[name]):
            for call in calls:
                if call.to not in seen:
                    seen.add(call.to)
                    frontier.append(call.to)
    return seen


def _troubled(model: Model, results: Results, name: str, windows: list[Window]) -> bool:
    """Whether waiting on ``name`` could be its fault: it is saturated or overloaded, or
    trouble is staged on it or on anything it calls."""
    below = _reachable(model, name)
    staged = any(w.label.split(" ")[0] in below for w in windows)
    return staged or saturation(results, name) >= BUSY or offered_load(model).get(name, 0) >= 1


def _held_on_a_healthy_callee(
    model: Model, results: Results, name: str, callee: str, share: float
) -> Finding:
    """The origin's own pool is too small for how long a request holds it, most of that
    spent waiting on a callee that is itself fine: a connection pool or the workers."""
    busy = saturation(results, callee)
    held = _finite(results.mean("call_latency_mean", edge_name(name, callee)))
    pool = model.services[name].connection_pools.get(callee)
    if pool is not None and refusals(results, name).get("pool_full", 0) > 0:
        text = (
            f"{name}: its {pool.max_connections} connections to {callee} are too few: each "
            f"call holds one for {held * 1000:.0f} ms on average while {callee} is "
            f"{busy:.0%} busy"
        )
        inner = _waiting_on(model, results, callee)
        if inner is not None and inner[1] >= 0.5:
            text += f", {inner[1]:.0%} of it spent in {callee}'s calls to {inner[0]}"
        return Finding("root_cause", name, share, text, {"waiting_share": share})
    workers = model.services[name].most_workers
    text = (
        f"{name}: its {workers} workers are too few: a request holds one {share:.0%} of the "
        f"time waiting on {callee}, which is {busy:.0%} busy"
    )
    return Finding("root_cause", name, share, text, {"waiting_share": share})


def _callers_of(model: Model, target: str) -> set[str]:
    """Every service that reaches ``target`` through calls."""
    callers: set[str] = set()
    frontier = {target}
    while frontier:
        found = {
            name
            for name, service in model.services.items()
            for _, calls in call_lists(name, service)
            for call in calls
            if call.to in frontier and name not in callers
        }
        callers |= found
        frontier = found
    return callers


def mechanisms(model: Model, results: Results) -> list[Finding]:
    """Retry amplification, non-recovery, GC, open breakers, call timeouts and autoscaling
    lag, where present, each with its figure."""
    found: list[Finding] = []
    attempts = results.mean("attempts_per_request")
    if math.isfinite(attempts) and attempts >= AMPLIFIED:
        found.append(
            Finding(
                "retry_amplification",
                END_TO_END,
                attempts,
                f"retry amplification: {attempts:.2f} attempts per client request",
            )
        )
    recovered = results.mean("recovered", model.entry)
    if math.isfinite(recovered) and recovered < 1:
        found.append(
            Finding(
                "non_recovery",
                model.entry,
                recovered,
                f"metastable: {model.entry} recovered after the trigger in only "
                f"{recovered:.0%} of replications; the failure outlives its cause",
            )
        )
    for name, service in model.services.items():
        paused = results.mean("gc_paused_fraction", name)
        if math.isfinite(paused) and paused >= PAUSED:
            found.append(
                Finding(
                    "gc",
                    name,
                    paused,
                    f"garbage collection: {name} paused {paused:.1%} of the time",
                )
            )
        if service.autoscaling is not None:
            lag = autoscaling_lag(results, name)
            if lag > 0:
                found.append(
                    Finding(
                        "autoscaling_lag",
                        name,
                        lag,
                        f"autoscaling lag: {lag:.0%} of {name}'s refusals came while new "
                        "replicas were still provisioning",
                    )
                )
        for _, calls in call_lists(name, service):
            for call in calls:
                edge = edge_name(name, call.to)
                opened = results.mean("breaker_open_fraction", edge)
                times = results.mean("breaker_opens", edge)
                if math.isfinite(opened) and opened > 0:
                    flapping = math.isfinite(times) and times >= FLAPPING and opened < 0.2
                    found.append(
                        Finding(
                            "breaker_flapping" if flapping else "breaker_open",
                            edge,
                            times if flapping else opened,
                            f"the breaker on {edge} "
                            + ("flapped: " if flapping else "")
                            + (f"opened {times:.0f} times, " if math.isfinite(times) else "")
                            + f"open {opened:.1%} of the time",
                        )
                    )
                timeouts = results.mean("call_timeout_rate", edge)
                if math.isfinite(timeouts) and timeouts >= 0.01:
                    found.append(
                        Finding(
                            "call_timeouts",
                            edge,
                            timeouts,
                            f"{timeouts:.1%} of calls on {edge} timed out",
                        )
                    )
    found.extend(head_of_line(model, results))
    return found


def head_of_line(model: Model, results: Results) -> list[Finding]:
    """Request classes that wait many times their own work behind a class that holds the
    shared workers far longer (a FIFO pool shared by quick and slow requests)."""
    found: list[Finding] = []
    classes = model.class_names
    if len(classes) < 2:
        return found
    table = results.by_class
    for name, service in model.services.items():
        if service.discipline != "fifo":
            continue
        held = {cls: service.holding_time(cls) + _call_time(results, name, service, cls)
                for cls in classes}  # fmt: skip
        for quick in classes:
            rows = table[(table.service == name) & (table["class"] == quick)
                         & (table.metric == "latency_mean")]  # fmt: skip
            if rows.empty or not math.isfinite(rows["mean"].iloc[0]):
                continue
            latency, own = float(rows["mean"].iloc[0]), service.holding_time(quick)
            slow = max(classes, key=held.__getitem__)
            if slow != quick and latency >= BLOCKED * own and held[slow] >= BLOCKED * own > 0:
                found.append(
                    Finding(
                        "head_of_line",
                        name,
                        latency / own,
                        f"head-of-line blocking at {name}: {quick} requests ({own * 1e3:.0f} ms "
                        f"of work) take {latency * 1e3:.0f} ms, queued behind {slow} requests "
                        f"that hold a worker {held[slow] * 1e3:.0f} ms",
                    )
                )
    return found


def _call_time(results: Results, name: str, service: Service, cls: str) -> float:
    """Mean time a worker of ``service`` waits on its sync calls for one ``cls`` request."""
    total = 0.0
    for call in service.calls_for(cls):
        if call.mode == "sync":
            latency = _finite(results.mean("call_latency_mean", edge_name(name, call.to)))
            total += latency * call.expected_calls
    return total


def autoscaling_lag(results: Results, service: str) -> float:
    """Share of the service's refusals in time bins where provisioned replicas were not
    yet ready: the provisioning gap."""
    series = results.timeseries
    rows = series[(series.service == service) & (series.time >= results.model.warmup)]
    if rows.empty or "replicas_provisioned" not in rows:
        return 0.0
    refused = rows.rejections.fillna(0.0)
    gap = (rows.replicas_provisioned - rows.replicas_ready) > 0.05
    total = float(refused.sum())
    return float(refused[gap].sum()) / total if total > 0 else 0.0
