"""The fault catalogue: switches that make the emulator break one rule on purpose.

Each `Fault` names the rule id it breaks, so the suite can prove it catches every one. Faults are
read from `EmulatorSettings.faults` (and, when enabled, the `x-emulator-faults` header) into one
frozenset per request; code paths test membership in it, which costs nothing when it is empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    name: str
    area: str
    breaks: str  # the rule id a conforming check reports when this fault is on
    description: str


_CATALOGUE: tuple[Fault, ...] = (
    # lifecycle (runs and steps)
    Fault("run_terminal_reverts", "lifecycle", "lifecycle.terminal_absorbing",
          "a terminal run read again is reported in_progress"),
    Fault("run_backwards", "lifecycle", "lifecycle.transition",
          "an in_progress run read again is reported queued (no tool outputs were submitted)"),
    Fault("run_started_at_missing", "lifecycle", "lifecycle.started_at",
          "started_at stays null after the run started"),
    Fault("run_completed_at_missing", "lifecycle", "lifecycle.completed_at",
          "a completed run has completed_at null"),
    Fault("run_cancelled_at_missing", "lifecycle", "lifecycle.cancelled_at",
          "a cancelled run has cancelled_at null"),
    Fault("run_expires_at_kept", "lifecycle", "lifecycle.expires_at",
          "a terminal run keeps its expires_at"),
    Fault("run_usage_mismatch", "lifecycle", "lifecycle.usage",
          "a terminal run's usage.total_tokens != prompt_tokens + completion_tokens"),
    Fault("run_usage_early", "lifecycle", "lifecycle.usage",
          "usage is filled while the run is still active"),
    Fault("run_required_action_missing", "lifecycle", "lifecycle.required_action",
          "a requires_action run has required_action null"),
    Fault("run_failed_no_error", "lifecycle", "lifecycle.last_error",
          "a failed run has last_error null"),
    Fault("step_wrong_run_id", "lifecycle", "lifecycle.steps_consistent",
          "run steps carry a run_id other than their run's"),
    # pagination
    Fault("page_has_more_wrong", "pagination", "pagination.has_more", "has_more is inverted"),
    Fault("page_first_id_wrong", "pagination", "pagination.first_id",
          "first_id names the last item of the page"),
    Fault("page_last_id_wrong", "pagination", "pagination.last_id",
          "last_id names the first item of the page"),
    Fault("page_after_ignored", "pagination", "pagination.cursor", "the after cursor is ignored"),
    Fault("page_before_ignored", "pagination", "pagination.cursor", "the before cursor is ignored"),
    Fault("page_limit_unbounded", "pagination", "pagination.limit",
          "limit 0 or above 100 is accepted instead of rejected"),
    Fault("page_order_ignored", "pagination", "pagination.order",
          "order is ignored (always newest first)"),
    Fault("page_duplicate_item", "pagination", "pagination.walk_complete",
          "a page after a cursor starts with the cursor item itself"),
    Fault("page_default_limit_wrong", "pagination", "pagination.limit",
          "the default page size is 10 instead of 20"),
    # streaming
    Fault("stream_no_done", "streaming", "sse.done_last", "the stream ends without the done event"),
    Fault("stream_out_of_order", "streaming", "sse.event_order",
          "thread.run.in_progress is sent before thread.run.queued"),
    Fault("stream_delta_mismatch", "streaming", "sse.delta_concat",
          "the message deltas do not concatenate to the completed message text"),
    Fault("stream_wrong_content_type", "streaming", "sse.content_type",
          "the stream is served as application/json"),
    Fault("stream_bad_json", "streaming", "sse.json_data", "one event's data is not valid JSON"),
    Fault("stream_no_step_events", "streaming", "sse.event_order",
          "the run step events are left out of the stream"),
    # errors
    Fault("error_flat_envelope", "errors", "errors.envelope",
          "errors are sent without the {\"error\": {...}} wrapper"),
    Fault("unknown_id_400", "errors", "errors.not_found", "unknown ids answer 400 instead of 404"),
    Fault("content_filter_no_innererror", "errors", "errors.content_filter",
          "the content-filter 400 has no innererror"),
    Fault("auth_not_enforced", "errors", "errors.auth", "requests without a valid key are served"),
    Fault("api_version_unchecked", "errors", "errors.api_version",
          "a missing or unsupported api-version is served"),
    Fault("bad_request_accepted", "errors", "errors.bad_request",
          "request bodies and query parameters the contract rejects are served"),
    # schema
    Fault("schema_missing_required", "schema", "schema.response",
          "response objects lack created_at"),
    Fault("schema_wrong_type", "schema", "schema.response",
          "response objects carry created_at as a string"),
    Fault("schema_wrong_object", "schema", "schema.response",
          "response objects carry a wrong `object` name"),
    # crud
    Fault("modify_ignored", "crud", "crud.modify_applied",
          "modify answers 200 but changes nothing"),
    Fault("delete_not_deleted", "crud", "crud.deleted_gone",
          "delete answers deleted: true but the object stays readable"),
)

FAULTS: dict[str, Fault] = {fault.name: fault for fault in _CATALOGUE}

FAULT_HEADER = "x-emulator-faults"


class UnknownFault(ValueError):
    """A fault name that is not in the catalogue."""


def check_faults(names: Iterable[str]) -> frozenset[str]:
    """Validate fault names (CLI, settings, header) and return them as a frozenset."""
    wanted = frozenset(n.strip() for n in names if n.strip())
    unknown = sorted(wanted - FAULTS.keys())
    if unknown:
        raise UnknownFault(
            f"unknown fault(s): {', '.join(unknown)}; `aoai-conformance emulator --list-faults` lists them"
        )
    return wanted


def parse_fault_header(value: str) -> frozenset[str]:
    """`a, b` -> {"a", "b"}; unknown names raise UnknownFault."""
    return check_faults(value.split(","))
