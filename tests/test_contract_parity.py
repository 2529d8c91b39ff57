"""Parity of our contract with Microsoft's official spec files (test data in ../shared).

Every official operation exists in our contract, and the main objects have the same properties
and required fields, once our contract is put in the reference's terms (deviations.yaml applied)
and the official file's defects are corrected (corrections.yaml). What remains must be listed in
INTENDED below, with its reason.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from conformance.spec import load_contract
from conformance.spec.deviations import apply_reference, load_deviations
from conformance.spec.overlay import apply_corrections
from conformance.spec.pointers import deref
from conformance.versions import API_VERSIONS

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SPECS = SHARED / "reference-specs"

pytestmark = pytest.mark.skipif(
    not SPECS.is_dir(), reason=f"{SPECS} is absent (the official spec files are test data kept outside the repo)"
)

METHODS = ("get", "put", "post", "delete", "patch")

# Objects compared property by property (our component name = the official one).
OBJECTS = [
    "assistantObject", "threadObject", "messageObject", "runObject", "runStepObject",
    "vectorStoreObject", "vectorStoreFileObject", "vectorStoreFileBatchObject",
    "listAssistantsResponse", "listMessagesResponse", "listRunsResponse", "listRunStepsResponse",
    "listVectorStoresResponse", "listVectorStoreFilesResponse",
    "deleteAssistantResponse", "deleteThreadResponse", "deleteVectorStoreResponse",
    "deleteVectorStoreFileResponse", "messageDeltaObject", "runStepDeltaObject",
    "errorResponse", "error", "innerError",
    # Request bodies too: a renamed or forgotten request field is as bad as a response one.
    "createAssistantRequest", "modifyAssistantRequest", "createThreadRequest", "modifyThreadRequest",
    "createMessageRequest", "modifyMessageRequest", "createRunRequest", "createThreadAndRunRequest",
    "modifyRunRequest", "submitToolOutputsRunRequest", "createVectorStoreRequest",
    "updateVectorStoreRequest", "createVectorStoreFileRequest", "createVectorStoreFileBatchRequest",
]

# (schema, what, name) -> why our contract differs from the reference on purpose.
# `what` is one of: extra_property, missing_property, extra_required, missing_required.
INTENDED: dict[tuple[str, str, str], str] = {
    ("runObject", "extra_property", "parallel_tool_calls"):
        "the service sends it (deviations.yaml parallel-tool-calls, REC)",
    ("runStepObject", "extra_property", "usage"):
        "steps carry their own usage (deviations.yaml run-step-usage, REC)",
    ("errorResponse", "extra_required", "error"):
        "every error body the service sends is {error: ...}; the reference leaves it optional",
    ("error", "extra_required", "message"):
        "every recorded error carries a message, gateway errors included (SERVICE-FACTS Errors)",
    ("error", "extra_property", "status"):
        "the content-filter 400 carries status (SERVICE-FACTS Content filter, LOG)",
}


# (schema, dotted property) -> why our allowed values differ from the reference's on purpose.
INTENDED_VALUES: dict[tuple[str, str], str] = {
    **{(name, "object"): "every recorded list says object \"list\"; the reference leaves it a free string"
       for name in OBJECTS if name.startswith("list")},
    ("innerError", "code"): "the core contract keeps the inner error code open (SERVICE-FACTS Content filter)",
    ("error", "inner_error.code"): "the same inner error code, reached through the error object",
}


# Cached: the tests only read these documents.
@functools.cache
def _official(version: str) -> dict[str, Any]:
    document = json.loads((SPECS / version / "inference.json").read_text(encoding="utf-8"))
    corrected, _ = apply_corrections(document)
    return corrected


@functools.cache
def _ours_as_reference(version: str) -> dict[str, Any]:
    return apply_reference(load_contract(version).document, load_deviations())


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items()
            for method in METHODS if method in item}


def _shape(document: dict[str, Any], name: str) -> tuple[set[str], set[str]]:
    """Property names and required names of a schema, allOf parts included."""
    schema = deref(document, document["components"]["schemas"][name])
    props: set[str] = set()
    required: set[str] = set()
    parts = [schema, *(deref(document, p) for p in schema.get("allOf", []))]
    for part in parts:
        props |= set(part.get("properties", {}))
        required |= set(part.get("required", []))
    return props, required


def _query_names(document: dict[str, Any], path: str, method: str) -> set[str]:
    item = document["paths"][path]
    params = [*item.get("parameters", []), *item[method].get("parameters", [])]
    return {p["name"] for p in (deref(document, raw) for raw in params) if p.get("in") == "query"}


@pytest.mark.parametrize("version", API_VERSIONS)
def test_every_official_operation_exists(version: str) -> None:
    ours = _operations(load_contract(version).document)
    missing = sorted(_operations(_official(version)) - ours)
    assert not missing, f"official operations missing from our {version} contract: {missing}"


@pytest.mark.parametrize("version", API_VERSIONS)
def test_operation_ids_match(version: str) -> None:
    official = _official(version)
    ours = load_contract(version).document
    wrong = []
    for method, path in sorted(_operations(official)):
        theirs = official["paths"][path][method.lower()]["operationId"]
        mine = ours["paths"].get(path, {}).get(method.lower(), {}).get("operationId")
        if mine != theirs:
            wrong.append(f"{method} {path}: ours {mine!r}, official {theirs!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("version", API_VERSIONS)
def test_query_parameters_match(version: str) -> None:
    official = _official(version)
    ours = load_contract(version).document
    wrong = []
    for method, path in sorted(_operations(official)):
        if not path.startswith(("/assistants", "/threads", "/vector_stores")):
            continue  # the inference half belongs to the core contract's own parity
        mine, theirs = _query_names(ours, path, method.lower()), _query_names(official, path, method.lower())
        if mine != theirs:
            wrong.append(f"{method} {path}: ours {sorted(mine)}, official {sorted(theirs)}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("version", API_VERSIONS)
@pytest.mark.parametrize("name", OBJECTS)
def test_object_matches_reference(version: str, name: str) -> None:
    official = _official(version)
    ours = _ours_as_reference(version)
    assert name in official["components"]["schemas"], f"official {version} has no {name} (update OBJECTS)"
    assert name in ours["components"]["schemas"], f"our {version} contract has no component {name}"
    our_props, our_required = _shape(ours, name)
    their_props, their_required = _shape(official, name)
    differences = {
        "extra_property": our_props - their_props,
        "missing_property": their_props - our_props,
        "extra_required": our_required - their_required,
        "missing_required": their_required - our_required,
    }
    unexplained = [f"{what} {field}" for what, fields in differences.items() for field in sorted(fields)
                   if (name, what, field) not in INTENDED]
    assert not unexplained, f"{version} {name} differs from the reference: {unexplained}"


def test_intended_differences_are_still_differences() -> None:
    # An INTENDED entry that no longer differs anywhere is stale and would hide a future regression.
    live: set[tuple[str, str, str]] = set()
    for version in API_VERSIONS:
        official, ours = _official(version), _ours_as_reference(version)
        for name in {key[0] for key in INTENDED}:
            our_props, our_required = _shape(ours, name)
            their_props, their_required = _shape(official, name)
            live |= {(name, "extra_property", f) for f in our_props - their_props}
            live |= {(name, "missing_property", f) for f in their_props - our_props}
            live |= {(name, "extra_required", f) for f in our_required - their_required}
            live |= {(name, "missing_required", f) for f in their_required - our_required}
    assert set(INTENDED) <= live, f"stale INTENDED entries: {sorted(set(INTENDED) - live)}"


@pytest.mark.parametrize("version", API_VERSIONS)
def test_without_deviations_the_contract_follows_the_service(version: str) -> None:
    # The deviations are real: the plain contract differs from the reference exactly where they say.
    ours = load_contract(version).document
    official = _official(version)
    _, our_required = _shape(ours, "messageObject")
    _, their_required = _shape(official, "messageObject")
    assert {"status", "completed_at"} <= their_required - our_required
    assert "innererror" in _shape(ours, "error")[0]
    assert "inner_error" in _shape(official, "error")[0]


def _values(document: dict[str, Any], schema: Any) -> set[Any] | None:
    schema = deref(document, schema)
    if not isinstance(schema, dict):
        return None
    if "enum" in schema:
        return {v for v in schema["enum"] if v is not None}
    if "const" in schema:
        return {schema["const"]}
    return None


def _all_props(document: dict[str, Any], schema: Any) -> dict[str, Any]:
    schema = deref(document, schema)
    props: dict[str, Any] = {}
    if not isinstance(schema, dict):
        return props
    for part in [schema, *(deref(document, p) for p in schema.get("allOf", []))]:
        props.update(part.get("properties", {}))
    return props


def _value_sets(document: dict[str, Any], schema: Any, prefix: str = "", depth: int = 2) -> dict[str, Any]:
    """dotted property -> allowed values, for properties (and nested object properties) with an enum/const."""
    found: dict[str, Any] = {}
    for name, sub in _all_props(document, schema).items():
        values = _values(document, sub)
        found[prefix + name] = values
        if depth > 1:
            found.update(_value_sets(document, sub, f"{prefix}{name}.", depth - 1))
    return found


@pytest.mark.parametrize("version", API_VERSIONS)
@pytest.mark.parametrize("name", OBJECTS)
def test_allowed_values_match_reference(version: str, name: str) -> None:
    # Status enums, object names, error codes: with deviations applied, ours allow what the reference allows.
    official, ours = _official(version), _ours_as_reference(version)
    mine = _value_sets(ours, ours["components"]["schemas"][name])
    theirs = _value_sets(official, official["components"]["schemas"][name])
    wrong = [f"{prop}: ours {sorted(map(str, mine[prop] or []))}, reference {sorted(map(str, theirs[prop] or []))}"
             for prop in sorted(set(mine) & set(theirs))
             if mine[prop] != theirs[prop] and (name, prop) not in INTENDED_VALUES]
    assert not wrong, f"{version} {name}: " + "; ".join(wrong)
