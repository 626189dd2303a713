"""The schema of autoscaling: Kubernetes HPA v2, scheduled scaling, step scaling on an alarm."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from sim.model.base import MAX_REPLICAS, Duration, PositiveDuration, Strict, tagged_union
from sim.model.controls import Patience
from sim.model.distributions import Constant
from sim.policies.hpa import HorizontalPodAutoscaler, ScalingPolicy, ScalingRules
from sim.policies.stepscaling import Step, StepScaler

DEFAULT_SCALE_UP = ScalingRules(
    0.0, (ScalingPolicy("Percent", 100, 15.0), ScalingPolicy("Pods", 4, 15.0)), "Max"
)
"""Kubernetes' default behavior.scaleUp: no stabilization; Max(100 % or 4 pods per 15 s)."""

DEFAULT_SCALE_DOWN = ScalingRules(300.0, (ScalingPolicy("Percent", 100, 15.0),), "Max")
"""Kubernetes' default behavior.scaleDown: a 300 s window; 100 % per 15 s."""

ScalingMetric = Literal["utilization", "cpu", "in_flight", "queue_depth", "request_rate"]
"""Per ready replica: busy workers / workers, busy cores / cores, requests in progress,
requests waiting, arrivals per second."""


class PolicySpec(Strict):
    """An HPA scaling policy: ``type`` Pods or Percent, ``value`` per ``period_seconds``."""

    type: Literal["Pods", "Percent"]
    value: int = Field(ge=1)
    period_seconds: PositiveDuration


class RulesSpec(Strict):
    """``behavior.scale_up`` or ``behavior.scale_down``; unset fields keep Kubernetes' defaults."""

    stabilization_window_seconds: Duration | None = None
    policies: list[PolicySpec] | None = None
    select_policy: Literal["Max", "Min", "Disabled"] | None = None

    def rules(self, default: ScalingRules) -> ScalingRules:
        """The pure policy's rules, defaults filled in."""
        policies = default.policies
        if self.policies is not None:
            policies = tuple(
                ScalingPolicy(p.type, p.value, p.period_seconds) for p in self.policies
            )
        window = self.stabilization_window_seconds
        return ScalingRules(
            default.stabilization_window_seconds if window is None else window,
            policies,
            self.select_policy or default.select_policy,
        )


class BehaviorSpec(Strict):
    """HPA v2 ``behavior``."""

    scale_up: RulesSpec | None = None
    scale_down: RulesSpec | None = None


class ProvisioningSpec(Strict):
    """How new replicas come up: shared by every kind of scaling."""

    provisioning_delay: Patience = Field(
        Constant(value=30.0),
        description="image pull + start + readiness, seconds (or a distribution)",
    )
    warmup_duration: Duration = Field(0.0, description="a new replica starts cold for this long")
    cold_slowdown: float = Field(
        1.0,
        ge=1,
        description="work on a just-ready replica takes this many times longer, "
        "fading linearly to 1 over warmup_duration (JIT, caches)",
    )


class HPASpec(ProvisioningSpec):
    """Kubernetes HPA v2 with its names and defaults."""

    kind: Literal["hpa"] = "hpa"
    min_replicas: int = Field(1, ge=1)
    max_replicas: int = Field(ge=1, le=MAX_REPLICAS)
    metric: ScalingMetric = "utilization"
    target: float = Field(gt=0, description="target value of the metric per replica")
    sync_period: PositiveDuration = Field(15.0)
    tolerance: float = Field(0.1, ge=0)
    behavior: BehaviorSpec | None = None

    @model_validator(mode="after")
    def _bounds(self) -> HPASpec:
        if self.max_replicas < self.min_replicas:
            raise PydanticCustomError("bounds", "must be >= min_replicas", {"path": "max_replicas"})
        return self

    @property
    def initial(self) -> int:
        """Replicas at t=0."""
        return self.min_replicas

    def rules(self) -> tuple[ScalingRules, ScalingRules]:
        """(scale_up, scale_down) rules with Kubernetes' defaults where unset."""
        behavior = self.behavior or BehaviorSpec()
        up = behavior.scale_up.rules(DEFAULT_SCALE_UP) if behavior.scale_up else DEFAULT_SCALE_UP
        down = (
            behavior.scale_down.rules(DEFAULT_SCALE_DOWN)
            if behavior.scale_down
            else DEFAULT_SCALE_DOWN
        )
        return up, down

    def build(self) -> HorizontalPodAutoscaler:
        """The pure HPA with this spec's bounds, tolerance and behavior."""
        up, down = self.rules()
        return HorizontalPodAutoscaler(
            self.min_replicas, self.max_replicas, self.target, self.tolerance, up, down
        )

    @property
    def period(self) -> float:
        """Seconds between evaluations."""
        return self.sync_period


class ScheduledReplicas(Strict):
    """From ``at`` on, ``replicas`` are wanted."""

    at: Duration
    replicas: int = Field(ge=1, le=MAX_REPLICAS)


class ScheduleSpec(ProvisioningSpec):
    """Scheduled scaling: the replica count by time (a cron-driven scale-up before a sale)."""

    kind: Literal["schedule"] = "schedule"
    schedule: list[ScheduledReplicas] = Field(min_length=1)

    @property
    def initial(self) -> int:
        """Replicas at t=0: the first entry at or before 0, else the first entry's."""
        entries = sorted(self.schedule, key=lambda e: e.at)
        return next((e.replicas for e in reversed(entries) if e.at <= 0), entries[0].replicas)


class StepAdjustment(Strict):
    """Scale out by ``adjustment`` while the metric is in [lower, upper)."""

    lower: float = Field(ge=0)
    upper: float | None = None
    adjustment: int = Field(ge=1)


class ScaleIn(Strict):
    """Scale in by ``adjustment`` while the metric is under ``threshold``."""

    threshold: float = Field(ge=0)
    adjustment: int = Field(1, ge=1)


class StepScalingSpec(ProvisioningSpec):
    """A cloud step-scaling policy on an alarm: every ``evaluation_period`` the metric's
    average is compared with the steps; after an action, nothing happens for ``cooldown``."""

    kind: Literal["step_scaling"] = "step_scaling"
    min_replicas: int = Field(1, ge=1)
    max_replicas: int = Field(ge=1, le=MAX_REPLICAS)
    metric: ScalingMetric = "queue_depth"
    evaluation_period: PositiveDuration = Field(60.0)
    cooldown: Duration = Field(300.0)
    scale_out: list[StepAdjustment] = Field(min_length=1)
    scale_in: ScaleIn | None = None

    @property
    def initial(self) -> int:
        """Replicas at t=0."""
        return self.min_replicas

    @property
    def period(self) -> float:
        """Seconds between evaluations."""
        return self.evaluation_period

    def build(self) -> StepScaler:
        """The pure step scaler with these steps, scale-in rule, cooldown and bounds."""
        steps = [Step(s.lower, s.upper, s.adjustment) for s in self.scale_out]
        scale_in = self.scale_in
        return StepScaler(
            steps,
            scale_in.threshold if scale_in else None,
            scale_in.adjustment if scale_in else 0,
            self.cooldown,
            self.min_replicas,
            self.max_replicas,
        )


def _default_kind(value: Any) -> Any:
    if isinstance(value, dict) and "kind" not in value:
        return {"kind": "hpa", **value}
    return value


if TYPE_CHECKING:
    Autoscaling = HPASpec | ScheduleSpec | StepScalingSpec
else:
    Autoscaling = Annotated[
        tagged_union("kind", HPASpec, ScheduleSpec, StepScalingSpec),
        BeforeValidator(_default_kind),
    ]
AutoscalingSpec = HPASpec | ScheduleSpec | StepScalingSpec
