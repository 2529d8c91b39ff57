"""Small helpers shared by the rule modules: value rendering and type tests for JSON values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeGuard

_MAX_SHOWN = 80


def show(value: Any) -> str:
    """A JSON rendering of `value` short enough for a one-line finding message."""
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def is_int(value: Any) -> TypeGuard[int]:
    # JSON booleans arrive as Python bools, which are ints; a timestamp of `true` is not an integer.
    return isinstance(value, int) and not isinstance(value, bool)


def is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(value, Mapping)


def is_list(value: Any) -> TypeGuard[list[Any]]:
    # Strings are sequences too; JSON arrays arrive as lists.
    return isinstance(value, list | tuple)
