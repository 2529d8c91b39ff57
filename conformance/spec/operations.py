"""The operation index: one `Operation` per (path, method) of a document, and path matching."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from conformance.spec.pointers import deref, pointer

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
_TEMPLATE = re.compile(r"\{([^}/]+)\}")
EVENT_STREAM = "text/event-stream"


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # template relative to the /openai base, e.g. "/threads/{thread_id}/runs"
    tag: str
    expensive: bool
    streams: bool
    query_params: tuple[str, ...]
    path_params: tuple[str, ...]
    # The operation object as the document holds it, and where it sits (JSON pointer).
    definition: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)
    location: str = field(default="", repr=False, compare=False, hash=False)
    document: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    def request_schema(self) -> dict[str, Any] | None:
        """The request body schema (JSON, else the first media type), top-level `$ref` resolved.

        Nested `$ref`s stay as written; they point into the contract's `document`.
        """
        media = self.request_media()
        if media is None:
            return None
        content = self.request_body().get("content", {})
        schema = deref(self.document, content[media].get("schema"))
        return schema if isinstance(schema, dict) else None

    def request_body(self) -> dict[str, Any]:
        body = deref(self.document, self.definition.get("requestBody", {}))
        return body if isinstance(body, dict) else {}

    def request_media(self) -> str | None:
        content = self.request_body().get("content", {})
        if not content:
            return None
        return "application/json" if "application/json" in content else next(iter(content))


def _parameters(document: Mapping[str, Any], item: Mapping[str, Any], op: Mapping[str, Any]) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*item.get("parameters", []), *op.get("parameters", [])]:
        param = deref(document, raw)
        if isinstance(param, dict) and "name" in param:
            merged[(param["name"], param.get("in", ""))] = param  # operation level wins
    return list(merged.values())


def index_operations(document: Mapping[str, Any]) -> tuple[Operation, ...]:
    found = []
    for path, item in document.get("paths", {}).items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            params = _parameters(document, item, op)
            streams = any(
                EVENT_STREAM in deref(document, response).get("content", {})
                for response in op.get("responses", {}).values()
                if isinstance(deref(document, response), dict)
            )
            tags = op.get("tags") or [""]
            found.append(Operation(
                operation_id=str(op.get("operationId") or f"{method.upper()} {path}"),
                method=method.upper(),
                path=path,
                tag=str(tags[0]),
                expensive=bool(op.get("x-expensive", False)),
                streams=streams,
                query_params=tuple(p["name"] for p in params if p.get("in") == "query"),
                path_params=tuple(_TEMPLATE.findall(path)),
                definition=op,
                location=pointer("paths", path, method),
                document=document,
            ))
    return tuple(found)


class PathMatcher:
    """Concrete path -> (operation, path params); literal segments beat parameters."""

    def __init__(self, operations: tuple[Operation, ...]) -> None:
        compiled = []
        for op in operations:
            # Parameter names such as "deployment-id" are not valid group names: use positions.
            pieces = _TEMPLATE.split(op.path)  # literal, name, literal, name, ..., literal
            regex = "".join(re.escape(piece) if i % 2 == 0 else "([^/]+)" for i, piece in enumerate(pieces))
            # Fewer parameters first: "/threads/runs" must not be read as "/threads/{thread_id}".
            compiled.append((len(op.path_params), -len(op.path), op, re.compile(f"^{regex}$")))
        compiled.sort(key=lambda entry: (entry[0], entry[1]))
        self._routes = [(op, regex) for _, _, op, regex in compiled]

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        path = path.split("?", 1)[0]
        if path.startswith("/openai/"):
            path = path[len("/openai"):]
        if len(path) > 1:
            path = path.rstrip("/")
        wanted = method.upper()
        for op, regex in self._routes:
            if op.method != wanted:
                continue
            hit = regex.match(path)
            if hit:
                return op, {name: unquote(value) for name, value in zip(op.path_params, hit.groups(), strict=True)}
        return None
