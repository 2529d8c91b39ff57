"""`x-since` / `x-until`: keep only the nodes that exist in one api-version, and drop the markers."""

from __future__ import annotations

from typing import Any

from conformance.versions import at_least

SINCE = "x-since"
UNTIL = "x-until"
_DROP = object()


def exists_in(node: dict[str, Any], version: str) -> bool:
    since, until = node.get(SINCE), node.get(UNTIL)
    if since is not None and not at_least(version, str(since)):
        return False
    return not (until is not None and at_least(version, str(until)))


def select_version(node: Any, version: str) -> Any:
    """A copy of `node` as it exists in `version` (the root itself is always kept)."""
    result = _select(node, version)
    return {} if result is _DROP else result


def _select(node: Any, version: str) -> Any:
    if isinstance(node, list):
        kept = [_select(item, version) for item in node]
        return [item for item in kept if item is not _DROP]
    if not isinstance(node, dict):
        return node
    if not exists_in(node, version):
        return _DROP
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in (SINCE, UNTIL):
            continue
        chosen = _select(value, version)
        if chosen is _DROP:
            continue
        out[key] = chosen
    # A property that does not exist in this version cannot be required in it.
    props = node.get("properties")
    if isinstance(props, dict) and isinstance(out.get("required"), list):
        gone = {name for name, sub in props.items() if isinstance(sub, dict) and not exists_in(sub, version)}
        out["required"] = [name for name in out["required"] if name not in gone]
        if not out["required"]:
            del out["required"]
    return out
