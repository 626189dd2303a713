"""The knobs of a model, generated from the schema: every number the model sets on its
workload and services (workers, queue, replicas, work time, and the parameters of each
control it uses), with the type, bounds, unit and description its field declares."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import BaseModel

from sim.model import Model, Workload
from sim.model.facts import NumberFacts, number_facts
from sim.model.service import Call, ClassBehaviour, Service

CONTAINERS = (Workload, Service, Call, ClassBehaviour)
"""Parts whose numbers are knobs only when the model sets them (or the field is marked
``knob``); inside a control, a distribution or an autoscaler every number is a knob."""


@dataclass(frozen=True)
class Knob:
    """One number of the model a widget can change."""

    path: str  # dotted path, as --set and overrides take it
    group: str  # "workload" or the service's name
    value: float
    facts: NumberFacts

    @property
    def label(self) -> str:
        """The path inside its group, with its unit: ``workers``, ``calls.0.timeout (s)``."""
        inside = self.path.split(".", 2)[-1] if self.path.startswith("services.") else self.path
        return f"{inside} ({self.facts.unit})" if self.facts.unit else inside

    @property
    def integer(self) -> bool:
        """Whole numbers only."""
        return self.facts.integer

    def clamp(self, value: float) -> float:
        """``value`` moved inside the field's bounds (a hair above an exclusive low)."""
        low, high = self.facts.low, self.facts.high
        if low is not None:
            floor = low + (1 if self.integer else max(abs(low) * 1e-6, 1e-9))
            value = max(value, floor if self.facts.above_low else low)
        if high is not None:
            value = min(value, high)
        return round(value) if self.integer else value

    def span(self, points: int = 10) -> list[float]:
        """A sensible what-if range around the current value: half to twice it (within the
        bounds), ``points`` values evenly spaced, every whole number when there are few
        (whole numbers stay ints: the schema refuses 5.0 workers)."""
        value = self.value
        low = self.clamp(value / 2 if value > 0 else value - 1)
        high = self.clamp(value * 2 if value > 0 else value + 1)
        if self.integer:
            low, high = int(low), int(high)
            if high - low + 1 <= points:
                return list(range(low, high + 1))
            step = (high - low) / (points - 1)
            return sorted({round(low + i * step) for i in range(points)})
        return [low + i * (high - low) / (points - 1) for i in range(points)]


def _walk(spec: BaseModel, path: str, group: str, out: list[Knob]) -> None:
    container = isinstance(spec, CONTAINERS)
    for name, field in type(spec).model_fields.items():
        value = getattr(spec, name)
        where = f"{path}.{field.alias or name}"
        facts = number_facts(type(spec), name)
        if facts is not None:
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            if container and name not in spec.model_fields_set and not extra.get("knob"):
                continue
            if value is None:
                if isinstance(spec, Service) and name == "replicas" and spec.autoscaling:
                    continue  # the autoscaler owns the count: setting both is refused
                value = extra.get("unset")
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if number and math.isfinite(value):
                out.append(Knob(where, group, float(value), facts))
        elif isinstance(value, BaseModel):
            _walk(value, where, group, out)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    _walk(item, f"{where}.{index}", group, out)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, BaseModel):
                    _walk(item, f"{where}.{key}", group, out)


def knobs(model: Model) -> list[Knob]:
    """Every knob of ``model``: the workload's first, then each service's, in file order."""
    out: list[Knob] = []
    for where, workload in model.workload_paths.items():
        _walk(workload, where, where.removeprefix("scenarios."), out)
    for name, service in model.services.items():
        _walk(service, f"services.{name}", name, out)
    return out


def knob_map(model: Model) -> dict[str, Knob]:
    """Knobs by dotted path."""
    return {knob.path: knob for knob in knobs(model)}
