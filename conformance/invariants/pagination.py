"""Cursor pagination of list endpoints: the after/before rule, one page, and a whole walk.

`select_page` is THE rule for ``limit`` / ``after`` / ``before``; the emulator can serve lists with
it and the checks below hold every target to it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from itertools import pairwise
from typing import Any, Final, Literal, TypeVar

from conformance.findings import Finding
from conformance.invariants import rules as R
from conformance.invariants._common import is_int, is_list, is_mapping, show
from conformance.invariants.errors import check_error_envelope

DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 100
ORDERS: Final = ("asc", "desc")

T = TypeVar("T")


def select_page(
    items: Sequence[T],
    *,
    key: Callable[[T], str],
    limit: int = DEFAULT_LIMIT,
    after: str | None = None,
    before: str | None = None,
) -> tuple[list[T], bool]:
    """The page a list answers, and its has_more, from `items` already sorted in the requested order.

    `after` X: the items that follow X (exclusive); `before` X: the items that precede X (exclusive);
    both: the items strictly between. With `before` alone the page is the `limit` items nearest the
    cursor, so walking backwards with ``before=first_id`` sees every item once. has_more says items
    remain beyond the page on the side away from the cursor. Raises `LookupError` for a cursor that
    names no item.
    """
    ids = [key(item) for item in items]
    start, stop = 0, len(items)
    if after is not None:
        start = _index(ids, after, "after") + 1
    if before is not None:
        stop = _index(ids, before, "before")
    window = list(items[start:stop]) if start < stop else []
    if before is not None and after is None:
        return window[-limit:] if limit > 0 else [], len(window) > limit
    return window[:limit], len(window) > limit


def _index(ids: list[str], cursor: str, name: str) -> int:
    try:
        return ids.index(cursor)
    except ValueError:
        raise LookupError(f"{name}={cursor!r} names no item of this list") from None


def page_params(page: Mapping[str, Any], *, direction: Literal["after", "before"] = "after") -> dict[str, str] | None:
    """Query parameters for the next page of a walk, or None when the walk is over."""
    if not page.get("has_more"):
        return None
    cursor = page.get("last_id") if direction == "after" else page.get("first_id")
    return {direction: cursor} if isinstance(cursor, str) else None


def check_list_envelope(body: Any, where: str = "") -> list[Finding]:
    """``{"object": "list", "data": [...], "first_id", "last_id", "has_more"}``."""
    if not is_mapping(body):
        return [Finding(R.PAGINATION_ENVELOPE, f"list body is {show(body)}, expected an object", where)]
    findings = []
    if body.get("object") != "list":
        findings.append(Finding(R.PAGINATION_ENVELOPE, f"object is {show(body.get('object'))}, expected \"list\"",
                                where))
    data = body.get("data")
    if not is_list(data):
        findings.append(Finding(R.PAGINATION_ENVELOPE, f"data is {show(data)}, expected an array", where))
    else:
        findings.extend(
            Finding(R.PAGINATION_ENVELOPE, f"data[{index}] is {show(item)}, expected an object with a string id", where)
            for index, item in enumerate(data)
            if not (is_mapping(item) and isinstance(item.get("id"), str))
        )
    for name in ("first_id", "last_id"):
        if name not in body:
            findings.append(Finding(R.PAGINATION_ENVELOPE, f"{name} is missing", where))
        elif not (body[name] is None or isinstance(body[name], str)):
            findings.append(Finding(R.PAGINATION_ENVELOPE, f"{name} is {show(body[name])}, expected a string or null",
                                    where))
    if not isinstance(body.get("has_more"), bool):
        findings.append(Finding(R.PAGINATION_ENVELOPE, f"has_more is {show(body.get('has_more'))}, expected a "
                                "boolean", where))
    return findings


def _items(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    data = body.get("data")
    return [item for item in data if is_mapping(item)] if is_list(data) else []


def check_page(
    body: Any, *, limit: int | None = None, order: str = "desc", where: str = ""
) -> list[Finding]:
    """One page: envelope, first_id/last_id match its data, size within limit, created_at order.

    Equal created_at values are common (several objects per second), so ties are in order.
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, not {order!r}")
    findings = check_list_envelope(body, where)
    if not is_mapping(body):
        return findings
    items = _items(body)
    ids = [item.get("id") for item in items]
    for name, rule, expected in (("first_id", R.PAGINATION_FIRST_ID, ids[0] if ids else None),
                                 ("last_id", R.PAGINATION_LAST_ID, ids[-1] if ids else None)):
        if name in body and body[name] != expected:
            findings.append(Finding(rule, f"{name} is {show(body[name])} but the page's "
                                    f"{'first' if name == 'first_id' else 'last'} item is {show(expected)}", where))
    allowed = DEFAULT_LIMIT if limit is None else limit
    if len(items) > allowed:
        findings.append(Finding(R.PAGINATION_LIMIT, f"page holds {len(items)} items, more than limit {allowed}", where))
    elif body.get("has_more") is True and len(items) < allowed:
        findings.append(Finding(R.PAGINATION_HAS_MORE, f"has_more is true but the page holds {len(items)} of "
                                f"limit {allowed} items", where, severity="info"))
    findings.extend(_check_order(items, order, where))
    findings.extend(
        Finding(R.PAGINATION_WALK_COMPLETE, f"id {show(item_id)} appears {count} times on one page", where)
        for item_id, count in Counter(ids).items()
        if count > 1
    )
    return findings


def _in_order(first: Any, second: Any, order: str) -> bool:
    if not (is_int(first) and is_int(second)):
        return True  # a missing timestamp is the schema's finding, not an order one
    return first <= second if order == "asc" else first >= second


def _check_order(items: Sequence[Mapping[str, Any]], order: str, where: str) -> list[Finding]:
    findings = []
    for index, (one, two) in enumerate(pairwise(items), start=1):
        if not _in_order(one.get("created_at"), two.get("created_at"), order):
            findings.append(Finding(R.PAGINATION_ORDER, f"data[{index}] ({show(two.get('id'))}, created_at "
                                    f"{show(two.get('created_at'))}) follows {show(one.get('id'))} (created_at "
                                    f"{show(one.get('created_at'))}) in order {show(order)}", where))
    return findings


def check_walk(
    pages: Sequence[Mapping[str, Any]],
    *,
    expected_ids: Collection[str] | None = None,
    order: str = "desc",
    limit: int | None = None,
    direction: Literal["after", "before"] = "after",
    exact: bool = False,
    where: str = "",
) -> list[Finding]:
    """A whole cursor walk: each page valid, has_more false exactly on the last page, each page
    continuing where the cursor left it, every expected item seen exactly once.

    `pages` are in the order they were fetched, each with ``after=<last_id>`` (or, for `direction`
    "before", ``before=<first_id>``) of the one before. `exact` also rejects items not expected.
    """
    findings: list[Finding] = []
    for number, page in enumerate(pages, start=1):
        findings.extend(check_page(page, limit=limit, order=order, where=f"{where} page {number}".strip()))
    if not pages or not all(is_mapping(page) for page in pages):
        return findings
    for number, page in enumerate(pages, start=1):
        place = f"{where} page {number}".strip()
        last = number == len(pages)
        if page.get("has_more") is not (not last):
            findings.append(Finding(R.PAGINATION_HAS_MORE, f"has_more is {show(page.get('has_more'))} on page "
                                    f"{number} of {len(pages)}", place))
        if not last and not _items(page):
            findings.append(Finding(R.PAGINATION_HAS_MORE, "an empty page says has_more is true", place))
    findings.extend(_check_boundaries(pages, order, direction, where))
    findings.extend(_check_coverage(pages, expected_ids, exact, where))
    return findings


def _check_boundaries(
    pages: Sequence[Mapping[str, Any]], order: str, direction: str, where: str
) -> list[Finding]:
    findings = []
    for number, (previous, page) in enumerate(pairwise(pages), start=2):
        place = f"{where} page {number}".strip()
        earlier, later = _items(previous), _items(page)
        if not earlier or not later:
            continue
        # Walking forward the new page follows the cursor; walking backwards it precedes it.
        cursor, nearest = (earlier[-1], later[0]) if direction == "after" else (earlier[0], later[-1])
        if cursor.get("id") == nearest.get("id"):
            findings.append(Finding(R.PAGINATION_CURSOR, f"{direction}={show(cursor.get('id'))} returned the cursor "
                                    "item itself again (the cursor must be exclusive)", place))
            continue
        one, two = (cursor, nearest) if direction == "after" else (nearest, cursor)
        if not _in_order(one.get("created_at"), two.get("created_at"), order):
            findings.append(Finding(R.PAGINATION_CURSOR, f"{direction}={show(cursor.get('id'))} (created_at "
                                    f"{show(cursor.get('created_at'))}) continued with {show(nearest.get('id'))} "
                                    f"(created_at {show(nearest.get('created_at'))}), out of order {show(order)}",
                                    place))
    return findings


def _check_coverage(
    pages: Sequence[Mapping[str, Any]], expected_ids: Collection[str] | None, exact: bool, where: str
) -> list[Finding]:
    # Repeats within one page are check_page's finding; here, items that several pages return.
    seen = Counter(item_id for page in pages for item_id in {str(item.get("id")) for item in _items(page)})
    findings = [
        Finding(R.PAGINATION_WALK_COMPLETE, f"id {show(item_id)} was returned on {count} pages of the walk", where)
        for item_id, count in seen.items()
        if count > 1
    ]
    if expected_ids is None:
        return findings
    missing = [item_id for item_id in expected_ids if item_id not in seen]
    if missing:
        findings.append(Finding(R.PAGINATION_WALK_COMPLETE, f"{len(missing)} expected item(s) never returned: "
                                f"{show(sorted(missing))}", where))
    if exact:
        extra = sorted(set(seen) - set(expected_ids))
        if extra:
            findings.append(Finding(R.PAGINATION_WALK_COMPLETE, f"{len(extra)} unexpected item(s) returned: "
                                    f"{show(extra)}", where))
    return findings


# ---------------------------------------------------------------- added by suite-crud (defaults)

def check_same_page(
    body: Any, reference: Any, *, rule: str = R.PAGINATION_ORDER, what: str = "the page", where: str = ""
) -> list[Finding]:
    """`body` lists the same ids in the same order, with the same has_more, as `reference` (e.g. a
    page fetched without limit/order against the one fetched with limit=20&order=desc)."""
    if not (is_mapping(body) and is_mapping(reference)):
        return []  # the envelope check reports non-objects
    ids = [item.get("id") for item in _items(body)]
    expected = [item.get("id") for item in _items(reference)]
    findings = []
    if ids != expected:
        findings.append(Finding(rule, f"{what} lists {show(ids)}, expected {show(expected)}", where))
    if body.get("has_more") != reference.get("has_more"):
        findings.append(Finding(rule, f"{what} has has_more {show(body.get('has_more'))}, expected "
                                f"{show(reference.get('has_more'))}", where))
    return findings


def check_filtered(body: Any, *, field: str, value: Any, where: str = "") -> list[Finding]:
    """Every item of a page listed with a filter has `field` equal to the filter's `value`."""
    if not is_mapping(body):
        return []  # the envelope check reports non-objects
    return [
        Finding(R.PAGINATION_FILTER, f"{show(item.get('id'))} has {field} {show(item.get(field))} in a list "
                f"filtered by {field}={show(value)}", where)
        for item in _items(body)
        if item.get(field) != value
    ]


def check_limit_rejected(limit: str, status: int, body: Any, *, where: str = "") -> list[Finding]:
    """A limit outside 1..100 (or not an integer) is rejected: 400 with the error envelope."""
    findings = []
    if status != 400:
        findings.append(Finding(R.PAGINATION_LIMIT, f"limit={limit} answered status {status}, expected 400 (limit "
                                f"is an integer 1..{MAX_LIMIT})", where))
    if status >= 400:
        findings.extend(check_error_envelope(status, body, where=where))
    return findings


def check_orders_reverse(ascending: Any, descending: Any, *, where: str = "") -> list[Finding]:
    """The whole list (both pages complete, has_more false) in order=asc is order=desc reversed: the
    orders differ even where created_at ties hide it from the per-page order check."""
    if not (is_mapping(ascending) and is_mapping(descending)):
        return []
    if ascending.get("has_more") or descending.get("has_more"):
        return []  # only complete lists can be compared
    up = [item.get("id") for item in _items(ascending)]
    down = [item.get("id") for item in _items(descending)]
    if up != down[::-1]:
        return [Finding(R.PAGINATION_ORDER, f"order=asc lists {show(up)}, expected order=desc reversed "
                        f"{show(down[::-1])}", where)]
    return []
