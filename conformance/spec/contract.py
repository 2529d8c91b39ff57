"""`Contract`: one OpenAPI 3.1 document, its operation index, and request/response/event validation."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from typing import Any

from conformance.findings import Finding
from conformance.spec.operations import EVENT_STREAM, Operation, PathMatcher, index_operations
from conformance.spec.pointers import deref, lookup, pointer, ref_pointer
from conformance.spec.schemacheck import SchemaChecker, show
from conformance.spec.sse import parse_events

DONE = "[DONE]"
_IDS = itertools.count()


def _media(content_type: str | None) -> str | None:
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _declared(content: Mapping[str, Any], media: str) -> str | None:
    """The declared media type (or range, e.g. ``audio/*``) that covers `media`."""
    for candidate in (media, media.split("/", 1)[0] + "/*", "*/*"):
        if candidate in content:
            return candidate
    return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _coerce(text: str, schema: Any) -> Any:
    """Query and form values arrive as strings; read them as the schema's scalar type when they parse."""
    kinds = schema.get("type") if isinstance(schema, dict) else None
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    for kind in kinds:
        try:
            if kind == "integer":
                return int(text)
            if kind == "number":
                return float(text)
        except ValueError:
            continue
        if kind == "boolean" and text in ("true", "false"):
            return text == "true"
    return text


class Contract:
    def __init__(self, document: dict[str, Any], api_version: str) -> None:
        self.api_version = api_version
        self.document = document
        self.operations = index_operations(document)
        self._by_id = {op.operation_id: op for op in self.operations}
        self._matcher = PathMatcher(self.operations)
        self._checker = SchemaChecker(document, f"urn:aoai-conformance:contract:{next(_IDS)}")
        self._events = self._index_events()
        self._query_cache: dict[str, list[tuple[dict[str, Any], str]]] = {}

    def __repr__(self) -> str:
        return f"Contract(api_version={self.api_version!r}, operations={len(self.operations)})"

    # -- lookup --

    def operation(self, operation_id: str) -> Operation:
        try:
            return self._by_id[operation_id]
        except KeyError:
            raise KeyError(f"no operation {operation_id!r} in the {self.api_version} contract") from None

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        return self._matcher.match(method, path)

    def event_schema(self, event: str) -> dict[str, Any] | None:
        """The schema of a stream event's data: an Assistants event (`components.x-stream-events`) or a
        data-only chunk named by an operation's `x-stream-event` (e.g. ``chat.completion.chunk``)."""
        ptr = self._events.get(event, "")
        if ptr == "":
            return None
        if ptr is None:
            return {"const": DONE}
        if ptr.startswith("/components/schemas/"):
            return {"$ref": "#" + ptr}
        node = lookup(self.document, ptr)
        return node if isinstance(node, dict) else None

    # -- validation --

    def validate_schema(self, name: str, instance: Any) -> list[Finding]:
        ptr = pointer("components", "schemas", name)
        try:
            lookup(self.document, ptr)
        except KeyError:
            raise KeyError(f"no component schema {name!r} in the {self.api_version} contract") from None
        return self._checker.check(ptr, instance, rule="schema.response", label=name)

    def validate_event(self, event: str, data: Any) -> list[Finding]:
        if event not in self._events:
            return []  # future events are tolerated
        ptr = self._events[event]
        if ptr is None:
            if data == DONE:
                return []
            return [Finding("sse.event_schema", f"{event}: expected data {DONE}, got {show(data)}", "$")]
        label = self._checker.label(ptr, event)
        return self._checker.check(ptr, self._parsed(data), rule="sse.event_schema", label=label)

    def validate_request(self, op: Operation, *, query: Mapping[str, str], body: Any,
                         content_type: str | None = None) -> list[Finding]:
        findings = self._check_query(op, query)
        request = op.request_body()
        content = request.get("content", {})
        if body is None or body in (b"", ""):
            if request.get("required"):
                findings.append(Finding("schema.request", f"{op.operation_id}: request body is required", "body"))
            return findings
        if not content:
            return findings
        media = _media(content_type) or op.request_media()
        if media is None or media not in content:
            findings.append(Finding("schema.request", f"{op.operation_id}: content type {show(media)} not "
                                    f"accepted (expected {', '.join(content)})", "content-type"))
            return findings
        if media == "multipart/form-data" and isinstance(body, Mapping):
            body = self._form_values(content[media].get("schema"), body)
        elif media == "application/json":
            body = self._parsed(body)
        ptr = op.location + pointer("requestBody", "content", media, "schema")
        if "$ref" in op.definition.get("requestBody", {}):
            ptr = ref_pointer(op.definition["requestBody"]["$ref"]) + pointer("content", media, "schema")
        label = self._checker.label(ptr, f"{op.operation_id}.request")
        findings += self._checker.check(ptr, body, rule="schema.request", label=label, extras=False)
        return findings

    def validate_response(self, op: Operation, status: int, headers: Mapping[str, str],
                          body: Any) -> list[Finding]:
        responses = op.definition.get("responses", {})
        key = next((k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses), None)
        if key is None:
            return [Finding("schema.status", f"{op.operation_id}: status {status} is not declared "
                            f"(declared: {', '.join(sorted(responses))})", "status")]
        response = deref(self.document, responses[key])
        content = response.get("content", {}) if isinstance(response, dict) else {}
        if not content:
            return []
        header = _header(headers, "content-type")
        media = _media(header)
        if media is None:
            if body is None or body in (b"", ""):
                return []
            return [Finding("schema.content_type", f"{op.operation_id} {status}: no Content-Type "
                            f"(expected {', '.join(content)})", "headers.content-type")]
        declared = _declared(content, media)
        if declared is None:
            return [Finding("schema.content_type", f"{op.operation_id} {status}: Content-Type {show(header)} "
                            f"is not declared (expected {', '.join(content)})", "headers.content-type")]
        base = self._response_pointer(op, key) + pointer("content", declared)
        if media == EVENT_STREAM:
            return self._check_stream(op, base, body)
        if media != "application/json" and not media.endswith("+json"):
            return []  # audio and other binary bodies: the content type is the contract
        if "schema" not in content[declared]:
            return []
        ptr = base + pointer("schema")
        label = self._checker.label(ptr, f"{op.operation_id}.{status}")
        return self._checker.check(ptr, self._parsed(body), rule="schema.response", label=label)

    # -- helpers --

    def _index_events(self) -> dict[str, str | None]:
        """Event name -> JSON pointer of its data schema (None for the literal [DONE])."""
        events: dict[str, str | None] = {}
        for name, entry in self.document.get("components", {}).get("x-stream-events", {}).items():
            if entry == DONE:
                events[name] = None
            elif isinstance(entry, str):
                events[name] = ref_pointer(entry)
            elif isinstance(entry, dict):
                events[name] = pointer("components", "x-stream-events", name)
        for op in self.operations:
            for key, raw in op.definition.get("responses", {}).items():
                media = deref(self.document, raw).get("content", {}).get(EVENT_STREAM, {})
                name = media.get("x-stream-event")
                if isinstance(name, str) and "x-stream-data" in media:
                    at = self._response_pointer(op, key) + pointer("content", EVENT_STREAM, "x-stream-data")
                    events.setdefault(name, at)
        return events

    def _response_pointer(self, op: Operation, key: str) -> str:
        raw = op.definition["responses"][key]
        if isinstance(raw, dict) and isinstance(raw.get("$ref"), str):
            return ref_pointer(raw["$ref"])
        return op.location + pointer("responses", key)

    def _query_parameters(self, op: Operation) -> list[tuple[dict[str, Any], str]]:
        """(parameter, pointer to its schema) for the operation's query parameters, path-item level included."""
        cached = self._query_cache.get(op.location)
        if cached is not None:
            return cached
        item_ptr = pointer("paths", op.path)
        item = lookup(self.document, item_ptr)
        found: dict[str, tuple[dict[str, Any], str]] = {}
        for base, raws in ((item_ptr, item.get("parameters", [])), (op.location, op.definition.get("parameters", []))):
            for index, raw in enumerate(raws):
                param = deref(self.document, raw)
                if not isinstance(param, dict) or param.get("in") != "query":
                    continue
                where = ref_pointer(raw["$ref"]) if "$ref" in raw else base + pointer("parameters", index)
                found[param["name"]] = (param, where + pointer("schema"))  # operation level wins
        self._query_cache[op.location] = list(found.values())
        return self._query_cache[op.location]

    def _check_query(self, op: Operation, query: Mapping[str, str]) -> list[Finding]:
        findings: list[Finding] = []
        for param, ptr in self._query_parameters(op):
            name = param["name"]
            if name not in query:
                if param.get("required"):
                    findings.append(Finding("schema.request", f"query parameter {name}: missing", name))
                continue
            value = _coerce(query[name], deref(self.document, param.get("schema", {})))
            for finding in self._checker.check(ptr, value, rule="schema.request", label=name, extras=False):
                findings.append(Finding(finding.rule, f"query parameter {finding.message}", name))
        return findings

    def _form_values(self, schema: Any, body: Mapping[str, Any]) -> dict[str, Any]:
        props = deref(self.document, schema).get("properties", {}) if schema is not None else {}
        out: dict[str, Any] = {}
        for name, value in body.items():
            sub = deref(self.document, props.get(name, {}))
            if isinstance(value, bytes | bytearray):
                out[name] = ""  # a file part: its presence is what the schema can check
            elif isinstance(value, str):
                out[name] = _coerce(value, sub)
            else:
                out[name] = value
        return out

    @staticmethod
    def _parsed(data: Any) -> Any:
        if isinstance(data, bytes | bytearray):
            data = bytes(data).decode("utf-8", errors="replace")
        if isinstance(data, str) and data.strip()[:1] in ("{", "[") and data.strip() != DONE:
            try:
                return json.loads(data)
            except json.JSONDecodeError:
                return data
        return data

    def _check_stream(self, op: Operation, media_ptr: str, body: Any) -> list[Finding]:
        if not isinstance(body, bytes | bytearray | str):
            return [Finding("schema.response", f"{op.operation_id}: an event stream body must be bytes, "
                            f"got {type(body).__name__}", "$")]
        media = lookup(self.document, media_ptr)
        data_ptr = media_ptr + pointer("x-stream-data") if "x-stream-data" in media else None
        findings: list[Finding] = []
        for number, event in enumerate(parse_events(bytes(body) if not isinstance(body, str) else body)):
            where = f"events[{number}]"
            if event.event is not None and event.event != "message":
                for f in self.validate_event(event.event, event.data):
                    findings.append(Finding(f.rule, f.message, f"{where}{f.where[1:]}", f.severity))
                continue
            if event.data == DONE or data_ptr is None:
                continue
            try:
                data = json.loads(event.data)
            except json.JSONDecodeError:
                findings.append(Finding("sse.event_schema", f"{where}: data is not JSON: {show(event.data)}", where))
                continue
            label = self._checker.label(data_ptr, f"{op.operation_id}.event")
            for f in self._checker.check(data_ptr, data, rule="sse.event_schema", label=label):
                findings.append(Finding(f.rule, f.message, f"{where}{f.where[1:]}", f.severity))
        return findings
