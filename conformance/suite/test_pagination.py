"""Cursor pagination of every list operation: limits, orders, after/before walks, empties, defaults, bad limits.

Walks are judged by `conformance.invariants.pagination` (THE after/before rule). Lists scoped to a
fresh parent (a thread's messages and runs, a store's files) are a clean namespace, so a walk must
return exactly what the test created; the global lists (assistants, vector stores) may hold other
users' objects, so those walks start at the test's first object and only require the test's own.
Walks through items created within one second rely on the target breaking created_at ties by
creation order, as any consistent "newest first" must.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pytest

from conformance.client import ConformanceClient
from conformance.config import TargetSettings
from conformance.findings import require
from conformance.harness.tracker import Tracker
from conformance.invariants import rules as R
from conformance.invariants.pagination import (
    check_filtered,
    check_limit_rejected,
    check_orders_reverse,
    check_same_page,
    check_walk,
)
from conformance.spec import Contract
from conformance.suite.resources import body_of, create, file_ids, get_page, ids_of, walk
from conformance.suite.support import TERMINAL, expect, poll_run

pytestmark = [pytest.mark.pagination]

LIMITS = (1, 2, 7, 100)  # 7: a prime that divides no page count evenly
ORDERS = ("asc", "desc")
BAD_LIMITS = ("0", "101", "abc")
MESSAGES = 9
GLOBAL_ITEMS = 4

Direction = Literal["after", "before"]


def _walk_both_ways(
    client: ConformanceClient,
    contract: Contract,
    operation_id: str,
    path: str,
    ids: list[str],
    *,
    limit: int,
    order: str,
    params: dict[str, Any] | None = None,
) -> None:
    """`ids` (creation order) are the whole list: walk it forwards, then backwards from its last item."""
    ordered = ids if order == "asc" else ids[::-1]
    pages = walk(client, contract, operation_id, path, limit=limit, order=order, params=params)
    require(check_walk(pages, expected_ids=ordered, order=order, limit=limit, direction="after", exact=True),
            f"{operation_id} after-walk, limit {limit}, order {order}")
    back = walk(client, contract, operation_id, path, limit=limit, order=order, params=params,
                direction="before", start={"before": ordered[-1]})
    require(check_walk(back, expected_ids=ordered[:-1], order=order, limit=limit, direction="before", exact=True),
            f"{operation_id} before-walk from the last item, limit {limit}, order {order}")


def _messages(client: ConformanceClient, contract: Contract, thread_id: str, count: int) -> list[str]:
    path = f"/threads/{thread_id}/messages"
    return [create(client, contract, None, "Create_Message", path, {"role": "user", "content": f"message {n}"})["id"]
            for n in range(count)]


# ---------------------------------------------------------------- messages (a thread is a clean namespace)

@pytest.mark.operation("List_Messages")
@pytest.mark.parametrize("order", ORDERS)
def test_messages_list_walks(client: ConformanceClient, contract: Contract, tracker: Tracker, order: str) -> None:
    thread = tracker.thread()
    ids = _messages(client, contract, thread["id"], MESSAGES)
    path = f"/threads/{thread['id']}/messages"
    other = "desc" if order == "asc" else "asc"
    pages = {o: get_page(client, contract, "List_Messages", path, limit=100, order=o) for o in (order, other)}
    require(check_orders_reverse(pages["asc"], pages["desc"]), "List_Messages asc against desc")
    for limit in LIMITS:
        _walk_both_ways(client, contract, "List_Messages", f"/threads/{thread['id']}/messages", ids,
                        limit=limit, order=order)


@pytest.mark.operation("List_Messages")
def test_messages_list_empty(client: ConformanceClient, contract: Contract, tracker: Tracker) -> None:
    thread = tracker.thread()
    page = get_page(client, contract, "List_Messages", f"/threads/{thread['id']}/messages")
    require(check_walk([page], expected_ids=[], exact=True), "messages of a new thread")


@pytest.mark.operation("List_Messages")
def test_messages_list_defaults(client: ConformanceClient, contract: Contract, tracker: Tracker) -> None:
    # 21 messages: one more than the default page, so the default limit shows.
    thread = tracker.thread(messages=[{"role": "user", "content": f"message {n}"} for n in range(21)])
    path = f"/threads/{thread['id']}/messages"
    explicit = get_page(client, contract, "List_Messages", path, limit=20, order="desc")
    assert len(ids_of(explicit)) == 20, f"limit=20 over 21 messages returned {len(ids_of(explicit))}"
    no_limit = get_page(client, contract, "List_Messages", path, order="desc")
    require(check_same_page(no_limit, explicit, rule=R.PAGINATION_LIMIT, what="the page without limit"),
            "the default limit is 20")
    no_order = get_page(client, contract, "List_Messages", path, limit=20)
    require(check_same_page(no_order, explicit, rule=R.PAGINATION_ORDER, what="the page without order"),
            "the default order is desc")
    ascending = get_page(client, contract, "List_Messages", path, limit=20, order="asc")
    assert ids_of(ascending) != ids_of(explicit), "order=asc and order=desc answered the same page"


@pytest.mark.operation("List_Messages")
@pytest.mark.parametrize("limit", BAD_LIMITS)
def test_messages_list_rejects_bad_limit(client: ConformanceClient, contract: Contract, tracker: Tracker,
                                         limit: str) -> None:
    thread = tracker.thread()
    response = client.get(f"/threads/{thread['id']}/messages", params={"limit": limit})
    require(check_limit_rejected(limit, response.status_code, body_of(response)),
            f"List_Messages limit={limit}")


@pytest.mark.expensive
@pytest.mark.operation("List_Messages")
def test_messages_list_run_id_filter(client: ConformanceClient, contract: Contract, tracker: Tracker) -> None:
    assistant = tracker.assistant(instructions="Answer in one short sentence.")
    thread = tracker.thread(messages=[{"role": "user", "content": "Say hello."}])
    path = f"/threads/{thread['id']}"
    run = expect(contract, "Create_Run", client.post(f"{path}/runs", json={"assistant_id": assistant["id"]}))
    poll_run(client, contract, thread["id"], run["id"], until=TERMINAL)
    _messages(client, contract, thread["id"], 2)  # messages with no run, which the filter must leave out
    everything = get_page(client, contract, "List_Messages", f"{path}/messages", limit=100, order="asc")
    of_run = [str(m["id"]) for m in everything["data"] if m.get("run_id") == run["id"]]
    assert of_run, f"run {run['id']} ended without adding a message; cannot check the run_id filter"
    pages = walk(client, contract, "List_Messages", f"{path}/messages", limit=1, order="asc",
                 params={"run_id": run["id"]})
    require(check_walk(pages, expected_ids=of_run, order="asc", limit=1, exact=True),
            "List_Messages run_id filter returns the run's messages and nothing else")


# ---------------------------------------------------------------- global lists: only the test's own objects

def _global_walk(
    client: ConformanceClient,
    contract: Contract,
    operation_id: str,
    path: str,
    make: Callable[[int], str],
    *,
    order: str,
) -> None:
    """Create an anchor then GLOBAL_ITEMS objects; walk from the anchor towards the newer end."""
    anchor, *ids = [make(n) for n in range(GLOBAL_ITEMS + 1)]
    direction: Direction = "after" if order == "asc" else "before"
    expected = ids if order == "asc" else ids[::-1]
    for limit in LIMITS:
        pages = walk(client, contract, operation_id, path, limit=limit, order=order, direction=direction,
                     start={direction: anchor})
        require(check_walk(pages, expected_ids=expected, order=order, limit=limit, direction=direction),
                f"{operation_id} {direction}-walk from the test's first object, limit {limit}, order {order}")


@pytest.mark.operation("List_Assistants")
@pytest.mark.parametrize("order", ORDERS)
def test_assistants_list_walks(client: ConformanceClient, contract: Contract, tracker: Tracker, order: str) -> None:
    def make(n: int) -> str:
        return str(tracker.assistant(name=tracker.name(f"page-{n}"))["id"])

    _global_walk(client, contract, "List_Assistants", "/assistants", make, order=order)


@pytest.mark.operation("List_Vector_Stores")
@pytest.mark.parametrize("order", ORDERS)
def test_vector_stores_list_walks(client: ConformanceClient, contract: Contract, tracker: Tracker, order: str) -> None:
    def make(n: int) -> str:
        return str(tracker.vector_store(name=tracker.name(f"page-{n}"))["id"])

    _global_walk(client, contract, "List_Vector_Stores", "/vector_stores", make, order=order)


@pytest.mark.operation("List_Assistants")
@pytest.mark.parametrize("limit", BAD_LIMITS)
def test_assistants_list_rejects_bad_limit(client: ConformanceClient, limit: str) -> None:
    response = client.get("/assistants", params={"limit": limit})
    require(check_limit_rejected(limit, response.status_code, body_of(response)),
            f"List_Assistants limit={limit}")


@pytest.mark.operation("List_Vector_Stores")
@pytest.mark.parametrize("limit", BAD_LIMITS)
def test_vector_stores_list_rejects_bad_limit(client: ConformanceClient, limit: str) -> None:
    response = client.get("/vector_stores", params={"limit": limit})
    require(check_limit_rejected(limit, response.status_code, body_of(response)),
            f"List_Vector_Stores limit={limit}")


# ---------------------------------------------------------------- vector store files and batch files

def _store_with_files(client: ConformanceClient, contract: Contract, tracker: Tracker,
                      settings: TargetSettings, count: int) -> tuple[str, list[str]]:
    store = tracker.vector_store()
    ids = []
    for file_id in file_ids(client, tracker, settings, count):
        created = create(client, contract, None, "Create_Vector_Store_File", f"/vector_stores/{store['id']}/files",
                         {"file_id": file_id})
        ids.append(str(created["id"]))
    return str(store["id"]), ids


@pytest.mark.operation("List_Vector_Store_Files")
@pytest.mark.parametrize("order", ORDERS)
def test_vector_store_files_list_walks(client: ConformanceClient, contract: Contract, tracker: Tracker,
                                       aoai_settings: TargetSettings, order: str) -> None:
    store_id, ids = _store_with_files(client, contract, tracker, aoai_settings, 3)
    for limit in (1, 2, 100):
        _walk_both_ways(client, contract, "List_Vector_Store_Files", f"/vector_stores/{store_id}/files", ids,
                        limit=limit, order=order)


@pytest.mark.operation("List_Vector_Store_Files")
def test_vector_store_files_list_empty(client: ConformanceClient, contract: Contract, tracker: Tracker) -> None:
    store = tracker.vector_store()
    page = get_page(client, contract, "List_Vector_Store_Files", f"/vector_stores/{store['id']}/files")
    require(check_walk([page], expected_ids=[], exact=True), "files of a new vector store")


@pytest.mark.operation("List_Vector_Store_Files")
@pytest.mark.parametrize("limit", BAD_LIMITS)
def test_vector_store_files_list_rejects_bad_limit(client: ConformanceClient, tracker: Tracker, limit: str) -> None:
    store = tracker.vector_store()
    response = client.get(f"/vector_stores/{store['id']}/files", params={"limit": limit})
    require(check_limit_rejected(limit, response.status_code, body_of(response)),
            f"List_Vector_Store_Files limit={limit}")


@pytest.mark.operation("List_Vector_Store_Files")
def test_vector_store_files_list_filter(client: ConformanceClient, contract: Contract, tracker: Tracker,
                                        aoai_settings: TargetSettings) -> None:
    store_id, ids = _store_with_files(client, contract, tracker, aoai_settings, 3)
    path = f"/vector_stores/{store_id}/files"
    # Every status filter partitions the store's files: together they return each file once, and
    # each page only holds files in the status it was asked for.
    seen: list[str] = []
    for status in ("in_progress", "completed", "failed", "cancelled"):
        pages = walk(client, contract, "List_Vector_Store_Files", path, limit=2, order="asc",
                     params={"filter": status})
        require(check_walk(pages, order="asc", limit=2), f"filter={status}")
        for page in pages:
            require(check_filtered(page, field="status", value=status), f"filter={status}")
            seen.extend(ids_of(page))
    # Statuses only move forward and the filters are asked in that order, so a file that changes
    # status between two calls can be seen twice but never missed.
    missing = sorted(set(ids) - set(seen))
    extra = sorted(set(seen) - set(ids))
    assert not missing, f"no status filter returned the store's files {missing}"
    assert not extra, f"status filters returned files the store does not hold: {extra}"


@pytest.mark.operation("List_Vector_Store_File_Batch_Files")
@pytest.mark.parametrize("order", ORDERS)
def test_file_batch_files_list_walks(client: ConformanceClient, contract: Contract, tracker: Tracker,
                                     aoai_settings: TargetSettings, order: str) -> None:
    store = tracker.vector_store()
    files = file_ids(client, tracker, aoai_settings, 3)
    batch = create(client, contract, None, "Create_Vector_Store_File_Batch",
                   f"/vector_stores/{store['id']}/file_batches", {"file_ids": files})
    path = f"/vector_stores/{store['id']}/file_batches/{batch['id']}/files"
    everything = get_page(client, contract, "List_Vector_Store_File_Batch_Files", path, limit=100, order="asc")
    assert sorted(ids_of(everything)) == sorted(files), (
        f"the batch lists files {ids_of(everything)}, created with {files}")
    for limit in (1, 2, 100):
        _walk_both_ways(client, contract, "List_Vector_Store_File_Batch_Files", path, ids_of(everything),
                        limit=limit, order=order)


# ---------------------------------------------------------------- runs and run steps (they spend tokens)

@pytest.mark.operation("List_Runs")
def test_runs_list_empty(client: ConformanceClient, contract: Contract, tracker: Tracker) -> None:
    thread = tracker.thread()
    page = get_page(client, contract, "List_Runs", f"/threads/{thread['id']}/runs")
    require(check_walk([page], expected_ids=[], exact=True), "runs of a new thread")


@pytest.mark.operation("List_Runs")
@pytest.mark.parametrize("limit", BAD_LIMITS)
def test_runs_list_rejects_bad_limit(client: ConformanceClient, tracker: Tracker, limit: str) -> None:
    thread = tracker.thread()
    response = client.get(f"/threads/{thread['id']}/runs", params={"limit": limit})
    require(check_limit_rejected(limit, response.status_code, body_of(response)), f"List_Runs limit={limit}")


@pytest.mark.expensive
@pytest.mark.operation("List_Runs")
def test_runs_list_walks(client: ConformanceClient, contract: Contract, tracker: Tracker) -> None:
    assistant = tracker.assistant(instructions="Answer with one word.")
    thread = tracker.thread(messages=[{"role": "user", "content": "Say yes."}])
    path = f"/threads/{thread['id']}/runs"
    ids = []
    for _ in range(3):  # one at a time: a thread has one active run at most
        run = expect(contract, "Create_Run", client.post(path, json={"assistant_id": assistant["id"]}))
        poll_run(client, contract, thread["id"], run["id"])
        ids.append(str(run["id"]))
    for limit in (1, 2):
        for order in ORDERS:
            _walk_both_ways(client, contract, "List_Runs", path, ids, limit=limit, order=order)


@pytest.mark.expensive
@pytest.mark.operation("List_Run_Steps")
def test_run_steps_list_walks(client: ConformanceClient, contract: Contract, tracker: Tracker) -> None:
    assistant = tracker.assistant(instructions="Answer with one word.")
    thread = tracker.thread(messages=[{"role": "user", "content": "Say yes."}])
    run = expect(contract, "Create_Run", client.post(f"/threads/{thread['id']}/runs",
                                                     json={"assistant_id": assistant["id"]}))
    poll_run(client, contract, thread["id"], run["id"])
    path = f"/threads/{thread['id']}/runs/{run['id']}/steps"
    everything = get_page(client, contract, "List_Run_Steps", path, limit=100, order="asc")
    ids = ids_of(everything)
    assert ids, f"run {run['id']} ended without steps; cannot walk them"
    for order in ORDERS:
        _walk_both_ways(client, contract, "List_Run_Steps", path, ids, limit=1, order=order)
