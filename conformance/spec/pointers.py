"""JSON pointers and local `$ref`s inside one OpenAPI document."""

from __future__ import annotations

from typing import Any


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def pointer(*tokens: str | int) -> str:
    return "".join(f"/{escape(str(t))}" for t in tokens)


def lookup(document: Any, ptr: str) -> Any:
    """The node at JSON pointer `ptr` (``""`` is the root); KeyError naming the pointer when absent."""
    node = document
    if not ptr:
        return node
    for raw in ptr.lstrip("/").split("/"):
        token = unescape(raw)
        try:
            node = node[int(token)] if isinstance(node, list) else node[token]
        except (KeyError, IndexError, ValueError, TypeError):
            raise KeyError(f"no node at #{ptr} in the document") from None
    return node


def ref_pointer(ref: str) -> str:
    """`#/components/schemas/x` -> `/components/schemas/x`; only local references are supported."""
    if not ref.startswith("#"):
        raise KeyError(f"$ref {ref!r} is not local to the document")
    return ref[1:]


def deref(document: Any, node: Any, limit: int = 20) -> Any:
    """Follow `$ref` chains (local only) until a node without `$ref`."""
    for _ in range(limit):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        node = lookup(document, ref_pointer(node["$ref"]))
    raise KeyError("$ref chain too long (a cycle?)")
