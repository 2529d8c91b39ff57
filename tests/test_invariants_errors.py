"""Error envelopes, 401/404, content-filter errors and annotations, on the bodies SERVICE-FACTS records."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from conformance.findings import Finding, errors
from conformance.invariants import (
    check_chat_annotations,
    check_content_filter_error,
    check_content_filter_results,
    check_error_envelope,
    check_not_found,
    check_unauthorized,
)

UNAUTHORIZED = {"error": {"code": "401", "message": "Access denied due to invalid subscription key or wrong API "
                          "endpoint. Make sure to provide a valid key for an active subscription and use a correct "
                          "regional API endpoint for your resource."}}
ROUTE_NOT_FOUND = {"error": {"code": "404", "message": "Resource not found"}}
ID_NOT_FOUND = {"error": {"message": "No thread found with id 'thread_x'.", "type": "invalid_request_error",
                          "param": None, "code": None}}
SAFE = {"filtered": False, "severity": "safe"}
PROMPT_BLOCKED: dict[str, Any] = {"error": {
    "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
    "type": None, "param": "prompt", "code": "content_filter", "status": 400,
    "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {
        "hate": SAFE, "jailbreak": {"filtered": True, "detected": True}, "self_harm": SAFE,
        "sexual": SAFE, "violence": {"filtered": True, "severity": "high"}}}}}


def rules_of(findings: list[Finding]) -> set[str]:
    return {f.rule for f in errors(findings)}


# envelopes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "body"), [(401, UNAUTHORIZED), (404, ROUTE_NOT_FOUND), (400, PROMPT_BLOCKED),
                                              (429, {"error": {"code": "429", "message": "Try again in 2 seconds."}})])
def test_recorded_envelopes(status: int, body: Any) -> None:
    assert check_error_envelope(status, body) == []


def test_openai_style_null_code_is_info_unless_strict() -> None:
    lenient = check_error_envelope(404, ID_NOT_FOUND)
    assert errors(lenient) == [] and [f.severity for f in lenient] == ["info"]
    assert rules_of(check_error_envelope(404, ID_NOT_FOUND, strict=True)) == {"errors.envelope"}


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, ROUTE_NOT_FOUND),
        (404, {"message": "Resource not found"}),
        (404, "Resource not found"),
        (404, {"error": "Resource not found"}),
        (404, {"error": {"code": "404"}}),
        (404, {"error": {"code": "404", "message": ""}}),
        (404, {"error": {"code": 404, "message": "Resource not found"}}),
        (404, {"error": {"message": "Resource not found"}}),
    ],
)
def test_bad_envelopes(status: int, body: Any) -> None:
    assert rules_of(check_error_envelope(status, body)) == {"errors.envelope"}


def test_unauthorized() -> None:
    assert check_unauthorized(401, UNAUTHORIZED) == []
    assert rules_of(check_unauthorized(403, UNAUTHORIZED)) == {"errors.unauthorized"}
    assert rules_of(check_unauthorized(200, {"object": "list"})) == {"errors.unauthorized", "errors.envelope"}


def test_not_found() -> None:
    assert check_not_found(404, ROUTE_NOT_FOUND) == []
    assert errors(check_not_found(404, ID_NOT_FOUND)) == []
    assert rules_of(check_not_found(400, ROUTE_NOT_FOUND)) == {"errors.not_found"}
    assert "errors.envelope" in rules_of(check_not_found(404, {}))


def test_message_names_the_value() -> None:
    [finding] = check_error_envelope(404, {"error": {"code": 404, "message": "x"}})
    assert finding.message == "error.code is 404, expected a non-empty string"


# content-filter errors ---------------------------------------------------------------------------

def variant(change: Any) -> dict[str, Any]:
    body = copy.deepcopy(PROMPT_BLOCKED)
    change(body["error"])
    return body


def test_recorded_prompt_block() -> None:
    assert check_content_filter_error(400, PROMPT_BLOCKED) == []


@pytest.mark.parametrize(
    "change",
    [
        lambda e: e["innererror"]["content_filter_result"].pop("jailbreak"),  # older answers
        lambda e: e.update(message=e["message"].replace("Azure OpenAI's", "Microsoft's")),  # newer wording
    ],
)
def test_observed_variants_are_legal(change: Any) -> None:
    assert check_content_filter_error(400, variant(change)) == []


def test_no_innererror_is_info_unless_strict() -> None:
    body = variant(lambda e: e.pop("innererror"))
    assert errors(check_content_filter_error(400, body)) == []
    assert rules_of(check_content_filter_error(400, body, strict=True)) == {"errors.content_filter"}


def test_reference_spelling_is_accepted_with_info() -> None:
    def to_reference(e: dict[str, Any]) -> None:
        inner = e.pop("innererror")
        inner["content_filter_results"] = inner.pop("content_filter_result")
        e["inner_error"] = inner

    findings = check_content_filter_error(400, variant(to_reference))
    assert errors(findings) == [] and any(f.severity == "info" for f in findings)


@pytest.mark.parametrize(
    ("status", "change"),
    [
        (200, lambda e: None),
        (400, lambda e: e.update(code="invalid_request_error")),
        (400, lambda e: e["innererror"].update(code="Other")),
        (400, lambda e: e.update(innererror="blocked")),
        (400, lambda e: e["innererror"].update(content_filter_result={"hate": SAFE, "violence": SAFE})),
        (400, lambda e: e["innererror"]["content_filter_result"].update(hate={"filtered": False})),
        (400, lambda e: e["innererror"]["content_filter_result"].update(hate={"filtered": "no", "severity": "safe"})),
        (400, lambda e: e["innererror"]["content_filter_result"].update(jailbreak={"filtered": True})),
        (400, lambda e: e["innererror"]["content_filter_result"].update(sexual={"filtered": False,
                                                                                "severity": "extreme"})),
    ],
)
def test_bad_content_filter_errors(status: int, change: Any) -> None:
    assert "errors.content_filter" in rules_of(check_content_filter_error(status, variant(change)))


def test_result_categories() -> None:
    results = {"hate": SAFE, "profanity": {"filtered": False, "detected": False},
               "protected_material_code": {"filtered": False, "detected": True, "citation": {"URL": "x"}},
               "custom_blocklists": {"filtered": False, "details": []}, "new_category": {"filtered": False}}
    findings = check_content_filter_results(results)
    assert errors(findings) == [] and [f.severity for f in findings] == ["info"]
    assert rules_of(check_content_filter_results([])) == {"content_filter.annotations"}


# annotations on allowed answers ------------------------------------------------------------------

CATEGORIES = {"hate": SAFE, "self_harm": SAFE, "sexual": SAFE, "violence": SAFE}


def completion(finish: str = "stop", results: Any = CATEGORIES) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1727000000, "model": "gpt-4o",
            "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {
                **CATEGORIES, "jailbreak": {"filtered": False, "detected": False}}}],
            "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": "Hi"},
                         "content_filter_results": results}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10}}


def test_allowed_answer_annotations() -> None:
    assert check_chat_annotations(completion()) == []
    filtered = {**CATEGORIES, "violence": {"filtered": True, "severity": "medium"}}
    assert check_chat_annotations(completion("content_filter", filtered)) == []


@pytest.mark.parametrize(
    "body",
    [
        "hi",
        {k: v for k, v in completion().items() if k != "prompt_filter_results"},
        {**completion(), "prompt_filter_results": []},
        {**completion(), "prompt_filter_results": [{"content_filter_results": CATEGORIES}]},
        {**completion(), "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": None}]},
        completion(results=None),
        completion(results={"hate": {"filtered": False, "severity": "none"}}),
        completion("content_filter"),  # stopped by the filter, yet no category filtered
    ],
)
def test_bad_annotations(body: Any) -> None:
    assert rules_of(check_chat_annotations(body)) == {"content_filter.annotations"}
