"""What differs between 2024-05-01-preview and 2024-08-01-preview.

From 2024-08-01-preview: `chunking_strategy` on vector stores, their files and file batches (and
reported in the file object), `file_search.max_num_results` (1..50) on the file_search tool, and
the type-only file_search tool in message attachments. On 2024-05-01-preview the reference does
not know these parameters and states no rule for them, so the suite only requires a conforming
answer either way: served (and contract-valid for 05), or rejected with the 400 envelope.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client import ConformanceClient
from conformance.config import TargetSettings
from conformance.findings import require
from conformance.harness.tracker import Tracker
from conformance.invariants.errors import check_bad_request
from conformance.invariants.objects import check_roundtrip
from conformance.spec import Contract
from conformance.suite.conftest import Shared
from conformance.suite.resources import body_of, create, file_ids, get_page
from conformance.suite.support import expect
from conformance.versions import at_least

pytestmark = [pytest.mark.versions]

SINCE = "2024-08-01-preview"
STATIC: dict[str, Any] = {"type": "static", "static": {"max_chunk_size_tokens": 400, "chunk_overlap_tokens": 100}}


def _store(shared: Shared) -> str:
    """One store per module and api-version: each test adds its own files (or has them refused),
    and reads only those (issue 8: cost)."""
    return shared.once("store", lambda owner: str(owner.vector_store()["id"]))


def _files(client: ConformanceClient, shared: Shared, settings: TargetSettings) -> list[str]:
    """Four files per module and api-version (issue 8: cost; each is an upload on a real resource).
    A file is only named, never changed, by what uses it: [0, 1] go into a new store and into a batch
    of the module store, [2] is added to the module store on its own, [3] (never in the module store,
    so a refusal is about the request alone) is refused there and attached to a message."""
    return shared.once("files", lambda owner: file_ids(client, owner, settings, 4))


def _file_search(max_num_results: int) -> dict[str, Any]:
    return {"type": "file_search", "file_search": {"max_num_results": max_num_results}}


# ---------------------------------------------------------------- chunking_strategy (08)

@pytest.mark.since(SINCE)
@pytest.mark.operation("Create_Vector_Store")
def test_vector_store_chunking_strategy_reported_on_files(client: ConformanceClient, contract: Contract,
                                                          tracker: Tracker, shared: Shared,
                                                          aoai_settings: TargetSettings) -> None:
    files = _files(client, shared, aoai_settings)[:2]
    store = create(client, contract, tracker, "Create_Vector_Store", "/vector_stores",
                   {"name": tracker.name("chunked"), "metadata": tracker.metadata, "file_ids": files,
                    "chunking_strategy": STATIC}, kind="vector_store")
    page = get_page(client, contract, "List_Vector_Store_Files", f"/vector_stores/{store['id']}/files", limit=100)
    assert sorted(f["id"] for f in page["data"]) == sorted(files), f"the store lists {page['data']}"
    for item in page["data"]:
        require(check_roundtrip({"chunking_strategy": STATIC}, item), f"file {item['id']} of a static-chunked store")


@pytest.mark.since(SINCE)
@pytest.mark.operation("Create_Vector_Store_File")
def test_vector_store_file_chunking_strategy_echoed(client: ConformanceClient, contract: Contract,
                                                    tracker: Tracker, shared: Shared,
                                                    aoai_settings: TargetSettings) -> None:
    store = {"id": _store(shared)}
    file_id = _files(client, shared, aoai_settings)[2]
    path = f"/vector_stores/{store['id']}/files"
    create(client, contract, None, "Create_Vector_Store_File", path, {"file_id": file_id, "chunking_strategy": STATIC})
    read = expect(contract, "Get_Vector_Store_File", client.get(f"{path}/{file_id}"))
    require(check_roundtrip({"id": file_id, "chunking_strategy": STATIC}, read), "a file added with static chunking")


@pytest.mark.since(SINCE)
@pytest.mark.operation("Create_Vector_Store_File_Batch")
def test_file_batch_chunking_strategy_reported_on_files(client: ConformanceClient, contract: Contract,
                                                        tracker: Tracker, shared: Shared,
                                                        aoai_settings: TargetSettings) -> None:
    store = {"id": _store(shared)}
    files = _files(client, shared, aoai_settings)[:2]
    batch = create(client, contract, None, "Create_Vector_Store_File_Batch",
                   f"/vector_stores/{store['id']}/file_batches", {"file_ids": files, "chunking_strategy": STATIC})
    page = get_page(client, contract, "List_Vector_Store_File_Batch_Files",
                    f"/vector_stores/{store['id']}/file_batches/{batch['id']}/files", limit=100)
    assert sorted(f["id"] for f in page["data"]) == sorted(files), f"the batch lists {page['data']}"
    for item in page["data"]:
        require(check_roundtrip({"chunking_strategy": STATIC}, item), f"file {item['id']} of a static-chunked batch")


@pytest.mark.since(SINCE)
@pytest.mark.operation("Create_Vector_Store_File")
@pytest.mark.parametrize("static", [
    {"max_chunk_size_tokens": 99, "chunk_overlap_tokens": 0},
    {"max_chunk_size_tokens": 4097, "chunk_overlap_tokens": 0},
    {"max_chunk_size_tokens": 400},
], ids=["chunk_below_100", "chunk_above_4096", "overlap_missing"])
def test_vector_store_file_invalid_chunking_rejected(client: ConformanceClient, contract: Contract,
                                                     shared: Shared, aoai_settings: TargetSettings,
                                                     static: dict[str, int]) -> None:
    # one store and file for the three cases (a conforming target adds nothing to it; issue 8: cost)
    store_id = _store(shared)
    file_id = _files(client, shared, aoai_settings)[3]
    response = client.post(f"/vector_stores/{store_id}/files",
                           json={"file_id": file_id, "chunking_strategy": {"type": "static", "static": static}})
    require(check_bad_request(response.status_code, body_of(response), what=f"static chunking {static}"),
            "Create_Vector_Store_File with an invalid chunking strategy")


# ---------------------------------------------------------------- file_search.max_num_results (08)

@pytest.mark.since(SINCE)
@pytest.mark.operation("Create_Assistant")
@pytest.mark.parametrize("max_num_results", [1, 50])
def test_assistant_file_search_max_num_results_accepted(client: ConformanceClient, contract: Contract,
                                                        tracker: Tracker, max_num_results: int) -> None:
    tools = [_file_search(max_num_results)]
    created = create(client, contract, tracker, "Create_Assistant", "/assistants",
                     {"model": tracker.model, "name": tracker.name("search"), "metadata": tracker.metadata,
                      "tools": tools}, kind="assistant")
    require(check_roundtrip({"tools": tools}, created), f"file_search.max_num_results {max_num_results}")


@pytest.mark.since(SINCE)
@pytest.mark.operation("Create_Assistant")
@pytest.mark.parametrize("max_num_results", [0, 51])
def test_assistant_file_search_max_num_results_out_of_range_rejected(client: ConformanceClient, tracker: Tracker,
                                                                     max_num_results: int) -> None:
    response = client.post("/assistants", json={"model": tracker.model, "name": tracker.name("search"),
                                                "metadata": tracker.metadata,
                                                "tools": [_file_search(max_num_results)]})
    if response.status_code == 200:  # a lenient target made one: delete it at teardown
        tracker.register("assistant", response.json()["id"], f"/assistants/{response.json()['id']}")
    require(check_bad_request(response.status_code, body_of(response),
                              what=f"file_search.max_num_results {max_num_results}"), "Create_Assistant")


# ---------------------------------------------------------------- attachments (08)

@pytest.mark.since(SINCE)
@pytest.mark.operation("Create_Message")
def test_message_attachment_file_search_type_only(client: ConformanceClient, contract: Contract,
                                                  tracker: Tracker, shared: Shared,
                                                  aoai_settings: TargetSettings) -> None:
    thread = tracker.thread()
    file_id = _files(client, shared, aoai_settings)[3]
    attachments = [{"file_id": file_id, "tools": [{"type": "file_search"}]}]
    created = create(client, contract, None, "Create_Message", f"/threads/{thread['id']}/messages",
                     {"role": "user", "content": "Search the attached file.", "attachments": attachments})
    require(check_roundtrip({"attachments": attachments}, created), "a message attaching a file to file_search")
    read = expect(contract, "Get_Message", client.get(f"/threads/{thread['id']}/messages/{created['id']}"))
    require(check_roundtrip({"attachments": attachments}, read), "the attachment reads back")


# ---------------------------------------------------------------- the 08 parameters on 05

def _requests_with_08_parameters(model: str, name: str, metadata: dict[str, str],
                                 file_id: str) -> list[tuple[str, str, str, str | None, dict[str, Any]]]:
    """(case, operation, path, kind, body) using a parameter the 05 reference does not have."""
    return [
        ("vector store chunking_strategy", "Create_Vector_Store", "/vector_stores", "vector_store",
         {"name": name, "metadata": metadata, "chunking_strategy": STATIC}),
        ("vector store file chunking_strategy", "Create_Vector_Store_File", "/vector_stores/{store}/files", None,
         {"file_id": file_id, "chunking_strategy": STATIC}),
        ("file batch chunking_strategy", "Create_Vector_Store_File_Batch", "/vector_stores/{store}/file_batches",
         None, {"file_ids": [file_id], "chunking_strategy": STATIC}),
        ("file_search max_num_results", "Create_Assistant", "/assistants", "assistant",
         {"model": model, "name": name, "metadata": metadata, "tools": [_file_search(5)]}),
    ]


CASES_05 = [pytest.param(case[0], id=case[0], marks=pytest.mark.operation(case[1]))
            for case in _requests_with_08_parameters("model", "name", {}, "file-x")]


@pytest.mark.parametrize("case", CASES_05)
def test_version_08_parameter_on_05_answers_conformingly(client: ConformanceClient, contract: Contract,
                                                      tracker: Tracker, shared: Shared,
                                                      aoai_settings: TargetSettings, api_version: str,
                                                      case: str) -> None:
    if at_least(api_version, SINCE):
        pytest.skip(f"the parameter is part of {api_version}")
    # the module's store and files (issue 8: cost); each case that adds one names a different file
    file_index = {"vector store file chunking_strategy": 2, "file batch chunking_strategy": 0}.get(case)
    file_id = _files(client, shared, aoai_settings)[file_index] if file_index is not None else "file-unused"
    _, operation_id, template, kind, body = next(
        c for c in _requests_with_08_parameters(tracker.model, tracker.name("05"), tracker.metadata, file_id)
        if c[0] == case)
    path = template.format(store=_store(shared)) if "{store}" in template else template
    response = client.post(path, json=body)
    if response.status_code == 200:
        if kind is not None:
            tracker.register(kind, response.json()["id"], f"{path}/{response.json()['id']}")
        expect(contract, operation_id, response)  # served: it must still be a valid 05 answer
    else:
        require(check_bad_request(response.status_code, body_of(response), what=f"{case} on {api_version}"),
                f"{operation_id} with a {SINCE} parameter")
