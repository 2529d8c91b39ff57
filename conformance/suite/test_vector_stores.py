"""Vector stores: create, retrieve, modify, delete round trips, every answer checked by the contract."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from conformance.client import ConformanceClient
from conformance.config import TargetSettings
from conformance.findings import require
from conformance.harness.tracker import Tracker
from conformance.invariants.objects import check_deleted, check_gone, check_modified, check_roundtrip
from conformance.invariants.pagination import check_walk
from conformance.spec import Contract
from conformance.suite.conftest import Shared
from conformance.suite.resources import body_of, create, file_ids, walk
from conformance.suite.support import expect, forget

pytestmark = [pytest.mark.crud]

# What a store is, as opposed to how busy it is: status, counts, bytes and activity times move on
# their own as files are processed and the store is used.
STABLE = ("id", "object", "created_at", "name", "metadata", "expires_after")
MOVING = frozenset({"status", "usage_bytes", "file_counts", "last_active_at", "expires_at"})


def _stable(store: Mapping[str, Any]) -> dict[str, Any]:
    return {key: store[key] for key in STABLE if key in store}


def _new(client: ConformanceClient, contract: Contract, tracker: Tracker, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    body = {"name": tracker.name("store"), "metadata": tracker.metadata, **fields}
    return body, create(client, contract, tracker, "Create_Vector_Store", "/vector_stores", body, kind="vector_store")


def _expiring(client: ConformanceClient, contract: Contract, shared: Shared) -> tuple[dict[str, Any], dict[str, Any]]:
    """(body, create answer) of one store the create and retrieve tests share (issue 8: cost)."""
    return shared.once("expiring store", lambda owner: _new(
        client, contract, owner, expires_after={"anchor": "last_active_at", "days": 2}))


@pytest.mark.operation("Create_Vector_Store")
def test_vector_store_create_echoes_request(client: ConformanceClient, contract: Contract, shared: Shared) -> None:
    body, created = _expiring(client, contract, shared)
    require(check_roundtrip({"object": "vector_store", **body}, created), "Create_Vector_Store echoes the request")


@pytest.mark.operation("Create_Vector_Store")
def test_vector_store_create_with_files(client: ConformanceClient, contract: Contract, tracker: Tracker,
                                        aoai_settings: TargetSettings) -> None:
    files = file_ids(client, tracker, aoai_settings, 2)
    _, created = _new(client, contract, tracker, file_ids=files)
    pages = walk(client, contract, "List_Vector_Store_Files", f"/vector_stores/{created['id']}/files",
                 limit=100, order="asc")
    require(check_walk(pages, expected_ids=files, order="asc", limit=100, exact=True),
            "a store created with file_ids holds exactly those files")


@pytest.mark.operation("Get_Vector_Store")
def test_vector_store_retrieve_roundtrip(client: ConformanceClient, contract: Contract, shared: Shared) -> None:
    _, created = _expiring(client, contract, shared)
    read = expect(contract, "Get_Vector_Store", client.get(f"/vector_stores/{created['id']}"))
    require(check_roundtrip(_stable(created), read), "Get_Vector_Store reads back the created store")


@pytest.mark.operation("Modify_Vector_Store")
def test_vector_store_modify_applies_changes(client: ConformanceClient, contract: Contract, tracker: Tracker) -> None:
    _, created = _new(client, contract, tracker)
    path = f"/vector_stores/{created['id']}"
    changes = {
        "name": tracker.name("renamed"),
        "expires_after": {"anchor": "last_active_at", "days": 3},
        "metadata": {**tracker.metadata, "stage": "modified"},
    }
    modified = expect(contract, "Modify_Vector_Store", client.post(path, json=changes))
    require(check_modified(created, modified, changes, ignore=MOVING), "Modify_Vector_Store applies the changes")
    read = expect(contract, "Get_Vector_Store", client.get(path))
    require(check_roundtrip(_stable(modified), read, where="read after modify"), "the modification persists")


@pytest.mark.operation("Delete_Vector_Store")
def test_vector_store_delete_envelope_then_gone(client: ConformanceClient, contract: Contract,
                                                tracker: Tracker) -> None:
    _, created = _new(client, contract, tracker)
    path = f"/vector_stores/{created['id']}"
    response = client.delete(path)
    if response.status_code == 200:
        forget(tracker, path)  # deleted here: teardown need not delete it again
    deleted = expect(contract, "Delete_Vector_Store", response)
    require(check_deleted(deleted, object_name="vector_store", object_id=created["id"]), "Delete_Vector_Store")
    after = client.get(path)
    require(check_gone(after.status_code, body_of(after), what="GET of the deleted vector store"), "after delete")
