"""Pagination invariants: the after/before rule, one page, whole walks against model servers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conformance.findings import errors
from conformance.invariants import check_list_envelope, check_page, check_walk, page_params, select_page

Item = dict[str, Any]
Server = Callable[..., dict[str, Any]]


def items_at(*created: int) -> list[Item]:
    # `seq` breaks created_at ties the way a store would (insertion order).
    return [{"id": f"msg_{seq:03d}", "object": "thread.message", "created_at": at, "seq": seq}
            for seq, at in enumerate(created)]


def envelope(data: list[Item], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "first_id": data[0].get("id") if data else None,
            "last_id": data[-1].get("id") if data else None, "has_more": has_more}


def ordered(items: list[Item], order: str) -> list[Item]:
    return sorted(items, key=lambda i: (i["created_at"], i["seq"]), reverse=order == "desc")


def serve(items: list[Item], *, limit: int, order: str, after: str | None = None,
          before: str | None = None) -> dict[str, Any]:
    """A conforming list endpoint: THE after/before rule applied to the store."""
    page, more = select_page(ordered(items, order), key=lambda i: str(i["id"]), limit=limit, after=after,
                             before=before)
    return envelope(page, more)


def serve_inclusive_cursor(items: list[Item], *, limit: int, order: str, after: str | None = None,
                           before: str | None = None) -> dict[str, Any]:
    """Faulty: `after` includes the cursor item itself (a duplicate at every page boundary)."""
    seq = ordered(items, order)
    start = next(i for i, item in enumerate(seq) if item["id"] == after) if after else 0
    window = seq[start:]
    return envelope(window[:limit], len(window) > limit)


def serve_skipping(items: list[Item], *, limit: int, order: str, after: str | None = None,
                   before: str | None = None) -> dict[str, Any]:
    """Faulty: `after` skips the item right after the cursor (a drop at every page boundary)."""
    seq = ordered(items, order)
    start = next(i for i, item in enumerate(seq) if item["id"] == after) + 2 if after else 0
    window = seq[start:]
    return envelope(window[:limit], len(window) > limit)


def walk(items: list[Item], *, limit: int, order: str, server: Server = serve,
         direction: Literal["after", "before"] = "after", start: dict[str, str] | None = None) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    params: dict[str, str] = dict(start or {})
    for _ in range(len(items) + 2):  # bounded: a broken server may never say has_more false
        page = server(items, limit=limit, order=order, **params)
        pages.append(page)
        following = page_params(page, direction=direction)
        if following is None:
            break
        params = following
    return pages


def rules_of(findings: list[Any]) -> set[str]:
    return {f.rule for f in errors(findings)}


# select_page: the rule itself --------------------------------------------------------------------

IDS = ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize(
    ("kwargs", "page", "more"),
    [
        ({"limit": 2}, ["a", "b"], True),
        ({"limit": 5}, IDS, False),
        ({"limit": 2, "after": "b"}, ["c", "d"], True),
        ({"limit": 2, "after": "c"}, ["d", "e"], False),
        ({"limit": 2, "after": "e"}, [], False),
        ({"limit": 2, "before": "e"}, ["c", "d"], True),  # nearest the cursor
        ({"limit": 2, "before": "c"}, ["a", "b"], False),
        ({"limit": 5, "after": "a", "before": "e"}, ["b", "c", "d"], False),
        ({"limit": 2, "after": "a", "before": "e"}, ["b", "c"], True),
    ],
)
def test_select_page_rule(kwargs: dict[str, Any], page: list[str], more: bool) -> None:
    assert select_page(IDS, key=str, **kwargs) == (page, more)


def test_select_page_unknown_cursor() -> None:
    with pytest.raises(LookupError, match="after='zz'"):
        select_page(IDS, key=str, after="zz")


def test_page_params() -> None:
    page = envelope(items_at(5, 4), True)
    assert page_params(page) == {"after": "msg_001"}
    assert page_params(page, direction="before") == {"before": "msg_000"}
    assert page_params({**page, "has_more": False}) is None


# one page ---------------------------------------------------------------------------------------

def test_recorded_empty_list_is_valid() -> None:
    assert check_page({"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}) == []


def test_page_with_ties_is_in_order() -> None:
    page = envelope(ordered(items_at(5, 5, 5, 4, 4), "desc"), False)
    assert errors(check_page(page, limit=20, order="desc")) == []


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ([], "pagination.envelope"),
        ({**envelope([], False), "object": "thread.message"}, "pagination.envelope"),
        ({**envelope([], False), "data": {}}, "pagination.envelope"),
        ({**envelope([], False), "has_more": "false"}, "pagination.envelope"),
        ({k: v for k, v in envelope([], False).items() if k != "last_id"}, "pagination.envelope"),
        (envelope([{"object": "thread.message"}], False), "pagination.envelope"),
        ({**envelope(items_at(3, 2), False), "first_id": "msg_001"}, "pagination.first_id"),
        ({**envelope(items_at(3, 2), False), "last_id": "msg_000"}, "pagination.last_id"),
        ({**envelope([], False), "first_id": "msg_000"}, "pagination.first_id"),
        (envelope(items_at(2, 3), False), "pagination.order"),
        (envelope(items_at(*range(30, 9, -1)), True), "pagination.limit"),
        (envelope(items_at(3) * 2, False), "pagination.walk_complete"),
    ],
)
def test_bad_pages(body: Any, rule: str) -> None:
    assert rule in rules_of(check_page(body, order="desc"))


def test_limit_is_the_requested_one() -> None:
    page = envelope(items_at(3, 2, 1), True)
    assert "pagination.limit" in rules_of(check_page(page, limit=2))
    assert errors(check_page(page, limit=3)) == []


def test_ascending_order() -> None:
    assert errors(check_page(envelope(items_at(1, 1, 2), False), order="asc")) == []
    assert "pagination.order" in rules_of(check_page(envelope(items_at(2, 1), False), order="asc"))


def test_envelope_alone() -> None:
    assert check_list_envelope(envelope(items_at(1), False)) == []


def test_unknown_order_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="order"):
        check_page(envelope([], False), order="newest")


# walks ------------------------------------------------------------------------------------------

STORE = items_at(10, 10, 11, 12, 12, 12, 13, 14)
ALL_IDS = [str(i["id"]) for i in STORE]


def test_conforming_walk() -> None:
    pages = walk(STORE, limit=3, order="desc")
    assert len(pages) == 3
    assert check_walk(pages, expected_ids=ALL_IDS, order="desc", limit=3, exact=True) == []


@pytest.mark.parametrize(
    ("server", "rules"),
    [(serve_inclusive_cursor, {"pagination.cursor", "pagination.walk_complete"}),
     (serve_skipping, {"pagination.walk_complete"})],
)
def test_faulty_servers(server: Server, rules: set[str]) -> None:
    pages = walk(STORE, limit=3, order="asc", server=server)
    assert rules <= rules_of(check_walk(pages, expected_ids=ALL_IDS, order="asc", limit=3))


def test_has_more_must_be_false_exactly_on_the_last_page() -> None:
    pages = walk(STORE, limit=3, order="desc")
    early_stop = [pages[0], {**pages[1], "has_more": False}, pages[2]]
    never_stops = [*pages[:2], {**pages[2], "has_more": True}]
    assert "pagination.has_more" in rules_of(check_walk(early_stop, order="desc"))
    assert "pagination.has_more" in rules_of(check_walk(never_stops, order="desc"))
    assert "pagination.has_more" in rules_of(check_walk([envelope([], True), envelope([], False)]))


def test_cursor_must_continue_in_order() -> None:
    pages = walk(STORE, limit=3, order="desc")
    assert "pagination.cursor" in rules_of(check_walk([pages[1], pages[0]], order="desc"))


def test_walk_coverage() -> None:
    pages = walk(STORE, limit=3, order="desc")
    assert "pagination.walk_complete" in rules_of(check_walk(pages, expected_ids=[*ALL_IDS, "msg_new"]))
    assert "pagination.walk_complete" in rules_of(check_walk([*pages[:2], envelope([], False)],
                                                             expected_ids=ALL_IDS))
    assert "pagination.walk_complete" in rules_of(check_walk(pages, expected_ids=ALL_IDS[1:], exact=True))
    assert errors(check_walk(pages, expected_ids=ALL_IDS[1:])) == []


def test_backward_walk() -> None:
    start = ordered(STORE, "desc")[-1]["id"]
    pages = walk(STORE, limit=3, order="desc", direction="before", start={"before": start})
    expected = [i for i in ALL_IDS if i != start]
    assert check_walk(pages, expected_ids=expected, order="desc", limit=3, direction="before", exact=True) == []


stores = st.lists(st.integers(1000, 1004), min_size=0, max_size=25).map(lambda ts: items_at(*ts))


@settings(max_examples=150, deadline=None)
@given(stores, st.integers(1, 7), st.sampled_from(["asc", "desc"]))
def test_any_conforming_walk_passes(items: list[Item], limit: int, order: str) -> None:
    pages = walk(items, limit=limit, order=order)
    ids = [str(i["id"]) for i in items]
    assert check_walk(pages, expected_ids=ids, order=order, limit=limit, exact=True) == []


@settings(max_examples=150, deadline=None)
@given(stores, st.integers(1, 7), st.sampled_from(["asc", "desc"]),
       st.sampled_from([serve_inclusive_cursor, serve_skipping]))
def test_any_boundary_fault_is_caught(items: list[Item], limit: int, order: str, server: Server) -> None:
    assume(len(items) > limit)  # a fault at a page boundary needs a boundary
    pages = walk(items, limit=limit, order=order, server=server)
    ids = [str(i["id"]) for i in items]
    assert errors(check_walk(pages, expected_ids=ids, order=order, limit=limit))


def test_short_page_with_has_more_is_only_info() -> None:
    findings = check_page(envelope(items_at(3, 2), True), limit=5)
    assert errors(findings) == [] and [f.rule for f in findings] == ["pagination.has_more"]


def test_a_repeat_is_reported_once() -> None:
    page = envelope(items_at(3) * 2, False)
    repeats = [f for f in check_walk([page]) if f.rule == "pagination.walk_complete"]
    assert len(repeats) == 1
