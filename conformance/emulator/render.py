"""Stored records -> the JSON objects the service sends, with the object/lifecycle faults applied.

Rendering is the only place faults bend response objects, so the store and the engine always
hold the truth and a fault never leaks into later behaviour.
"""

from __future__ import annotations

from typing import Any

from conformance.emulator.store import Assistant, Message, Run, Step, Thread

JSON = dict[str, Any]

TERMINAL = frozenset({"completed", "failed", "cancelled", "incomplete", "expired"})
EXPIRY_SECONDS = 600


def _schema_faults(obj: JSON, faults: frozenset[str]) -> JSON:
    if not faults:
        return obj
    if "schema_missing_required" in faults:
        obj.pop("created_at", None)
    if "schema_wrong_type" in faults and "created_at" in obj:
        obj["created_at"] = str(obj["created_at"])
    if "schema_wrong_object" in faults:
        obj["object"] = "emulator.wrong_object"
    return obj


def assistant(record: Assistant, faults: frozenset[str] = frozenset()) -> JSON:
    obj: JSON = {
        "id": record.id,
        "object": "assistant",
        "created_at": record.created_at,
        "name": record.name,
        "description": record.description,
        "model": record.model,
        "instructions": record.instructions,
        "tools": record.tools,
        "tool_resources": record.tool_resources or {},
        "metadata": record.metadata or {},
        "temperature": 1.0 if record.temperature is None else record.temperature,
        "top_p": 1.0 if record.top_p is None else record.top_p,
        "response_format": "auto" if record.response_format is None else record.response_format,
    }
    return _schema_faults(obj, faults)


def thread(record: Thread, faults: frozenset[str] = frozenset()) -> JSON:
    obj: JSON = {
        "id": record.id,
        "object": "thread",
        "created_at": record.created_at,
        "metadata": record.metadata or {},
        "tool_resources": record.tool_resources or {},
    }
    return _schema_faults(obj, faults)


def message_content(text: str) -> list[JSON]:
    return [{"type": "text", "text": {"value": text, "annotations": []}}] if text else []


def message(record: Message, faults: frozenset[str] = frozenset()) -> JSON:
    obj: JSON = {
        "id": record.id,
        "object": "thread.message",
        "created_at": record.created_at,
        "thread_id": record.thread_id,
        "status": record.status,
        "incomplete_details": (
            {"reason": record.incomplete_reason} if record.incomplete_reason is not None else None
        ),
        "completed_at": record.completed_at,
        "incomplete_at": record.incomplete_at,
        "role": record.role,
        "content": message_content(record.text),
        "assistant_id": record.assistant_id,
        "run_id": record.run_id,
        "attachments": record.attachments or [],
        "metadata": record.metadata or {},
    }
    return _schema_faults(obj, faults)


def step(record: Step, faults: frozenset[str] = frozenset()) -> JSON:
    details: JSON
    if record.type == "message_creation":
        details = {"type": "message_creation", "message_creation": {"message_id": record.message_id}}
    else:
        details = {"type": "tool_calls", "tool_calls": record.tool_calls}
    run_id = record.run_id
    if "step_wrong_run_id" in faults:
        run_id = "run_" + run_id[4:][::-1]
    obj: JSON = {
        "id": record.id,
        "object": "thread.run.step",
        "created_at": record.created_at,
        "assistant_id": record.assistant_id,
        "thread_id": record.thread_id,
        "run_id": run_id,
        "type": record.type,
        "status": record.status,
        "step_details": details,
        "last_error": record.last_error,
        "expired_at": record.expired_at,
        "cancelled_at": record.cancelled_at,
        "failed_at": record.failed_at,
        "completed_at": record.completed_at,
        "metadata": record.metadata or {},
        "usage": record.usage,
    }
    return _schema_faults(obj, faults)


def run(record: Run, faults: frozenset[str] = frozenset(), *, status: str | None = None) -> JSON:
    """The run object; `status` overrides the reported status (the read-time lifecycle faults)."""
    usage = record.usage
    obj: JSON = {
        "id": record.id,
        "object": "thread.run",
        "created_at": record.created_at,
        "thread_id": record.thread_id,
        "assistant_id": record.assistant_id,
        "status": status or record.status,
        "required_action": record.required_action,
        "last_error": record.last_error,
        "expires_at": record.expires_at,
        "started_at": record.started_at,
        "cancelled_at": record.cancelled_at,
        "failed_at": record.failed_at,
        "completed_at": record.completed_at,
        "incomplete_details": record.incomplete_details,
        "model": record.model,
        "instructions": record.instructions,
        "tools": record.tools,
        "metadata": record.metadata or {},
        "usage": dict(usage) if usage is not None else None,
        **record.options,
    }
    if faults:
        _lifecycle_faults(obj, record, faults)
    return _schema_faults(obj, faults)


def _lifecycle_faults(obj: JSON, record: Run, faults: frozenset[str]) -> None:
    if "run_started_at_missing" in faults:
        obj["started_at"] = None
    if "run_completed_at_missing" in faults and record.status == "completed":
        obj["completed_at"] = None
    if "run_cancelled_at_missing" in faults and record.status == "cancelled":
        obj["cancelled_at"] = None
    if "run_expires_at_kept" in faults and record.status in TERMINAL:
        obj["expires_at"] = record.created_at + EXPIRY_SECONDS
    if "run_usage_mismatch" in faults and obj["usage"] is not None:
        obj["usage"]["total_tokens"] += 1
    if "run_usage_early" in faults and record.status not in TERMINAL:
        obj["usage"] = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    if "run_required_action_missing" in faults and record.status == "requires_action":
        obj["required_action"] = None
    if "run_failed_no_error" in faults and record.status == "failed":
        obj["last_error"] = None
