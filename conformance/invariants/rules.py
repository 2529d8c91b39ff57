"""The catalogue of rule ids: every `Finding.rule` in the project is one of these.

Fault switches, expectations, reports and the suite refer to rules by these ids, so an id never
changes meaning once published; new rules are added in the same ``<area>.<name>`` form.
"""

from __future__ import annotations

import re
from typing import Final

# lifecycle
LIFECYCLE_STATUS: Final = "lifecycle.status"
LIFECYCLE_TRANSITION: Final = "lifecycle.transition"
LIFECYCLE_TERMINAL_ABSORBING: Final = "lifecycle.terminal_absorbing"
LIFECYCLE_STABLE_FIELDS: Final = "lifecycle.stable_fields"
LIFECYCLE_STARTED_AT: Final = "lifecycle.started_at"
LIFECYCLE_COMPLETED_AT: Final = "lifecycle.completed_at"
LIFECYCLE_FAILED_AT: Final = "lifecycle.failed_at"
LIFECYCLE_CANCELLED_AT: Final = "lifecycle.cancelled_at"
LIFECYCLE_EXPIRES_AT: Final = "lifecycle.expires_at"
LIFECYCLE_REQUIRED_ACTION: Final = "lifecycle.required_action"
LIFECYCLE_INCOMPLETE_DETAILS: Final = "lifecycle.incomplete_details"
LIFECYCLE_LAST_ERROR: Final = "lifecycle.last_error"
LIFECYCLE_USAGE: Final = "lifecycle.usage"
LIFECYCLE_STEPS_CONSISTENT: Final = "lifecycle.steps_consistent"

# pagination
PAGINATION_ENVELOPE: Final = "pagination.envelope"
PAGINATION_FIRST_ID: Final = "pagination.first_id"
PAGINATION_LAST_ID: Final = "pagination.last_id"
PAGINATION_ORDER: Final = "pagination.order"
PAGINATION_LIMIT: Final = "pagination.limit"
PAGINATION_HAS_MORE: Final = "pagination.has_more"
PAGINATION_CURSOR: Final = "pagination.cursor"
PAGINATION_WALK_COMPLETE: Final = "pagination.walk_complete"
PAGINATION_FILTER: Final = "pagination.filter"  # added by suite-crud

# server-sent events
SSE_CONTENT_TYPE: Final = "sse.content_type"
SSE_FRAMING: Final = "sse.framing"
SSE_JSON_DATA: Final = "sse.json_data"
SSE_EVENT_ORDER: Final = "sse.event_order"
SSE_EVENT_SCHEMA: Final = "sse.event_schema"
SSE_IDS_CONSISTENT: Final = "sse.ids_consistent"
SSE_DELTA_CONCAT: Final = "sse.delta_concat"
SSE_DONE_LAST: Final = "sse.done_last"

# errors
ERRORS_ENVELOPE: Final = "errors.envelope"
ERRORS_NOT_FOUND: Final = "errors.not_found"
ERRORS_UNAUTHORIZED: Final = "errors.unauthorized"
ERRORS_AUTH: Final = "errors.auth"
ERRORS_API_VERSION: Final = "errors.api_version"
ERRORS_CONTENT_FILTER: Final = "errors.content_filter"
ERRORS_BAD_REQUEST: Final = "errors.bad_request"

# content filter annotations on allowed answers
CONTENT_FILTER_ANNOTATIONS: Final = "content_filter.annotations"

# create / read / update / delete
CRUD_MODIFY_APPLIED: Final = "crud.modify_applied"
CRUD_DELETE_ENVELOPE: Final = "crud.delete_envelope"
CRUD_DELETED_GONE: Final = "crud.deleted_gone"
CRUD_ROUNDTRIP: Final = "crud.roundtrip"
CRUD_BATCH_CANCELLED: Final = "crud.batch_cancelled"  # added by suite-cost

# schema (produced by conformance.spec, listed here so the catalogue is complete)
SCHEMA_REQUEST: Final = "schema.request"
SCHEMA_RESPONSE: Final = "schema.response"
SCHEMA_STATUS: Final = "schema.status"
SCHEMA_CONTENT_TYPE: Final = "schema.content_type"

RULES: Final[dict[str, str]] = {
    LIFECYCLE_STATUS: "run.status is one of the known run statuses",
    LIFECYCLE_TRANSITION: "a polled status sequence is a walk in the legal run-status graph",
    LIFECYCLE_TERMINAL_ABSORBING: "a terminal run status never changes again",
    LIFECYCLE_STABLE_FIELDS: "id, object, thread_id, assistant_id and created_at never change between polls",
    LIFECYCLE_STARTED_AT: "started_at is null while first queued and set once the run has started",
    LIFECYCLE_COMPLETED_AT: "completed_at is set iff the run is completed, and never changes once set",
    LIFECYCLE_FAILED_AT: "failed_at is set iff the run failed, and never changes once set",
    LIFECYCLE_CANCELLED_AT: "cancelled_at is set iff the run is cancelled, and never changes once set",
    LIFECYCLE_EXPIRES_AT: "expires_at is an integer after created_at while active, null once terminal",
    LIFECYCLE_REQUIRED_ACTION: "required_action (submit_tool_outputs with tool calls) is set iff requires_action",
    LIFECYCLE_INCOMPLETE_DETAILS: "incomplete_details is set iff the run is incomplete",
    LIFECYCLE_LAST_ERROR: "last_error {code, message} is set iff the run failed",
    LIFECYCLE_USAGE: "usage is null until terminal, then adds up and equals the sum over the run's steps",
    LIFECYCLE_STEPS_CONSISTENT: "run steps name their run, thread and assistant and reference their messages",
    PAGINATION_ENVELOPE: "a list answers {object: list, data, first_id, last_id, has_more}",
    PAGINATION_FIRST_ID: "first_id is the id of the first item (null when empty)",
    PAGINATION_LAST_ID: "last_id is the id of the last item (null when empty)",
    PAGINATION_ORDER: "items are ordered by created_at in the requested order (ties allowed)",
    PAGINATION_LIMIT: "a page holds at most limit items (default 20)",
    PAGINATION_HAS_MORE: "has_more is true on every page but the last of a walk",
    PAGINATION_CURSOR: "after/before continue exactly where the cursor item was, exclusively",
    PAGINATION_WALK_COMPLETE: "a cursor walk returns every item exactly once",
    PAGINATION_FILTER: "a filtered list (e.g. vector store files by status) holds only matching items",
    SSE_CONTENT_TYPE: "a stream answers Content-Type text/event-stream (charset utf-8 allowed)",
    SSE_FRAMING: "the body is a well-formed UTF-8 event stream: event then data lines, blank-line terminated",
    SSE_JSON_DATA: "every event's data is JSON, except done whose data is [DONE]",
    SSE_EVENT_ORDER: "events follow the run-stream grammar the service emits",
    SSE_EVENT_SCHEMA: "an event's data is the object its name announces, in the status it announces",
    SSE_IDS_CONSISTENT: "one run and thread per stream; later events reference steps and messages created earlier",
    SSE_DELTA_CONCAT: "a message's deltas concatenate to the completed message's text",
    SSE_DONE_LAST: "the stream ends with done, and nothing follows it",
    ERRORS_ENVELOPE: "an error answers 4xx/5xx with {error: {code, message}}",
    ERRORS_NOT_FOUND: "an unknown id or route answers 404 with the error envelope",
    ERRORS_UNAUTHORIZED: "a missing or wrong key answers 401 with the error envelope",
    ERRORS_AUTH: "a request without valid credentials is never served",
    ERRORS_API_VERSION: "a missing or unsupported api-version is rejected",
    ERRORS_CONTENT_FILTER: "a filtered prompt answers 400 content_filter with per-category results",
    ERRORS_BAD_REQUEST: "invalid input is rejected with 400",
    CONTENT_FILTER_ANNOTATIONS: "allowed answers carry prompt_filter_results and choices[].content_filter_results",
    CRUD_MODIFY_APPLIED: "a modify call applies exactly the requested changes",
    CRUD_DELETE_ENVELOPE: "delete answers {id, object: <type>.deleted, deleted: true}",
    CRUD_DELETED_GONE: "a deleted object answers 404 afterwards",
    CRUD_ROUNDTRIP: "an object reads back as it was created",
    CRUD_BATCH_CANCELLED: "a cancelled file batch answers cancelling or cancelled and settles cancelled, "
                          "no file left in progress, its file counts adding up",
    SCHEMA_REQUEST: "the request conforms to the contract",
    SCHEMA_RESPONSE: "the response body conforms to the contract",
    SCHEMA_STATUS: "the response status is one the contract declares",
    SCHEMA_CONTENT_TYPE: "the response Content-Type is one the contract declares",
}

RULE_ID = re.compile(r"^[a-z_]+\.[a-z_]+$")


def describe(rule: str) -> str:
    """One-line description of a rule id, for reports; unknown ids describe themselves."""
    return RULES.get(rule, rule)
