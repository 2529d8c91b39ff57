"""Errors and protocol: credentials, api-version, unknown ids, malformed and invalid bodies.

Every answer is judged by `conformance.invariants.errors` and, where the contract declares the
status, by the contract too. Invalid creates a lenient target serves are registered for deletion.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.client import ConformanceClient
from conformance.config import TargetSettings
from conformance.findings import Finding, require
from conformance.harness.tracker import Tracker
from conformance.invariants.errors import (
    check_api_version_rejected,
    check_bad_request,
    check_not_found,
    check_not_served,
    check_unauthorized,
)
from conformance.spec import Contract
from conformance.suite.conftest import Shared
from conformance.suite.resources import body_of, file_ids, unknown_id

pytestmark = [pytest.mark.errors]

WRONG_KEY = "0" * 32
UNSUPPORTED_VERSION = "2019-01-01-preview"

# (operation, method, path, body): one probe per kind of entry point, cheap on any target.
PROBES: list[tuple[str, str, str, Any]] = [
    ("List_Assistants", "GET", "/assistants", None),
    ("Create_Thread", "POST", "/threads", {}),
    ("List_Vector_Stores", "GET", "/vector_stores", None),
]

# smoke profile: the first probe only (auth and api-version errors, one request each)
PROBE_PARAMS = [pytest.param(*probe, id=probe[0], marks=[pytest.mark.operation(probe[0]),
                                                         *([pytest.mark.smoke] if index == 0 else [])])
                for index, probe in enumerate(PROBES)]


def _contract_findings(contract: Contract, operation_id: str, response: httpx.Response) -> list[Finding]:
    op = contract.operation(operation_id)
    return contract.validate_response(op, response.status_code, dict(response.headers), body_of(response))


def _served_create(tracker: Tracker, kind: str | None, base: str, response: httpx.Response) -> None:
    """A target that wrongly serves an invalid create made an object: delete it at teardown."""
    if kind is None or response.status_code != 200:
        return
    body = body_of(response)
    if isinstance(body, dict) and isinstance(body.get("id"), str):
        tracker.register(kind, body["id"], f"{base}/{body['id']}")


# ---------------------------------------------------------------- credentials

@pytest.mark.parametrize(("operation_id", "method", "path", "body"), PROBE_PARAMS)
def test_request_without_key_unauthorized(client: ConformanceClient, contract: Contract, tracker: Tracker,
                                          operation_id: str, method: str, path: str, body: Any) -> None:
    response = client.request(method, path, json=body, auth=False)
    _served_create(tracker, "thread" if operation_id == "Create_Thread" else None, path, response)
    require([*check_not_served(response.status_code, what="a request without credentials"),
             *check_unauthorized(response.status_code, body_of(response))], f"{method} {path} without a key")


@pytest.mark.parametrize(("operation_id", "method", "path", "body"), PROBE_PARAMS)
def test_request_with_wrong_key_unauthorized(client: ConformanceClient, contract: Contract, tracker: Tracker,
                                             operation_id: str, method: str, path: str, body: Any) -> None:
    response = client.request(method, path, json=body, auth=False, headers={"api-key": WRONG_KEY})
    _served_create(tracker, "thread" if operation_id == "Create_Thread" else None, path, response)
    require([*check_not_served(response.status_code, what="a request with a wrong key"),
             *check_unauthorized(response.status_code, body_of(response))], f"{method} {path} with a wrong key")


# ---------------------------------------------------------------- api-version

@pytest.mark.parametrize(("operation_id", "method", "path", "body"), PROBE_PARAMS)
def test_request_without_api_version_rejected(client: ConformanceClient, tracker: Tracker, operation_id: str,
                                              method: str, path: str, body: Any) -> None:
    response = client.request(method, path, json=body, api_version=None)
    _served_create(tracker, "thread" if operation_id == "Create_Thread" else None, path, response)
    require(check_api_version_rejected(response.status_code, body_of(response), what="no api-version"),
            f"{method} {path} without api-version")


@pytest.mark.parametrize(("operation_id", "method", "path", "body"), PROBE_PARAMS)
def test_request_with_unsupported_api_version_rejected(client: ConformanceClient, tracker: Tracker,
                                                       operation_id: str, method: str, path: str,
                                                       body: Any) -> None:
    response = client.request(method, path, json=body, api_version=UNSUPPORTED_VERSION)
    _served_create(tracker, "thread" if operation_id == "Create_Thread" else None, path, response)
    require(check_api_version_rejected(response.status_code, body_of(response),
                                       what=f"api-version={UNSUPPORTED_VERSION}"),
            f"{method} {path} with api-version {UNSUPPORTED_VERSION}")


def _parents(template: str, shared: Shared) -> dict[str, str]:
    """Real parents for {thread} / {store}: one of each per module and api-version (issue 8: cost).

    Only unknown children and invalid bodies are sent to them, which a conforming target refuses."""
    names: dict[str, str] = {}
    if "{thread}" in template:
        names["thread"] = shared.once("thread", lambda tracker: str(tracker.thread()["id"]))
    if "{store}" in template:
        names["store"] = shared.once("store", lambda tracker: str(tracker.vector_store()["id"]))
    return names


# ---------------------------------------------------------------- unknown ids and routes

# (operation, method, path template, body). {thread} and {store} are real parents made by the test;
# {x} is an unknown id of the right shape.
UNKNOWN: list[tuple[str, str, str, Any]] = [
    ("Get_Assistant", "GET", "/assistants/{asst}", None),
    ("Modify_Assistant", "POST", "/assistants/{asst}", {"name": "renamed"}),
    ("Delete_Assistant", "DELETE", "/assistants/{asst}", None),
    ("Get_Thread", "GET", "/threads/{thread_x}", None),
    ("Modify_Thread", "POST", "/threads/{thread_x}", {"metadata": {"k": "v"}}),
    ("Delete_Thread", "DELETE", "/threads/{thread_x}", None),
    ("List_Messages", "GET", "/threads/{thread_x}/messages", None),
    ("Create_Message", "POST", "/threads/{thread_x}/messages", {"role": "user", "content": "hi"}),
    ("Get_Message", "GET", "/threads/{thread}/messages/{msg}", None),
    ("Modify_Message", "POST", "/threads/{thread}/messages/{msg}", {"metadata": {"k": "v"}}),
    ("List_Runs", "GET", "/threads/{thread_x}/runs", None),
    ("Get_Run", "GET", "/threads/{thread}/runs/{run}", None),
    ("Modify_Run", "POST", "/threads/{thread}/runs/{run}", {"metadata": {"k": "v"}}),
    ("Cancel_Run", "POST", "/threads/{thread}/runs/{run}/cancel", None),
    ("Submit_Tool_Outputs_To_Run", "POST", "/threads/{thread}/runs/{run}/submit_tool_outputs",
     {"tool_outputs": [{"tool_call_id": "call_x", "output": "1"}]}),
    ("List_Run_Steps", "GET", "/threads/{thread}/runs/{run}/steps", None),
    ("Get_Run_Step", "GET", "/threads/{thread}/runs/{run}/steps/{step}", None),
    ("Get_Vector_Store", "GET", "/vector_stores/{vs_x}", None),
    ("Modify_Vector_Store", "POST", "/vector_stores/{vs_x}", {"name": "renamed"}),
    ("Delete_Vector_Store", "DELETE", "/vector_stores/{vs_x}", None),
    ("List_Vector_Store_Files", "GET", "/vector_stores/{vs_x}/files", None),
    ("Get_Vector_Store_File", "GET", "/vector_stores/{store}/files/{file}", None),
    ("Delete_Vector_Store_File", "DELETE", "/vector_stores/{store}/files/{file}", None),
    ("Get_Vector_Store_File_Batch", "GET", "/vector_stores/{store}/file_batches/{batch}", None),
    ("Cancel_Vector_Store_File_Batch", "POST", "/vector_stores/{store}/file_batches/{batch}/cancel", None),
    ("List_Vector_Store_File_Batch_Files", "GET", "/vector_stores/{store}/file_batches/{batch}/files", None),
]


@pytest.mark.parametrize(("operation_id", "method", "template", "body"), [
    pytest.param(*case, id=case[0], marks=pytest.mark.operation(case[0])) for case in UNKNOWN])
def test_unknown_id_not_found(client: ConformanceClient, contract: Contract, shared: Shared,
                              operation_id: str, method: str, template: str, body: Any) -> None:
    names = {
        "asst": unknown_id("asst"), "thread_x": unknown_id("thread"), "msg": unknown_id("msg"),
        "run": unknown_id("run"), "step": unknown_id("step"), "vs_x": unknown_id("vs"),
        "file": unknown_id("file"), "batch": unknown_id("vsfb"),
    }
    names.update(_parents(template, shared))
    path = template.format(**names)
    response = client.request(method, path, json=body)
    where = f"{method} {template}"
    require([*check_not_found(response.status_code, body_of(response), where=where),
             *_contract_findings(contract, operation_id, response)], f"{operation_id} with an unknown id")


def test_unknown_route_not_found(client: ConformanceClient) -> None:
    response = client.get("/no_such_collection")
    require(check_not_found(response.status_code, body_of(response), where="GET /no_such_collection"),
            "an unknown route")


# ---------------------------------------------------------------- malformed and invalid bodies

@pytest.mark.parametrize(("operation_id", "path", "kind"), [
    pytest.param(op, path, kind, id=op, marks=pytest.mark.operation(op)) for op, path, kind in (
        ("Create_Assistant", "/assistants", "assistant"),
        ("Create_Thread", "/threads", "thread"),
        ("Create_Vector_Store", "/vector_stores", "vector_store"),
    )])
def test_create_with_malformed_json_rejected(client: ConformanceClient, contract: Contract, tracker: Tracker,
                                             operation_id: str, path: str, kind: str) -> None:
    response = client.post(path, content=b'{"name": "unterminated', headers={"content-type": "application/json"})
    _served_create(tracker, kind, path, response)
    require([*check_bad_request(response.status_code, body_of(response), what="a malformed JSON body"),
             *_contract_findings(contract, operation_id, response)], f"{operation_id} with malformed JSON")


def _invalid_bodies(model: str, file_id: str) -> list[tuple[str, str, str, str | None, dict[str, Any]]]:
    """(case, operation, path, kind, body): each body breaks one rule of the request schema."""
    return [
        ("assistant without model", "Create_Assistant", "/assistants", "assistant", {"name": "no model"}),
        ("assistant name not a string", "Create_Assistant", "/assistants", "assistant", {"model": model, "name": 123}),
        ("assistant temperature out of range", "Create_Assistant", "/assistants", "assistant",
         {"model": model, "temperature": 3}),
        ("assistant unknown tool type", "Create_Assistant", "/assistants", "assistant",
         {"model": model, "tools": [{"type": "web_browser"}]}),
        ("thread metadata not an object", "Create_Thread", "/threads", "thread", {"metadata": "tagged"}),
        ("thread message without content", "Create_Thread", "/threads", "thread",
         {"messages": [{"role": "user"}]}),
        ("message without role", "Create_Message", "/threads/{thread}/messages", None, {"content": "hi"}),
        ("message with role system", "Create_Message", "/threads/{thread}/messages", None,
         {"role": "system", "content": "hi"}),
        ("message content a number", "Create_Message", "/threads/{thread}/messages", None,
         {"role": "user", "content": 5}),
        ("run without assistant_id", "Create_Run", "/threads/{thread}/runs", None, {}),
        ("vector store name not a string", "Create_Vector_Store", "/vector_stores", "vector_store", {"name": 7}),
        ("vector store expiry days 0", "Create_Vector_Store", "/vector_stores", "vector_store",
         {"expires_after": {"anchor": "last_active_at", "days": 0}}),
        ("vector store file without file_id", "Create_Vector_Store_File", "/vector_stores/{store}/files", None, {}),
        ("file batch with no files", "Create_Vector_Store_File_Batch", "/vector_stores/{store}/file_batches", None,
         {"file_ids": []}),
        ("file batch ids not a list", "Create_Vector_Store_File_Batch", "/vector_stores/{store}/file_batches",
         None, {"file_ids": file_id}),
    ]


INVALID_CASES = [pytest.param(case[0], id=case[0], marks=pytest.mark.operation(case[1]))
                 for case in _invalid_bodies("model", "file-x")]


@pytest.mark.parametrize("case", INVALID_CASES)
def test_create_with_invalid_body_rejected(client: ConformanceClient, contract: Contract, tracker: Tracker,
                                           shared: Shared, aoai_settings: TargetSettings, case: str) -> None:
    # one real file per module and api-version, only named in a batch the target must refuse
    needs_file = case == "file batch ids not a list"
    file_id = (shared.once("file", lambda owner: file_ids(client, owner, aoai_settings, 1)[0])
               if needs_file else "file-unused")
    _, operation_id, template, kind, body = next(c for c in _invalid_bodies(tracker.model, file_id) if c[0] == case)
    path = template.format(**_parents(template, shared))
    response = client.post(path, json=body)
    _served_create(tracker, kind, path, response)
    require([*check_bad_request(response.status_code, body_of(response), what=case),
             *_contract_findings(contract, operation_id, response)], f"{operation_id}: {case}")
