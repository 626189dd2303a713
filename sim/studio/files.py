"""Files the studio reads and offers: the shipped models with their one-line stories, the
edited model as YAML, and results exactly as ``queuefull run --json/--csv`` writes them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from sim.measure.results import Results
from sim.model.base import YamlValue

MAX_UPLOAD_BYTES = 1_000_000
"""An uploaded model larger than this is refused (a model file is a few kilobytes)."""


@dataclass(frozen=True)
class Shipped:
    """A model in ``models/``: its name, its story's first line and its text."""

    name: str
    story: str
    text: str


def story(text: str) -> str:
    """A model's one-line story: its first comment line, without the model's own name."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            words = stripped.lstrip("#").strip()
            head, sep, rest = words.partition(": ")
            return (rest if sep and " " not in head else words).rstrip(".")
        if stripped:
            break
    return ""


def catalogue(folder: Path) -> dict[str, Shipped]:
    """Every ``*.yaml`` model in ``folder``, ``default`` first."""
    found = {}
    for path in sorted(folder.glob("*.yaml"), key=lambda p: (p.stem != "default", p.stem)):
        text = path.read_text(encoding="utf-8")
        found[path.stem] = Shipped(path.stem, story(text), text)
    return found


def model_yaml(data: dict[str, YamlValue]) -> str:
    """A model's data as YAML, keys in their written order."""
    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))


def results_json(results: Results) -> bytes:
    """What ``queuefull run --json FILE`` writes."""
    return results.to_json().encode("utf-8")


def results_csv(results: Results) -> bytes:
    """What ``queuefull run --csv FILE`` writes."""
    return str(results.summary.to_csv(index=False)).encode("utf-8")
