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

    type: Literal["Pods", "Percent"] = Field(description="count pods, or percent of current")
    value: int = Field(ge=1, description="pods, or percent of current replicas")
    period_seconds: PositiveDuration = Field(description="the window the value applies to")


class RulesSpec(Strict):
    """``behavior.scale_up`` or ``behavior.scale_down``; unset fields keep Kubernetes' defaults."""

    stabilization_window_seconds: Duration | None = Field(
        None, description="act on the most cautious recommendation of this window"
    )
    policies: list[PolicySpec] | None = Field(None, description="how fast replicas may change")
    select_policy: Literal["Max", "Min", "Disabled"] | None = Field(
        None, description="which policy wins when several apply"
    )

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

    scale_up: RulesSpec | None = Field(None, description="rules for adding replicas")
    scale_down: RulesSpec | None = Field(None, description="rules for removing replicas")


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
    min_replicas: int = Field(1, ge=1, description="fewest replicas (and the count at t=0)")
    max_replicas: int = Field(ge=1, le=MAX_REPLICAS, description="most replicas")
    metric: ScalingMetric = Field("utilization", description="what the target is compared with")
    target: float = Field(gt=0, description="target value of the metric per replica")
    sync_period: PositiveDuration = Field(
        15.0, description="seconds between evaluations (--horizontal-pod-autoscaler-sync-period)"
    )
    tolerance: float = Field(
        0.1, ge=0, description="no change while current/target is within 1 +- tolerance"
    )
    behavior: BehaviorSpec | None = Field(
        None, description="scale-up and scale-down rules (HPA v2)"
    )

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

    at: Duration = Field(description="seconds from the start of the run")
    replicas: int = Field(ge=1, le=MAX_REPLICAS, description="replicas from this time on")


class ScheduleSpec(ProvisioningSpec):
    """Scheduled scaling: the replica count by time (a cron-driven scale-up before a sale)."""

    kind: Literal["schedule"] = "schedule"
    schedule: list[ScheduledReplicas] = Field(
        min_length=1, description="the replica count from each time on"
    )

    @property
    def initial(self) -> int:
        """Replicas at t=0: the first entry at or before 0, else the first entry's."""
        entries = sorted(self.schedule, key=lambda e: e.at)
        return next((e.replicas for e in reversed(entries) if e.at <= 0), entries[0].replicas)


class StepAdjustment(Strict):
    """Scale out by ``adjustment`` while the metric is in [lower, upper)."""

    lower: float = Field(ge=0, description="the step applies from this metric value")
    upper: float | None = Field(
        None, description="the step applies below this metric value (none: no upper end)"
    )
    adjustment: int = Field(ge=1, description="replicas added")


class ScaleIn(Strict):
    """Scale in by ``adjustment`` while the metric is under ``threshold``."""

    threshold: float = Field(ge=0, description="scale in while the metric is under this")
    adjustment: int = Field(1, ge=1, description="replicas removed")


class StepScalingSpec(ProvisioningSpec):
    """A cloud step-scaling policy on an alarm: every ``evaluation_period`` the metric's
    average is compared with the steps; after an action, nothing happens for ``cooldown``."""

    kind: Literal["step_scaling"] = "step_scaling"
    min_replicas: int = Field(1, ge=1, description="fewest replicas (and the count at t=0)")
    max_replicas: int = Field(ge=1, le=MAX_REPLICAS, description="most replicas")
    metric: ScalingMetric = Field("queue_depth", description="the alarm's metric")
    evaluation_period: PositiveDuration = Field(
        60.0, description="seconds between alarm evaluations"
    )
    cooldown: Duration = Field(300.0, description="seconds of no action after an action")
    scale_out: list[StepAdjustment] = Field(
        min_length=1, description="steps: how many replicas to add at which metric values"
    )
    scale_in: ScaleIn | None = Field(None, description="when and how far to scale in")

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
