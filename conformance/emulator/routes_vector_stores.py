"""Vector stores (5 operations), vector store files (4) and file batches (4).

State and the time-driven status rules live in `vector_stores_state.py`; this module parses the
request, looks objects up (unknown id -> the OpenAI-style 404), and renders them. Every list goes
through the shared `pagination.paginate`. `chunking_strategy` is reported from 2024-08-01-preview on
(the contract rejects it in requests of earlier versions before a handler runs).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from conformance.emulator.context import EmuRequest, ok
from conformance.emulator.errors import ApiError, bad_request, not_found
from conformance.emulator.pagination import paginate
from conformance.emulator.routing import EmuRoute
from conformance.emulator.vector_stores_state import (
    FILE_STATUSES,
    FileBatch,
    StoreFile,
    VectorStore,
    VectorStoreState,
)
from conformance.versions import at_least

CHUNKING_SINCE = "2024-08-01-preview"


class _View:
    """Per-request rendering context: the clock reading, the pace and the api-version."""

    def __init__(self, ctx: EmuRequest) -> None:
        self.state = VectorStoreState.of(ctx.store)
        self.now = self.state.now()
        self.pace = ctx.settings.run_pace
        self.chunking = at_least(ctx.api_version, CHUNKING_SINCE)
        self.ctx = ctx

    def store(self, vector_store: VectorStore) -> dict[str, Any]:
        return vector_store.to_json(self.now, self.pace, self.now)

    def file(self, item: StoreFile) -> dict[str, Any]:
        return item.to_json(self.now, self.pace, with_chunking=self.chunking)

    def batch(self, batch: FileBatch) -> dict[str, Any]:
        return batch.to_json(self.now, self.pace)

    def find_store(self) -> VectorStore:
        store_id = self.ctx.params["vector_store_id"]
        found = self.state.stores.get(store_id)
        if found is None:
            raise not_found("vector store", store_id, self.ctx.faults)
        return found

    def find_file(self, vector_store: VectorStore) -> StoreFile:
        file_id = self.ctx.params["file_id"]
        found = vector_store.files.get(file_id)
        if found is None:
            raise not_found("file", file_id, self.ctx.faults)
        return found

    def find_batch(self, vector_store: VectorStore) -> FileBatch:
        batch_id = self.ctx.params["batch_id"]
        found = vector_store.batches.get(batch_id)
        if found is None:
            raise not_found("file batch", batch_id, self.ctx.faults)
        return found

    def file_page(self, files: list[StoreFile]) -> dict[str, Any]:
        wanted = self.ctx.query.get("filter")
        if wanted is not None and wanted not in FILE_STATUSES:
            raise bad_request(
                f"Invalid 'filter': '{wanted}'; expected one of {', '.join(FILE_STATUSES)}.", param="filter"
            )
        if wanted is not None:
            files = [f for f in files if f.status(self.now, self.pace) == wanted]
        ordered = sorted(files, key=lambda f: (f.created_at, f.sequence))
        return paginate(ordered, self.ctx.query, id_of=lambda f: f.id, render=self.file, faults=self.ctx.faults)


def _chunking(body: dict[str, Any]) -> dict[str, Any] | None:
    value = body.get("chunking_strategy")
    return value if isinstance(value, dict) else None


def _file_id(value: Any, param: str) -> str:
    # No files API in this contract: any non-empty id is accepted (ids containing "fail" end failed).
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"'{param}' must be a non-empty file id.", param=param)
    return value


# ---- vector stores ----


async def list_vector_stores(ctx: EmuRequest) -> Response:
    view = _View(ctx)
    ordered = sorted(view.state.stores.values(), key=lambda s: (s.created_at, s.sequence))
    return ok(paginate(ordered, ctx.query, id_of=lambda s: s.id, render=view.store, faults=ctx.faults))


async def create_vector_store(ctx: EmuRequest) -> Response:
    view = _View(ctx)
    body = ctx.json_body()
    file_ids = body.get("file_ids") or []
    if not isinstance(file_ids, list):
        raise bad_request("'file_ids' must be an array of file ids.", param="file_ids")
    ids = [_file_id(value, "file_ids") for value in file_ids]
    metadata = body.get("metadata")
    vector_store = view.state.create_store(
        name=body.get("name") if isinstance(body.get("name"), str) else None,
        metadata=metadata if isinstance(metadata, dict) else None,
        expires_after=body.get("expires_after") if isinstance(body.get("expires_after"), dict) else None,
    )
    for file_id in dict.fromkeys(ids):
        view.state.add_file(vector_store, file_id, _chunking(body))
    return ok(view.store(vector_store))


async def get_vector_store(ctx: EmuRequest) -> Response:
    view = _View(ctx)
    return ok(view.store(view.find_store()))


async def modify_vector_store(ctx: EmuRequest) -> Response:
    view = _View(ctx)
    vector_store = view.find_store()
    body = ctx.json_body()
    if "name" in body:
        name = body["name"]
        vector_store.name = name if isinstance(name, str) else None
    if "metadata" in body:
        metadata = body["metadata"]
        vector_store.metadata = metadata if isinstance(metadata, dict) else None
    if "expires_after" in body:
        expires_after = body["expires_after"]
        vector_store.expires_after = expires_after if isinstance(expires_after, dict) else None
    vector_store.last_active_at = ctx.store.timestamp()
    return ok(view.store(vector_store))


async def delete_vector_store(ctx: EmuRequest) -> Response:
    view = _View(ctx)
    vector_store = view.find_store()
    del view.state.stores[vector_store.id]
    return ok({"id": vector_store.id, "object": "vector_store.deleted", "deleted": True})


# ---- vector store files ----


async def list_vector_store_files(ctx: EmuRequest) -> Response:
    view = _View(ctx)
    return ok(view.file_page(list(view.find_store().files.values())))


async def create_vector_store_file(ctx: EmuRequest) -> Response:
    view = _View(ctx)
    vector_store = view.find_store()
    body = ctx.json_body()
    file_id = _file_id(body.get("file_id"), "file_id")
    return ok(view.file(view.state.add_file(vector_store, file_id, _chunking(body))))


async def get_vector_store_file(ctx: EmuRequest) -> Response:
    view = _View(ctx)
    return ok(view.file(view.find_file(view.find_store())))


async def delete_vector_store_file(ctx: EmuRequest) -> Response:
    view = _View(ctx)
    vector_store = view.find_store()
    item = view.find_file(vector_store)
    del vector_store.files[item.id]
    vector_store.last_active_at = ctx.store.timestamp()
    return ok({"id": item.id, "object": "vector_store.file.deleted", "deleted": True})


# ---- file batches ----


async def create_file_batch(ctx: EmuRequest) -> Response:
    view = _View(ctx)
    vector_store = view.find_store()
    body = ctx.json_body()
    file_ids = body.get("file_ids")
    if not isinstance(file_ids, list) or not file_ids:
        raise bad_request("'file_ids' is required and must be a non-empty array.", param="file_ids")
    ids = [_file_id(value, "file_ids") for value in file_ids]
    return ok(view.batch(view.state.add_batch(vector_store, ids, _chunking(body))))


async def get_file_batch(ctx: EmuRequest) -> Response:
    view = _View(ctx)
    return ok(view.batch(view.find_batch(view.find_store())))


async def cancel_file_batch(ctx: EmuRequest) -> Response:
    view = _View(ctx)
    batch = view.find_batch(view.find_store())
    status = batch.status(view.now, view.pace)
    if status != "in_progress":
        raise ApiError(400, f"Cannot cancel a batch with status '{status}'.", param="batch_id")
    batch.cancel_requested = view.now
    for item in batch.files:
        if item.status(view.now, view.pace) == "in_progress":
            item.cancelled_at = view.now
    return ok(view.batch(batch))


async def list_file_batch_files(ctx: EmuRequest) -> Response:
    view = _View(ctx)
    return ok(view.file_page(list(view.find_batch(view.find_store()).files)))


_VS = "/vector_stores/{vector_store_id}"

ROUTES: list[EmuRoute] = [
    EmuRoute("GET", "/vector_stores", "List_Vector_Stores", list_vector_stores, body="none"),
    EmuRoute("POST", "/vector_stores", "Create_Vector_Store", create_vector_store),
    EmuRoute("GET", _VS, "Get_Vector_Store", get_vector_store, body="none"),
    EmuRoute("POST", _VS, "Modify_Vector_Store", modify_vector_store),
    EmuRoute("DELETE", _VS, "Delete_Vector_Store", delete_vector_store, body="none"),
    EmuRoute("GET", f"{_VS}/files", "List_Vector_Store_Files", list_vector_store_files, body="none"),
    EmuRoute("POST", f"{_VS}/files", "Create_Vector_Store_File", create_vector_store_file),
    EmuRoute("GET", f"{_VS}/files/{{file_id}}", "Get_Vector_Store_File", get_vector_store_file, body="none"),
    EmuRoute("DELETE", f"{_VS}/files/{{file_id}}", "Delete_Vector_Store_File", delete_vector_store_file,
             body="none"),
    EmuRoute("POST", f"{_VS}/file_batches", "Create_Vector_Store_File_Batch", create_file_batch),
    EmuRoute("GET", f"{_VS}/file_batches/{{batch_id}}", "Get_Vector_Store_File_Batch", get_file_batch,
             body="none"),
    EmuRoute("POST", f"{_VS}/file_batches/{{batch_id}}/cancel", "Cancel_Vector_Store_File_Batch",
             cancel_file_batch),
    EmuRoute("GET", f"{_VS}/file_batches/{{batch_id}}/files", "List_Vector_Store_File_Batch_Files",
             list_file_batch_files, body="none"),
]
