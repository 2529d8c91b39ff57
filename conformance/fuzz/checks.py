"""Our Schemathesis checks: thin wrappers that feed a response to `conformance.invariants`.

Each check has Schemathesis's signature `(ctx, response, case)`, raises `ConformanceError` (an
AssertionError Schemathesis collects as a failure) carrying the rule ids, and returns None. They
are passed per call as `additional_checks`, never registered globally, so importing this module
changes no other Schemathesis user in the process.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from conformance.findings import Finding, require
from conformance.invariants import (
    check_chat_stream,
    check_content_type,
    check_error_envelope,
    check_list_envelope,
    check_page,
    check_run,
    check_run_stream,
    parse_sse,
)
from conformance.invariants.streams import StreamKind

Check = Callable[[Any, Any, Any], None]

# Operations whose 200 answer is a run object (or a stream of run events when `stream` is true).
RUN_OPERATIONS: dict[str, StreamKind] = {
    "Create_Run": "run",
    "Create_Thread_And_Run": "thread_and_run",
    "Submit_Tool_Outputs_To_Run": "submit_tool_outputs",
}
CHAT_STREAMS = ("ChatCompletions_Create",)  # completions chunks are `text_completion`: framing only


def _json(response: Any) -> Any:
    try:
        return json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def _media(response: Any) -> str:
    value = response.headers.get("content-type") or response.headers.get("Content-Type") or [""]
    text = value[0] if isinstance(value, list) else str(value)
    return text.split(";", 1)[0].strip().lower()


def _content_type(response: Any) -> str | None:
    value = response.headers.get("content-type") or response.headers.get("Content-Type")
    if value is None:
        return None
    return value[0] if isinstance(value, list) else str(value)


def _limit(value: Any) -> int | None:
    """The page size asked for, when it is one the API serves (1..100); else the default applies."""
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 1 <= number <= 100 else None


def _label(case: Any) -> str:
    return f"{case.method} {case.path}"


def azure_error_envelope(ctx: Any, response: Any, case: Any) -> None:
    """Every 4xx carries the Azure error envelope `{"error": {"code", "message", ...}}`."""
    if 400 <= response.status_code < 500:
        require(check_error_envelope(response.status_code, _json(response)), _label(case))


def list_envelope(ctx: Any, response: Any, case: Any) -> None:
    """A 200 list answer is a coherent page: envelope, first/last ids, no repeats, order."""
    if response.status_code != 200 or case.method.upper() != "GET" or _media(response) != "application/json":
        return
    body = _json(response)
    if not (isinstance(body, dict) and body.get("object") == "list"):
        if case.operation.definition.raw.get("operationId", "").startswith("List_"):
            require(check_list_envelope(body), _label(case))
        return
    query = case.query or {}
    order = query.get("order") if query.get("order") in ("asc", "desc") else "desc"
    findings = check_list_envelope(body) + check_page(body, limit=_limit(query.get("limit")), order=str(order))
    require(findings, _label(case))


def run_consistency(ctx: Any, response: Any, case: Any) -> None:
    """A run object answered anywhere is consistent with its own status."""
    if response.status_code != 200 or _media(response) != "application/json":
        return
    body = _json(response)
    if isinstance(body, dict) and body.get("object") == "thread.run":
        require(check_run(body), _label(case))


def sse_validity(ctx: Any, response: Any, case: Any) -> None:
    """A `text/event-stream` answer (or a 200 to a `stream: true` request) is a valid stream."""
    streamed = isinstance(case.body, dict) and case.body.get("stream") is True
    media = _media(response)
    if response.status_code != 200 or (media != "text/event-stream" and not streamed):
        return
    findings: list[Finding] = list(check_content_type(_content_type(response)))
    if media == "text/event-stream":
        events, parse_findings = parse_sse(response.content or b"")
        findings += parse_findings
        operation_id = str(case.operation.definition.raw.get("operationId", ""))
        if operation_id in RUN_OPERATIONS:
            findings += check_run_stream(events, kind=RUN_OPERATIONS[operation_id])
        elif operation_id in CHAT_STREAMS:
            findings += check_chat_stream(events)
    require(findings, _label(case))


OUR_CHECKS: tuple[Check, ...] = (azure_error_envelope, list_envelope, run_consistency, sse_validity)
