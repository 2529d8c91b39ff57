"""Vector stores, their files and file batches: in-memory state with time-driven status.

Status is computed when an object is read (no background task): a file is `in_progress` for
`FILE_PHASES` paces after it was added, then `completed`, or `failed` with `last_error` when its id
contains `FAIL_MARKER` (there is no files API in this contract, so any `file-...` id is accepted and
the id itself is the trigger). Cancelling a batch turns its unfinished files and the batch
`cancelled`. A store's `file_counts`, `usage_bytes` and `status` are always derived from its files,
so they cannot disagree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from conformance.emulator import triggers
from conformance.emulator.store import Store

FAIL_MARKER = triggers.VECTOR_STORE_FILE_FAILS
FILE_PHASES = 2  # paces a file spends in_progress
DAY = 86400
FILE_STATUSES: tuple[str, ...] = ("in_progress", "completed", "failed", "cancelled")

# The chunking the service applies for `auto` (OpenAI: 800-token chunks, 400 overlap).
AUTO_CHUNKING: dict[str, Any] = {
    "type": "static",
    "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400},
}


def file_bytes(file_id: str) -> int:
    """A stable per-file size, so `usage_bytes` sums are reproducible."""
    return 1024 + int(hashlib.sha256(file_id.encode()).hexdigest()[:6], 16) % 8192


@dataclass
class StoreFile:
    id: str
    vector_store_id: str
    created_at: int
    added: float  # monotonic clock when added
    sequence: int
    chunking_strategy: dict[str, Any] | None
    cancelled_at: float | None = None

    def status(self, now: float, pace: float) -> str:
        done_at = self.added + FILE_PHASES * pace
        if self.cancelled_at is not None and self.cancelled_at < done_at:
            return "cancelled"
        if now < done_at:
            return "in_progress"
        return "failed" if FAIL_MARKER in self.id else "completed"

    def to_json(self, now: float, pace: float, *, with_chunking: bool) -> dict[str, Any]:
        status = self.status(now, pace)
        body: dict[str, Any] = {
            "id": self.id,
            "object": "vector_store.file",
            "usage_bytes": file_bytes(self.id) if status == "completed" else 0,
            "created_at": self.created_at,
            "vector_store_id": self.vector_store_id,
            "status": status,
            "last_error": None,
        }
        if status == "failed":
            body["last_error"] = {
                "code": "file_not_found",
                "message": f"The file {self.id} could not be processed (emulator trigger '{FAIL_MARKER}').",
            }
        if with_chunking:
            body["chunking_strategy"] = self.chunking_strategy or AUTO_CHUNKING
        return body


@dataclass
class FileBatch:
    id: str
    vector_store_id: str
    created_at: int
    sequence: int
    files: list[StoreFile]
    cancel_requested: float | None = None

    def counts(self, now: float, pace: float) -> dict[str, int]:
        return count_files(self.files, now, pace)

    def status(self, now: float, pace: float) -> str:
        counts = self.counts(now, pace)
        if self.cancel_requested is not None:
            # `cancelling` on the cancel call (the reference's example), `cancelled` one phase later
            return "cancelling" if now < self.cancel_requested + pace else "cancelled"
        return "in_progress" if counts["in_progress"] else "completed"

    def to_json(self, now: float, pace: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "vector_store.files_batch",
            "created_at": self.created_at,
            "vector_store_id": self.vector_store_id,
            "status": self.status(now, pace),
            "file_counts": self.counts(now, pace),
        }


@dataclass
class VectorStore:
    id: str
    created_at: int
    sequence: int
    name: str | None
    metadata: dict[str, Any] | None
    expires_after: dict[str, Any] | None
    last_active_at: int
    files: dict[str, StoreFile] = field(default_factory=dict)
    batches: dict[str, FileBatch] = field(default_factory=dict)

    def expires_at(self) -> int | None:
        if not self.expires_after:
            return None
        return self.last_active_at + int(self.expires_after.get("days", 0)) * DAY

    def to_json(self, now: float, pace: float, wall: float) -> dict[str, Any]:
        counts = count_files(list(self.files.values()), now, pace)
        expires_at = self.expires_at()
        if expires_at is not None and wall >= expires_at:
            status = "expired"
        else:
            status = "in_progress" if counts["in_progress"] else "completed"
        usage = sum(
            file_bytes(f.id) for f in self.files.values() if f.status(now, pace) == "completed"
        )
        body: dict[str, Any] = {
            "id": self.id,
            "object": "vector_store",
            "created_at": self.created_at,
            "name": self.name,
            "usage_bytes": usage,
            "file_counts": counts,
            "status": status,
            "expires_at": expires_at,
            "last_active_at": self.last_active_at,
            "metadata": self.metadata if self.metadata is not None else {},
        }
        if self.expires_after is not None:  # absent, not null, when no policy is set (as OpenAI)
            body["expires_after"] = self.expires_after
        return body


def count_files(files: list[StoreFile], now: float, pace: float) -> dict[str, int]:
    counts = dict.fromkeys(FILE_STATUSES, 0)
    for item in files:
        counts[item.status(now, pace)] += 1
    counts["total"] = len(files)
    return counts


class VectorStoreState:
    """All vector stores of one emulator, kept in the shared `Store` (its clock and id generator)."""

    KEY = "vector_stores"

    def __init__(self, store: Store) -> None:
        self.store = store
        self.stores: dict[str, VectorStore] = {}

    @classmethod
    def of(cls, store: Store) -> VectorStoreState:
        state = store.extras.get(cls.KEY)
        if not isinstance(state, VectorStoreState):
            state = store.extras[cls.KEY] = VectorStoreState(store)
        return state

    def now(self) -> float:
        return self.store.now()

    def create_store(self, name: str | None, metadata: dict[str, Any] | None,
                     expires_after: dict[str, Any] | None) -> VectorStore:
        store_id, sequence = self.store.new_id("vs")
        created = self.store.timestamp()
        vector_store = VectorStore(
            id=store_id, created_at=created, sequence=sequence, name=name, metadata=metadata,
            expires_after=expires_after, last_active_at=created,
        )
        self.stores[store_id] = vector_store
        return vector_store

    def add_file(self, vector_store: VectorStore, file_id: str, chunking: dict[str, Any] | None) -> StoreFile:
        # The shared counter keeps creation order == (created_at, sequence) order for pagination.
        _, sequence = self.store.new_id("vsf")
        item = StoreFile(
            id=file_id,
            vector_store_id=vector_store.id,
            created_at=self.store.timestamp(),
            added=self.store.now(),
            sequence=sequence,
            chunking_strategy=resolve_chunking(chunking),
        )
        vector_store.files.pop(file_id, None)  # re-adding a file replaces it (and moves it last)
        vector_store.files[file_id] = item
        vector_store.last_active_at = self.store.timestamp()
        return item

    def add_batch(self, vector_store: VectorStore, file_ids: list[str],
                  chunking: dict[str, Any] | None) -> FileBatch:
        batch_id, sequence = self.store.new_id("vsfb")
        files = [self.add_file(vector_store, file_id, chunking) for file_id in dict.fromkeys(file_ids)]
        batch = FileBatch(id=batch_id, vector_store_id=vector_store.id, created_at=self.store.timestamp(),
                          sequence=sequence, files=files)
        vector_store.batches[batch_id] = batch
        return batch


def resolve_chunking(requested: dict[str, Any] | None) -> dict[str, Any] | None:
    """The chunking strategy a file reports: `static` as requested, `auto` resolved to its defaults."""
    if not requested or requested.get("type") == "auto":
        return None
    return {"type": "static", "static": dict(requested.get("static") or {})}
