"""Read OpenAPI 3.0 schemas as JSON Schema 2020-12, so a foreign (3.0) spec validates like our 3.1 one.

Only what changes validation: `nullable`, boolean `exclusiveMinimum/Maximum`, and `example`-free
keywords are left alone.
"""

from __future__ import annotations

from typing import Any


def to_31(node: Any) -> Any:
    if isinstance(node, list):
        return [to_31(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: to_31(value) for key, value in node.items()}
    if out.pop("nullable", False) is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), bool) and out.pop(bound) and limit in out:
            out[bound] = out.pop(limit)
    return out
