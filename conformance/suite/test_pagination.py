"""Cursor pagination of every list operation: limits, orders, after/before walks, empties, defaults, bad limits.

Walks are judged by `conformance.invariants.pagination` (THE after/before rule). Lists scoped to a
fresh parent (a thread's messages and runs, a store's files) are a clean namespace, so a walk must
return exactly what the test created; the global lists (assistants, vector stores) may hold other
users' objects, so those walks start at the test's first object and only require the test's own.
Walks through items created within one second rely on the target breaking created_at ties by
creation order, as any consistent "newest first" must.

Cost (issue 8): item sets are made once per module and api-version (`shared`, see `conftest.py`)
and read by every order and limit; they are as small as the checks allow (4 messages: limit 2
ends on a full page one way and on a partial page the other, and so does the prime 3). Each
list operation walks every limit in both orders and both directions, and each order in both
directions (pairwise, `*_CASES`), not the full product of the three. The message thread is made
with its messages in one request (their texts tell the creation order), a global walk starts at
an object the module made anyway (the run assistant, the empty store), and the first run is made
with its thread.
"""

from __future__ import annotations

from typing import Any, Literal

import pytest

from conformance.client import ConformanceClient
from conformance.config import TargetSettings
from conformance.findings import require
from conformance.harness.tracker import SetupFailed, Tracker
from conformance.invariants import rules as R
from conformance.invariants.pagination import (
    check_filtered,
    check_limit_rejected,
    check_orders_reverse,
    check_same_page,
    check_walk,
)
from conformance.spec import Contract
from conformance.suite.conftest import Shared
from conformance.suite.resources import body_of, create, file_ids, get_page, ids_of, walk
from conformance.suite.support import TERMINAL, streamed_run, streamed_thread_and_run

pytestmark = [pytest.mark.pagination]

LIMITS = (1, 2, 3, 100)  # 3: a prime that divides neither the 4 items nor the 3 a before-walk sees
ORDERS = ("asc", "desc")
BAD_LIMITS = ("0", "101", "abc")
MESSAGES = 4
# Limit 1 walks them across pages, 2 ends on a full page, the prime 3 and 100 on a partial one (the
# walks that span pages and end on a partial page are those of the scoped lists, exact there).
GLOBAL_ITEMS = 2
RUNS = 3  # limit 2 needs more than two

Direction = Literal["after", "before"]


Case = tuple[Direction, int]  # (direction, limit) of one walk

# The walks each order makes. Every limit is walked in both orders and in both directions, and each
# order in both directions: pairwise coverage of limit x order x direction. The full product
# (16 walks for 4 limits) doubles the requests for combinations no rule treats differently.
MESSAGE_CASES: dict[str, tuple[Case, ...]] = {
    "asc": (("after", 100), ("after", 1), ("before", 2), ("before", 3)),
    "desc": (("after", 100), ("after", 2), ("after", 3), ("before", 1), ("before", 100)),
}
FILE_CASES: dict[str, tuple[Case, ...]] = {  # limits 1, 2, 100 over 3 files
    "asc": (("after", 100), ("after", 1), ("before", 2)),
    "desc": (("after", 100), ("after", 2), ("before", 1), ("before", 100)),
}
RUN_CASES: dict[str, tuple[Case, ...]] = {  # limits 1, 2 over 3 runs
    "asc": (("after", 1), ("before", 2)),
    "desc": (("after", 2), ("before", 1)),
}
STEP_CASES: dict[str, tuple[Case, ...]] = {"asc": (("after", 1),), "desc": (("before", 1),)}


def _walk_cases(
    client: ConformanceClient,
    contract: Contract,
    operation_id: str,
    path: str,
    ids: list[str],
    *,
    order: str,
    cases: tuple[Case, ...],
    params: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """`ids` (creation order) are the whole list: an after-walk reads it all from the start, a
    before-walk reads back everything older than its last item. Returns the limit-100 after-walk's
    page (the whole list in `order`) when one of the cases is that walk."""
    ordered = ids if order == "asc" else ids[::-1]
    whole = None
    for direction, limit in cases:
        if direction == "after":
            pages = walk(client, contract, operation_id, path, limit=limit, order=order, params=params)
            require(check_walk(pages, expected_ids=ordered, order=order, limit=limit, direction="after",
                               exact=True), f"{operation_id} after-walk, limit {limit}, order {order}")
            whole = pages[0] if limit == 100 else whole
        else:
            back = walk(client, contract, operation_id, path, limit=limit, order=order, params=params,
                        direction="before", start={"before": ordered[-1]})
            require(check_walk(back, expected_ids=ordered[:-1], order=order, limit=limit, direction="before",
                               exact=True), f"{operation_id} before-walk from the last item, limit {limit}, order {order}")
    return whole


def _empty_thread(shared: Shared) -> str:
    """A thread nothing is ever added to (empty lists, bad limits)."""
    return shared.once("empty thread", lambda tracker: str(tracker.thread()["id"]))


def _empty_store(shared: Shared) -> str:
    return shared.once("empty store", lambda tracker: str(tracker.vector_store()["id"]))


def _stores(shared: Shared) -> list[str]:
    """The empty store (made first, so older), then GLOBAL_ITEMS stores in creation order: what the
    vector store walks read. The store-files and batch sets add their files to the 2nd and 3rd
    (which moves neither in the list: issue 8, cost)."""
    def make(tracker: Tracker) -> list[str]:
        anchor = _empty_store(shared)  # it stays empty
        return [anchor, *(str(tracker.vector_store(name=tracker.name(f"page-{n}"))["id"]) for n in range(GLOBAL_ITEMS))]

    return shared.once("stores", make)


def _files(client: ConformanceClient, shared: Shared, settings: TargetSettings) -> list[str]:
    """Three files per module and api-version, added to one store one by one and to another in a
    batch (a file can be in several stores; each is an upload on a real resource: issue 8)."""
    return shared.once("files", lambda tracker: file_ids(client, tracker, settings, 3))


# ---------------------------------------------------------------- messages (a thread is a clean namespace)

def _text(message: dict[str, Any]) -> str:
    parts = message.get("content") or []
    return "".join(str((part.get("text") or {}).get("value", "")) for part in parts if isinstance(part, dict))


def _message_set(client: ConformanceClient, contract: Contract,
                 shared: Shared) -> tuple[str, list[str], dict[str, Any]]:
    """(thread id, message ids in creation order, the asc limit-100 page they were read from).

    The messages are created with their thread, in one request; "message <n>" says which came n-th,
    so the order is known from what was sent, never from how the target lists it."""
    def make(tracker: Tracker) -> tuple[str, list[str], dict[str, Any]]:
        texts = [f"message {n}" for n in range(MESSAGES)]
        thread_id = str(tracker.thread(messages=[{"role": "user", "content": text} for text in texts])["id"])
        page = get_page(client, contract, "List_Messages", f"/threads/{thread_id}/messages", limit=100, order="asc")
        by_text = {_text(message): str(message.get("id")) for message in page.get("data", [])}
        missing = [text for text in texts if text not in by_text]
        if missing:
            raise SetupFailed(f"a thread created with {texts} lists {sorted(by_text)}; missing {missing}")
        return thread_id, [by_text[text] for text in texts], page

    return shared.once("messages", make)


@pytest.mark.operation("List_Messages")
# smoke: one order's walks (a thread made with its messages: the cheapest set, and deleted whole)
@pytest.mark.parametrize("order", [pytest.param("asc", marks=pytest.mark.smoke), "desc"])
def test_messages_list_walks(client: ConformanceClient, contract: Contract, shared: Shared, order: str) -> None:
    thread_id, ids, whole = _message_set(client, contract, shared)  # whole: the asc limit-100 page
    path = f"/threads/{thread_id}/messages"
    cases = MESSAGE_CASES[order]
    if order == "asc":  # once per module (under desc it would compare the same two pages again)
        # first, so an ignored `order` is reported as such rather than as a walk that went wrong
        other = get_page(client, contract, "List_Messages", path, limit=100, order="desc")
        require(check_orders_reverse(whole, other), "List_Messages asc against desc")
        require(check_walk([whole], expected_ids=ids, order="asc", limit=100, direction="after", exact=True),
                "List_Messages after-walk, limit 100, order asc")
        cases = tuple(case for case in cases if case != ("after", 100))
    _walk_cases(client, contract, "List_Messages", path, ids, order=order, cases=cases)


@pytest.mark.operation("List_Messages")
def test_messages_list_empty(client: ConformanceClient, contract: Contract, shared: Shared) -> None:
    thread_id = _empty_thread(shared)
    page = get_page(client, contract, "List_Messages", f"/threads/{thread_id}/messages")
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
def test_messages_list_rejects_bad_limit(client: ConformanceClient, contract: Contract, shared: Shared,
                                         limit: str) -> None:
    thread_id = _empty_thread(shared)
    response = client.get(f"/threads/{thread_id}/messages", params={"limit": limit})
    require(check_limit_rejected(limit, response.status_code, body_of(response)),
            f"List_Messages limit={limit}")


# ---------------------------------------------------------------- runs: one thread with finished runs, read only

def _run_assistant(shared: Shared) -> str:
    """The assistant of the run set, also the anchor the assistants walks start from."""
    return shared.once("run assistant", lambda tracker: str(tracker.assistant(instructions="Answer with one word.")["id"]))


def _run_set(client: ConformanceClient, contract: Contract, shared: Shared) -> tuple[str, list[str]]:
    """A thread with RUNS finished runs (ids in creation order); its runs are never changed."""
    def make(tracker: Tracker) -> tuple[str, list[str]]:
        body = {"assistant_id": _run_assistant(shared)}
        # the first run with its thread; one at a time (a thread has one active run at most), streamed:
        # one request each
        runs = [streamed_thread_and_run(client, tracker, body, "Say yes.")]
        thread_id = str(runs[0]["thread_id"])
        while len(runs) < RUNS:
            runs.append(streamed_run(client, contract, thread_id, body))
        for run in runs:
            if run.get("status") not in TERMINAL:
                raise SetupFailed(f"streamed run {run.get('id')} on thread {thread_id} ended {run.get('status')!r}")
        return thread_id, [str(run["id"]) for run in runs]

    return shared.once("runs", make)


@pytest.mark.expensive
@pytest.mark.operation("List_Messages")
def test_messages_list_run_id_filter(client: ConformanceClient, contract: Contract, tracker: Tracker,
                                     shared: Shared) -> None:
    thread_id, runs = _run_set(client, contract, shared)
    path = f"/threads/{thread_id}"
    run_id = runs[0]
    # The thread's first message (the user's) and the other runs' answers: what the filter must leave out.
    everything = get_page(client, contract, "List_Messages", f"{path}/messages", limit=100, order="asc")
    of_run = [str(m["id"]) for m in everything["data"] if m.get("run_id") == run_id]
    assert of_run, f"run {run_id} ended without adding a message; cannot check the run_id filter"
    pages = walk(client, contract, "List_Messages", f"{path}/messages", limit=1, order="asc",
                 params={"run_id": run_id})
    require(check_walk(pages, expected_ids=of_run, order="asc", limit=1, exact=True),
            "List_Messages run_id filter returns the run's messages and nothing else")


@pytest.mark.operation("List_Runs")
def test_runs_list_empty(client: ConformanceClient, contract: Contract, shared: Shared) -> None:
    thread_id = _empty_thread(shared)
    page = get_page(client, contract, "List_Runs", f"/threads/{thread_id}/runs")
    require(check_walk([page], expected_ids=[], exact=True), "runs of a new thread")


@pytest.mark.operation("List_Runs")
@pytest.mark.parametrize("limit", BAD_LIMITS)
def test_runs_list_rejects_bad_limit(client: ConformanceClient, shared: Shared, limit: str) -> None:
    thread_id = _empty_thread(shared)
    response = client.get(f"/threads/{thread_id}/runs", params={"limit": limit})
    require(check_limit_rejected(limit, response.status_code, body_of(response)), f"List_Runs limit={limit}")


@pytest.mark.expensive
@pytest.mark.operation("List_Runs")
def test_runs_list_walks(client: ConformanceClient, contract: Contract, shared: Shared) -> None:
    thread_id, ids = _run_set(client, contract, shared)
    path = f"/threads/{thread_id}/runs"
    for order in ORDERS:
        _walk_cases(client, contract, "List_Runs", path, ids, order=order, cases=RUN_CASES[order])


@pytest.mark.expensive
@pytest.mark.operation("List_Run_Steps")
def test_run_steps_list_walks(client: ConformanceClient, contract: Contract, shared: Shared) -> None:
    thread_id, runs = _run_set(client, contract, shared)
    path = f"/threads/{thread_id}/runs/{runs[0]}/steps"
    everything = get_page(client, contract, "List_Run_Steps", path, limit=100, order="asc")
    ids = ids_of(everything)
    assert ids, f"run {runs[0]} ended without steps; cannot walk them"
    for order in ORDERS:
        _walk_cases(client, contract, "List_Run_Steps", path, ids, order=order, cases=STEP_CASES[order])


# ---------------------------------------------------------------- global lists: only the test's own objects

def _global_walk(
    client: ConformanceClient,
    contract: Contract,
    operation_id: str,
    path: str,
    items: list[str],
    *,
    order: str,
) -> None:
    """`items`: an anchor (an object made before them) then GLOBAL_ITEMS objects; walk from the
    anchor towards the newer end."""
    anchor, *ids = items
    direction: Direction = "after" if order == "asc" else "before"
    expected = ids if order == "asc" else ids[::-1]
    for limit in LIMITS:
        pages = walk(client, contract, operation_id, path, limit=limit, order=order, direction=direction,
                     start={direction: anchor})
        require(check_walk(pages, expected_ids=expected, order=order, limit=limit, direction=direction),
                f"{operation_id} {direction}-walk from the test's first object, limit {limit}, order {order}")


@pytest.mark.operation("List_Assistants")
@pytest.mark.parametrize("order", ORDERS)
def test_assistants_list_walks(client: ConformanceClient, contract: Contract, shared: Shared, order: str) -> None:
    def make(tracker: Tracker) -> list[str]:
        anchor = _run_assistant(shared)  # made by now, so older than the walk's items
        return [anchor, *(str(tracker.assistant(name=tracker.name(f"page-{n}"))["id"]) for n in range(GLOBAL_ITEMS))]

    _global_walk(client, contract, "List_Assistants", "/assistants", shared.once("assistants", make), order=order)


@pytest.mark.operation("List_Vector_Stores")
@pytest.mark.parametrize("order", ORDERS)
def test_vector_stores_list_walks(client: ConformanceClient, contract: Contract, shared: Shared, order: str) -> None:
    _global_walk(client, contract, "List_Vector_Stores", "/vector_stores", _stores(shared), order=order)


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

def _store_with_files(client: ConformanceClient, contract: Contract, shared: Shared,
                      settings: TargetSettings) -> tuple[str, list[str]]:
    """A store with 3 files, read by the walks and the status filters (neither changes it)."""
    def make(tracker: Tracker) -> tuple[str, list[str]]:
        store_id = _stores(shared)[1]
        ids = []
        for file_id in _files(client, shared, settings):  # one request each: their creation order is known
            created = create(client, contract, None, "Create_Vector_Store_File",
                             f"/vector_stores/{store_id}/files", {"file_id": file_id})
            ids.append(str(created["id"]))
        return store_id, ids

    return shared.once("store files", make)


@pytest.mark.operation("List_Vector_Store_Files")
@pytest.mark.parametrize("order", ORDERS)
def test_vector_store_files_list_walks(client: ConformanceClient, contract: Contract, shared: Shared,
                                       aoai_settings: TargetSettings, order: str) -> None:
    store_id, ids = _store_with_files(client, contract, shared, aoai_settings)
    _walk_cases(client, contract, "List_Vector_Store_Files", f"/vector_stores/{store_id}/files", ids,
                order=order, cases=FILE_CASES[order])


@pytest.mark.operation("List_Vector_Store_Files")
def test_vector_store_files_list_empty(client: ConformanceClient, contract: Contract, shared: Shared) -> None:
    store_id = _empty_store(shared)
    page = get_page(client, contract, "List_Vector_Store_Files", f"/vector_stores/{store_id}/files")
    require(check_walk([page], expected_ids=[], exact=True), "files of a new vector store")


@pytest.mark.operation("List_Vector_Store_Files")
@pytest.mark.parametrize("limit", BAD_LIMITS)
def test_vector_store_files_list_rejects_bad_limit(client: ConformanceClient, shared: Shared, limit: str) -> None:
    store_id = _empty_store(shared)
    response = client.get(f"/vector_stores/{store_id}/files", params={"limit": limit})
    require(check_limit_rejected(limit, response.status_code, body_of(response)),
            f"List_Vector_Store_Files limit={limit}")


@pytest.mark.operation("List_Vector_Store_Files")
def test_vector_store_files_list_filter(client: ConformanceClient, contract: Contract, shared: Shared,
                                        aoai_settings: TargetSettings) -> None:
    store_id, ids = _store_with_files(client, contract, shared, aoai_settings)
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
def test_file_batch_files_list_walks(client: ConformanceClient, contract: Contract, shared: Shared,
                                     aoai_settings: TargetSettings, order: str) -> None:
    def make(tracker: Tracker) -> tuple[str, list[str]]:
        store_id = _stores(shared)[2]
        files = _files(client, shared, aoai_settings)
        batch = create(client, contract, None, "Create_Vector_Store_File_Batch",
                       f"/vector_stores/{store_id}/file_batches", {"file_ids": files})
        return f"/vector_stores/{store_id}/file_batches/{batch['id']}/files", files

    path, files = shared.once("batch", make)
    # The whole list in one page (the limit-100 after-walk): the batch holds exactly the files sent.
    whole = get_page(client, contract, "List_Vector_Store_File_Batch_Files", path, limit=100, order=order)
    assert sorted(ids_of(whole)) == sorted(files), f"the batch lists files {ids_of(whole)}, created with {files}"
    ids = ids_of(whole) if order == "asc" else ids_of(whole)[::-1]  # creation order, judged by created_at below
    require(check_walk([whole], expected_ids=ids_of(whole), order=order, limit=100, direction="after", exact=True),
            f"List_Vector_Store_File_Batch_Files after-walk, limit 100, order {order}")
    rest = tuple(case for case in FILE_CASES[order] if case != ("after", 100))
    _walk_cases(client, contract, "List_Vector_Store_File_Batch_Files", path, ids, order=order, cases=rest)
