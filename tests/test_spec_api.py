"""The public API of conformance.spec: matching, request/response/event validation, caching."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.findings import errors
from conformance.spec import Contract, Operation, SpecError, load_contract, load_spec_file
from conformance.versions import API_VERSIONS

OLD, NEW = API_VERSIONS
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract(NEW)


@pytest.fixture(scope="module")
def chat(contract: Contract) -> Operation:
    return contract.operation("ChatCompletions_Create")


def chat_answer() -> dict[str, Any]:
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o",
        "system_fingerprint": "fp_1",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {
            "hate": {"filtered": False, "severity": "safe"}, "jailbreak": {"filtered": False, "detected": False}}}],
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": "Hello", "refusal": None},
                     "content_filter_results": {"violence": {"filtered": False, "severity": "low"}}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }


# -- operations and matching ----------------------------------------------------------------------

def test_operation_index_describes_chat(chat: Operation) -> None:
    assert (chat.method, chat.path, chat.tag) == ("POST", "/deployments/{deployment-id}/chat/completions", "Chat")
    assert chat.expensive and chat.streams
    assert chat.query_params == ("api-version",)
    assert chat.path_params == ("deployment-id",)
    schema = chat.request_schema()
    assert schema is not None and "messages" in schema["properties"]


def test_unknown_operation_id_is_a_clear_key_error(contract: Contract) -> None:
    with pytest.raises(KeyError, match="No_Such_Op"):
        contract.operation("No_Such_Op")


def test_match_returns_operation_and_path_params(contract: Contract) -> None:
    found = contract.match("post", "/deployments/my-gpt/chat/completions")
    assert found is not None
    op, params = found
    assert op.operation_id == "ChatCompletions_Create" and params == {"deployment-id": "my-gpt"}


def test_match_decodes_and_tolerates_prefix_and_query(contract: Contract) -> None:
    found = contract.match("POST", "/openai/deployments/a%20b/embeddings?api-version=x")
    assert found is not None and found[1] == {"deployment-id": "a b"}


def test_match_prefers_literal_segments(contract: Contract) -> None:
    literal = contract.match("POST", "/threads/runs")
    templated = contract.match("POST", "/threads/thread_abc")
    assert literal is not None and templated is not None
    assert literal[0].path == "/threads/runs" and literal[1] == {}
    assert templated[0].path == "/threads/{thread_id}" and templated[1] == {"thread_id": "thread_abc"}


def test_match_with_several_path_params(contract: Contract) -> None:
    found = contract.match("GET", "/threads/thread_1/runs/run_2/steps/step_3")
    assert found is not None
    assert found[1] == {"thread_id": "thread_1", "run_id": "run_2", "step_id": "step_3"}


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/deployments/x/chat/completions"),  # wrong method
    ("POST", "/deployments/x/chat/completions/extra"),
    ("POST", "/nothing"),
])
def test_match_returns_none_for_unknown_routes(contract: Contract, method: str, path: str) -> None:
    assert contract.match(method, path) is None


def test_every_operation_matches_its_own_template(contract: Contract) -> None:
    for op in contract.operations:
        concrete = op.path
        for name in op.path_params:
            concrete = concrete.replace("{" + name + "}", f"v_{name}")
        found = contract.match(op.method, concrete)
        assert found is not None and found[0] == op, op.operation_id
        assert found[1] == {name: f"v_{name}" for name in op.path_params}


# -- requests -------------------------------------------------------------------------------------

def test_valid_request_has_no_findings(contract: Contract, chat: Operation) -> None:
    body = {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
            "temperature": 0.5, "stream": True, "stream_options": {"include_usage": True}}
    assert contract.validate_request(chat, query={"api-version": NEW}, body=body) == []


def test_request_finding_names_field_and_value(contract: Contract, chat: Operation) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}], "temperature": 3}
    [finding] = contract.validate_request(chat, query={"api-version": NEW}, body=body)
    assert finding.rule == "schema.request"
    assert finding.where == "$.temperature"
    assert "temperature" in finding.message and "3" in finding.message


def test_request_with_wrong_message_role_names_the_role(contract: Contract, chat: Operation) -> None:
    body = {"messages": [{"role": "robot", "content": "hi"}]}
    [finding] = contract.validate_request(chat, query={"api-version": NEW}, body=body)
    assert finding.where == "$.messages[0].role" and '"robot"' in finding.message


def test_request_missing_required_body_field(contract: Contract, chat: Operation) -> None:
    [finding] = contract.validate_request(chat, query={"api-version": NEW}, body={"temperature": 1})
    assert finding.where == "$.messages" and "missing" in finding.message


def test_request_query_parameters_are_checked(contract: Contract) -> None:
    listing = contract.operation("List_Assistants")
    assert contract.validate_request(listing, query={"api-version": NEW, "limit": "100"}, body=None) == []
    findings = contract.validate_request(listing, query={"limit": "0", "order": "sideways"}, body=None)
    assert sorted(f.where for f in findings) == ["api-version", "limit", "order"]
    assert all(f.rule == "schema.request" for f in findings)
    [limit] = [f for f in findings if f.where == "limit"]
    assert "limit" in limit.message and "0" in limit.message
    [text] = contract.validate_request(listing, query={"api-version": NEW, "limit": "abc"}, body=None)
    assert 'got "abc"' in text.message


def test_request_version_features_follow_the_contract_version(chat: Operation) -> None:
    body = {"messages": [{"role": "user", "content": "x"}], "tool_choice": "required"}
    assert load_contract(NEW).validate_request(chat, query={"api-version": NEW}, body=body) == []
    old = load_contract(OLD)
    findings = old.validate_request(old.operation("ChatCompletions_Create"), query={"api-version": OLD}, body=body)
    assert [f.where for f in findings] == ["$.tool_choice"]


def test_request_body_required_and_content_type(contract: Contract, chat: Operation) -> None:
    [missing] = contract.validate_request(chat, query={"api-version": NEW}, body=None)
    assert missing.where == "body"
    [wrong] = contract.validate_request(chat, query={"api-version": NEW}, body="x=1",
                                        content_type="application/x-www-form-urlencoded")
    assert wrong.where == "content-type" and "application/x-www-form-urlencoded" in wrong.message
    ok = contract.validate_request(chat, query={"api-version": NEW}, body=b'{"messages":[{"role":"user","content":"a"}]}',
                                   content_type="application/json; charset=utf-8")
    assert ok == []


def test_path_level_query_parameters_are_checked() -> None:
    document = {"openapi": "3.1.0", "info": {"title": "t", "version": "v"}, "paths": {"/things": {
        "parameters": [{"name": "limit", "in": "query", "required": True, "schema": {"type": "integer"}}],
        "get": {"operationId": "List_Things", "responses": {"200": {"description": "ok"}}}}}}
    contract = Contract(document, "v")
    op = contract.operation("List_Things")
    assert op.query_params == ("limit",)
    assert [f.where for f in contract.validate_request(op, query={}, body=None)] == ["limit"]
    assert [f.where for f in contract.validate_request(op, query={"limit": "x"}, body=None)] == ["limit"]
    assert contract.validate_request(op, query={"limit": "5"}, body=None) == []


def test_multipart_request_values_are_read_as_their_types(contract: Contract) -> None:
    op = contract.operation("Transcriptions_Create")
    form = {"file": b"RIFF....", "temperature": "0.2", "response_format": "json"}
    assert contract.validate_request(op, query={"api-version": NEW}, body=form,
                                     content_type="multipart/form-data; boundary=x") == []
    bad = {"temperature": "hot", "response_format": "mp4"}
    findings = contract.validate_request(op, query={"api-version": NEW}, body=bad, content_type="multipart/form-data")
    assert sorted(f.where for f in findings) == ["$.file", "$.response_format", "$.temperature"]


# -- responses ------------------------------------------------------------------------------------

def test_valid_response_has_no_error_findings(contract: Contract, chat: Operation) -> None:
    assert contract.validate_response(chat, 200, JSON, chat_answer()) == []


def test_response_finding_names_field_and_value(contract: Contract, chat: Operation) -> None:
    answer = chat_answer()
    answer["created"] = "abc"
    [finding] = contract.validate_response(chat, 200, JSON, answer)
    assert finding.rule == "schema.response" and finding.where == "$.created"
    assert finding.message == 'createChatCompletionResponse.created: expected integer, got "abc"'


@pytest.mark.parametrize(("mutate", "where"), [
    (lambda a: a.pop("id"), "$.id"),
    (lambda a: a.update(object="chat.completions"), "$.object"),
    (lambda a: a["choices"][0].update(finish_reason="done"), "$.choices[0].finish_reason"),
    (lambda a: a["choices"][0]["content_filter_results"]["violence"].update(severity="extreme"),
     "$.choices[0].content_filter_results.violence.severity"),
    (lambda a: a["prompt_filter_results"][0]["content_filter_results"]["jailbreak"].pop("detected"),
     "$.prompt_filter_results[0].content_filter_results.jailbreak.detected"),
    (lambda a: a["usage"].update(total_tokens=-1), "$.usage.total_tokens"),
])
def test_response_violations_are_found_where_they_are(contract: Contract, chat: Operation, mutate: Any,
                                                      where: str) -> None:
    answer = chat_answer()
    mutate(answer)
    findings = errors(contract.validate_response(chat, 200, JSON, answer))
    assert [f.where for f in findings] == [where]


def test_undocumented_fields_are_information_only(contract: Contract, chat: Operation) -> None:
    answer = chat_answer()
    answer["brand_new"] = 1
    answer["choices"][0]["message"]["annotations"] = []
    findings = contract.validate_response(chat, 200, JSON, answer)
    assert {(f.where, f.severity) for f in findings} == {
        ("$.brand_new", "info"), ("$.choices[0].message.annotations", "info")}
    assert errors(findings) == []


def test_undeclared_status_and_content_type(contract: Contract, chat: Operation) -> None:
    [status] = contract.validate_response(chat, 418, JSON, {})
    assert status.rule == "schema.status" and "418" in status.message
    [media] = contract.validate_response(chat, 200, {"content-type": "text/html"}, "<html>")
    assert media.rule == "schema.content_type" and "text/html" in media.message


def test_gateway_error_envelopes_validate(contract: Contract, chat: Operation) -> None:
    unauthorized = {"error": {"code": "401", "message": "Access denied due to invalid subscription key."}}
    assert contract.validate_response(chat, 401, JSON, unauthorized) == []
    openai_style = {"error": {"message": "No thread found.", "type": "invalid_request_error", "param": None,
                              "code": None}}
    assert contract.validate_response(chat, 404, JSON, openai_style) == []
    [finding] = contract.validate_response(chat, 429, JSON, {"error": {"code": 429, "message": "slow down"}})
    assert finding.where == "$.error.code"


def content_filter_400() -> dict[str, Any]:
    results = {name: {"filtered": False, "severity": "safe"} for name in ("hate", "self_harm", "sexual", "violence")}
    results["jailbreak"] = {"filtered": True, "detected": True}
    return {"error": {"message": "The response was filtered ...", "type": None, "param": "prompt",
                      "code": "content_filter", "status": 400,
                      "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": results}}}


def test_content_filter_error_validates_as_bad_request_and_strict_schema(contract: Contract, chat: Operation) -> None:
    body = content_filter_400()
    assert contract.validate_response(chat, 400, JSON, body) == []
    assert contract.validate_schema("contentFilterErrorResponse", body) == []
    broken = copy.deepcopy(body)
    broken["error"]["innererror"]["content_filter_result"]["hate"]["severity"] = "very_high"
    broken["error"]["code"] = "filtered"
    findings = contract.validate_schema("contentFilterErrorResponse", broken)
    assert sorted(f.where for f in findings) == [
        "$.error.code", "$.error.innererror.content_filter_result.hate.severity"]


def test_validate_schema_unknown_name(contract: Contract) -> None:
    with pytest.raises(KeyError, match="noSuchSchema"):
        contract.validate_schema("noSuchSchema", {})


def test_binary_responses_check_the_content_type(contract: Contract) -> None:
    speech = contract.operation("Speech_Create")
    assert contract.validate_response(speech, 200, {"Content-Type": "audio/mpeg"}, b"ID3") == []
    [finding] = contract.validate_response(speech, 200, {"Content-Type": "image/png"}, b"\x89PNG")
    assert finding.rule == "schema.content_type"


# -- streams and events ---------------------------------------------------------------------------

def sse(*chunks: Any) -> bytes:
    return b"".join(b"data: " + (c if isinstance(c, bytes) else json.dumps(c).encode()) + b"\n\n" for c in chunks)


def chunk(**delta: Any) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}


def test_chat_chunks_validate_as_events(contract: Contract) -> None:
    # Azure's first chunk carries only the prompt filter results, with empty id, object and model.
    first = {"id": "", "object": "", "created": 0, "model": "", "choices": [],
             "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]}
    assert contract.validate_event("chat.completion.chunk", first) == []
    assert contract.validate_event("chat.completion.chunk", chunk(content="Hi")) == []
    [finding] = contract.validate_event("chat.completion.chunk", {**chunk(), "object": "chat.completion"})
    assert finding.where == "$.object" and '"chat.completion"' in finding.message


def test_chat_stream_validates_every_chunk(contract: Contract, chat: Operation) -> None:
    headers = {"Content-Type": "text/event-stream; charset=utf-8"}
    good = sse(chunk(role="assistant", content=""), chunk(content="Hi"), b"[DONE]")
    assert contract.validate_response(chat, 200, headers, good) == []
    bad = sse(chunk(content="Hi"), chunk(content=5), b"[DONE]")
    [finding] = contract.validate_response(chat, 200, headers, bad)
    assert finding.rule == "sse.event_schema" and finding.where == "events[1].choices[0].delta.content"
    [not_json] = contract.validate_response(chat, 200, headers, sse(b"{oops", b"[DONE]"))
    assert not_json.where == "events[0]"


def test_named_event_stream_validates_each_event(contract: Contract) -> None:
    op = contract.operation("Create_Run")
    headers = {"Content-Type": "text/event-stream"}
    good = b'event: error\ndata: {"code": "server_error", "message": "boom"}\n\nevent: done\ndata: [DONE]\n\n'
    assert contract.validate_response(op, 200, headers, good) == []
    bad = b'event: error\ndata: {"message": 1}\n\nevent: done\ndata: {}\n\n'
    findings = contract.validate_response(op, 200, headers, bad)
    assert [f.where for f in findings] == ["events[0].message", "events[1]"]


def test_event_schema_lookup(contract: Contract) -> None:
    assert contract.event_schema("done") == {"const": "[DONE]"}
    assert contract.event_schema("error") == {"$ref": "#/components/schemas/error"}
    assert contract.event_schema("thread.future.event") is None
    # Data-only chunks are known by the name their operation gives them (x-stream-event).
    assert contract.event_schema("chat.completion.chunk") == {
        "$ref": "#/components/schemas/createChatCompletionStreamResponse"}


def test_validate_event_done_and_unknown(contract: Contract) -> None:
    assert contract.validate_event("done", "[DONE]") == []
    [finding] = contract.validate_event("done", {"x": 1})
    assert finding.rule == "sse.event_schema" and finding.where == "$"
    assert contract.validate_event("thread.future.event", {"anything": True}) == []


def test_validate_event_checks_the_data(contract: Contract) -> None:
    assert contract.validate_event("error", {"code": "server_error", "message": "boom"}) == []
    [finding] = contract.validate_event("error", {"code": "server_error", "message": 42})
    assert finding.rule == "sse.event_schema" and finding.where == "$.message" and "42" in finding.message
    assert contract.validate_event("error", '{"code": null, "message": "raw JSON text"}') == []


# -- loading and caching --------------------------------------------------------------------------

def test_load_contract_is_cached_per_arguments() -> None:
    assert load_contract(NEW) is load_contract(NEW) is load_contract(NEW, strict_reference=False)
    assert load_contract(OLD) is not load_contract(NEW)
    assert load_contract(OLD).api_version == OLD


def test_unknown_version_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not covered; supported"):
        load_contract("1999-01-01")


def test_validators_are_compiled_once(contract: Contract, chat: Operation) -> None:
    contract.validate_response(chat, 200, JSON, chat_answer())
    compiled = dict(contract._checker._validators)
    for _ in range(3):
        contract.validate_response(chat, 200, JSON, chat_answer())
    assert contract._checker._validators == compiled


def test_retrieve_sized_validation_is_fast(contract: Contract) -> None:
    op = contract.operation("Get_Assistant")
    body = {"id": "asst_1", "object": "assistant", "created_at": 1, "name": "n", "description": None,
            "model": "gpt-4o", "instructions": "x", "tools": [{"type": "code_interpreter"}],
            "tool_resources": {}, "metadata": {}, "top_p": 1.0, "temperature": 1.0, "response_format": "auto"}
    contract.validate_response(op, 200, JSON, body)  # compile
    best = min(_timed(lambda: contract.validate_response(op, 200, JSON, body)) for _ in range(5))
    assert best < 0.001, f"{best * 1000:.2f} ms per validation"


def _timed(call: Any, repeat: int = 50) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - start) / repeat


def test_strict_reference_contract() -> None:
    strict = load_contract(NEW, strict_reference=True)
    assert strict is not load_contract(NEW) and strict.api_version == NEW
    assert strict.document != load_contract(NEW).document, "the reference's rules were not applied"
    assert load_contract(NEW, strict_reference=True) is strict


# -- foreign spec files ---------------------------------------------------------------------------

def test_load_spec_file_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="does not exist"):
        load_spec_file(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{nope", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid JSON"):
        load_spec_file(tmp_path / "bad.json")
    (tmp_path / "other.yaml").write_text("hello: world\n", encoding="utf-8")
    with pytest.raises(SpecError, match="not an OpenAPI document"):
        load_spec_file(tmp_path / "other.yaml")


def test_load_spec_file_reads_our_own_bundle() -> None:
    from conformance.spec.paths import bundled_path

    ours = load_spec_file(bundled_path(NEW), corrections=False)
    assert len(ours.operations) == len(load_contract(NEW).operations)


@pytest.mark.parametrize("version", API_VERSIONS)
def test_load_spec_file_reads_the_official_spec(version: str) -> None:
    path = SHARED / "reference-specs" / version / "inference.json"
    if not path.exists():
        pytest.skip(f"the official spec files are not available ({SHARED} is absent)")
    official = load_spec_file(path)
    assert len(official.operations) == 42
    op = official.operation("ChatCompletions_Create")
    assert official.validate_request(op, query={"api-version": version},
                                     body={"messages": [{"role": "user", "content": "hi"}]}) == []
    [finding] = official.validate_request(op, query={"api-version": version},
                                          body={"messages": [{"role": "user", "content": "hi"}], "temperature": 9})
    assert finding.where == "$.temperature"


# -- the Rust fast path agrees with jsonschema ------------------------------------------------------

def _corpus(contract: Contract) -> list[tuple[str, Any]]:
    """(schema pointer, instance) pairs: good bodies and bodies broken one field at a time."""
    from conformance.spec.pointers import pointer

    bodies = [("ChatCompletions_Create", chat_answer()), ("ChatCompletions_Create", content_filter_400())]
    pairs: list[tuple[str, Any]] = []
    for op_id, body in bodies:
        op = contract.operation(op_id)
        status = "400" if "error" in body else "200"
        ptr = op.location + pointer("responses", status)
        raw = op.definition["responses"][status]
        if "$ref" in raw:
            ptr = raw["$ref"][1:]
        ptr += pointer("content", "application/json", "schema")
        pairs.append((ptr, body))
        for key in body:
            for bad in (None, "text", 1.5, [], {"x": 1}):
                pairs.append((ptr, {**body, key: bad}))
    for name in ("contentFilterResults", "error", "completionUsage", "createChatCompletionStreamResponse"):
        ptr = pointer("components", "schemas", name)
        for value in ({}, {"hate": {"filtered": True}}, {"message": 1}, {"prompt_tokens": -1}, [], "x", None, 1.0):
            pairs.append((ptr, value))
    return pairs


def test_fast_path_and_jsonschema_agree(contract: Contract) -> None:
    from conformance.spec.schemacheck import HAVE_RUST, SchemaChecker

    if not HAVE_RUST:
        pytest.skip("jsonschema_rs is not installed: only the jsonschema path runs")
    fast = SchemaChecker(contract.document, "urn:test:fast")
    slow = SchemaChecker(contract.document, "urn:test:slow", fast=False)
    corpus = _corpus(contract)
    assert len(corpus) > 50
    bad = 0
    for ptr, instance in corpus:
        expected = slow.check(ptr, instance, rule="r", label="x")
        assert fast.check(ptr, instance, rule="r", label="x") == expected, (ptr, instance)
        bad += bool(errors(expected))
    assert bad > 30  # the corpus really exercises invalid instances


# -- Schemathesis and the validator read the contract the same way --------------------------------

@pytest.mark.parametrize("version", API_VERSIONS)
def test_schemathesis_positive_cases_pass_request_validation(version: str) -> None:
    import warnings

    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.core import NotSet

    contract = load_contract(version)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = schemathesis.openapi.from_dict(copy.deepcopy(contract.document))
    rejected: list[str] = []

    def cases_of(op: Operation) -> None:
        @settings(max_examples=4, suppress_health_check=list(HealthCheck), deadline=None, database=None)
        @given(schema.find_operation_by_id(op.operation_id).as_strategy())
        def check(case: Any) -> None:
            body = None if isinstance(case.body, NotSet) else case.body  # an optional body left out
            findings = errors(contract.validate_request(op, query=dict(case.query or {}), body=body,
                                                        content_type=case.media_type))
            rejected.extend(f"{op.operation_id}: {f}" for f in findings)

        check()

    for op in contract.operations:
        cases_of(op)
    assert not rejected, "\n".join(rejected[:5])


def test_closed_objects_name_the_unexpected_field() -> None:
    document = {"openapi": "3.1.0", "info": {"title": "t", "version": "v"}, "paths": {}, "components": {
        "schemas": {"closed": {"type": "object", "properties": {"a": {"type": "integer"}},
                               "additionalProperties": False}}}}
    contract = Contract(document, "v")
    [one] = contract.validate_schema("closed", {"a": 1, "b": 2})
    assert one.where == "$.b" and "unexpected field b" in one.message
    [two] = contract.validate_schema("closed", {"b": 2, "c": 3})
    assert two.where == "$" and "b, c" in two.message
