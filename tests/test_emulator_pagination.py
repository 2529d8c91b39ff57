"""The one pagination rule: limits, order, cursors, has_more, first/last ids, walks under inserts,
and the cost of a large thread."""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass
from typing import Any

import pytest

from conformance.emulator.errors import ApiError
from conformance.emulator.pagination import paginate
from conformance.emulator.settings import EmulatorSettings
from conformance.emulator.testing import EmulatorApi, FakeClock
from conformance.findings import errors
from conformance.invariants.pagination import check_list_envelope


@dataclass
class Item:
    id: str


ITEMS = [Item(f"i{n:02d}") for n in range(25)]  # creation order


def page(query: dict[str, str], items: list[Item] = ITEMS) -> dict[str, Any]:
    return paginate(items, query, id_of=lambda i: i.id, render=lambda i: {"id": i.id})


def ids(body: dict[str, Any]) -> list[str]:
    return [d["id"] for d in body["data"]]


def test_defaults_newest_first_twenty() -> None:
    body = page({})
    assert ids(body) == [f"i{n:02d}" for n in range(24, 4, -1)]
    assert (body["first_id"], body["last_id"], body["has_more"]) == ("i24", "i05", True)
    assert body["object"] == "list" and not errors(check_list_envelope(body))


def test_empty_list_has_null_ids() -> None:
    assert page({}, []) == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_after_walk_visits_every_item_once(order: str) -> None:
    seen: list[str] = []
    query = {"limit": "7", "order": order}
    while True:
        body = page(query)
        seen += ids(body)
        if not body["has_more"]:
            break
        query = {**query, "after": body["last_id"]}
    expected = [i.id for i in ITEMS]
    assert seen == (expected if order == "asc" else expected[::-1])


def test_before_returns_the_items_just_before_the_cursor() -> None:
    body = page({"order": "asc", "before": "i10", "limit": "3"})
    assert ids(body) == ["i07", "i08", "i09"] and body["has_more"] is True
    body = page({"order": "asc", "before": "i02", "limit": "5"})
    assert ids(body) == ["i00", "i01"] and body["has_more"] is False


def test_after_and_before_together_bound_a_window() -> None:
    assert ids(page({"order": "asc", "after": "i03", "before": "i07"})) == ["i04", "i05", "i06"]


def test_cursor_keeps_its_place_when_items_are_inserted() -> None:
    items = list(ITEMS)
    first = page({"limit": "5", "order": "asc"}, items)
    items.append(Item("i99"))  # a concurrent insert lands at the end of creation order
    second = page({"limit": "5", "order": "asc", "after": first["last_id"]}, items)
    assert ids(second) == ["i05", "i06", "i07", "i08", "i09"]


@pytest.mark.parametrize("query, param", [
    ({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"limit": "ten"}, "limit"),
    ({"order": "up"}, "order"), ({"after": "nope"}, "after"), ({"before": "nope"}, "before"),
])
def test_bad_parameters_are_400_naming_the_parameter(query: dict[str, str], param: str) -> None:
    with pytest.raises(ApiError) as caught:
        page(query)
    assert caught.value.status == 400 and caught.value.body["error"]["param"] == param


def test_limit_bounds_are_inclusive() -> None:
    assert len(page({"limit": "1"})["data"]) == 1
    assert len(page({"limit": "100"})["data"]) == 25


def test_lists_over_http_validate_limit_through_the_contract() -> None:
    api = EmulatorApi.create(EmulatorSettings(), clock=FakeClock())
    for bad in ("0", "101", "x"):
        body = api.call("GET", "/assistants", query={"limit": bad}, expect=400)
        assert body["error"]["param"] == "limit"
    body = api.call("GET", "/assistants", query={"order": "sideways"}, expect=400)
    assert body["error"]["param"] == "order"


def test_large_thread_pages_stay_fast() -> None:
    clock = FakeClock()
    api = EmulatorApi.create(EmulatorSettings(), clock=clock)
    thread = api.call("POST", "/threads")["id"]
    store = api.client.app.state.emulator.store  # type: ignore[attr-defined]
    from conformance.emulator.store import Message

    record = store.threads[thread]

    def add(count: int) -> None:
        for _ in range(count):  # straight into the store: the HTTP path is not what is measured
            message_id, seq = store.new_id("msg")
            message = Message(id=message_id, thread_id=thread, created_at=store.timestamp(), seq=seq,
                              role="user", text=f"m{len(record.messages)}")
            record.messages.append(message)
            record.message_index[message_id] = message

    tracemalloc.start()  # measured on a tenth, extrapolated: tracing all of it is slow
    add(10_000)
    sample, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert sample * 10 < 80_000_000, f"100,000 messages would take {sample * 10 / 1e6:.0f} MB"
    add(90_000)
    started = time.perf_counter()
    first = api.call("GET", f"/threads/{thread}/messages", query={"limit": "100"})
    after = api.call("GET", f"/threads/{thread}/messages", query={"limit": "100", "after": first["last_id"]})
    assert time.perf_counter() - started < 2.0
    assert after["data"][0]["content"][0]["text"]["value"] == "m99899"
