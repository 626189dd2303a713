"""queuefull: predict where a service architecture fills its queues and starts rejecting work.

import sim
model = sim.load("models/default.yaml")
results = sim.run(model)
results.summary          # tidy DataFrame: service, metric, mean, ci_low, ci_high, unit
"""

from sim import analytic
from sim.diagnose import Diagnosis, diagnose
from sim.measure.results import Results
from sim.model import Model, ModelError, UnstableError, apply_overrides, from_dict, load
from sim.studies.capacity import Capacity, find_capacity
from sim.studies.check import check
from sim.studies.compare import Comparison, compare
from sim.studies.run import run
from sim.studies.sweep import knee, sweep

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
    "find_capacity",
    "from_dict",
    "knee",
    "load",
    "run",
    "sweep",
]
