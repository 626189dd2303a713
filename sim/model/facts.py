"""What the schema says about a numeric field: whole or not, bounds, unit, description.

The studio builds its widgets from these facts, so a knob's type, range, unit and meaning
live once, in the field's declaration. A field names its unit with ``sim.model.base.unit``
in its ``json_schema_extra`` (which the JSON Schema carries too); durations are seconds.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic.functional_validators import BeforeValidator

from sim.model.base import _duration


@dataclass(frozen=True)
class NumberFacts:
    """A numeric field as a widget needs it."""

    integer: bool
    low: float | None  # the least value allowed (with ``above_low``: values must exceed it)
    high: float | None
    above_low: bool
    unit: str
    description: str


def _walk(annotation: object, found: list[object]) -> list[type]:
    """The plain types inside ``annotation``, collecting Annotated metadata into ``found``."""
    if typing.get_origin(annotation) is typing.Annotated:
        inner, *meta = typing.get_args(annotation)
        for item in meta:
            found.extend(item.metadata if isinstance(item, FieldInfo) else [item])
        return _walk(inner, found)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _walk(arg, found)]
    if typing.get_origin(annotation) is typing.Literal:
        return []
    return [annotation] if isinstance(annotation, type) else []


def number_facts(cls: type[BaseModel], name: str) -> NumberFacts | None:
    """The facts of ``cls.name`` if it holds a plain number (optionally None), else None."""
    field = cls.model_fields[name]
    meta: list[object] = list(field.metadata)
    plain = [t for t in _walk(field.annotation, meta) if t is not type(None)]
    if not plain or any(t not in (int, float) for t in plain):
        return None
    low = high = None
    above = False
    is_duration = False
    for item in meta:
        if isinstance(item, annotated_types.Ge):
            low, above = float(item.ge), False  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Gt):
            low, above = float(item.gt), True  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Le):
            high = float(item.le)  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Lt):
            high = float(item.lt)  # type: ignore[arg-type]
        elif isinstance(item, BeforeValidator) and item.func is _duration:
            is_duration = True
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    declared = extra.get("unit")
    if low is None and isinstance(extra.get("minimum"), int | float):
        low = float(extra["minimum"])  # type: ignore[arg-type]
    return NumberFacts(
        integer=plain == [int],
        low=low,
        high=high,
        above_low=above,
        unit=str(declared) if declared else ("s" if is_duration else ""),
        description=field.description or "",
    )
