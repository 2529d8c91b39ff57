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


def _cursor(name: str, cursor: str, position: dict[str, int]) -> int:
    if cursor not in position:
        raise bad_request(f"Invalid '{name}': no object with id '{cursor}' in this list.", param=name)
    return position[cursor]


def paginate(
    items: Sequence[T],
    query: Mapping[str, str],
    *,
    id_of: Callable[[T], str],
    render: Callable[[T], dict[str, Any]],
    faults: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The list envelope for `items` (in creation order) as `query` asks for it; 400 ApiError on bad input."""
    limit = _limit(query.get("limit"), faults)
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise bad_request(f"Invalid 'order': '{order}'; expected 'asc' or 'desc'.", param="order")
    if "page_order_ignored" in faults:
        order = "desc"
    ordered = list(items) if order == "asc" else list(reversed(items))
    after, before = query.get("after"), query.get("before")
    start, stop = 0, len(ordered)
    if (after and "page_after_ignored" not in faults) or (before and "page_before_ignored" not in faults):
        position = {id_of(item): index for index, item in enumerate(ordered)}
        if after and "page_after_ignored" not in faults:
            start = _cursor("after", after, position) + (0 if "page_duplicate_item" in faults else 1)
        if before and "page_before_ignored" not in faults:
            stop = _cursor("before", before, position)
    window = ordered[start:stop]
    if before and not after and "page_before_ignored" not in faults:
        # `before` pages end at the cursor: take the items nearest to it.
        page = window[max(0, len(window) - limit):]
        has_more = len(window) > limit
    else:
        page = window[:limit]
        has_more = len(window) > limit
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
