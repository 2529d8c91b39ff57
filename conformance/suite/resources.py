"""Helpers of the CRUD, pagination and error modules: contract-checked creates, file ids, list walks.

Kept apart from `support.py` so the modules that share it are not edited under each other; every
rule these helpers lean on lives in `conformance.invariants` or in the contract.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Literal

import httpx

from conformance.client import ConformanceClient
from conformance.config import TargetSettings
from conformance.harness.tracker import SetupFailed, Tracker
from conformance.invariants.pagination import page_params
from conformance.spec import Contract
from conformance.suite.support import expect

MAX_PAGES = 60  # a walk longer than this is a pagination bug, not a big list


def create(
    client: ConformanceClient,
    contract: Contract,
    tracker: Tracker | None,
    operation_id: str,
    path: str,
    body: Mapping[str, Any] | None,
    *,
    kind: str | None = None,
    delete_path: str | None = None,
) -> dict[str, Any]:
    """POST a create, register what it made for deletion (before any check can fail), check it.

    `tracker`/`kind` None: the object goes with its parent (a message with its thread)."""
    response = client.post(path, json=dict(body) if body is not None else None)
    if tracker is not None and kind is not None and response.status_code == 200:
        object_id = str(response.json().get("id", ""))
        if object_id:
            tracker.register(kind, object_id, delete_path or f"{path}/{object_id}")
    created: dict[str, Any] = expect(contract, operation_id, response)
    return created


def unknown_id(prefix: str) -> str:
    """An id of the right shape that names nothing."""
    return f"{prefix}_aoaic{uuid.uuid4().hex[:20]}"


def file_ids(client: ConformanceClient, tracker: Tracker, settings: TargetSettings, count: int) -> list[str]:
    """Ids of `count` small text files the Assistants API can use (vector stores, attachments).

    The contract has no files API: the emulator accepts any `file-` id, a real resource needs an
    upload (POST /files, purpose assistants), which is deleted at teardown; a non-live target
    without a files API (404) gets synthetic ids too."""
    synthetic = [f"file-aoaic{uuid.uuid4().hex[:16]}" for _ in range(count)]
    if settings.kind == "emulator":
        return synthetic
    ids: list[str] = []
    for number in range(count):
        name = f"{tracker.name('file')}-{number}.txt"
        response = client.post(
            "/files",
            files={"file": (name, f"aoai-conformance test file {number}\n".encode(), "text/plain")},
            data={"purpose": "assistants"},
        )
        if response.status_code == 404 and settings.kind != "live" and not ids:
            return synthetic  # another emulator behind --base-url: no files API, any `file-` id goes
        if response.status_code not in (200, 201):
            raise SetupFailed(f"uploading a file failed: POST /files answered {response.status_code} "
                              f"{response.text[:300]}")
        file_id = str(response.json()["id"])
        tracker.register("file", file_id, f"/files/{file_id}")
        ids.append(file_id)
    return ids


def get_page(
    client: ConformanceClient, contract: Contract, operation_id: str, path: str, **params: Any
) -> dict[str, Any]:
    """One page of a list, checked against the contract (None parameters are not sent)."""
    page: dict[str, Any] = expect(contract, operation_id, client.get(path, params=params))
    return page


def walk(
    client: ConformanceClient,
    contract: Contract,
    operation_id: str,
    path: str,
    *,
    limit: int,
    order: str,
    direction: Literal["after", "before"] = "after",
    start: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every page of a cursor walk: the first with `start` (e.g. ``{"after": anchor}``), each next one
    from the previous page's cursor, until has_more is false.

    A cursor that comes back (the target ignores it) or MAX_PAGES pages end the walk early; the
    pages fetched so far are returned for `check_walk` to judge (it names the rule broken)."""
    base = {"limit": limit, "order": order, **(params or {})}
    query: dict[str, Any] = {**base, **(start or {})}
    pages: list[dict[str, Any]] = []
    used: set[str] = set()
    while len(pages) < MAX_PAGES:
        page = get_page(client, contract, operation_id, path, **query)
        pages.append(page)
        cursor = page_params(page, direction=direction)
        if cursor is None or cursor[direction] in used:
            break
        used.add(cursor[direction])
        query = {**base, **cursor}
    return pages


def ids_of(page: Mapping[str, Any]) -> list[str]:
    return [str(item["id"]) for item in page.get("data", []) if isinstance(item, Mapping) and "id" in item]


def body_of(response: httpx.Response) -> Any:
    """The parsed JSON body, or the raw text when it is not JSON (the envelope checks then say so)."""
    try:
        return response.json()
    except ValueError:
        return response.text
