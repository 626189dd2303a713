"""The studio's page state, and its round trip through a URL's query parameters, so a
pasted link shows the same model, knob values, seed and replications."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from sim.model.base import YamlValue

SET = "set."  # query parameter prefix of an override: ?set.services.api.workers=12
CUSTOM = "custom"  # the model is the edited or uploaded text carried in ?yaml=
MAX_YAML_BYTES = 64_000  # a shared edited model larger than this is refused


@dataclass
class PageState:
    """What the page shows: which model, which knob overrides, which seed and replications."""

    model: str = "default"
    overrides: dict[str, YamlValue] = field(default_factory=dict)
    seed: int | None = None
    replications: int | None = None
    yaml: str | None = None  # the text of a custom model


def pack_text(text: str) -> str:
    """Text as a short URL-safe token (deflate, then base64url)."""
    return base64.urlsafe_b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")


def unpack_text(token: str) -> str:
    """The text of :func:`pack_text`'s token; ValueError when it is not one."""
    inflate = zlib.decompressobj()
    try:
        raw = inflate.decompress(base64.urlsafe_b64decode(token), MAX_YAML_BYTES)
        text = raw.decode("utf-8")
    except (ValueError, zlib.error, UnicodeDecodeError) as exc:
        raise ValueError("the link's yaml parameter is damaged") from exc
    if inflate.unconsumed_tail:
        raise ValueError(f"the link's model is larger than {MAX_YAML_BYTES:,} bytes")
    if not inflate.eof or not text:
        raise ValueError("the link's yaml parameter is damaged")
    return text


def to_query(state: PageState) -> dict[str, str]:
    """Query parameters for ``state`` (only what differs from the defaults)."""
    query: dict[str, str] = {"model": state.model}
    if state.model == CUSTOM and state.yaml is not None:
        query["yaml"] = pack_text(state.yaml)
    if state.seed is not None:
        query["seed"] = str(state.seed)
    if state.replications is not None:
        query["replications"] = str(state.replications)
    for path, value in sorted(state.overrides.items()):
        query[SET + path] = json.dumps(value)
    return query


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def from_query(query: Mapping[str, str]) -> tuple[PageState, list[str]]:
    """The state in ``query``, and a note for each parameter that could not be read
    (a damaged link still opens, on what could be read)."""
    notes: list[str] = []
    state = PageState(model=query.get("model", "default") or "default")
    state.seed = _int(query.get("seed"))
    state.replications = _int(query.get("replications"))
    if state.model == CUSTOM:
        try:
            state.yaml = unpack_text(query.get("yaml", ""))
        except ValueError as exc:
            notes.append(str(exc))
            state.model = "default"
    for key, text in query.items():
        if key.startswith(SET):
            try:
                state.overrides[key[len(SET) :]] = json.loads(text)
            except ValueError:
                notes.append(f"{key}: {text[:40]!r} is not a value")
    return state, notes
