"""Candidate fixes, generated from the model and what its run showed: each a patch of
dotted paths that a variant applies. The short-term ones of the troubleshooting
literature (more workers or replicas, a bigger queue, an edge rate limit, a breaker and
timeout on the slow call, jittered backoff with a budget) and the long-term ones (faster
work, caching, asynchronous calls, autoscaling that starts sooner, a larger heap)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.measure.results import Results
from sim.model import Model, YamlValue
from sim.model.distributions import mean_of
from sim.model.graph import call_lists
from sim.model.scaling import HPASpec
from sim.model.service import Call, Service

MAX_FIXES = 8
"""Candidates tried at most: each is a full run of the model."""


@dataclass(frozen=True)
class Fix:
    """A change to try: its name, whether it is a short- or long-term fix, the patch and why."""

    name: str
    term: str  # "short" or "long"
    patch: dict[str, YamlValue]
    why: str


def _more_workers(name: str, service: Service) -> Fix | None:
    if service.pool is not None:
        return None
    workers = service.most_workers
    more = max(workers + 1, math.ceil(workers * 1.5))
    return Fix(
        f"{name}: workers {workers} -> {more}",
        "short",
        {f"services.{name}.workers": more},
        "more threads where the queue fills",
    )


def _pool_fixes(model: Model, results: Results, neck: str) -> list[Fix]:
    """Where the neck's connection pools refuse: more connections, and (when the callee
    makes calls of its own while the connection is held) those calls made first."""
    if not results.mean("rejected_pool_full", neck) > 0:  # NaN: no pool refused anything
        return []
    fixes: list[Fix | None] = []
    for callee, pool in model.services[neck].connection_pools.items():
        more = pool.max_connections * 2
        fixes.append(
            Fix(
                f"{neck}: connections to {callee} {pool.max_connections} -> {more}",
                "short",
                {f"services.{neck}.connection_pools.{callee}.max_connections": more},
                "more connections, if the callee can take the calls",
            )
        )
        fixes.append(_calls_outside_the_connection(model, neck, callee))
    return [fix for fix in fixes if fix is not None]


def _calls_outside_the_connection(model: Model, neck: str, callee: str) -> Fix | None:
    """The callee's sync calls made by the neck before it takes the connection: the
    HikariCP advice against holding a pooled connection across slow I/O."""
    calls, inside = model.services[neck].calls, model.services[callee].calls
    held = [c for c in inside if c.mode == "sync"]
    where = next((i for i, c in enumerate(calls) if c.to == callee), None)
    if not held or where is None:
        return None
    moved = [*calls[:where], *held, *calls[where:]]
    left = [c for c in inside if c.mode != "sync"]
    targets = ", ".join(sorted({c.to for c in held}))
    return Fix(
        f"{neck}: call {targets} before taking a connection to {callee}",
        "long",
        {f"services.{neck}.calls": _plain(moved), f"services.{callee}.calls": _plain(left)},
        "do not hold a pooled connection across a slow call",
    )


def _plain(calls: list[Call]) -> list[YamlValue]:
    """Calls as a model file writes them."""
    return [c.model_dump(mode="json", exclude_none=True) for c in calls]


def _more_replicas(name: str, service: Service) -> Fix | None:
    if service.autoscaling is not None:
        return None
    replicas = service.initial_replicas
    more = replicas + max(1, math.ceil(replicas * 0.5))
    return Fix(
        f"{name}: replicas {replicas} -> {more}",
        "short",
        {f"services.{name}.replicas": more},
        "more instances behind the balancer",
    )


def _bigger_queue(name: str, service: Service) -> Fix | None:
    if service.queue == "unbounded":
        bound = 2 * service.most_workers
        return Fix(
            f"{name}: bound the queue at {bound}",
            "short",
            {f"services.{name}.queue": bound},
            "refuse at once what would wait without end",
        )
    queue = int(service.queue)
    bigger = max(queue * 4, queue + 50)
    return Fix(
        f"{name}: queue {queue} -> {bigger}",
        "short",
        {f"services.{name}.queue": bigger},
        "the popular fix: more waiting room",
    )


def _edge_limit(model: Model, results: Results) -> Fix | None:
    entry = model.services[model.entry]
    if entry.rate_limit is not None or model.closed:
        return None
    served = results.mean("throughput", model.entry)
    busy = results.mean("utilization", model.entry)
    if not (math.isfinite(served) and math.isfinite(busy)) or busy <= 0.05:
        return None
    rate = round(0.9 * served / min(busy, 1.0), 1)
    return Fix(
        f"{model.entry}: rate limit {rate:g} req/s at the edge",
        "short",
        {
            f"services.{model.entry}.rate_limit": {
                "kind": "token_bucket",
                "rate": rate,
                "burst": max(round(rate / 5), 1),
            }
        },
        "refuse the excess at once (429) instead of queueing it",
    )


def _edge_concurrency(model: Model) -> Fix | None:
    entry = model.services[model.entry]
    if entry.concurrency_limit is not None:
        return None
    workers = entry.most_workers * entry.initial_replicas
    holding = mean_of(entry.work_for(model.class_names[0]))
    return Fix(
        f"{model.entry}: adaptive concurrency limit at the edge",
        "short",
        {
            f"services.{model.entry}.concurrency_limit": {
                "kind": "aimd",
                "initial_limit": workers,
                "min_limit": max(1, workers // 4),
                "max_limit": workers * 4,
                "timeout": max(0.1, round(20 * holding, 3)),
            }
        },
        "Netflix's AIMD limit: fewer requests in progress once responses slow down (503)",
    )


def _slow_calls(model: Model, root: str) -> list[tuple[str, str, int]]:
    """(list path, caller, index) of every sync call into ``root``."""
    found = []
    for name, service in model.services.items():
        for path, calls in call_lists(name, service):
            for index, call in enumerate(calls):
                if call.to == root and call.mode == "sync":
                    found.append((path, name, index))
    return found


def _breaker(model: Model, root: str, results: Results) -> Fix | None:
    nominal = mean_of(model.services[root].work_for(model.class_names[0]))
    threshold = max(0.1, round(5 * nominal, 3))
    patch: dict[str, YamlValue] = {}
    for path, _, index in _slow_calls(model, root):
        call = _call(model, path, index)
        if call.circuit_breaker is not None:
            continue
        patch[f"{path}.{index}.circuit_breaker"] = {
            "failure_rate_threshold": 50,
            "slow_call_rate_threshold": 50,
            "slow_call_duration_threshold": threshold,
            "sliding_window_size": 20,
            "minimum_number_of_calls": 10,
            "wait_duration_in_open_state": 10,
            "automatic_transition_from_open_to_half_open_enabled": True,
        }
        if call.timeout is None or call.timeout > 4 * threshold:
            patch[f"{path}.{index}.timeout"] = 4 * threshold
    if not patch:
        return None
    return Fix(
        f"breaker and timeout on calls to {root}",
        "short",
        patch,
        f"fail fast once calls to {root} are slow (over {threshold:g}s), keeping the workers",
    )


def _call(model: Model, path: str, index: int) -> Call:
    name = path.split(".")[1]
    return dict(call_lists(name, model.services[name]))[path][index]


def _backoff(model: Model) -> Fix | None:
    patch: dict[str, YamlValue] = {}
    for where, workload in model.workload_paths.items():
        if workload.retries is not None and workload.retries.budget is None:
            patch.update(
                {
                    f"{where}.retries.jitter": "full",
                    f"{where}.retries.base": 0.2,
                    f"{where}.retries.cap": 5.0,
                    f"{where}.retries.budget": {"budget_percent": 20},
                }
            )
    for name, service in model.services.items():
        for path, calls in call_lists(name, service):
            for index, call in enumerate(calls):
                if call.retries is not None and call.retries.budget is None:
                    patch[f"{path}.{index}.retries.jitter"] = "full"
                    patch[f"{path}.{index}.retries.budget"] = {"budget_percent": 20}
    if not patch:
        return None
    return Fix(
        "jittered backoff and a retry budget",
        "short",
        patch,
        "retries that spread out and stop at 20 % of the load (AWS jitter, Envoy's budget)",
    )


def _faster_work(name: str, service: Service) -> Fix | None:
    work = service.work
    patch: dict[str, YamlValue] = {}
    for field in ("mean", "p50", "p99", "value"):
        current = getattr(work, field, None)
        if isinstance(current, float):
            patch[f"services.{name}.work.{field}"] = round(current * 0.7, 6)
    if not patch:
        return None
    return Fix(f"{name}: work 30 % faster", "long", patch, "optimise the slow code or query")


def _cache(model: Model, root: str) -> Fix | None:
    patch: dict[str, YamlValue] = {
        f"{path}.{index}.cache_hit_ratio": 0.5
        for path, _, index in _slow_calls(model, root)
        if _call(model, path, index).cache_hit_ratio == 0
    }
    if not patch:
        return None
    return Fix(
        f"cache half the calls to {root}", "long", patch, "a cache in front of the slow call"
    )


def _asynchronous(model: Model, root: str) -> Fix | None:
    patch: dict[str, YamlValue] = {
        f"{path}.{index}.mode": "async" for path, _, index in _slow_calls(model, root)
    }
    if not patch:
        return None
    return Fix(
        f"call {root} asynchronously",
        "long",
        patch,
        "free the worker while the call is out (non-blocking I/O)",
    )


def _autoscaling(name: str, service: Service) -> list[Fix]:
    spec = service.autoscaling
    if not isinstance(spec, HPASpec):
        return []
    delay = mean_of(spec.provisioning_delay)
    fixes = []
    if delay > 5:
        fixes.append(
            Fix(
                f"{name}: replicas ready in 5 s, not {delay:g} s",
                "long",
                {f"services.{name}.autoscaling.provisioning_delay": 5.0},
                "a smaller image, pre-pulled, faster readiness",
            )
        )
    fixes.append(
        Fix(
            f"{name}: scale at {spec.target * 0.67:.2g}, not {spec.target:g}",
            "short",
            {f"services.{name}.autoscaling.target": round(spec.target * 0.67, 3)},
            "scale out earlier, paying for more idle replicas",
        )
    )
    return fixes


def _heap(name: str, service: Service) -> Fix | None:
    gc = service.gc
    if gc is None:
        return None
    if gc.young_gen is not None:
        patch: dict[str, YamlValue] = {f"services.{name}.gc.young_gen": gc.young_gen * 4}
    elif gc.interval is not None:
        patch = {f"services.{name}.gc.interval": gc.interval * 4}
    else:
        return None
    return Fix(f"{name}: 4x the young generation", "long", patch, "collect a quarter as often")


def candidates(model: Model, results: Results, neck: str, root: str) -> list[Fix]:
    """The fixes worth trying for a bottleneck at ``neck`` whose cause is at ``root``,
    most specific first, at most MAX_FIXES."""
    services = model.services
    found: list[Fix | None] = [
        _breaker(model, root, results) if root != neck else None,
        *_pool_fixes(model, results, neck),
        _backoff(model),
        *_autoscaling(neck, services[neck]),
        _heap(neck, services[neck]),
        _more_workers(neck, services[neck]),
        _more_replicas(root, services[root])
        if root != neck
        else _more_replicas(neck, services[neck]),
        _edge_limit(model, results),
        _bigger_queue(neck, services[neck]),
        _edge_concurrency(model),
        _faster_work(root, services[root]),
        _cache(model, root) if root != neck else None,
        _asynchronous(model, root) if root != neck else None,
    ]
    unique: dict[str, Fix] = {}
    for fix in found:
        if fix is not None and fix.name not in unique:
            unique[fix.name] = fix
    return list(unique.values())[:MAX_FIXES]
