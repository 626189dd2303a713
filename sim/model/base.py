"""Building blocks of the model schema: strict models, durations, tagged unions, error lines.

Every schema class derives from :class:`Strict`, so an unknown key is an error that names
its dotted path and the keys that are allowed there. Validation errors become
``dotted.path: message`` lines (:func:`error_lines`) that a user can act on.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    JsonValue,
    Tag,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError
from typing_extensions import TypeAliasType

from sim.model.durations import parse_duration

# Loc elements that start with this marker are tags of unions: they are dropped from paths.
YamlValue = TypeAliasType(
    "YamlValue",
    "bool | int | float | str | Sequence[YamlValue] | Mapping[str, YamlValue] | None",
)
"""A value as YAML (or JSON) gives it: a scalar, a list or a mapping of such values."""

_HIDDEN = "~"


MAX_DURATION = 1e9
"""The longest duration a model may give, in seconds (about 31 years): beyond it, simulated
clocks lose the resolution of milliseconds."""


MAX_REPLICAS = 10_000
"""The most replicas a service may have: each is simulated with its own pool and state."""


class Strict(BaseModel):
    """A schema object: unknown keys are errors; whole numbers and booleans are strict
    (``workers: true`` is not 1); NaN and infinities are refused; defaults are validated like
    written values, so a default takes the same form as what a user would write."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        strict=True,
        allow_inf_nan=False,
        validate_default=True,
        defer_build=True,  # schemas are built on first use: --help never pays for them
    )

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        allowed = [f.alias or name for name, f in cls.model_fields.items()]
        for key in data:
            if key not in allowed and key not in cls.model_fields:
                name = str(key)[:60]
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise PydanticCustomError(
                    "unknown_key",
                    "unknown key{hint}; allowed here: {allowed}",
                    {"key": name, "hint": hint, "allowed": ", ".join(allowed)},
                )
        return data


def unit(name: str, **facts: JsonValue) -> dict[str, JsonValue]:
    """A field's ``json_schema_extra`` naming its unit and any other facts for widgets:
    ``unset`` (the value None stands for), ``minimum`` (where the type cannot say it),
    ``knob=True`` (always offered, even when the model leaves it at its default)."""
    return {"unit": name, **facts}


def _duration(value: Any) -> Any:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise PydanticCustomError("duration", str(exc)) from None


Duration = Annotated[float, BeforeValidator(_duration), Field(ge=0, le=MAX_DURATION)]
"""A duration in seconds (numbers, or strings such as "250ms", "2s", "1m30s"); never negative."""

PositiveDuration = Annotated[float, BeforeValidator(_duration), Field(gt=0, le=MAX_DURATION)]
"""A duration in seconds that must be greater than zero."""


def tagged_union(key: str, *classes: type[BaseModel]) -> Any:
    """A union of schema classes chosen by the value of ``key`` (e.g. ``distribution``).

    Each class declares ``key`` as a ``Literal`` with one value, its tag. An unknown or
    missing tag is one error on the union's own path listing the tags there are.
    """
    tags = [cls.model_fields[key].default for cls in classes]
    if any(not isinstance(tag, str) for tag in tags):
        raise TypeError(f"every class in a union on {key!r} needs a default tag")

    def choose(value: Any) -> str | None:
        tag = value.get(key) if isinstance(value, dict) else getattr(value, key, None)
        return _HIDDEN + tag if isinstance(tag, str) and tag in tags else None

    members = tuple(
        Annotated[cls, Tag(_HIDDEN + tag)] for cls, tag in zip(classes, tags, strict=True)
    )
    return Annotated[
        members[0] if len(members) == 1 else _union(members),
        Discriminator(
            choose,
            custom_error_type="unknown_kind",
            custom_error_message=f"'{key}' must be one of: {', '.join(tags)}",
        ),
    ]


def word_or(word: str, other: Any, meaning: str) -> Any:
    """``other`` (a schema type), or the one string ``word``: one clear error for any other
    string, and ``other``'s own errors, on their own path, for anything else."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and value != word:
            raise PydanticCustomError(
                "word", "give {meaning}, or '{word}'", {"meaning": meaning, "word": word}
            )
        return value

    def choose(value: Any) -> str:
        return _HIDDEN + ("word" if value == word else "other")

    members = (
        Annotated[other, Tag(_HIDDEN + "other")],
        Annotated[Literal[word], Tag(_HIDDEN + "word")],
    )
    return Annotated[_union(members), Discriminator(choose), BeforeValidator(check)]


def _union(members: tuple[Any, ...]) -> Any:
    from typing import Union

    return Union[members]  # noqa: UP007 - built from a runtime tuple


_MESSAGES = {
    "greater_than_equal": "must be >= {ge}",
    "greater_than": "must be > {gt}",
    "less_than_equal": "must be <= {le}",
    "less_than": "must be < {lt}",
    "missing": "is required",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping (key: value)",
    "model_type": "must be a mapping (key: value)",
    "model_attributes_type": "must be a mapping (key: value)",
    "list_type": "must be a list",
    "too_short": "must have at least {min_length} item(s)",
    "literal_error": "must be one of: {expected}",
    "finite_number": "must be a finite number",
}

MAX_ERROR_LINES = 20
"""At most this many problems are listed; the rest are counted."""

MAX_LINE = 400
"""An error line is cut to this many characters: a bad value is quoted, never echoed whole."""


def _plain(value: Any) -> Any:
    """Numbers as people write them: 0.0 -> 0, 2.5 -> 2.5."""
    return f"{value:g}" if isinstance(value, float) else value


def error_lines(exc: ValidationError) -> list[str]:
    """Turn a pydantic ValidationError into ``dotted.path: message`` lines."""
    lines = []
    errors = exc.errors(include_url=False)
    for err in errors[:MAX_ERROR_LINES]:
        path = [str(p) for p in err["loc"] if not str(p).startswith(_HIDDEN)]
        ctx = err.get("ctx") or {}
        if err["type"] == "unknown_key":
            path.append(ctx["key"])
        if "path" in ctx:  # a cross-field check names the field it is about
            path.extend(ctx["path"].split("."))
        template = _MESSAGES.get(err["type"])
        if template:
            try:
                message = template.format(**{k: _plain(v) for k, v in ctx.items()})
            except (KeyError, IndexError):
                message = err["msg"]
        else:
            message = err["msg"]
            for prefix in ("Value error, ", "Assertion failed, "):
                message = message.removeprefix(prefix)
        line = f"{'.'.join(path) or '(top level)'}: {message}"
        lines.append(line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…")
    if len(errors) > MAX_ERROR_LINES:
        lines.append(f"(and {len(errors) - MAX_ERROR_LINES} more problems)")
    return lines
