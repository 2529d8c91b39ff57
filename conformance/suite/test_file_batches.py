"""Vector store file batches: create, retrieve, cancel, each answer checked by the contract."""

from __future__ import annotations

import time
from typing import Any

import pytest

from conformance.client import ConformanceClient
from conformance.config import TargetSettings
from conformance.findings import require
from conformance.harness.tracker import Tracker
from conformance.invariants.batches import check_batch_cancel
from conformance.invariants.objects import check_roundtrip
from conformance.spec import Contract
from conformance.suite.conftest import Shared
from conformance.suite.resources import create, file_ids
from conformance.suite.support import expect

pytestmark = [pytest.mark.crud]

STABLE = ("id", "object", "created_at", "vector_store_id")
BATCH_TERMINAL = frozenset({"completed", "cancelled", "failed"})


def _store(shared: Shared) -> str:
    """The module's store: each test reads or cancels only a batch of its own in it (issue 8: cost)."""
    return shared.once("store", lambda owner: str(owner.vector_store()["id"]))


def _batch(client: ConformanceClient, contract: Contract, tracker: Tracker, settings: TargetSettings,
           store_id: str, count: int = 2) -> tuple[str, list[str], dict[str, Any]]:
    files = file_ids(client, tracker, settings, count)
    batch = create(client, contract, None, "Create_Vector_Store_File_Batch",
                   f"/vector_stores/{store_id}/file_batches", {"file_ids": files})
    return store_id, files, batch


def _shared_batch(client: ConformanceClient, contract: Contract, shared: Shared,
                  settings: TargetSettings) -> tuple[str, list[str], dict[str, Any]]:
    """One batch (and its create answer) for the tests that only read it (issue 8: cost)."""
    return shared.once("batch", lambda owner: _batch(client, contract, owner, settings, _store(shared)))


@pytest.mark.operation("Create_Vector_Store_File_Batch")
def test_file_batch_create_counts_files(client: ConformanceClient, contract: Contract, shared: Shared,
                                        aoai_settings: TargetSettings) -> None:
    store_id, files, batch = _shared_batch(client, contract, shared, aoai_settings)
    expected = {"object": "vector_store.files_batch", "vector_store_id": store_id,
                "file_counts": {"total": len(files)}}
    require(check_roundtrip(expected, batch), "Create_Vector_Store_File_Batch answers the batch of the files sent")


@pytest.mark.operation("Get_Vector_Store_File_Batch")
def test_file_batch_retrieve_roundtrip(client: ConformanceClient, contract: Contract, shared: Shared,
                                       aoai_settings: TargetSettings) -> None:
    store_id, files, batch = _shared_batch(client, contract, shared, aoai_settings)
    read = expect(contract, "Get_Vector_Store_File_Batch",
                  client.get(f"/vector_stores/{store_id}/file_batches/{batch['id']}"))
    stable = {key: batch[key] for key in STABLE if key in batch}
    require(check_roundtrip({**stable, "file_counts": {"total": len(files)}}, read),
            "Get_Vector_Store_File_Batch reads back the created batch")


@pytest.mark.operation("Cancel_Vector_Store_File_Batch")
def test_file_batch_cancel_ends_cancelled(client: ConformanceClient, contract: Contract, tracker: Tracker,
                                          shared: Shared, aoai_settings: TargetSettings) -> None:
    store_id, _, batch = _batch(client, contract, tracker, aoai_settings, _store(shared), 3)
    path = f"/vector_stores/{store_id}/file_batches/{batch['id']}"
    cancelled = expect(contract, "Cancel_Vector_Store_File_Batch", client.post(f"{path}/cancel"))
    if cancelled["status"] in ("completed", "failed"):
        pytest.skip(f"the batch was already {cancelled['status']} when the cancel arrived")
    deadline = time.monotonic() + 30
    read = expect(contract, "Get_Vector_Store_File_Batch", client.get(path))  # read at least once
    while read["status"] not in BATCH_TERMINAL and time.monotonic() < deadline:
        time.sleep(client.poll_interval)  # bounded: the service settles a cancel within seconds
        read = expect(contract, "Get_Vector_Store_File_Batch", client.get(path))
    require(check_batch_cancel(cancelled, read, batch_id=str(batch["id"])), f"cancel of file batch {batch['id']}")
