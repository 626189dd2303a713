"""queuefull: predict where a service architecture fills its queues and starts rejecting work.

import sim
model = sim.load("models/default.yaml")
results = sim.run(model)
results.summary          # tidy DataFrame: service, metric, mean, ci_low, ci_high, unit
"""

from sim import analytic
from sim.model import Model, ModelError, UnstableError, apply_overrides, from_dict, load
from sim.results import Results
from sim.runner import run

__all__ = [
    "Model",
    "ModelError",
    "Results",
    "UnstableError",
    "analytic",
    "apply_overrides",
    "from_dict",
    "load",
    "run",
]
