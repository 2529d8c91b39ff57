"""The corrections overlay (schemas/corrections.yaml, conformance/spec/overlay.py) and the deviations
file (schemas/deviations.yaml, conformance/spec/deviations.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from conformance.spec import load_contract, load_spec_file
from conformance.spec.deviations import (
    Deviation,
    DeviationsError,
    apply_one,
    apply_reference,
    load_deviations,
)
from conformance.spec.overlay import Correction, CorrectionsError, apply_corrections, load_corrections
from conformance.spec.pointers import lookup, ref_pointer
from conformance.versions import API_VERSIONS

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SPECS = SHARED / "reference-specs"
needs_specs = pytest.mark.skipif(
    not SPECS.is_dir(), reason=f"{SPECS} is absent (the official spec files are test data kept outside the repo)"
)
STREAMING = {
    ("/threads/{thread_id}/runs", "post"),
    ("/threads/runs", "post"),
    ("/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", "post"),
}


def _official(version: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((SPECS / version / "inference.json").read_text(encoding="utf-8"))
    return result


# -- corrections on the official files --

@needs_specs
@pytest.mark.parametrize("version", API_VERSIONS)
def test_every_correction_applies_to_the_official_file(version: str) -> None:
    _, notes = apply_corrections(_official(version))
    applied = {note.split(":", 1)[0] for note in notes}
    expected = {c.id for c in load_corrections()}
    assert applied == expected, f"not applied to {version}: {sorted(expected - applied)}"


@needs_specs
@pytest.mark.parametrize("version", API_VERSIONS)
def test_official_file_is_invalid_before_and_valid_after(version: str) -> None:
    raw = _official(version)
    with pytest.raises(Exception, match="function_call_id"):
        validate(raw)
    corrected, _ = apply_corrections(raw)
    validate(corrected)  # raises on any remaining error


@needs_specs
@pytest.mark.parametrize("version", API_VERSIONS)
def test_corrections_fix_the_known_defects(version: str) -> None:
    corrected, _ = apply_corrections(_official(version))
    schemas = corrected["components"]["schemas"]
    for name in ("createRunRequest", "createThreadAndRunRequest"):
        assert "thread_id" not in schemas[name]["required"]
        assert "assistant_id" in schemas[name]["required"]
    assert "bytes" not in schemas["vectorStoreObject"]["required"]
    assert "usage_bytes" in schemas["vectorStoreObject"]["required"]
    for path, method in STREAMING:
        content = corrected["paths"][path][method]["responses"]["200"]["content"]
        assert {"application/json", "text/event-stream"} <= set(content)


@needs_specs
@pytest.mark.parametrize("version", API_VERSIONS)
def test_corrections_are_idempotent_and_leave_the_input_alone(version: str) -> None:
    raw = _official(version)
    before = json.dumps(raw, sort_keys=True)
    corrected, _ = apply_corrections(raw)
    assert json.dumps(raw, sort_keys=True) == before
    again, notes = apply_corrections(corrected)
    assert notes == []
    assert again == corrected


@needs_specs
@pytest.mark.parametrize("version", API_VERSIONS)
def test_event_map_of_the_corrected_file_resolves(version: str) -> None:
    corrected, _ = apply_corrections(_official(version))
    for ref in corrected["components"]["x-stream-events"].values():
        if ref == "[DONE]":
            continue
        lookup(corrected, ref_pointer(ref))  # KeyError names the broken reference


@needs_specs
def test_loaded_official_spec_validates_events_by_name() -> None:
    contract = load_spec_file(SPECS / "2024-08-01-preview" / "inference.json")
    assert contract.validate_event("done", "[DONE]") == []
    findings = contract.validate_event("thread.run.created", json.dumps({"id": "run_1", "object": "thread.run"}))
    assert any("created_at" in f.message for f in findings)


# -- overlay mechanics, on small documents --

def test_correction_skipped_when_target_absent() -> None:
    doc = {"components": {"schemas": {}}}
    fixes = [Correction("x", "why", "remove", "/components/schemas/a/required", "b"),
             Correction("y", "why", "add", "/paths/~1p/post/x", {"k": 1})]
    corrected, notes = apply_corrections(doc, fixes)
    assert notes == []
    assert corrected == doc


def test_replace_does_not_duplicate_and_add_keeps_existing() -> None:
    doc = {"a": {"required": ["bytes", "usage_bytes"]}, "b": {"k": "mine"}}
    fixes = [Correction("r", "why", "replace", "/a/required", "bytes", "usage_bytes"),
             Correction("a", "why", "add", "/b/k", "theirs")]
    corrected, notes = apply_corrections(doc, fixes)
    assert corrected["a"]["required"] == ["usage_bytes"]
    assert corrected["b"]["k"] == "mine"
    assert [n.split(":")[0] for n in notes] == ["r"]


@pytest.mark.parametrize(("text", "message"), [
    ("{}", "expected a list"),
    ("- id: x\n  why: y\n  op: delete\n  path: /a\n  value: 1\n", "not one of"),
    ("- id: x\n  why: y\n  op: remove\n  path: a/b\n  value: 1\n", "not a JSON pointer"),
    ("- id: x\n  why: y\n  op: replace\n  path: /a\n  value: 1\n", "needs `with`"),
    ("- [unclosed\n", "not valid YAML"),
])
def test_bad_corrections_file_gives_one_clear_message(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "corrections.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CorrectionsError, match=message):
        load_corrections(path)


# -- deviations --

def test_deviations_file_has_the_required_entries() -> None:
    ids = {d.id for d in load_deviations()}
    assert {"message-lifecycle-fields", "innererror-name", "content-filter-result-name",
            "run-status-incomplete", "parallel-tool-calls"} <= ids


@pytest.mark.parametrize("version", API_VERSIONS)
def test_every_rule_changes_the_contract_somewhere(version: str) -> None:
    document = load_contract(version).document
    inert = []
    for deviation in load_deviations():
        if deviation.informational:
            continue
        # file-citation-quote only exists where the quote property does (before 2024-08-01-preview).
        probe = json.loads(json.dumps(document))
        if not apply_one(probe, deviation) and not (deviation.id == "file-citation-quote"
                                                    and version == "2024-08-01-preview"):
            inert.append(deviation.id)
    assert not inert, f"deviations that change nothing in {version}: {inert}"


@pytest.mark.parametrize("version", API_VERSIONS)
def test_strict_reference_contract_rejects_what_the_service_sends(version: str) -> None:
    service_message = {
        "id": "msg_1", "object": "thread.message", "created_at": 1, "thread_id": "thread_1",
        "role": "user", "content": [], "assistant_id": None, "run_id": None, "attachments": [],
        "metadata": {},
    }
    assert load_contract(version).validate_schema("messageObject", service_message) == []
    strict = load_contract(version, strict_reference=True)
    findings = strict.validate_schema("messageObject", service_message)
    assert {"status", "completed_at", "incomplete_at", "incomplete_details"} <= {
        f.where.removeprefix("$.") for f in findings}


def test_apply_reference_returns_a_copy() -> None:
    document = {"components": {"schemas": {"s": {"type": "object", "properties": {"a": {"enum": ["x", "y"]}}}}}}
    rule = Deviation("d", "s", "e", "DOC", "s", enum_remove=(("a", ("y",)),))
    result = apply_reference(document, [rule])
    assert result["components"]["schemas"]["s"]["properties"]["a"]["enum"] == ["x"]
    assert document["components"]["schemas"]["s"]["properties"]["a"]["enum"] == ["x", "y"]


def test_rename_and_const_removal() -> None:
    document = {"components": {"schemas": {"e": {
        "type": "object", "required": ["innererror"],
        "properties": {"innererror": {"type": "object"}, "kind": {"const": "svc"}}}}}}
    rules = [Deviation("r", "s", "e", "LOG", "e", rename_property=(("innererror", "inner_error"),)),
             Deviation("c", "s", "e", "DOC", "e", enum_remove=(("kind", ("svc",)),))]
    schema = apply_reference(document, rules)["components"]["schemas"]["e"]
    assert list(schema["properties"]) == ["inner_error", "kind"]
    assert schema["required"] == ["inner_error"]
    assert schema["properties"]["kind"] == {"not": {"const": "svc"}}


@pytest.mark.parametrize(("text", "message"), [
    ("{}", "expected a list"),
    ("- id: a\n  summary: s\n  evidence: e\n  grade: MAYBE\n  schema: x\n", "grade 'MAYBE'"),
    ("- id: a\n  summary: s\n  evidence: e\n  grade: REC\n", "`schema` must be"),
    ("- id: a\n  summary: s\n  evidence: e\n  grade: REC\n  schema: x\n  reference: {drop: [a]}\n", "may only hold"),
    ("- id: a\n  summary: s\n  evidence: e\n  grade: REC\n  schema: x\n"
     "- id: a\n  summary: s\n  evidence: e\n  grade: REC\n  schema: y\n", "used twice"),
])
def test_bad_deviations_file_gives_one_clear_message(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "deviations.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DeviationsError, match=message):
        load_deviations(path)
