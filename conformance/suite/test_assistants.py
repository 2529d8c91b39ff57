"""Assistants: create, retrieve, modify, delete round trips, every answer checked by the contract."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client import ConformanceClient
from conformance.findings import require
from conformance.harness.tracker import Tracker
from conformance.invariants.objects import check_deleted, check_gone, check_modified, check_roundtrip
from conformance.spec import Contract
from conformance.suite.conftest import Shared
from conformance.suite.resources import body_of, create
from conformance.suite.support import expect, forget

pytestmark = [pytest.mark.crud]

FUNCTION_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Find an order by its number.",
        "parameters": {"type": "object", "properties": {"number": {"type": "string"}}, "required": ["number"]},
    },
}


def _new(client: ConformanceClient, contract: Contract, tracker: Tracker, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    body = {"model": tracker.model, "name": tracker.name("assistant"), "metadata": tracker.metadata, **fields}
    return body, create(client, contract, tracker, "Create_Assistant", "/assistants", body, kind="assistant")


def _described(client: ConformanceClient, contract: Contract, shared: Shared) -> tuple[dict[str, Any], dict[str, Any]]:
    """(body, create answer) of one assistant the create and retrieve tests share; both only read it
    (issue 8: cost)."""
    return shared.once("described assistant", lambda owner: _new(
        client, contract, owner, instructions="Answer briefly.", description="conformance",
        tools=[FUNCTION_TOOL, {"type": "code_interpreter"}], temperature=0.5, top_p=0.9))


@pytest.mark.operation("Create_Assistant")
def test_assistant_create_echoes_request(client: ConformanceClient, contract: Contract, shared: Shared) -> None:
    body, created = _described(client, contract, shared)
    require(check_roundtrip(body, created, where="create answer"), "Create_Assistant echoes the request")


@pytest.mark.operation("Get_Assistant")
def test_assistant_retrieve_roundtrip(client: ConformanceClient, contract: Contract, shared: Shared) -> None:
    _, created = _described(client, contract, shared)
    read = expect(contract, "Get_Assistant", client.get(f"/assistants/{created['id']}"))
    require(check_roundtrip(created, read), "Get_Assistant reads back the created assistant")


@pytest.mark.operation("Modify_Assistant")
def test_assistant_modify_applies_changes(client: ConformanceClient, contract: Contract, tracker: Tracker) -> None:
    _, created = _new(client, contract, tracker, instructions="Answer briefly.")
    changes = {
        "name": tracker.name("renamed"),
        "instructions": "Answer at length.",
        "tools": [FUNCTION_TOOL],
        "metadata": {**tracker.metadata, "stage": "modified"},
    }
    path = f"/assistants/{created['id']}"
    modified = expect(contract, "Modify_Assistant", client.post(path, json=changes))
    require(check_modified(created, modified, changes, where="modify answer"), "Modify_Assistant applies the changes")
    read = expect(contract, "Get_Assistant", client.get(path))
    require(check_roundtrip(modified, read, where="read after modify"), "the modification persists")


@pytest.mark.smoke
@pytest.mark.operation("Delete_Assistant")
def test_assistant_delete_envelope_then_gone(client: ConformanceClient, contract: Contract, tracker: Tracker) -> None:
    _, created = _new(client, contract, tracker)
    path = f"/assistants/{created['id']}"
    response = client.delete(path)
    if response.status_code == 200:
        forget(tracker, path)  # deleted here: teardown need not delete it again
    deleted = expect(contract, "Delete_Assistant", response)
    require(check_deleted(deleted, object_name="assistant", object_id=created["id"]), "Delete_Assistant")
    after = client.get(path)
    require(check_gone(after.status_code, body_of(after), what="GET of the deleted assistant"), "after delete")
