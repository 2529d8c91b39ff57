"""Vector store files: add, retrieve, delete round trips inside a fresh store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from conformance.client import ConformanceClient
from conformance.config import TargetSettings
from conformance.findings import require
from conformance.harness.tracker import Tracker
from conformance.invariants.objects import check_deleted, check_gone, check_roundtrip
from conformance.invariants.pagination import check_walk
from conformance.spec import Contract
from conformance.suite.conftest import Shared
from conformance.suite.resources import body_of, create, file_ids, walk
from conformance.suite.support import expect

pytestmark = [pytest.mark.crud]

# Processing moves status, usage_bytes and last_error on its own; the rest must read back as added.
STABLE = ("id", "object", "created_at", "vector_store_id")


def _add(client: ConformanceClient, contract: Contract, tracker: Tracker,
         settings: TargetSettings, store_id: str) -> tuple[str, str, dict[str, Any]]:
    file_id = file_ids(client, tracker, settings, 1)[0]
    created = create(client, contract, None, "Create_Vector_Store_File", f"/vector_stores/{store_id}/files",
                     {"file_id": file_id})
    return store_id, file_id, created


def _store(shared: Shared) -> str:
    """The module's store (issue 8: cost): the shared file, and a file the delete test adds and removes."""
    return shared.once("store", lambda owner: str(owner.vector_store()["id"]))


def _shared_file(client: ConformanceClient, contract: Contract, shared: Shared,
                 settings: TargetSettings) -> tuple[str, str, dict[str, Any]]:
    """One added file the create and retrieve tests share; they only read it (issue 8: cost)."""
    return shared.once("added file", lambda owner: _add(client, contract, owner, settings, _store(shared)))


def _stable(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {key: obj[key] for key in STABLE if key in obj}


@pytest.mark.operation("Create_Vector_Store_File")
def test_vector_store_file_create_names_file_and_store(client: ConformanceClient, contract: Contract,
                                                       shared: Shared, aoai_settings: TargetSettings) -> None:
    store_id, file_id, created = _shared_file(client, contract, shared, aoai_settings)
    expected = {"id": file_id, "object": "vector_store.file", "vector_store_id": store_id}
    require(check_roundtrip(expected, created), "Create_Vector_Store_File answers the file in its store")


@pytest.mark.operation("Get_Vector_Store_File")
def test_vector_store_file_retrieve_roundtrip(client: ConformanceClient, contract: Contract, shared: Shared,
                                              aoai_settings: TargetSettings) -> None:
    store_id, file_id, created = _shared_file(client, contract, shared, aoai_settings)
    read = expect(contract, "Get_Vector_Store_File", client.get(f"/vector_stores/{store_id}/files/{file_id}"))
    require(check_roundtrip(_stable(created), read), "Get_Vector_Store_File reads back the added file")


@pytest.mark.operation("Delete_Vector_Store_File")
def test_vector_store_file_delete_envelope_then_gone(client: ConformanceClient, contract: Contract,
                                                     tracker: Tracker, shared: Shared,
                                                     aoai_settings: TargetSettings) -> None:
    # the module's store holds the shared file as well: after the delete it must list exactly that one
    _, kept, _ = _shared_file(client, contract, shared, aoai_settings)
    store_id, file_id, _ = _add(client, contract, tracker, aoai_settings, _store(shared))
    path = f"/vector_stores/{store_id}/files/{file_id}"
    deleted = expect(contract, "Delete_Vector_Store_File", client.delete(path))
    require(check_deleted(deleted, object_name="vector_store.file", object_id=file_id), "Delete_Vector_Store_File")
    after = client.get(path)
    require(check_gone(after.status_code, body_of(after), what="GET of the removed vector store file"),
            "after delete")
    pages = walk(client, contract, "List_Vector_Store_Files", f"/vector_stores/{store_id}/files",
                 limit=100, order="asc")
    require(check_walk(pages, expected_ids=[kept], exact=True), "the store no longer lists the removed file")
