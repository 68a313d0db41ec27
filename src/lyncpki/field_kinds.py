"""The YAML/JSON type each field of a hand-editable file must have, checked before the values
are used: a quoted "no" is not true, a string is not a list (iterated, it becomes one entry per
character), "30" is not a number. Used by templates.yaml and a CA's config.json."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Kind = Literal["str", "list", "int", "int-or-null", "bool"]

KIND_WORDS: dict[Kind, str] = {
    "str": "a string",
    "list": "a list of strings",
    "int": "a whole number",
    "int-or-null": "a whole number or null",
    "bool": "true or false",
}


def typed_fields(
    data: Mapping[Any, object], kinds: Mapping[str, Kind]
) -> tuple[dict[str, Any], list[str]]:
    """The fields of `data` named in `kinds` (lists as tuples), and a problem in plain words
    for each field of another type ("approval is a string 'no', not true or false"). Fields
    not in `kinds` are left to the caller."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in data.items():
        kind = kinds.get(str(key))
        if kind is None:
            continue
        if kind == "list" and isinstance(value, list):
            value = tuple(value)
        if not _is_kind(value, kind):
            problems.append(
                f"{key} is {yaml_kind(value)} {str(value)[:40]!r}, not {KIND_WORDS[kind]}"
            )
        values[str(key)] = value
    return values, problems


def _is_kind(value: object, kind: Kind) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "list":
        return isinstance(value, tuple) and all(isinstance(v, str) for v in value)
    if kind == "bool":
        return isinstance(value, bool)
    if value is None and kind == "int-or-null":
        return True
    return isinstance(value, int) and not isinstance(value, bool)


def yaml_kind(value: object) -> str:
    """What a parsed YAML or JSON value is, in the words of those formats."""
    return {
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        list: "a list",
        tuple: "a list",
        dict: "a mapping",
        type(None): "empty",
    }.get(type(value), type(value).__name__)
