"""The one pagination rule, applied to every list the emulator serves.

limit 1..100 (default 20), order asc|desc (default desc, newest first), after/before cursors
(ids of items in the list), has_more, first_id/last_id (null when the page is empty). Items come
in creation order, i.e. sorted by (created_at, seq), so a cursor keeps its place however many
items are inserted meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from conformance.emulator.errors import bad_request
from conformance.invariants.pagination import select_page

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def _limit(raw: str | None, faults: frozenset[str]) -> int:
    if raw is None:
        return 10 if "page_default_limit_wrong" in faults else DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise bad_request(f"Invalid 'limit': expected an integer, got '{raw}'.", param="limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        if "page_limit_unbounded" in faults:
            return max(limit, 0)
        raise bad_request(
            f"Invalid 'limit': {limit} is out of range; it must be between 1 and {MAX_LIMIT}.",
            param="limit",
        )
    return limit


def paginate(
    items: Sequence[T],
    query: Mapping[str, str],
    *,
    id_of: Callable[[T], str],
    render: Callable[[T], dict[str, Any]],
    faults: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The list envelope for `items` (in creation order) as `query` asks for it; 400 ApiError on bad input.

    The page itself is `conformance.invariants.select_page`: the rule the suite checks is the rule
    the emulator serves; pagination faults only bend its inputs and outputs.
    """
    limit = _limit(query.get("limit"), faults)
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise bad_request(f"Invalid 'order': '{order}'; expected 'asc' or 'desc'.", param="order")
    if "page_order_ignored" in faults:
        order = "desc"
    ordered = list(items) if order == "asc" else list(reversed(items))
    after = None if "page_after_ignored" in faults else query.get("after") or None
    before = None if "page_before_ignored" in faults else query.get("before") or None
    if after is not None and "page_duplicate_item" in faults:
        after = _previous_id(ordered, after, id_of)  # the page then repeats the cursor item
    try:
        page, has_more = select_page(ordered, key=id_of, limit=limit, after=after, before=before)
    except LookupError:
        name, cursor = ("after", query.get("after")) if after is not None else ("before", before)
        raise bad_request(f"Invalid '{name}': no object with id '{cursor}' in this list.", param=name) from None
    data = [render(item) for item in page]
    first_id = id_of(page[0]) if page else None
    last_id = id_of(page[-1]) if page else None
    if "page_first_id_wrong" in faults and page:
        first_id = last_id if len(page) > 1 else "msg_" + "0" * 24
    if "page_last_id_wrong" in faults and page:
        last_id = id_of(page[0]) if len(page) > 1 else "msg_" + "0" * 24
    if "page_has_more_wrong" in faults:
        has_more = not has_more
    return {"object": "list", "data": data, "first_id": first_id, "last_id": last_id, "has_more": has_more}


def _previous_id(ordered: Sequence[T], cursor: str, id_of: Callable[[T], str]) -> str | None:
    """The id just before `cursor` (None when it is first); the cursor itself when unknown (400 follows)."""
    for index, item in enumerate(ordered):
        if id_of(item) == cursor:
            return id_of(ordered[index - 1]) if index else None
    return cursor
