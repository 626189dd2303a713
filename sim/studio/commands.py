"""The ``queuefull`` command that does what a studio action does, to run it from a
terminal or CI when it is over the page's budget, or to reproduce it."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence

from sim.model.base import YamlValue


def _sets(overrides: Mapping[str, YamlValue]) -> list[str]:
    out = []
    for path, value in overrides.items():
        text = value if isinstance(value, str) else json.dumps(value)
        out += ["--set", f"{path}={text}"]
    return out


def _format_values(values: Sequence[float]) -> str:
    return ",".join(f"{v:g}" for v in values)


def command(
    action: str,
    model_file: str,
    overrides: Mapping[str, YamlValue],
    replications: int | str | None = None,
    vary: Mapping[str, Sequence[float]] | None = None,
    capacity_of: str | None = None,
    budget: float | None = None,
) -> str:
    """The shell command for ``action`` (run, sweep or capacity) on ``model_file`` with
    the page's overrides; ``budget`` is added when the action needs more than the default."""
    words = ["queuefull", action, model_file]
    if action == "sweep":
        for path, values in (vary or {}).items():
            words += ["--vary", f"{path}={_format_values(values)}"]
    if action == "capacity" and capacity_of:
        words += ["--vary", capacity_of]
    words += _sets(overrides)
    if replications is not None:
        words += ["--replications", str(replications)]
    if budget is not None:
        words += ["--budget", f"{budget:.3g}"]
    return shlex.join(words)
