"""Messages: create, retrieve, modify round trips inside a fresh thread (a clean namespace)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client import ConformanceClient
from conformance.findings import require
from conformance.invariants.objects import check_modified, check_roundtrip
from conformance.spec import Contract
from conformance.suite.conftest import Shared
from conformance.suite.resources import create
from conformance.suite.support import expect

pytestmark = [pytest.mark.crud]

# GET list/retrieve omit these although the reference marks them required (SERVICE-FACTS, Objects).
OMITTED_ON_READ = frozenset({"status", "incomplete_details", "incomplete_at", "completed_at"})


def _message(client: ConformanceClient, contract: Contract, thread_id: str, **fields: Any) -> dict[str, Any]:
    body = {"role": "user", "content": "What is the capital of France?", **fields}
    return create(client, contract, None, "Create_Message", f"/threads/{thread_id}/messages", body)


def _thread(shared: Shared) -> dict[str, Any]:
    """One thread per module and api-version: each test adds and reads its own message (issue 8: cost)."""
    return shared.once("thread", lambda owner: owner.thread())


@pytest.mark.operation("Create_Message")
def test_message_create_echoes_request(client: ConformanceClient, contract: Contract, shared: Shared) -> None:
    thread = _thread(shared)
    metadata = {"topic": "geography"}
    created = _message(client, contract, thread["id"], content="Name three rivers.", metadata=metadata)
    expected = {
        "object": "thread.message",
        "thread_id": thread["id"],
        "role": "user",
        "content": [{"type": "text", "text": {"value": "Name three rivers.", "annotations": []}}],
        "assistant_id": None,
        "run_id": None,
        "metadata": metadata,
    }
    require(check_roundtrip(expected, created), "Create_Message echoes the request")


@pytest.mark.smoke
@pytest.mark.operation("Get_Message")
def test_message_retrieve_roundtrip(client: ConformanceClient, contract: Contract, shared: Shared) -> None:
    thread = _thread(shared)
    created = _message(client, contract, thread["id"])
    read = expect(contract, "Get_Message", client.get(f"/threads/{thread['id']}/messages/{created['id']}"))
    require(check_roundtrip(created, read, omissible=OMITTED_ON_READ), "Get_Message reads back the created message")


@pytest.mark.operation("Modify_Message")
def test_message_modify_applies_metadata(client: ConformanceClient, contract: Contract, shared: Shared) -> None:
    thread = _thread(shared)
    created = _message(client, contract, thread["id"], metadata={"stage": "new"})
    path = f"/threads/{thread['id']}/messages/{created['id']}"
    changes = {"metadata": {"stage": "modified", "reviewer": "suite"}}
    modified = expect(contract, "Modify_Message", client.post(path, json=changes))
    require(check_modified(created, modified, changes, ignore=OMITTED_ON_READ), "Modify_Message applies the changes")
    read = expect(contract, "Get_Message", client.get(path))
    require(check_roundtrip(modified, read, omissible=OMITTED_ON_READ), "the modification persists")
