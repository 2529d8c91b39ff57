"""CRUD outcomes: delete envelopes, applied modifications, assistants content-filter outcomes."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.findings import Finding, errors
from conformance.invariants import check_assistant_content_filter_outcome, check_deleted, check_modified
from conformance.invariants.objects import matches


def rules_of(findings: list[Finding]) -> set[str]:
    return {f.rule for f in errors(findings)}


@pytest.mark.parametrize(("name", "object_id"), [("assistant", "asst_1"), ("thread", "thread_1"),
                                                 ("thread.message", "msg_1")])
def test_recorded_delete_envelopes(name: str, object_id: str) -> None:
    body = {"id": object_id, "object": f"{name}.deleted", "deleted": True}
    assert check_deleted(body, object_name=name, object_id=object_id) == []


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"id": "asst_2", "object": "assistant.deleted", "deleted": True},
        {"id": "asst_1", "object": "assistant", "deleted": True},
        {"id": "asst_1", "object": "assistant.deleted", "deleted": False},
        {"id": "asst_1", "object": "assistant.deleted", "deleted": 1},
        {"id": "asst_1", "object": "assistant.deleted"},
    ],
)
def test_bad_delete_envelopes(body: Any) -> None:
    assert rules_of(check_deleted(body, object_name="assistant", object_id="asst_1")) == {"crud.delete_envelope"}


ASSISTANT = {"id": "asst_1", "object": "assistant", "created_at": 1727000000, "name": "a", "model": "gpt-4o",
             "instructions": "Be brief.", "tools": [], "metadata": {}, "temperature": 1.0, "top_p": 1.0}


def test_modify_applied() -> None:
    changes = {"name": "b", "metadata": {"k": "v"}, "tools": [{"type": "file_search"}], "temperature": 0.5}
    after = {**ASSISTANT, **changes,
             "tools": [{"type": "file_search", "file_search": {"ranking_options": {}}}]}  # service-filled defaults
    assert check_modified(ASSISTANT, after, changes) == []


@pytest.mark.parametrize(
    ("after", "ignore"),
    [
        ({**ASSISTANT}, ()),  # name not applied
        ({**ASSISTANT, "name": "b", "instructions": ""}, ()),  # untouched field changed
        ({**ASSISTANT, "name": "b", "created_at": 1}, ("instructions",)),
        ({k: v for k, v in ASSISTANT.items() if k != "model"} | {"name": "b"}, ()),
    ],
)
def test_modify_not_applied(after: dict[str, Any], ignore: tuple[str, ...]) -> None:
    assert rules_of(check_modified(ASSISTANT, after, {"name": "b"}, ignore=ignore)) == {"crud.modify_applied"}


def test_modify_ignores_volatile_fields() -> None:
    before = {"id": "run_1", "status": "in_progress", "metadata": {}}
    after = {"id": "run_1", "status": "completed", "metadata": {"k": "v"}}
    assert check_modified(before, after, {"metadata": {"k": "v"}}, ignore={"status"}) == []


@pytest.mark.parametrize(
    ("actual", "expected", "result"),
    [({"a": 1, "b": 2}, {"a": 1}, True), ({"a": 1}, {"a": 1, "b": 2}, False), ([1, 2], [1], False),
     (1.0, 1, True), (1, True, False), (True, True, True), ({"a": [{"x": 1, "y": 2}]}, {"a": [{"x": 1}]}, True)],
)
def test_matches_is_partial_on_objects_only(actual: Any, expected: Any, result: bool) -> None:
    assert matches(actual, expected) is result


FILTER_ERROR = {"error": {"code": "content_filter", "message": "The response was filtered.",
                          "innererror": {"code": "ResponsibleAIPolicyViolation",
                                         "content_filter_result": {"hate": {"filtered": True, "severity": "high"}}}}}


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, {"object": "thread.run", "status": "incomplete", "incomplete_details": {"reason": "content_filter"}}),
        (200, {"object": "thread.run", "status": "failed", "last_error": {"code": "content_filter",
                                                                           "message": "filtered"}}),
        (400, FILTER_ERROR),
    ],
)
def test_three_documented_manifestations(status: int, body: Any) -> None:
    assert check_assistant_content_filter_outcome(status, body) == []


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, {"object": "thread.run", "status": "completed", "incomplete_details": None, "last_error": None}),
        (200, {"object": "thread.run", "status": "incomplete", "incomplete_details": {"reason": "max_prompt_tokens"}}),
        (200, {"object": "thread.run", "status": "failed", "last_error": {"code": "server_error", "message": "x"}}),
        (200, {"object": "thread.message", "status": "incomplete"}),
        (500, {"error": {"code": "500", "message": "boom"}}),
        (400, {"error": {"code": "invalid_request_error", "message": "bad"}}),
    ],
)
def test_other_outcomes_are_not_content_filtering(status: int, body: Any) -> None:
    assert "errors.content_filter" in rules_of(check_assistant_content_filter_outcome(status, body))
