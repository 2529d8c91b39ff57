"""Probes: a generated request the target accepted, re-sent once with one thing changed.

Generation alone cannot show that a missing api-version is refused, that an unknown id answers
404, or what a filtered prompt looks like (it never draws the trigger), so after the fuzz loop each
operation's last accepted case is re-sent: without api-version, with unknown ids, and (chat) with
the target's filter prompt. Each answer goes through the same invariants as the hand-written suite.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from conformance.findings import Finding
from conformance.fuzz.setup import API_VERSION
from conformance.invariants import check_api_version_rejected, check_content_filter_error, check_not_found

# Path parameter -> id prefix of the objects it names (a well-shaped id that names nothing).
ID_PREFIXES = {"assistant_id": "asst", "thread_id": "thread", "message_id": "msg", "run_id": "run",
               "step_id": "step", "vector_store_id": "vs", "file_id": "file", "batch_id": "vsfb"}
CHAT_OPERATIONS = ("ChatCompletions_Create",)

Sender = Callable[[Any], Any]  # sends a case, returns the Schemathesis response


def _json(response: Any) -> Any:
    try:
        return json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


Outcome = tuple[Any, Any, list[Finding]]  # (probe case, its response, findings)


def without_api_version(case: Any, send: Sender) -> Outcome:
    probe = case.derive(keep_auth=True)
    probe.query = {k: v for k, v in (probe.query or {}).items() if k != API_VERSION}
    response = send(probe)
    return probe, response, check_api_version_rejected(response.status_code, _json(response), what="no api-version")


def unknown_id(case: Any, send: Sender) -> Outcome | None:
    """The most specific id of the path replaced by one that names nothing: 404."""
    names = [n for n in (case.path_parameters or {}) if n in ID_PREFIXES]
    if not names:
        return None
    probe = case.derive(keep_auth=True)
    name = names[-1]
    probe.path_parameters = {**probe.path_parameters, name: f"{ID_PREFIXES[name]}_aoaicfuzz{uuid.uuid4().hex[:16]}"}
    response = send(probe)
    return probe, response, check_not_found(response.status_code, _json(response), where=name)


def filtered_prompt(case: Any, send: Sender, prompt: str, *, strict: bool) -> Outcome | None:
    if case.operation.definition.raw.get("operationId") not in CHAT_OPERATIONS or not isinstance(case.body, dict):
        return None
    probe = case.derive(keep_auth=True)
    probe.body = {**probe.body, "messages": [{"role": "user", "content": prompt}], "stream": False}
    for key in ("n", "tools", "tool_choice", "functions", "function_call", "response_format", "logit_bias"):
        probe.body.pop(key, None)  # keep the probe about the filter, not about tool or format rules
    response = send(probe)
    return probe, response, check_content_filter_error(response.status_code, _json(response), strict=strict)
