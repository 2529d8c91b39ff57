"""Vector stores, their files and file batches on the emulator: contract-valid answers in both
api-versions, time-driven status, file counts, cancel, filters, pagination and 404s.

The app runs in-process with a fake clock, so status changes happen by advancing time, not sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from conformance.emulator.app import create_app
from conformance.emulator.settings import EmulatorSettings
from conformance.emulator.vector_stores_state import FILE_PHASES
from conformance.invariants.pagination import check_page, check_walk
from conformance.spec import load_contract
from conformance.versions import API_VERSIONS

PACE = 1.0
KEY = "emulator-key"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """A tiny client: every call checks its answer against the contract of the chosen version."""

    def __init__(self, client: TestClient, version: str, clock: Clock) -> None:
        self.client = client
        self.version = version
        self.clock = clock
        self.contract = load_contract(version)

    def call(self, method: str, path: str, body: Any = None, *, query: dict[str, str] | None = None,
             expect: int = 200) -> Any:
        params = {"api-version": self.version, **(query or {})}
        response = self.client.request(method, "/openai" + path, params=params, json=body,
                                       headers={"api-key": KEY})
        assert response.status_code == expect, response.text
        payload = response.json()
        matched = self.contract.match(method, path)
        assert matched is not None, f"{method} {path} is not in the contract"
        findings = self.contract.validate_response(matched[0], response.status_code, response.headers, payload)
        errors = [f for f in findings if f.severity == "error"]
        assert not errors, "\n".join(map(str, errors))
        return payload


@pytest.fixture(params=API_VERSIONS)
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    clock = Clock()
    app = create_app(EmulatorSettings(run_pace=PACE), clock=clock)
    with TestClient(app) as client:
        yield Api(client, request.param, clock)


def settle(api: Api) -> None:
    api.clock.advance(PACE * FILE_PHASES + 0.01)


def test_store_crud_round_trip(api: Api) -> None:
    created = api.call("POST", "/vector_stores", {"name": "docs", "metadata": {"team": "qa"}})
    assert created["object"] == "vector_store"
    assert created["name"] == "docs" and created["metadata"] == {"team": "qa"}
    got = api.call("GET", f"/vector_stores/{created['id']}")
    assert got["id"] == created["id"] and got["created_at"] == created["created_at"]
    modified = api.call("POST", f"/vector_stores/{created['id']}", {"name": "renamed", "metadata": {"k": "v"}})
    assert modified["name"] == "renamed" and modified["metadata"] == {"k": "v"}
    assert api.call("GET", f"/vector_stores/{created['id']}")["name"] == "renamed"
    deleted = api.call("DELETE", f"/vector_stores/{created['id']}")
    assert deleted == {"id": created["id"], "object": "vector_store.deleted", "deleted": True}
    gone = api.call("GET", f"/vector_stores/{created['id']}", expect=404)
    assert created["id"] in gone["error"]["message"]


def test_store_with_files_goes_in_progress_then_completed(api: Api) -> None:
    store = api.call("POST", "/vector_stores", {"file_ids": ["file-a1", "file-b2", "file-c3"]})
    assert store["status"] == "in_progress"
    assert store["file_counts"] == {"in_progress": 3, "completed": 0, "failed": 0, "cancelled": 0, "total": 3}
    assert store["usage_bytes"] == 0
    settle(api)
    done = api.call("GET", f"/vector_stores/{store['id']}")
    assert done["status"] == "completed"
    assert done["file_counts"]["completed"] == 3 and done["file_counts"]["in_progress"] == 0
    files = api.call("GET", f"/vector_stores/{store['id']}/files")["data"]
    assert {f["status"] for f in files} == {"completed"}
    assert done["usage_bytes"] == sum(f["usage_bytes"] for f in files) > 0


def test_file_with_fail_trigger_ends_failed_with_last_error(api: Api) -> None:
    store = api.call("POST", "/vector_stores", {})
    made = api.call("POST", f"/vector_stores/{store['id']}/files", {"file_id": "file-will-fail"})
    assert made["status"] == "in_progress" and made["last_error"] is None
    settle(api)
    got = api.call("GET", f"/vector_stores/{store['id']}/files/file-will-fail")
    assert got["status"] == "failed"
    assert got["last_error"]["code"] and got["last_error"]["message"]
    counts = api.call("GET", f"/vector_stores/{store['id']}")["file_counts"]
    assert counts["failed"] == 1 and counts["total"] == 1


def test_file_list_filter_and_delete(api: Api) -> None:
    store = api.call("POST", "/vector_stores", {"file_ids": ["file-ok1", "file-fail1"]})
    settle(api)
    api.call("POST", f"/vector_stores/{store['id']}/files", {"file_id": "file-new"})
    base = f"/vector_stores/{store['id']}/files"
    by_status = {
        status: [f["id"] for f in api.call("GET", base, query={"filter": status})["data"]]
        for status in ("in_progress", "completed", "failed", "cancelled")
    }
    assert by_status == {"in_progress": ["file-new"], "completed": ["file-ok1"], "failed": ["file-fail1"],
                         "cancelled": []}
    bad = api.call("GET", base, query={"filter": "done"}, expect=400)
    assert bad["error"]["message"]
    deleted = api.call("DELETE", f"{base}/file-ok1")
    assert deleted == {"id": "file-ok1", "object": "vector_store.file.deleted", "deleted": True}
    api.call("GET", f"{base}/file-ok1", expect=404)
    assert api.call("GET", f"/vector_stores/{store['id']}")["file_counts"]["total"] == 2


def test_batch_completes_and_lists_its_files(api: Api) -> None:
    store = api.call("POST", "/vector_stores", {"file_ids": ["file-outside"]})
    batch = api.call("POST", f"/vector_stores/{store['id']}/file_batches", {"file_ids": ["file-x", "file-y"]})
    assert batch["object"] == "vector_store.files_batch" and batch["status"] == "in_progress"
    assert batch["file_counts"]["total"] == 2 and batch["file_counts"]["in_progress"] == 2
    settle(api)
    got = api.call("GET", f"/vector_stores/{store['id']}/file_batches/{batch['id']}")
    assert got["status"] == "completed" and got["file_counts"]["completed"] == 2
    listed = api.call("GET", f"/vector_stores/{store['id']}/file_batches/{batch['id']}/files")
    assert sorted(f["id"] for f in listed["data"]) == ["file-x", "file-y"]
    assert api.call("GET", f"/vector_stores/{store['id']}")["file_counts"]["total"] == 3
    api.call("POST", f"/vector_stores/{store['id']}/file_batches/{batch['id']}/cancel", expect=400)


def test_batch_cancel_cancels_unfinished_files(api: Api) -> None:
    store = api.call("POST", "/vector_stores", {})
    batch = api.call("POST", f"/vector_stores/{store['id']}/file_batches", {"file_ids": ["file-1", "file-2"]})
    base = f"/vector_stores/{store['id']}/file_batches/{batch['id']}"
    cancelling = api.call("POST", f"{base}/cancel")
    assert cancelling["status"] == "cancelling"  # as the reference example shows; cancelled one phase later
    api.clock.advance(PACE + 0.01)
    cancelled = api.call("GET", base)
    assert cancelled["status"] == "cancelled"
    assert cancelled["file_counts"]["cancelled"] == 2 and cancelled["file_counts"]["in_progress"] == 0
    settle(api)  # cancelled files never complete later
    assert api.call("GET", base)["file_counts"]["cancelled"] == 2
    listed = api.call("GET", f"{base}/files", query={"filter": "cancelled"})
    assert len(listed["data"]) == 2


def test_expires_after_sets_expires_at(api: Api) -> None:
    store = api.call("POST", "/vector_stores", {"expires_after": {"anchor": "last_active_at", "days": 2}})
    assert store["expires_at"] == store["last_active_at"] + 2 * 86400
    api.clock.advance(3 * 86400)
    assert api.call("GET", f"/vector_stores/{store['id']}")["status"] == "expired"


def test_list_pagination_walks_every_store(api: Api) -> None:
    made = [api.call("POST", "/vector_stores", {"name": f"s{i}"})["id"] for i in range(5)]
    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(5):
        query = {"limit": "2", "order": "asc", **({"after": after} if after else {})}
        page = api.call("GET", "/vector_stores", query=query)
        assert [str(f) for f in check_page(page, limit=2, order="asc") if f.severity == "error"] == []
        pages.append(page)
        seen.extend(item["id"] for item in page["data"])
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert seen == made
    walk = check_walk(pages, expected_ids=made, order="asc")
    assert [str(f) for f in walk if f.severity == "error"] == []
    api.call("GET", "/vector_stores", query={"limit": "0"}, expect=400)


def test_unknown_ids_answer_404(api: Api) -> None:
    api.call("GET", "/vector_stores/vs_missing", expect=404)
    store = api.call("POST", "/vector_stores", {})
    api.call("GET", f"/vector_stores/{store['id']}/files/file-missing", expect=404)
    api.call("GET", f"/vector_stores/{store['id']}/file_batches/vsfb_missing", expect=404)
    api.call("POST", "/vector_stores/vs_missing/files", {"file_id": "file-1"}, expect=404)


def test_chunking_strategy_only_from_2024_08(api: Api) -> None:
    store = api.call("POST", "/vector_stores", {})
    static = {"type": "static", "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 50}}
    path = f"/vector_stores/{store['id']}/files"
    if api.version >= "2024-08-01-preview":
        made = api.call("POST", path, {"file_id": "file-s", "chunking_strategy": static})
        assert made["chunking_strategy"] == static
        auto = api.call("POST", path, {"file_id": "file-a", "chunking_strategy": {"type": "auto"}})
        assert auto["chunking_strategy"]["type"] == "static"
    else:
        made = api.call("POST", path, {"file_id": "file-s"})
        assert "chunking_strategy" not in made
        # Not part of this version: refused if the contract refuses it, else ignored (never echoed).
        params = {"api-version": api.version}
        sent = api.client.post("/openai" + path, params=params, json={"file_id": "file-t", "chunking_strategy": static},
                               headers={"api-key": KEY})
        assert sent.status_code in (200, 400), sent.text
        if sent.status_code == 200:
            assert "chunking_strategy" not in sent.json()
