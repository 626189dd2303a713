"""The studio's "Until precise" choice: how many replications a study starts with, how
far precision-driven doubling may take it, and the overrides that say so."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sim.model import Model, Precision, apply_overrides, from_dict
from sim.model.base import YamlValue

PRECISE_GROWTH = 4
"""With "Until precise", a study runs at most this many times its starting replications."""


@dataclass
class ReplicationChoice:
    """What a tab runs: ``model`` (with the precision overrides applied), ``asked`` for the
    study's ``replications`` argument, ``most`` replications a point or variant may take,
    ``overrides`` for the terminal command's ``--set``, and ``text`` saying the plan."""

    model: Model
    asked: int | Literal["auto"]
    most: int
    text: str
    overrides: dict[str, YamlValue] = field(default_factory=dict)


def replication_choice(
    model: Model, start: int, precise: bool, doubled: str = "where"
) -> ReplicationChoice:
    """``start`` replications of every point or variant; with ``precise``, doubled while
    the model's precision block is not yet reached, up to :data:`PRECISE_GROWTH` times as
    many. ``doubled`` says which double, for the text: ``"where"`` (each point on its own)
    or ``"for every variant while"`` (all together)."""
    text = f"{start} replications"
    if not precise:
        return ReplicationChoice(model, start, start, text)
    most = PRECISE_GROWTH * start
    overrides: dict[str, YamlValue] = {
        "precision.min_replications": start,
        "precision.max_replications": most,
    }
    data = model.model_dump(mode="json", exclude_none=True)
    model = from_dict(apply_overrides(data, overrides))  # the command's --set, applied
    spec = model.precision or Precision()
    text += (
        f", doubled {doubled} {', '.join(spec.metrics)} is not yet within "
        f"+/-{spec.relative_half_width:.0%} (95 % interval), up to {most}"
    )
    return ReplicationChoice(model, "auto", most, text, overrides)
