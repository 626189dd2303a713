"""queuefull: predict where a service architecture fills its queues and starts rejecting work.

import sim
model = sim.load("models/default.yaml")
results = sim.run(model)
results.summary          # tidy DataFrame: service, metric, mean, ci_low, ci_high, unit
"""

from sim import analytic
from sim.capacity import Capacity, find_capacity
from sim.model import Model, ModelError, UnstableError, apply_overrides, from_dict, load
from sim.results import Results
from sim.runner import run
from sim.slo import check
from sim.sweep import sweep

__all__ = [
    "Capacity",
    "Model",
    "ModelError",
    "Results",
    "UnstableError",
    "analytic",
    "apply_overrides",
    "check",
    "find_capacity",
    "from_dict",
    "load",
    "run",
    "sweep",
]
