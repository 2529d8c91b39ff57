"""Invariants: every conformance rule written once, as a pure function returning findings.

Used by the hand-written suite, the Schemathesis checks and the offline traffic validator. No
function here does I/O; each takes parsed responses or events and returns `list[Finding]`.
"""

from conformance.invariants.batches import check_batch_cancel, check_batch_counts
from conformance.invariants.errors import (
    check_api_version_rejected,
    check_bad_request,
    check_chat_annotations,
    check_content_filter_error,
    check_content_filter_results,
    check_error_envelope,
    check_not_found,
    check_not_served,
    check_unauthorized,
)
from conformance.invariants.lifecycle import (
    ACTIVE_STATUSES,
    RUN_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    check_run,
    check_run_history,
    check_status_walk,
    check_steps,
)
from conformance.invariants.objects import (
    check_assistant_content_filter_outcome,
    check_deleted,
    check_gone,
    check_modified,
    check_roundtrip,
)
from conformance.invariants.pagination import (
    check_filtered,
    check_limit_rejected,
    check_list_envelope,
    check_orders_reverse,
    check_page,
    check_same_page,
    check_walk,
    page_params,
    select_page,
)
from conformance.invariants.rules import RULES, describe
from conformance.invariants.sse import SseEvent, SseParser, check_content_type, parse_sse
from conformance.invariants.streams import (
    check_chat_stream,
    check_run_stream,
    completed_messages,
    final_run,
)

__all__ = [
    "ACTIVE_STATUSES",
    "RULES",
    "RUN_STATUSES",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "SseEvent",
    "SseParser",
    "check_api_version_rejected",
    "check_assistant_content_filter_outcome",
    "check_bad_request",
    "check_batch_cancel",
    "check_batch_counts",
    "check_chat_annotations",
    "check_chat_stream",
    "check_content_filter_error",
    "check_content_filter_results",
    "check_content_type",
    "check_deleted",
    "check_error_envelope",
    "check_filtered",
    "check_gone",
    "check_limit_rejected",
    "check_list_envelope",
    "check_modified",
    "check_not_found",
    "check_not_served",
    "check_orders_reverse",
    "check_page",
    "check_roundtrip",
    "check_run",
    "check_run_history",
    "check_run_stream",
    "check_same_page",
    "check_status_walk",
    "check_steps",
    "check_unauthorized",
    "check_walk",
    "completed_messages",
    "describe",
    "final_run",
    "page_params",
    "parse_sse",
    "select_page",
]
