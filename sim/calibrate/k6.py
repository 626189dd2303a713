"""The same load against a staging system: a model's workload as a k6 script, and a k6
end-of-test summary read back as measurements to compare with the simulation.

Each workload (or scenario) becomes a k6 scenario: open-loop arrivals an arrival-rate
executor (``constant-arrival-rate``, or ``ramping-arrival-rate`` following a rate profile
sampled every STAGE seconds, which k6 interpolates linearly between), closed-loop users
``constant-vus`` with the model's think time. Each iteration sends one request of a class
drawn by the workload's weights to ``BASE_URL/<entry service>?class=<class>``, with the
client's timeout. k6 paces arrival-rate iterations evenly, where the model's Poisson
arrivals are burstier, and it does not retry: the script says so where it matters.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from sim.model import Model, Workload
from sim.model.distributions import Constant, Exponential, mean_of
from sim.model.workload import (
    BurstyArrivals,
    ConstantArrivals,
    PoissonArrivals,
    ProfileArrivals,
    TraceArrivals,
)

STAGE = 10.0
"""Seconds between the samples of a rate profile (k6 ramps linearly between them)."""

MAX_STAGES = 1000
"""A profile is sampled more coarsely rather than give k6 more stages than this."""


class ExportError(ValueError):
    """A workload k6 cannot express, naming the field."""


def k6_script(model: Model, base_url: str = "http://localhost:8080") -> str:
    """A k6 script that offers ``model``'s workload to a real system at ``base_url``."""
    names = {"workload": model.workload} if model.workload is not None else model.scenarios
    scenarios: dict[str, Any] = {}
    functions: list[str] = []
    notes: list[str] = []
    for name, workload in names.items():
        where = "workload" if model.workload is not None else f"scenarios.{name}"
        function = _function_name(name)
        scenarios[name] = {**_executor(workload, model.horizon, where, notes), "exec": function}
        functions.append(_function(function, workload, model.target_of(workload), notes))
    options = json.dumps({"scenarios": scenarios}, indent=2)
    header = [
        f"// k6 script of the capacity model '{model.name}': the same offered load, against",
        "// a real system. Run: k6 run --summary-export=summary.json -e BASE_URL=... this.js",
        "// then: queuefull run MODEL --against summary.json",
        *[f"// note: {n}" for n in dict.fromkeys(notes)],
        "import http from 'k6/http';",
        "import { sleep } from 'k6';",
        "",
        f"const BASE_URL = __ENV.BASE_URL || {json.dumps(base_url)};",
        "",
        f"export const options = {options};",
        "",
        "function pick(classes) {",
        "  let u = Math.random() * classes.reduce((s, c) => s + c[1], 0);",
        "  for (const [name, weight] of classes) { u -= weight; if (u < 0) return name; }",
        "  return classes[classes.length - 1][0];",
        "}",
        "",
    ]
    return "\n".join(header + functions) + "\n"


def _function_name(name: str) -> str:
    """``send_<name>``: a JavaScript identifier that no reserved word can be."""
    return "send_" + "".join(c if c.isalnum() or c == "_" else "_" for c in name)


def _executor(workload: Workload, horizon: float, where: str, notes: list[str]) -> dict[str, Any]:
    duration = f"{math.ceil(horizon)}s"
    if workload.users is not None:
        return {"executor": "constant-vus", "vus": workload.users, "duration": duration}
    arrivals = workload.arrivals
    if isinstance(arrivals, TraceArrivals):
        raise ExportError(
            f"{where}.arrivals: k6 has no executor that replays a trace; replay the file "
            "with a script of your own, or fit a process to it (queuefull fit --arrivals)"
        )
    if isinstance(arrivals, BurstyArrivals):
        notes.append("mmpp bursts have no k6 executor: offered at their mean rate, evenly")
    if isinstance(arrivals, PoissonArrivals):
        notes.append("k6 paces arrival-rate iterations evenly; the model's arrivals are Poisson")
    if isinstance(arrivals, ProfileArrivals):
        return _ramping(arrivals, horizon)
    assert isinstance(arrivals, PoissonArrivals | ConstantArrivals | BurstyArrivals)
    rate = arrivals.rate
    count, unit = _per_second(rate)
    return {
        "executor": "constant-arrival-rate",
        "rate": count,
        "timeUnit": unit,
        "duration": duration,
        **_vus(rate),
    }


def _ramping(arrivals: ProfileArrivals, horizon: float) -> dict[str, Any]:
    from sim.engine.arrivals import RateProfile

    profile = RateProfile(arrivals)
    step = max(STAGE, horizon / MAX_STAGES)
    count = math.ceil(horizon / step)
    # rates per minute keep k6's integer targets fine-grained
    start = round(profile.rate(0.0) * 60)
    stages: list[dict[str, Any]] = []  # each ramps from the previous target to its own
    level, holding = start, False
    for i in range(count):
        target = round(profile.rate(min((i + 1) * step, horizon)) * 60)
        if target == level and holding:
            stages[-1]["seconds"] += step  # a held level is one stage, however long
        else:
            stages.append({"target": target, "seconds": step})
            holding, level = target == level, target
    stages = [{"target": st["target"], "duration": f"{st['seconds']:g}s"} for st in stages]
    peak = max(profile.rate(i * step) for i in range(count + 1))
    return {
        "executor": "ramping-arrival-rate",
        "startRate": start,
        "timeUnit": "1m",
        "stages": stages,
        **_vus(peak),
    }


def _per_second(rate: float) -> tuple[int, str]:
    """k6 rates are integers per timeUnit: per second, or per minute when fractional."""
    if float(rate).is_integer():
        return int(rate), "1s"
    return round(rate * 60), "1m"


def _vus(rate: float) -> dict[str, int]:
    """Virtual users to keep ready: about one second of arrivals, ten times that at most."""
    ready = max(10, math.ceil(rate))
    return {"preAllocatedVUs": ready, "maxVUs": 10 * ready}


def _function(name: str, workload: Workload, target: str, notes: list[str]) -> str:
    classes = [[c.name, c.weight] for c in workload.classes] or [["default", 1]]
    params = ""
    if workload.timeout is not None:
        params = f", {{ timeout: '{round(workload.timeout * 1000)}ms' }}"
    if workload.retries is not None:
        notes.append("k6 does not retry: the model's client retries are not reproduced")
    lines = [
        f"export function {name}() {{",
        f"  const cls = pick({json.dumps(classes)});",
        f"  http.get(`${{BASE_URL}}/{target}?class=${{cls}}`{params});",
    ]
    if workload.users is not None and workload.think_time is not None:
        think = workload.think_time
        if isinstance(think, Exponential):
            lines.append(f"  sleep(-Math.log(1 - Math.random()) * {think.mean:g});")
        else:
            if not isinstance(think, Constant):
                notes.append("a think time other than exponential or constant: its mean")
            lines.append(f"  sleep({mean_of(think):g});")
    lines.append("}")
    return "\n".join(lines) + "\n"


def measurements_from_k6(summary: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """A k6 end-of-test summary (``--summary-export``, or a handleSummary JSON whose
    metrics carry ``values``) as measurements end to end: throughput from ``http_reqs``,
    latency mean, p50, p90 and p95 from ``http_req_duration`` (milliseconds in k6), and
    success from ``http_req_failed`` (k6 counts 4xx and 5xx, refusals included)."""
    metrics = summary.get("metrics")
    if not isinstance(metrics, Mapping):
        raise ExportError("not a k6 summary: no 'metrics'")

    def values(name: str) -> Mapping[str, Any]:
        metric = metrics.get(name, {})
        return metric.get("values", metric) if isinstance(metric, Mapping) else {}

    out: dict[str, float] = {}
    if "rate" in values("http_reqs"):
        out["throughput"] = float(values("http_reqs")["rate"])
    duration = values("http_req_duration")
    for key, metric in (("avg", "latency_mean"), ("med", "latency_p50"), ("p(90)", "latency_p90")):
        if key in duration:
            out[metric] = float(duration[key]) / 1000
    failed = values("http_req_failed")
    rate = failed.get("rate", failed.get("value"))
    if rate is not None:
        out["success_rate"] = 1 - float(rate)
    if not out:
        raise ExportError(
            "the k6 summary holds none of http_reqs, http_req_duration, http_req_failed"
        )
    return {"all": out}
