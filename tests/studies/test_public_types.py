"""The public API is fully typed: no ``Any`` in what a notebook or a type checker sees."""

from __future__ import annotations

import inspect
import typing

import pytest
from typing_extensions import TypeAliasType

import sim
import sim.studies.compare
from sim.studies.check import CheckResult

PUBLIC = [
    sim.load,
    sim.from_dict,
    sim.apply_overrides,
    sim.run,
    sim.sweep,
    sim.find_capacity,
    sim.check,
    sim.compare,
    sim.diagnose,
    sim.studies.compare.differences,
    *[m for _, m in inspect.getmembers(sim.Results, inspect.isfunction) if m.__name__[0] != "_"],
    sim.Results.from_json,
    sim.Results.from_outputs,
]


def _mentions_any(hint: object, seen: set[int]) -> bool:
    if hint is typing.Any:
        return True
    if id(hint) in seen:
        return False
    seen.add(id(hint))
    if isinstance(hint, TypeAliasType):
        return _mentions_any(hint.__value__, seen)
    if isinstance(hint, typing.ForwardRef):
        return False
    return any(_mentions_any(arg, seen) for arg in typing.get_args(hint))


@pytest.mark.parametrize("function", PUBLIC, ids=lambda f: f.__qualname__)
def test_public_signature_has_no_any(function):
    hints = typing.get_type_hints(function)
    assert hints, f"{function.__qualname__} has no type hints"
    offending = [name for name, hint in hints.items() if _mentions_any(hint, set())]
    assert not offending, f"{function.__qualname__}: Any in {offending}"


def test_result_classes_are_typed():
    for cls in (sim.Capacity, CheckResult, sim.Comparison):
        hints = typing.get_type_hints(cls)
        assert hints and not [n for n, h in hints.items() if _mentions_any(h, set())]


def test_an_executor_passed_as_the_replications_is_refused():
    # sim.run(model, "inline") once ran with replications: auto instead of saying so
    model = sim.load("models/default.yaml", {"horizon": 60, "warmup": 0})
    with pytest.raises(ValueError, match="replications must be a whole number >= 1 or 'auto'"):
        sim.run(model, "inline")  # type: ignore[arg-type]
