"""queuefull: predict where a service architecture fills its queues and starts rejecting work.

import sim
model = sim.load("models/default.yaml")
results = sim.run(model)
results.summary          # tidy DataFrame: service, metric, mean, ci_low, ci_high, unit

Names load on first use, so ``import sim`` (and ``queuefull --help`` or ``validate``) does
not pull in pandas, scipy or the engine until something needs them.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from sim import compiled

compiled.install()  # before any engine module is imported: its build, where one matches

if TYPE_CHECKING:
    from sim import analytic, estimate
    from sim.diagnose import Diagnosis, diagnose
    from sim.measure.results import Results
    from sim.model import Model, ModelError, UnstableError, apply_overrides, from_dict, load
    from sim.studies.capacity import Capacity, find_capacity
    from sim.studies.check import check
    from sim.studies.compare import Comparison, compare
    from sim.studies.run import run
    from sim.studies.sweep import knee, sweep

_HOMES = {
    "analytic": "sim.analytic",
    "estimate": "sim.estimate",
    "Diagnosis": "sim.diagnose",
    "Results": "sim.measure.results",
    "Model": "sim.model",
    "ModelError": "sim.model",
    "UnstableError": "sim.model",
    "apply_overrides": "sim.model",
    "from_dict": "sim.model",
    "load": "sim.model",
    "Capacity": "sim.studies.capacity",
    "find_capacity": "sim.studies.capacity",
    "check": "sim.studies.check",
    "Comparison": "sim.studies.compare",
    "compare": "sim.studies.compare",
    "run": "sim.studies.run",
    "knee": "sim.studies.sweep",
    "sweep": "sim.studies.sweep",
}
"""Where each public name lives."""

__all__ = [
    "Capacity",
    "Comparison",
    "Diagnosis",
    "Model",
    "ModelError",
    "Results",
    "UnstableError",
    "analytic",
    "apply_overrides",
    "check",
    "compare",
    "diagnose",
    "estimate",
    "find_capacity",
    "from_dict",
    "knee",
    "load",
    "run",
    "sweep",
]


def __getattr__(name: str) -> Any:
    """Load a public name from its home module on first use (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    module = importlib.import_module(home)
    value = module if home == f"sim.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


class _Package(types.ModuleType):
    """``sim.diagnose`` names both a subpackage and the function people call. Importing the
    subpackage binds it on ``sim``, which would hide the function; this property keeps
    ``sim.diagnose`` the function, as the eager imports once did."""

    @property
    def diagnose(self) -> Any:
        """:func:`sim.diagnose.diagnose`."""
        return importlib.import_module("sim.diagnose").diagnose

    @diagnose.setter
    def diagnose(self, value: Any) -> None:
        pass  # the import system binding the subpackage: the function stays


sys.modules[__name__].__class__ = _Package
