"""Validate instances against schemas held in one OpenAPI 3.1 document, turning errors into Findings.

One `SchemaChecker` per contract: the document is registered once (so `$ref`s into it resolve),
and a compiled validator is cached per schema location, so a call costs only the validation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, relevance
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance.findings import Finding, Severity
from conformance.spec.pointers import deref, lookup

try:  # The Rust validator (a Schemathesis dependency) answers "valid?" ~100x faster; errors come from jsonschema.
    import jsonschema_rs

    HAVE_RUST = True
except ImportError:  # pragma: no cover - optional accelerator
    HAVE_RUST = False

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
    "integer": (int,),
    "number": (int, float),
}
_MAX_SHOWN = 60


def show(value: Any) -> str:
    """A short JSON rendering of a bad value for a message."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def field_path(label: str, path: Iterable[Any]) -> str:
    out = label
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def json_path(path: Iterable[Any]) -> str:
    return field_path("$", path)


def _type_matches(schema: dict[str, Any], instance: Any) -> bool:
    wanted = schema.get("type")
    if wanted is None:
        return True
    names = [wanted] if isinstance(wanted, str) else list(wanted)
    for name in names:
        kinds = _JSON_TYPES.get(name, ())
        if isinstance(instance, bool) and name not in ("boolean",):
            continue
        if isinstance(instance, kinds):
            return True
    return False


@dataclass(frozen=True)
class _Shape:
    """What the undocumented-field walk needs from one schema node, resolved once."""

    properties: dict[str, Any]
    open_ended: bool  # additionalProperties / patternProperties: any name is documented
    extra: tuple[Any, ...]  # schemas of additional properties
    items: tuple[Any, ...]  # schemas of array items
    choices: tuple[list[Any], ...]  # oneOf / anyOf branch lists


class SchemaChecker:
    def __init__(self, document: dict[str, Any], uri: str, *, fast: bool = True) -> None:
        self.document = document
        self._uri = uri
        resource: Resource[Any] = DRAFT202012.create_resource(document)
        self._registry: Registry[Any] = Registry().with_resource(uri, resource)
        self._validators: dict[str, Draft202012Validator] = {}
        self._fast_validators: dict[str, Any] = {}
        self._fast_registry: Any = None
        self._shapes: dict[int, _Shape] = {}
        if fast and HAVE_RUST:
            try:
                self._fast_registry = jsonschema_rs.Registry([(uri, document)])
            except Exception:  # a document the Rust side cannot read: validate in Python only
                self._fast_registry = None

    def _fast_valid(self, ptr: str, instance: Any) -> bool:
        """True when the Rust validator accepts `instance`; False means "ask jsonschema" (invalid or unsure)."""
        if self._fast_registry is None:
            return False
        try:
            found = self._fast_validators.get(ptr)
            if found is None:
                fragment = quote(ptr, safe="/~")  # "{deployment-id}" is not legal in a URI fragment
                found = jsonschema_rs.Draft202012Validator({"$ref": f"{self._uri}#{fragment}"},
                                                           registry=self._fast_registry)
                self._fast_validators[ptr] = found
            return bool(found.is_valid(instance))
        except Exception:  # non-JSON values (bytes, ...) or a schema it cannot compile
            return False

    def validator(self, ptr: str) -> Draft202012Validator:
        """The compiled validator for the schema at JSON pointer `ptr` (cached)."""
        found = self._validators.get(ptr)
        if found is None:
            lookup(self.document, ptr)  # fail early, naming the pointer
            found = Draft202012Validator({"$ref": f"{self._uri}#{ptr}"}, registry=self._registry)
            self._validators[ptr] = found
        return found

    def label(self, ptr: str, fallback: str) -> str:
        """Name used in messages: the component schema's name when the location is (a ref to) one."""
        prefix = "/components/schemas/"
        if ptr.startswith(prefix) and "/" not in ptr[len(prefix):]:
            return ptr[len(prefix):]
        node = lookup(self.document, ptr)
        if isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#" + prefix):
            return str(node["$ref"][len(prefix) + 1:])
        return fallback

    def check(self, ptr: str, instance: Any, *, rule: str, label: str, where_prefix: str = "$",
              extras: bool = True) -> list[Finding]:
        findings: list[Finding] = []
        seen: set[tuple[str, str]] = set()
        errors = [] if self._fast_valid(ptr, instance) else self.validator(ptr).iter_errors(instance)
        for error in errors:
            finding = self._finding(error, rule, label, where_prefix)
            key = (finding.where, finding.message)
            if key not in seen:
                seen.add(key)
                findings.append(finding)
        if extras:
            findings.extend(self.extra_fields(ptr, instance, rule=rule, label=label, where_prefix=where_prefix))
        return findings

    def _finding(self, error: ValidationError, rule: str, label: str, where_prefix: str) -> Finding:
        if error.context and error.validator in ("oneOf", "anyOf"):
            narrowed = _narrow(error)
            if isinstance(narrowed, tuple):
                at, text = narrowed
                return Finding(rule, f"{field_path(label, at)}: {text}", field_path(where_prefix, at))
            return self._finding(narrowed, rule, label, where_prefix)
        path = list(error.absolute_path)
        kind = error.validator
        value = error.instance
        if kind == "required":
            missing = [n for n in error.validator_value if isinstance(value, dict) and n not in value]
            name = next((n for n in missing if f"'{n}'" in error.message), missing[0] if missing else "?")
            path = [*path, name]
            text = "missing required field"
        elif kind == "type":
            wanted = error.validator_value
            wanted_text = " or ".join(wanted) if isinstance(wanted, list) else str(wanted)
            text = f"expected {wanted_text}, got {show(value)}"
        elif kind == "const":
            text = f"expected {show(error.validator_value)}, got {show(value)}"
        elif kind == "enum":
            allowed = ", ".join(show(v) for v in error.validator_value)
            text = f"expected one of {allowed}, got {show(value)}"
        elif kind in ("additionalProperties", "unevaluatedProperties") and isinstance(value, dict):
            known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
            unexpected = sorted(str(k) for k in value if k not in known)
            path = [*path, unexpected[0]] if len(unexpected) == 1 else path
            text = f"unexpected field{'s' if len(unexpected) > 1 else ''} {', '.join(unexpected)} (not allowed here)"
        elif kind in ("oneOf", "anyOf"):
            text = f"matches none of the allowed shapes ({kind}), got {show(value)}"
        else:
            text = f"{error.message if len(error.message) <= 120 else error.message[:117] + '...'}"
        return Finding(rule, f"{field_path(label, path)}: {text}", field_path(where_prefix, path))

    # -- undocumented fields (information only: the service ships fields before the docs) --

    def extra_fields(self, ptr: str, instance: Any, *, rule: str, label: str,
                     where_prefix: str = "$") -> list[Finding]:
        out: list[Finding] = []
        self._walk(lookup(self.document, ptr), instance, [], out, rule, label, where_prefix, 0)
        return out

    def _shape(self, schema: dict[str, Any]) -> _Shape:
        found = self._shapes.get(id(schema))
        if found is None:
            parts = [schema, *(deref(self.document, s) for s in schema.get("allOf", []))]
            parts = [p for p in parts if isinstance(p, dict)]
            properties: dict[str, Any] = {}
            for part in parts:
                properties.update(part.get("properties", {}))
            found = _Shape(
                properties=properties,
                open_ended=any("additionalProperties" in p or "patternProperties" in p for p in parts),
                extra=tuple(p["additionalProperties"] for p in parts if isinstance(p.get("additionalProperties"), dict)),
                items=tuple(p["items"] for p in parts if isinstance(p.get("items"), dict)),
                choices=tuple(p[k] for p in parts for k in ("oneOf", "anyOf") if isinstance(p.get(k), list)),
            )
            self._shapes[id(schema)] = found
        return found

    def _walk(self, schema: Any, instance: Any, path: list[Any], out: list[Finding], rule: str,
              label: str, where_prefix: str, depth: int, severity: Severity = "info") -> None:
        if depth > 40 or not isinstance(instance, dict | list):
            return
        schema = deref(self.document, schema)
        if not isinstance(schema, dict):
            return
        shapes = [self._shape(schema)]
        for branches in shapes[0].choices:
            branch = self._branch(branches, instance)
            if branch is None:
                return  # ambiguous: say nothing rather than guess
            shapes.append(self._shape(branch))
        if isinstance(instance, dict):
            props: dict[str, Any] = {}
            for shape in shapes:
                props.update(shape.properties)
            if props and not any(shape.open_ended for shape in shapes):
                for key in instance:
                    if key not in props:
                        where = field_path(where_prefix, [*path, key])
                        out.append(Finding(rule, f"{field_path(label, [*path, key])}: undocumented field "
                                                 f"(value {show(instance[key])})", where, severity))
            for key, value in instance.items():
                if key in props:
                    self._walk(props[key], value, [*path, key], out, rule, label, where_prefix, depth + 1)
                else:
                    for extra in (e for shape in shapes for e in shape.extra):
                        self._walk(extra, value, [*path, key], out, rule, label, where_prefix, depth + 1)
        else:
            for items in (i for shape in shapes for i in shape.items):
                for index, item in enumerate(instance):
                    self._walk(items, item, [*path, index], out, rule, label, where_prefix, depth + 1)

    def _branch(self, branches: list[Any], instance: Any) -> dict[str, Any] | None:
        """The one branch whose type and constant properties fit the instance, if exactly one does."""
        fits = []
        for raw in branches:
            branch = deref(self.document, raw)
            if not isinstance(branch, dict) or not _type_matches(branch, instance):
                continue
            if isinstance(instance, dict) and not _constants_match(branch, instance):
                continue
            fits.append(branch)
        return fits[0] if len(fits) == 1 else None


def _narrow(error: ValidationError) -> ValidationError | tuple[list[Any], str]:
    """The error that explains a failed oneOf/anyOf: the one branch the instance was meant for.

    A branch whose type or constant (discriminator) property does not fit is not the one meant; when
    exactly one branch is left, its own error is the explanation. When every branch was ruled out by
    the same constant property, return (path, message) saying which values that property allows.
    """
    base = len(error.absolute_path)
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else None, []).append(sub)
    live: list[list[ValidationError]] = []
    wanted: dict[str, list[Any]] = {}
    for subs in branches.values():
        ruled_out = False
        for sub in subs:
            depth = len(sub.absolute_path)
            if depth == base and sub.validator == "type":
                ruled_out = True
            elif depth == base + 1 and sub.validator in ("const", "enum"):
                ruled_out = True
                values = [sub.validator_value] if sub.validator == "const" else list(sub.validator_value)
                wanted.setdefault(str(sub.absolute_path[-1]), []).extend(values)
        if not ruled_out:
            live.append(subs)
    if len(live) == 1:
        return max(live[0], key=relevance)  # not best_match: it would descend past nested oneOfs
    if not live and len(wanted) == 1 and isinstance(error.instance, dict):
        (name, values), = wanted.items()
        if name in error.instance:
            allowed = ", ".join(show(v) for v in dict.fromkeys(values))
            return [*error.absolute_path, name], f"expected one of {allowed}, got {show(error.instance[name])}"
    return max(error.context or [error], key=relevance)


def _constants_match(schema: dict[str, Any], instance: dict[str, Any]) -> bool:
    for name, sub in schema.get("properties", {}).items():
        if not isinstance(sub, dict):
            continue
        if "const" in sub and name in instance and instance[name] != sub["const"]:
            return False
        enum = sub.get("enum")
        if isinstance(enum, list) and len(enum) == 1 and name in instance and instance[name] != enum[0]:
            return False
    return True
