"""The whole capacity model (run settings, SLOs, precision) and how it is loaded.

A model is YAML (or a dict) describing a workload and a set of services::

    name: checkout-api
    horizon: 2000
    warmup: 100
    replications: 8
    seed: 7
    workload:
      arrivals: {process: poisson, rate: 90}
    services:
      api: {replicas: 1, workers: 10, queue: 20, work: {distribution: exponential, mean: 0.1}}

Load it with :func:`load` (a path) or :func:`from_dict`; every problem is reported as a
:class:`ModelError` whose lines read ``dotted.path: message``.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from sim.measure.output import edge_name, scenario_name
from sim.measure.registry import UNITS
from sim.model.base import Duration, PositiveDuration, Strict, YamlValue, error_lines
from sim.model.graph import call_lists, check_graph
from sim.model.service import Service
from sim.model.workload import (
    RequestClass,
    TraceArrivals,
    Workload,
)
from sim.model.yamlio import YamlError, parse_yaml

AUTO = "auto"
"""The value of ``warmup`` (and ``replications``) that asks the run to choose."""

MAX_FILE_BYTES = 5_000_000
"""The largest model file read: models are a few kilobytes; traces live in their own files."""

MAX_BINS = 100_000
"""The most time-series bins a run keeps (per service and gauge)."""


class ModelError(ValueError):
    """A capacity model that cannot be used, with one ``path: message`` line per problem."""

    def __init__(self, lines: list[str] | str, source: str | None = None) -> None:
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        self.source = source
        # args carry the parts, so copies made by SimPy or by pickling rebuild the same error
        super().__init__(self.lines, source)

    def __str__(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        return "\n".join(prefix + line for line in self.lines)


class UnstableError(ModelError):
    """Offered load exceeds capacity where nothing bounds the queue: no steady state exists."""


# --- workload ---------------------------------------------------------------------------


class SLO(Strict):
    """A bound on a summary metric: ``max`` (at most) or ``min`` (at least), or both."""

    metric: str = Field(description="a summary metric, e.g. latency_p99 or rejection_rate")
    service: str = Field("all", description="a service, 'all' (end to end) or a call edge a->b")
    max: float | None = Field(None, description="the metric must stay at or below this")
    min: float | None = Field(None, description="the metric must stay at or above this")

    @model_validator(mode="after")
    def _bounded(self) -> SLO:
        if self.max is None and self.min is None:
            raise ValueError("give max, min or both")
        if self.metric not in UNITS:
            close = difflib.get_close_matches(self.metric, list(UNITS), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise PydanticCustomError(
                "metric",
                "unknown metric '{metric}'{hint}; metrics: {known}",
                {"path": "metric", "metric": self.metric, "hint": hint, "known": ", ".join(UNITS)},
            )
        return self

    @property
    def label(self) -> str:
        """How a verdict names it: ``all.latency_p99 <= 0.25``."""
        return self.describe(lambda value: f"{value:g}")

    def describe(self, number: Callable[[float], str]) -> str:
        """``all.latency_p99 <= 250ms``: the SLO with its bounds written by ``number``."""
        bounds = []
        if self.min is not None:
            bounds.append(f">= {number(self.min)}")
        if self.max is not None:
            bounds.append(f"<= {number(self.max)}")
        return f"{self.service}.{self.metric} {' and '.join(bounds)}"


class Precision(Strict):
    """Precision-driven replications (``replications: auto``), as JMT runs them."""

    relative_half_width: float = Field(0.05, gt=0, description="target 95 % CI half-width / mean")
    metrics: list[str] = Field(
        default_factory=lambda: ["all.latency_mean"],
        description="service.metric names that must reach the precision",
    )
    min_replications: int = Field(
        4, ge=2, description="replications run before precision is judged"
    )
    max_replications: int = Field(
        64, ge=2, description="stop here even if the precision is not reached"
    )

    @model_validator(mode="after")
    def _order(self) -> Precision:
        if self.max_replications < self.min_replications:
            raise PydanticCustomError(
                "order", "must be >= min_replications", {"path": "max_replications"}
            )
        for name in self.metrics:
            service, _, metric = name.rpartition(".")
            if not service or metric not in UNITS:
                raise PydanticCustomError(
                    "metric",
                    "'{name}' is not service.metric with a summary metric",
                    {"path": "metrics", "name": name},
                )
        return self


# --- the model --------------------------------------------------------------------------


class Model(Strict):
    """A whole capacity model: run settings, the workload and the services."""

    name: str = Field("model", description="shown in reports")
    horizon: PositiveDuration = Field(description="simulated seconds per replication")
    warmup: Duration | Literal["auto"] = Field(
        0.0,
        description="seconds discarded at the start of each replication, or 'auto' to "
        "choose them with MSER-5 from a pilot run",
    )
    replications: int | Literal["auto"] = Field(
        8,
        description="independent runs (CIs need at least 2), or 'auto' to run until "
        "the precision block is met",
    )
    precision: Precision | None = Field(None, description="with replications: auto")
    slo: list[SLO] = Field(default_factory=list, description="bounds checked by queuefull check")
    seed: int = Field(0, ge=0, description="master seed: same seed, same result")
    timeseries_bin: PositiveDuration | None = Field(
        None, description="width of time-series bins, seconds; default horizon / 100"
    )
    engine: Literal["auto", "simpy", "fast"] = Field(
        "auto",
        description="auto: the exact fast path when the model is one FIFO station, else "
        "SimPy; simpy or fast to choose",
    )
    deadline_propagation: bool = Field(
        False,
        description="a request whose caller has given up is dropped when a worker picks it up",
    )
    workload: Workload | None = Field(
        None, description="the traffic: arrivals or users, classes, retries (or scenarios)"
    )
    scenarios: dict[str, Workload] = Field(
        default_factory=dict,
        description="several workloads at once, by name (as k6 scenarios), each with its "
        "own arrivals or users, mix, target and clients; instead of workload",
    )
    services: dict[str, Service] = Field(min_length=1, description="services by name")

    @model_validator(mode="after")
    def _consistent(self) -> Model:
        if not isinstance(self.warmup, str) and self.warmup >= self.horizon:
            raise PydanticCustomError(
                "warmup",
                "must be shorter than horizon ({horizon}s)",
                {"path": "warmup", "horizon": f"{self.horizon:g}"},
            )
        if self.horizon / self.bin_width > MAX_BINS:
            raise PydanticCustomError(
                "bins",
                "gives {bins} time-series bins; at most {most}: use a wider bin",
                {
                    "path": "timeseries_bin",
                    "bins": f"{self.horizon / self.bin_width:.3g}",
                    "most": f"{MAX_BINS:,}",
                },
            )
        self._check_workloads()
        check_graph(self.services, self.class_names)
        if isinstance(self.replications, int) and self.replications < 1:
            raise PydanticCustomError("reps", "must be >= 1 or 'auto'", {"path": "replications"})
        known = self.result_names
        for index, slo in enumerate(self.slo):
            if slo.service not in known:
                raise PydanticCustomError(
                    "slo",
                    "'{service}' is not a service or call edge; known: {known}",
                    {
                        "path": f"slo.{index}.service",
                        "service": slo.service,
                        "known": ", ".join(sorted(known)),
                    },
                )
        return self

    def _check_workloads(self) -> None:
        if (self.workload is None) == (not self.scenarios):
            raise PydanticCustomError(
                "workload",
                "give workload, or scenarios (several workloads), not both",
                {"path": "workload"},
            )
        kinds: dict[str, tuple[object, ...]] = {}
        for where, workload in self.workload_paths.items():
            target = workload.target
            if target is not None and target not in self.services:
                raise PydanticCustomError(
                    "target",
                    "'{target}' is not a service; services: {names}",
                    {
                        "path": f"{where}.target",
                        "target": target,
                        "names": ", ".join(self.services),
                    },
                )
            for index, cls in enumerate(workload.classes):
                kind = (cls.priority, cls.size, cls.max_size)
                if kinds.setdefault(cls.name, kind) != kind:
                    raise PydanticCustomError(
                        "priority",
                        "class '{name}' has another priority or size in another scenario: a "
                        "class is one kind of request everywhere",
                        {"path": f"{where}.classes.{index}", "name": cls.name},
                    )
        self._check_sizes()

    def _check_sizes(self) -> None:
        """What reads a request's size (a token cost of ``size``, work per unit, a budget
        of units) needs every request class to have one."""
        for name, service in self.services.items():
            readers = [
                ("rate_limit.cost", getattr(service.rate_limit, "cost", None) == "size"),
                ("work_per_unit", service.work_per_unit is not None),
                ("unit_capacity", service.unit_capacity is not None),
            ]
            for field, reads in readers:
                unsized = [c for c in self.class_names if self.request_class(c) is None]
                if reads and unsized:
                    raise PydanticCustomError(
                        "size",
                        "reads the request's size, but class '{cls}' has none: give each "
                        "class a size (workload.classes)",
                        {"path": f"services.{name}.{field}", "cls": unsized[0]},
                    )

    @property
    def workload_paths(self) -> dict[str, Workload]:
        """Each workload by where it sits in the file: ``workload`` or ``scenarios.NAME``."""
        if self.workload is not None:
            return {"workload": self.workload}
        return {f"scenarios.{name}": workload for name, workload in self.scenarios.items()}

    @property
    def workloads(self) -> list[Workload]:
        """Every workload that runs: the one ``workload``, or each scenario in order."""
        return [self.workload] if self.workload is not None else list(self.scenarios.values())

    @property
    def class_names(self) -> list[str]:
        """Every request class of every workload, in order of first mention."""
        return list(dict.fromkeys(n for w in self.workloads for n in w.class_names))

    def request_class(self, name: str) -> RequestClass | None:
        """The sized class called ``name`` (None when it has no size)."""
        for workload in self.workloads:
            for cls in workload.classes:
                if cls.name == name and cls.size is not None:
                    return cls
        return None

    def mean_size(self, name: str) -> float:
        """Mean units a request of class ``name`` carries (0 without a size)."""
        cls = self.request_class(name)
        return cls.mean_size if cls is not None else 0.0

    @property
    def closed(self) -> bool:
        """True when every workload is closed-loop users (no open-loop arrivals at all)."""
        return all(w.closed for w in self.workloads)

    @property
    def result_names(self) -> set[str]:
        """What results are reported under: ``all``, each scenario, each service, each call
        edge ``a->b``."""
        edges = {
            edge_name(a, c.to) for a, s in self.services.items() for _, calls in call_lists(a, s)
            for c in calls
        }  # fmt: skip
        return {"all", *map(scenario_name, self.scenarios), *self.services, *edges}

    def target_of(self, workload: Workload) -> str:
        """Name of the service that receives ``workload``'s requests (default the first)."""
        return workload.target or next(iter(self.services))

    @property
    def entry(self) -> str:
        """Name of the service that receives the (first) workload's requests."""
        return self.target_of(self.workloads[0])

    @property
    def bin_width(self) -> float:
        """Width of the time-series bins in seconds."""
        return self.timeseries_bin or self.horizon / 100


# --- loading ----------------------------------------------------------------------------


def from_dict(data: Mapping[str, YamlValue], source: str | None = None) -> Model:
    """Validate a model given as plain data; raise ModelError with every problem found."""
    if not isinstance(data, Mapping):
        raise ModelError(["(top level): a model must be a mapping of keys to values"], source)
    try:
        return Model.model_validate(dict(data))
    except ValidationError as exc:
        raise ModelError(error_lines(exc), source) from None


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a model file as plain data, turning YAML syntax errors into ModelError."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ModelError([f"larger than {MAX_FILE_BYTES:,} bytes: not a model file"], str(path))
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ModelError([f"cannot read the file: {exc.strerror}"], str(path)) from None
    except UnicodeDecodeError as exc:
        raise ModelError(
            [f"not UTF-8 text (byte {exc.start}): save the model as UTF-8"], str(path)
        ) from None
    return parse_model_text(text, str(path))


def parse_model_text(text: str, source: str | None = None) -> dict[str, YamlValue]:
    """A model's YAML text as plain data, turning YAML errors into ModelError."""
    try:
        data = parse_yaml(text)
    except YamlError as exc:
        raise ModelError([str(exc)], source) from None
    if not isinstance(data, dict):
        raise ModelError(["(top level): a model must be a mapping of keys to values"], source)
    return data


def load(path: str | Path, overrides: Mapping[str, YamlValue] | None = None) -> Model:
    """Load and validate a model file, applying ``{"dotted.path": value}`` overrides first."""
    data = read_yaml(path)
    if overrides:
        data = apply_overrides(data, overrides, source=str(path))
    model = from_dict(data, source=str(path))
    traces = {}
    for where, workload in model.workload_paths.items():
        arrivals = workload.arrivals
        if isinstance(arrivals, TraceArrivals) and not Path(arrivals.file).is_absolute():
            traces[f"{where}.arrivals.file"] = str(Path(path).resolve().parent / arrivals.file)
    if traces:
        model = from_dict(apply_overrides(data, traces), str(path))
    return model


_INDEX = re.compile(r"\[\s*(\d+)\s*\]")


def path_keys(path: str) -> list[str]:
    """The keys of a dotted path, list indices given dotted or in brackets:
    ``services.api.calls[0].timeout`` -> ``["services", "api", "calls", "0", "timeout"]``."""
    return _INDEX.sub(r".\1", path.strip()).split(".")


def apply_overrides(
    data: Mapping[str, YamlValue], overrides: Mapping[str, YamlValue], source: str | None = None
) -> dict[str, YamlValue]:
    """Return a copy of ``data`` with each ``dotted.path`` set to its value.

    List items are addressed by index, dotted or in brackets (``workload.classes.0.weight``
    or ``workload.classes[0].weight``). Missing mappings on the way are created, so the
    schema, not this function, judges whether a path exists.
    """
    result = copy.deepcopy(dict(data))
    for path, value in overrides.items():
        keys = path_keys(path)
        node: Any = result
        for depth, key in enumerate(keys):
            last = depth == len(keys) - 1
            where = ".".join(keys[: depth + 1])
            if isinstance(node, list):
                if not key.isdigit() or int(key) >= len(node):
                    raise ModelError([f"{where}: no list item {key} here"], source)
                if last:
                    node[int(key)] = value
                else:
                    node = node[int(key)]
            elif isinstance(node, dict):
                if last:
                    node[key] = value
                else:
                    if not isinstance(node.get(key), dict | list):
                        node[key] = {}
                    node = node[key]
            else:
                raise ModelError([f"{where}: cannot set a key inside a plain value"], source)
    return result


def parse_assignment(text: str) -> tuple[str, YamlValue]:
    """Split a ``--set PATH=VALUE`` argument; the value is read as YAML (12, 0.5, "2s", {...})."""
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise ModelError([f"--set {text}: expected PATH=VALUE, e.g. services.api.workers=12"])
    try:
        value = parse_yaml(raw)
    except YamlError:
        value = raw
    return path.strip(), value


def json_schema() -> dict[str, Any]:
    """JSON Schema of the model file, for editors that validate YAML as you type."""
    schema = Model.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "queuefull capacity model"
    plain: dict[str, Any] = json.loads(json.dumps(schema))
    return plain
