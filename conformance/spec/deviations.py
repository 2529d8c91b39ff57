"""Service-vs-reference deviations (schemas/deviations.yaml) and the strict-reference view of a contract.

The contract follows what the service does. Each deviation records where the published reference
says otherwise; `apply_reference` rewrites a contract document to the reference's rules so that
`--strict-reference` can test a target against the letter of the reference.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

import yaml

from conformance.spec.paths import SCHEMAS
from conformance.spec.pointers import deref

Grade = Literal["REC", "LOG", "DOC", "OAI", "INF"]
GRADES: tuple[str, ...] = get_args(Grade)
DEVIATIONS_FILE = SCHEMAS / "deviations.yaml"
_REFERENCE_KINDS = ("required_add", "rename_property", "enum_remove")


class DeviationsError(ValueError):
    """deviations.yaml is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class Deviation:
    id: str
    summary: str
    evidence: str
    grade: Grade
    schema: str  # component schema name the rule applies to
    # The reference's rule; all empty for an informational entry. Properties may be dotted paths.
    required_add: tuple[str, ...] = ()
    rename_property: tuple[tuple[str, str], ...] = ()
    enum_remove: tuple[tuple[str, tuple[Any, ...]], ...] = field(default=())

    @property
    def informational(self) -> bool:
        return not (self.required_add or self.rename_property or self.enum_remove)


def load_deviations(path: Path = DEVIATIONS_FILE) -> list[Deviation]:
    """Read and check deviations.yaml; raises `DeviationsError` with one clear message when malformed."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeviationsError(f"{path} does not exist") from None
    except yaml.YAMLError as exc:
        raise DeviationsError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, list):
        raise DeviationsError(f"{path}: expected a list of deviations, got {type(raw).__name__}")
    result: list[Deviation] = []
    seen: set[str] = set()
    for number, entry in enumerate(raw, 1):
        deviation = _parse(entry, f"{path.name} entry {number}")
        if deviation.id in seen:
            raise DeviationsError(f"{path.name}: id {deviation.id!r} is used twice")
        seen.add(deviation.id)
        result.append(deviation)
    return result


def _parse(entry: Any, where: str) -> Deviation:
    if not isinstance(entry, dict):
        raise DeviationsError(f"{where}: expected a mapping")
    for key in ("id", "summary", "evidence", "grade", "schema"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise DeviationsError(f"{where}: `{key}` must be a non-empty string")
    where = f"{where} ({entry['id']})"
    if entry["grade"] not in GRADES:
        raise DeviationsError(f"{where}: grade {entry['grade']!r} is not one of {', '.join(GRADES)}")
    reference = entry.get("reference") or {}
    if not isinstance(reference, dict) or set(reference) - set(_REFERENCE_KINDS):
        raise DeviationsError(f"{where}: `reference` may only hold {', '.join(_REFERENCE_KINDS)}")
    required = reference.get("required_add", [])
    renames = reference.get("rename_property", {})
    enums = reference.get("enum_remove", {})
    if not (isinstance(required, list) and all(isinstance(p, str) for p in required)):
        raise DeviationsError(f"{where}: required_add must be a list of property names")
    if not (isinstance(renames, dict) and all(isinstance(v, str) for v in renames.values())):
        raise DeviationsError(f"{where}: rename_property must map service names to reference names")
    if not (isinstance(enums, dict) and all(isinstance(v, list) for v in enums.values())):
        raise DeviationsError(f"{where}: enum_remove must map a property to a list of values")
    return Deviation(
        id=entry["id"], summary=entry["summary"], evidence=entry["evidence"],
        grade=cast(Grade, entry["grade"]), schema=entry["schema"],
        required_add=tuple(required),
        rename_property=tuple((str(k), v) for k, v in renames.items()),
        enum_remove=tuple((str(k), tuple(v)) for k, v in enums.items()),
    )


def apply_reference(document: dict[str, Any], deviations: list[Deviation]) -> dict[str, Any]:
    """A copy of `document` with the reference's rules in place of the service's, entry by entry.

    A rule whose schema or property is absent from the document (e.g. an older api-version) is skipped.
    """
    result = copy.deepcopy(document)
    for deviation in deviations:
        apply_one(result, deviation)
    return result


def apply_one(document: dict[str, Any], deviation: Deviation) -> bool:
    """Apply one deviation's reference rule in place; True when it changed the document."""
    schemas = document.get("components", {}).get("schemas", {})
    schema = schemas.get(deviation.schema)
    if not isinstance(schema, dict):
        return False
    changed = False
    for dotted in deviation.required_add:
        parent, name = _parent_and_name(document, schema, dotted)
        if parent is not None and name in _properties(document, parent):
            required = parent.setdefault("required", [])
            if name not in required:
                required.append(name)
                changed = True
    for dotted, new_name in deviation.rename_property:
        parent, name = _parent_and_name(document, schema, dotted)
        if parent is None or name not in parent.get("properties", {}):
            continue
        props = parent["properties"]
        # Rebuild the mapping so the renamed property keeps its place.
        parent["properties"] = {(new_name if key == name else key): value for key, value in props.items()}
        if name in parent.get("required", []):
            parent["required"] = [new_name if item == name else item for item in parent["required"]]
        changed = True
    for dotted, values in deviation.enum_remove:
        parent, name = _parent_and_name(document, schema, dotted)
        if parent is None:
            continue
        target = deref(document, _properties(document, parent).get(name))
        if isinstance(target, dict):
            changed |= _remove_values(target, values)
    return changed


def _properties(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The properties a schema declares, itself or through allOf parts."""
    props: dict[str, Any] = {}
    for part in _parts(document, schema):
        props.update(part.get("properties", {}))
    return props


def _parts(document: dict[str, Any], schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield schema
    for sub in schema.get("allOf", []):
        resolved = deref(document, sub)
        if isinstance(resolved, dict):
            yield from _parts(document, resolved)


def _parent_and_name(document: dict[str, Any], schema: dict[str, Any],
                     dotted: str) -> tuple[dict[str, Any] | None, str]:
    """For `a.b.c`: the (dereferenced) schema of `a.b` holding property `c`, and `c`."""
    *path, name = dotted.split(".")
    node: Any = schema
    for step in path:
        node = deref(document, _properties(document, node).get(step))
        if not isinstance(node, dict):
            return None, name
    # The property lives in whichever allOf part declares it.
    for part in _parts(document, node):
        if name in part.get("properties", {}):
            return part, name
    return node, name


def _remove_values(schema: dict[str, Any], values: tuple[Any, ...]) -> bool:
    changed = False
    if isinstance(schema.get("enum"), list):
        kept = [v for v in schema["enum"] if v not in values]
        changed = len(kept) != len(schema["enum"])
        schema["enum"] = kept
    if "const" in schema and schema["const"] in values:
        # The reference allows no value here at all.
        schema["not"] = {"const": schema.pop("const")}
        changed = True
    return changed
