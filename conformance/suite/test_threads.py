"""Threads: create (empty, with messages, with no body), retrieve, modify, delete round trips."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client import ConformanceClient
from conformance.findings import require
from conformance.harness.tracker import Tracker
from conformance.invariants.objects import check_deleted, check_gone, check_modified, check_roundtrip
from conformance.invariants.pagination import check_page
from conformance.spec import Contract
from conformance.suite.conftest import Shared
from conformance.suite.resources import body_of, create, get_page, ids_of
from conformance.suite.support import expect, forget

pytestmark = [pytest.mark.crud]


def _new(client: ConformanceClient, contract: Contract, tracker: Tracker, **fields: Any) -> dict[str, Any]:
    body = {"metadata": tracker.metadata, **fields}
    return create(client, contract, tracker, "Create_Thread", "/threads", body, kind="thread")


def _with_metadata(client: ConformanceClient, contract: Contract, shared: Shared) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metadata sent, create answer) of one thread the create and retrieve tests share (issue 8: cost)."""
    def make(owner: Tracker) -> tuple[dict[str, Any], dict[str, Any]]:
        metadata = {**owner.metadata, "purpose": "crud"}
        return metadata, _new(client, contract, owner, metadata=metadata)

    return shared.once("thread with metadata", make)


@pytest.mark.operation("Create_Thread")
def test_thread_create_echoes_metadata(client: ConformanceClient, contract: Contract, shared: Shared) -> None:
    metadata, created = _with_metadata(client, contract, shared)
    require(check_roundtrip({"object": "thread", "metadata": metadata}, created), "Create_Thread echoes the request")


@pytest.mark.operation("Create_Thread")
def test_thread_create_without_body(client: ConformanceClient, contract: Contract, tracker: Tracker) -> None:
    # The service accepts an empty body with no Content-Type (SERVICE-FACTS, Wire).
    created = create(client, contract, tracker, "Create_Thread", "/threads", None, kind="thread")
    require(check_roundtrip({"object": "thread"}, created), "Create_Thread without a body")


@pytest.mark.operation("Create_Thread")
def test_thread_create_with_messages(client: ConformanceClient, contract: Contract, tracker: Tracker) -> None:
    texts = ["first question", "second question"]
    thread = _new(client, contract, tracker, messages=[{"role": "user", "content": text} for text in texts])
    page = get_page(client, contract, "List_Messages", f"/threads/{thread['id']}/messages", order="asc")
    require(check_page(page, order="asc"), "messages of a thread created with messages")
    expected = [{"thread_id": thread["id"], "role": "user", "content": [{"type": "text", "text": {"value": text}}]}
                for text in texts]
    assert len(ids_of(page)) == len(texts), f"the thread holds {len(ids_of(page))} messages, created with {len(texts)}"
    for wanted, message in zip(expected, page["data"], strict=True):
        require(check_roundtrip(wanted, message), f"message {message.get('id')} of the new thread")


@pytest.mark.operation("Get_Thread")
def test_thread_retrieve_roundtrip(client: ConformanceClient, contract: Contract, shared: Shared) -> None:
    _, created = _with_metadata(client, contract, shared)
    read = expect(contract, "Get_Thread", client.get(f"/threads/{created['id']}"))
    require(check_roundtrip(created, read), "Get_Thread reads back the created thread")


@pytest.mark.operation("Modify_Thread")
def test_thread_modify_applies_metadata(client: ConformanceClient, contract: Contract, tracker: Tracker) -> None:
    created = _new(client, contract, tracker)
    path = f"/threads/{created['id']}"
    changes = {"metadata": {**tracker.metadata, "stage": "modified"}}
    modified = expect(contract, "Modify_Thread", client.post(path, json=changes))
    require(check_modified(created, modified, changes), "Modify_Thread applies the changes")
    read = expect(contract, "Get_Thread", client.get(path))
    require(check_roundtrip(modified, read, where="read after modify"), "the modification persists")


@pytest.mark.operation("Delete_Thread")
def test_thread_delete_envelope_then_gone(client: ConformanceClient, contract: Contract, tracker: Tracker) -> None:
    created = _new(client, contract, tracker, messages=[{"role": "user", "content": "soon gone"}])
    path = f"/threads/{created['id']}"
    response = client.delete(path)
    if response.status_code == 200:
        forget(tracker, path)  # deleted here: teardown need not delete it again
    deleted = expect(contract, "Delete_Thread", response)
    require(check_deleted(deleted, object_name="thread", object_id=created["id"]), "Delete_Thread")
    for what, response in (("GET of the deleted thread", client.get(path)),
                           ("listing the deleted thread's messages", client.get(f"{path}/messages"))):
        require(check_gone(response.status_code, body_of(response), what=what), "after delete")
