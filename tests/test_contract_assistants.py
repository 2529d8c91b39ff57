"""The Assistants contract: per-version differences, stream events, links, and bad payloads."""

from __future__ import annotations

import copy
import datetime
import json
import re
from typing import Any

import httpx
import pytest
import schemathesis
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance.findings import errors
from conformance.spec import Contract, load_contract
from conformance.spec.pointers import deref, lookup, ref_pointer
from conformance.versions import API_VERSIONS

OLD, NEW = API_VERSIONS  # 2024-05-01-preview, 2024-08-01-preview
METHODS = ("get", "put", "post", "delete", "patch")

EVENTS = [
    "thread.created",
    *(f"thread.run.{s}" for s in ("created", "queued", "in_progress", "requires_action", "completed",
                                  "incomplete", "failed", "cancelling", "cancelled", "expired")),
    *(f"thread.run.step.{s}" for s in ("created", "in_progress", "delta", "completed", "failed",
                                       "cancelled", "expired")),
    *(f"thread.message.{s}" for s in ("created", "in_progress", "delta", "completed", "incomplete")),
    "error",
    "done",
]

RUN: dict[str, Any] = {
    "id": "run_1", "object": "thread.run", "created_at": 1700000000, "thread_id": "thread_1",
    "assistant_id": "asst_1", "status": "queued", "required_action": None, "last_error": None,
    "expires_at": 1700000600, "started_at": None, "cancelled_at": None, "failed_at": None,
    "completed_at": None, "model": "gpt-4o", "instructions": "", "tools": [], "metadata": {},
    "usage": None, "incomplete_details": None, "max_prompt_tokens": None, "max_completion_tokens": None,
    "truncation_strategy": {"type": "auto", "last_messages": None}, "tool_choice": "auto",
    "response_format": "auto", "temperature": 1.0, "top_p": 1.0, "parallel_tool_calls": True,
}
MESSAGE: dict[str, Any] = {  # as GET returns it: no status / completed_at / incomplete_*
    "id": "msg_1", "object": "thread.message", "created_at": 1700000001, "thread_id": "thread_1",
    "role": "assistant", "assistant_id": "asst_1", "run_id": "run_1", "attachments": [], "metadata": {},
    "content": [{"type": "text", "text": {"value": "Hello", "annotations": [
        {"type": "file_citation", "text": "[1]", "file_citation": {"file_id": "assistant-f"},
         "start_index": 0, "end_index": 3}]}}],
}
STEP: dict[str, Any] = {
    "id": "step_1", "object": "thread.run.step", "created_at": 1700000002, "assistant_id": "asst_1",
    "thread_id": "thread_1", "run_id": "run_1", "type": "message_creation", "status": "in_progress",
    "step_details": {"type": "message_creation", "message_creation": {"message_id": "msg_1"}},
    "last_error": None, "expired_at": None, "cancelled_at": None, "failed_at": None,
    "completed_at": None, "metadata": None, "usage": None,
}
ASSISTANT: dict[str, Any] = {
    "id": "asst_1", "object": "assistant", "created_at": 1700000000, "name": None, "description": None,
    "model": "gpt-4o", "instructions": None, "tools": [{"type": "code_interpreter"}], "tool_resources": {},
    "metadata": {}, "top_p": 1.0, "temperature": 1.0, "response_format": "auto",
}
VECTOR_STORE: dict[str, Any] = {
    "id": "vs_1", "object": "vector_store", "created_at": 1, "name": "docs", "usage_bytes": 0,
    "file_counts": {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0, "total": 0},
    "status": "completed", "last_active_at": 1, "metadata": {},
}


@pytest.fixture(params=API_VERSIONS)
def contract(request: pytest.FixtureRequest) -> Contract:
    return load_contract(request.param)


def _schemas(version: str) -> dict[str, Any]:
    result: dict[str, Any] = load_contract(version).document["components"]["schemas"]
    return result


def _request(contract: Contract, operation_id: str, body: Any, query: dict[str, str] | None = None) -> list[str]:
    op = contract.operation(operation_id)
    return [str(f) for f in contract.validate_request(op, query=query or {"api-version": contract.api_version},
                                                      body=json.dumps(body), content_type="application/json")]


# -- per-version differences --

@pytest.mark.parametrize("name", ["createVectorStoreRequest", "createVectorStoreFileRequest",
                                  "createVectorStoreFileBatchRequest", "vectorStoreFileObject"])
def test_chunking_strategy_only_from_2024_08(name: str) -> None:
    assert "chunking_strategy" not in _schemas(OLD)[name]["properties"]
    assert "chunking_strategy" in _schemas(NEW)[name]["properties"]


def test_chunking_schemas_only_from_2024_08() -> None:
    assert "chunkingStrategyRequestParam" not in _schemas(OLD)
    assert "staticChunkingStrategy" in _schemas(NEW)
    # No dangling reference in the older bundle.
    text = json.dumps(load_contract(OLD).document)
    assert "chunkingStrategy" not in text


@pytest.mark.parametrize(("size", "ok"), [(99, False), (100, True), (4096, True), (4097, False)])
def test_static_chunk_size_bounds(size: int, ok: bool) -> None:
    contract = load_contract(NEW)
    body = {"name": "docs", "chunking_strategy": {"type": "static", "static": {
        "max_chunk_size_tokens": size, "chunk_overlap_tokens": 0}}}
    findings = _request(contract, "Create_Vector_Store", body)
    assert (findings == []) is ok, findings
    if not ok:
        assert any("max_chunk_size_tokens" in f for f in findings)


def test_chunking_strategy_type_must_be_known() -> None:
    body = {"file_id": "assistant-f", "chunking_strategy": {"type": "fancy"}}
    findings = _request(load_contract(NEW), "Create_Vector_Store_File", body)
    assert findings and any("chunking_strategy" in f for f in findings)


@pytest.mark.parametrize(("value", "ok"), [(0, False), (1, True), (50, True), (51, False)])
def test_file_search_max_num_results_bounds(value: int, ok: bool) -> None:
    body = {"model": "gpt-4o", "tools": [{"type": "file_search", "file_search": {"max_num_results": value}}]}
    findings = _request(load_contract(NEW), "Create_Assistant", body)
    assert (findings == []) is ok, findings
    if not ok:
        assert any("max_num_results" in f for f in findings)


def test_file_search_options_only_from_2024_08() -> None:
    assert "file_search" not in _schemas(OLD)["assistantToolsFileSearch"]["properties"]
    assert "file_search" in _schemas(NEW)["assistantToolsFileSearch"]["properties"]


def test_file_citation_quote_only_before_2024_08() -> None:
    def citation(version: str) -> dict[str, Any]:
        props: dict[str, Any] = _schemas(version)["messageContentTextAnnotationsFileCitationObject"]["properties"]
        return props["file_citation"]["properties"]  # type: ignore[no-any-return]
    assert "quote" in citation(OLD)
    assert "quote" not in citation(NEW)


# -- objects follow the service --

def test_service_shapes_are_accepted(contract: Contract) -> None:
    assert contract.validate_schema("runObject", RUN) == []
    assert contract.validate_schema("messageObject", MESSAGE) == []
    assert contract.validate_schema("runStepObject", STEP) == []
    assert contract.validate_schema("assistantObject", ASSISTANT) == []
    assert contract.validate_schema("vectorStoreObject", VECTOR_STORE) == []
    terminal = {**RUN, "status": "incomplete", "expires_at": None,
                "incomplete_details": {"reason": "max_completion_tokens"}, "brand_new_field": 1}
    # An extra field is at most informational, never an error.
    assert errors(contract.validate_schema("runObject", terminal)) == []
    empty = {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
    assert contract.validate_schema("listMessagesResponse", empty) == []


@pytest.mark.parametrize(("schema", "instance", "field"), [
    ("runObject", {k: v for k, v in RUN.items() if k != "status"}, "status"),
    ("runObject", {**RUN, "status": "paused"}, "status"),
    ("runObject", {**RUN, "created_at": "yesterday"}, "created_at"),
    ("runObject", {**RUN, "object": "thread.message"}, "object"),
    ("assistantObject", {**ASSISTANT, "tools": [{"type": "browser"}]}, "tools"),
    ("assistantObject", {**ASSISTANT, "temperature": 3}, "temperature"),
    ("messageObject", {**MESSAGE, "content": [{"type": "text", "text": {"annotations": []}}]}, "value"),
    ("messageObject", {**MESSAGE, "role": "system"}, "role"),
    ("runStepObject", {**STEP, "step_details": {"type": "message_creation"}}, "message_creation"),
    ("vectorStoreObject", {k: v for k, v in VECTOR_STORE.items() if k != "usage_bytes"}, "usage_bytes"),
    ("listRunsResponse", {"object": "list", "data": [RUN], "last_id": "run_1", "has_more": False}, "first_id"),
    ("listRunsResponse", {"object": "page", "data": [], "first_id": None, "last_id": None,
                          "has_more": False}, "object"),
    ("deleteThreadResponse", {"id": "thread_1", "object": "assistant.deleted", "deleted": True}, "object"),
])
def test_bad_payload_is_rejected_naming_the_field(contract: Contract, schema: str, instance: Any,
                                                  field: str) -> None:
    findings = contract.validate_schema(schema, instance)
    assert findings, f"{schema} accepted a bad payload"
    assert any(field in f"{f.where} {f.message}" for f in findings), [str(f) for f in findings]


@pytest.mark.parametrize(("body", "field"), [
    ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
    ({"metadata": {"k" * 65: "v"}}, "metadata"),
    ({"metadata": {"k": "v" * 513}}, "metadata"),
    ({"name": "n" * 257}, "name"),
    ({"description": "d" * 513}, "description"),
    ({"top_p": 1.5}, "top_p"),
    ({"tools": [{"type": "code_interpreter"}] * 129}, "tools"),
    ({}, "model"),
])
def test_documented_bounds_on_create_assistant(contract: Contract, body: dict[str, Any], field: str) -> None:
    payload = {"model": "gpt-4o", **body} if body else body
    findings = _request(contract, "Create_Assistant", payload)
    assert any(field in f for f in findings), findings


def test_create_run_bounds(contract: Contract) -> None:
    assert _request(contract, "Create_Run", {"assistant_id": "asst_1", "max_prompt_tokens": 256}) == []
    findings = _request(contract, "Create_Run", {"assistant_id": "asst_1", "max_prompt_tokens": 255})
    assert any("max_prompt_tokens" in f for f in findings)
    assert any("assistant_id" in f for f in _request(contract, "Create_Run", {"instructions": "x"}))


@pytest.mark.parametrize(("limit", "ok"), [("0", False), ("1", True), ("100", True), ("101", False)])
def test_list_limit_bounds(contract: Contract, limit: str, ok: bool) -> None:
    op = contract.operation("List_Assistants")
    findings = contract.validate_request(op, query={"api-version": contract.api_version, "limit": limit}, body=None)
    assert (findings == []) is ok, findings


def test_list_filters_exist(contract: Contract) -> None:
    def query(operation_id: str) -> set[str]:
        return set(contract.operation(operation_id).query_params)
    assert "run_id" in query("List_Messages")
    assert "filter" in query("List_Vector_Store_Files")
    findings = contract.validate_request(contract.operation("List_Vector_Store_Files"),
                                         query={"api-version": contract.api_version, "filter": "done"}, body=None)
    assert any("filter" in str(f) for f in findings)


# -- streams --

def test_event_map_covers_every_event(contract: Contract) -> None:
    events = contract.document["components"]["x-stream-events"]
    assert sorted(events) == sorted(EVENTS)
    assert events["done"] == "[DONE]"
    for name, ref in events.items():
        if name != "done":
            lookup(contract.document, ref_pointer(ref))


def _event_validator(document: dict[str, Any]) -> Draft202012Validator:
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource("urn:contract", resource)
    return Draft202012Validator({"$ref": "urn:contract#/components/schemas/assistantStreamEvent"},
                                registry=registry)


def test_stream_branches_are_exclusive_and_cover_the_map(contract: Contract) -> None:
    branches = contract.document["components"]["schemas"]["assistantStreamEvent"]["oneOf"]
    *known, other = branches
    names = [b["properties"]["event"]["const"] for b in known]
    assert len(names) == len(set(names)), "two branches for one event"
    assert sorted(names) == sorted(contract.document["components"]["x-stream-events"])
    assert sorted(other["properties"]["event"]["not"]["enum"]) == sorted(names)
    validator = _event_validator(contract.document)
    # Every event shape (as Schemathesis parses it: data is the raw string) matches exactly one branch.
    for name in names:
        assert validator.is_valid({"event": name, "data": "[DONE]" if name == "done" else "{}"}), name
    assert not validator.is_valid({"event": "done", "data": "{}"})
    assert not validator.is_valid({"event": "thread.run.created"})
    # A future event is tolerated, as extra fields are.
    assert validator.is_valid({"event": "thread.run.paused", "data": "{}"})


def _sse(*events: tuple[str, Any]) -> bytes:
    out = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
        out.append(f"event: {name}\ndata: {text}\n\n")
    return "".join(out).encode()


def _stream(run: dict[str, Any] | None = None) -> bytes:
    run = run or RUN
    message = {**MESSAGE, "status": "in_progress", "completed_at": None, "incomplete_at": None,
               "incomplete_details": None, "content": []}
    return _sse(
        ("thread.run.created", run), ("thread.run.queued", run),
        ("thread.run.in_progress", {**run, "status": "in_progress"}),
        ("thread.run.step.created", STEP), ("thread.run.step.in_progress", STEP),
        ("thread.message.created", message), ("thread.message.in_progress", message),
        ("thread.message.delta", {"id": "msg_1", "object": "thread.message.delta", "delta": {"content": [
            {"index": 0, "type": "text", "text": {"value": "Hello", "annotations": []}}]}}),
        ("thread.message.delta", {"id": "msg_1", "object": "thread.message.delta", "delta": {"content": [
            {"index": 0, "type": "text", "text": {"value": " there"}}]}}),
        ("thread.message.completed", {**message, "status": "completed", "completed_at": 2}),
        ("thread.run.step.completed", {**STEP, "status": "completed", "completed_at": 2}),
        ("thread.run.completed", {**run, "status": "completed", "expires_at": None, "completed_at": 2}),
        ("done", "[DONE]"),
    )


def test_recorded_stream_order_validates(contract: Contract) -> None:
    op = contract.operation("Create_Run")
    headers = {"content-type": "text/event-stream; charset=utf-8"}
    assert contract.validate_response(op, 200, headers, _stream()) == []


def test_bad_event_data_is_found(contract: Contract) -> None:
    op = contract.operation("Create_Thread_And_Run")
    headers = {"content-type": "text/event-stream; charset=utf-8"}
    bad = copy.deepcopy(RUN)
    del bad["thread_id"]
    findings = contract.validate_response(op, 200, headers, _stream(bad))
    assert any("thread_id" in f.message for f in findings), [str(f) for f in findings]
    findings = contract.validate_response(op, 200, headers, _sse(("done", "{}")))
    assert findings


def test_streaming_operations_declare_both_media_types(contract: Contract) -> None:
    for operation_id in ("Create_Run", "Create_Thread_And_Run", "Submit_Tool_Outputs_To_Run"):
        content = contract.operation(operation_id).definition["responses"]["200"]["content"]
        assert set(content) == {"application/json", "text/event-stream"}, operation_id
        assert content["text/event-stream"]["schema"] == {"$ref": "#/components/schemas/assistantStreamEvent"}


# -- links --

def _links(document: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any], dict[str, Any]]]:
    found = []
    for path, item in document["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if not op:
                continue
            for status, response in op["responses"].items():
                for name, link in deref(document, response).get("links", {}).items():
                    found.append((f"{op['operationId']} {status} {name}", path, method, op, link))
    return found


def test_links_resolve(contract: Contract) -> None:
    document = contract.document
    links = _links(document)
    assert len(links) >= 30
    problems = []
    for where, path, _, source, link in links:
        try:
            target = contract.operation(link["operationId"])
        except KeyError:
            problems.append(f"{where}: no operation {link['operationId']}")
            continue
        names = {*target.path_params, *target.query_params}
        missing = set(target.path_params) - set(link["parameters"])
        if missing:
            problems.append(f"{where}: path parameters {sorted(missing)} not supplied")
        source_params = {deref(document, p)["name"] for p in
                         [*document["paths"][path].get("parameters", []), *source.get("parameters", [])]}
        body_schema = deref(document, deref(document, source["responses"]["200"])["content"]
                            ["application/json"]["schema"])
        for param, expression in link["parameters"].items():
            if param not in names:
                problems.append(f"{where}: {link['operationId']} has no parameter {param}")
            body = re.fullmatch(r"\$response\.body#/(\w+)(/.*)?", expression)
            request = re.fullmatch(r"\$request\.path\.(\w+)", expression)
            if body:
                props = _all_properties(document, body_schema)
                if body.group(1) not in props:
                    problems.append(f"{where}: response has no property {body.group(1)}")
            elif request:
                if request.group(1) not in source_params:
                    problems.append(f"{where}: source has no path parameter {request.group(1)}")
            else:
                problems.append(f"{where}: unsupported expression {expression}")
    assert not problems, "\n".join(problems)


def _all_properties(document: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    props = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        props |= _all_properties(document, deref(document, part))
    return props


def test_state_machine_chains_are_present(contract: Contract) -> None:
    chains = {(where.split()[0], link["operationId"]) for where, _, _, _, link in _links(contract.document)}
    for pair in [("Create_Assistant", "Delete_Assistant"), ("Create_Thread", "Create_Run"),
                 ("Create_Thread", "List_Messages"), ("Create_Message", "Modify_Message"),
                 ("Create_Run", "Submit_Tool_Outputs_To_Run"), ("Create_Run", "Cancel_Run"),
                 ("List_Run_Steps", "Get_Run_Step"), ("Create_Vector_Store", "Create_Vector_Store_File_Batch"),
                 ("Create_Vector_Store_File_Batch", "List_Vector_Store_File_Batch_Files")]:
        assert pair in chains, pair


# -- the same stream through Schemathesis (how the fuzz layer validates event streams) --

def _httpx_stream(body: bytes) -> httpx.Response:
    response = httpx.Response(200, headers={"content-type": "text/event-stream; charset=utf-8"}, content=body,
                              request=httpx.Request("POST", "https://example.invalid/openai/threads/t/runs"))
    response.read()
    response.elapsed = datetime.timedelta(0)  # Schemathesis reads it; only a sent request sets it
    return response


@pytest.mark.parametrize("version", API_VERSIONS)
def test_schemathesis_validates_streams_event_by_event(version: str) -> None:
    schema = schemathesis.openapi.from_dict(copy.deepcopy(load_contract(version).document))
    op = schema.find_operation_by_id("Create_Run")
    op.validate_response(_httpx_stream(_stream()))  # raises on a violation
    op.validate_response(_httpx_stream(_sse(("thread.run.paused", RUN))))
    bad = {k: v for k, v in RUN.items() if k != "thread_id"}
    for body in (_stream(bad), _sse(("done", "{}")), _sse(("thread.run.created", "not json"))):
        with pytest.raises(Exception, match="SSE event"):
            op.validate_response(_httpx_stream(body))
