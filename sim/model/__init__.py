"""The capacity-model schema: the one home of every knob, its default, unit and description.

A model is YAML (or a dict) describing a workload and a set of services; :func:`load` and
:func:`from_dict` validate it and report every problem as a :class:`ModelError` whose lines
read ``dotted.path: message``. The parts:

- ``base``: the strict base class, durations, tagged unions, error lines;
- ``durations``: "250ms", "1m30s" -> seconds;
- ``distributions``: distribution specs with their mean and scv;
- ``workload``: arrival processes, closed-loop users, classes, clients;
- ``service``: workers and queues, calls, pools, incidents, GC;
- ``controls``: rate and concurrency limits, breakers, retries, queue policies;
- ``scaling``: HPA v2, schedules, step scaling;
- ``graph``: the service graph's checks;
- ``schema``: the whole model, SLOs, precision, loading and overrides;
- ``yamlio``: the safe YAML reader.
"""

from sim.model.base import YamlValue
from sim.model.distributions import (
    Constant,
    Distribution,
    DistributionSpec,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Mixture,
    Uniform,
    mean_of,
)
from sim.model.schema import (
    AUTO,
    SLO,
    Model,
    ModelError,
    Precision,
    UnstableError,
    apply_overrides,
    from_dict,
    json_schema,
    load,
    parse_assignment,
    parse_model_text,
    path_keys,
    read_yaml,
)
from sim.model.service import Call, Service
from sim.model.workload import (
    ArrivalSpec,
    BurstyArrivals,
    ConstantArrivals,
    PoissonArrivals,
    ProfileArrivals,
    RequestClass,
    TraceArrivals,
    Workload,
)

__all__ = [
    "AUTO",
    "SLO",
    "ArrivalSpec",
    "BurstyArrivals",
    "Call",
    "Constant",
    "ConstantArrivals",
    "Distribution",
    "DistributionSpec",
    "Empirical",
    "Exponential",
    "Gamma",
    "Lognormal",
    "Mixture",
    "Model",
    "ModelError",
    "PoissonArrivals",
    "Precision",
    "ProfileArrivals",
    "RequestClass",
    "Service",
    "TraceArrivals",
    "Uniform",
    "UnstableError",
    "Workload",
    "YamlValue",
    "apply_overrides",
    "from_dict",
    "json_schema",
    "load",
    "mean_of",
    "parse_assignment",
    "parse_model_text",
    "path_keys",
    "read_yaml",
]
