"""Run streams and chat-completion streams as parsed events: grammar, ids, deltas, termination.

The run-stream grammar is the order the service was recorded emitting (SERVICE-FACTS "Streams"),
written as an automaton: each state lists the events it accepts and the state each leads to.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from conformance.findings import Finding
from conformance.invariants import rules as R
from conformance.invariants._common import is_list, is_mapping, show
from conformance.invariants.sse import SseEvent

StreamKind = Literal["run", "thread_and_run", "submit_tool_outputs"]
EventValidator = Callable[[str, Any], list[Finding]]

DONE_DATA: Final = "[DONE]"
RUN_END_EVENTS: Final = tuple(f"thread.run.{s}" for s in ("completed", "failed", "incomplete", "cancelled", "expired"))
STEP_END_EVENTS: Final = tuple(f"thread.run.step.{s}" for s in ("completed", "failed", "cancelled", "expired"))
MESSAGE_END_EVENTS: Final = ("thread.message.completed", "thread.message.incomplete")


def _to(state: str, *names: str) -> dict[str, str]:
    return dict.fromkeys(names, state)


# state -> {event name -> next state}
GRAMMAR: Final[Mapping[str, Mapping[str, str]]] = {
    "start:run": _to("created", "thread.run.created"),
    "start:thread_and_run": _to("thread", "thread.created"),
    # A streamed submit-tool-outputs resumes the run: it first closes the tool step.
    "start:submit_tool_outputs": _to("resumed", "thread.run.step.completed"),
    "thread": _to("created", "thread.run.created"),
    "resumed": _to("queued", "thread.run.queued"),
    "created": _to("queued", "thread.run.queued"),
    "queued": {
        **_to("running", "thread.run.in_progress"),
        **_to("cancelling", "thread.run.cancelling"),
        **_to("ended", "thread.run.failed", "thread.run.cancelled", "thread.run.expired"),
    },
    "running": {
        **_to("step_created", "thread.run.step.created"),
        **_to("paused", "thread.run.requires_action"),
        **_to("cancelling", "thread.run.cancelling"),
        **_to("ended", *RUN_END_EVENTS),
    },
    "step_created": _to("step", "thread.run.step.in_progress"),
    "step": {
        **_to("step", "thread.run.step.delta"),
        **_to("message_created", "thread.message.created"),
        **_to("running", *STEP_END_EVENTS),
        # A tool step stays open while the run waits for tool outputs.
        **_to("paused", "thread.run.requires_action"),
        **_to("cancelling", "thread.run.cancelling"),
    },
    "message_created": _to("message", "thread.message.in_progress"),
    "message": {
        **_to("message", "thread.message.delta"),
        **_to("message_done", *MESSAGE_END_EVENTS),
        **_to("cancelling", "thread.run.cancelling"),
    },
    "message_done": _to("running", *STEP_END_EVENTS),
    "cancelling": {
        **_to("cancelling", *STEP_END_EVENTS, *MESSAGE_END_EVENTS),
        **_to("ended", *RUN_END_EVENTS),
    },
    "paused": _to("done", "done"),
    "ended": _to("done", "done"),
    "errored": _to("done", "done"),
    "done": {},
}

# Every event name the reference documents; others are future events, tolerated.
KNOWN_EVENTS: Final = frozenset(
    {"thread.created", "error", "done", "thread.run.created", "thread.run.queued", "thread.run.in_progress",
     "thread.run.requires_action", "thread.run.cancelling", *RUN_END_EVENTS, "thread.run.step.created",
     "thread.run.step.in_progress", "thread.run.step.delta", *STEP_END_EVENTS, "thread.message.created",
     "thread.message.in_progress", "thread.message.delta", *MESSAGE_END_EVENTS}
)


def _expected_object(name: str) -> tuple[str, str | None] | None:
    """(object, status) the data of a known event must show; status None when not fixed."""
    if name == "thread.created":
        return "thread", None
    for prefix, obj in (("thread.run.step.", "thread.run.step"), ("thread.message.", "thread.message"),
                        ("thread.run.", "thread.run")):
        if name.startswith(prefix):
            suffix = name[len(prefix):]
            if suffix == "delta":
                return f"{obj}.delta", None
            # A created event shows whatever status the object was created in (a step is already in_progress).
            return obj, None if suffix == "created" else suffix
    return None


@dataclass
class _Ids:
    """What the stream has established so far, to check later references against."""

    thread: str | None = None
    run: str | None = None
    assistant: str | None = None
    open_step: str | None = None
    step_message: str | None = None  # message_creation.message_id of the open step
    open_message: str | None = None
    steps: set[str] = field(default_factory=set)
    messages: set[str] = field(default_factory=set)


def _data(event: SseEvent, where: str, findings: list[Finding]) -> Any:
    if event.event == "done":
        if event.data != DONE_DATA:
            findings.append(Finding(R.SSE_JSON_DATA, f"done data is {show(event.data)}, expected \"[DONE]\"", where))
        return None
    try:
        return json.loads(event.data)
    except ValueError:
        findings.append(Finding(R.SSE_JSON_DATA, f"{event.event or 'event'} data is not JSON: {show(event.data)}",
                                where))
        return None


def check_run_stream(
    events: Sequence[SseEvent],
    *,
    kind: StreamKind = "run",
    validate_event: EventValidator | None = None,
) -> list[Finding]:
    """The events of a streamed create-run, create-thread-and-run or submit-tool-outputs call."""
    findings: list[Finding] = []
    state = f"start:{kind}"
    ids = _Ids()
    deltas: dict[str, dict[int, list[str]]] = {}
    for index, event in enumerate(events):
        where = f"event {index} ({event.event})"
        name = event.event or ""
        data = _data(event, where, findings)
        if state == "done":
            findings.append(Finding(R.SSE_DONE_LAST, f"event {show(event.event)} follows done", where))
            continue
        if event.event is None:  # run streams name every event (Azure: "event: <name>" then "data: ...")
            findings.append(Finding(R.SSE_FRAMING, f"event without an event line, data {show(event.data)}", where))
            continue
        if name not in KNOWN_EVENTS:
            findings.append(Finding(R.SSE_EVENT_ORDER, f"unknown event {show(event.event)} tolerated", where,
                                    severity="info"))
            continue
        if name == "error":
            state = "errored"
        elif name in GRAMMAR[state]:
            state = GRAMMAR[state][name]
        else:
            expected = " | ".join(sorted(GRAMMAR[state])) or "end of stream"
            findings.append(Finding(R.SSE_EVENT_ORDER, f"{name} where {expected} was expected", where))
            state = state if state == "errored" else _resync(name, state)
        if data is None:
            continue  # done, or data that is not JSON (already a finding)
        if validate_event is not None:
            findings.extend(validate_event(name, data))
        if name == "error":
            continue
        if not is_mapping(data):
            findings.append(Finding(R.SSE_EVENT_SCHEMA, f"{name} data is {show(data)}, expected an object", where))
            continue
        findings.extend(_check_object(name, data, where))
        findings.extend(_check_ids(name, data, ids, first=index == 0 and kind == "submit_tool_outputs", where=where))
        findings.extend(_collect_deltas(name, data, deltas, where))
    if state not in ("done", "errored"):  # an error event ends the stream by itself
        findings.append(Finding(R.SSE_DONE_LAST, f"stream ended without a done event (after {len(events)} events)"))
    return findings


def _resync(name: str, state: str) -> str:
    # Continue from where this event would have led, so one misplaced event is one finding.
    for source, edges in GRAMMAR.items():
        if name in edges and not source.startswith("start:"):
            return edges[name]
    return state


def _check_object(name: str, data: Mapping[str, Any], where: str) -> list[Finding]:
    expected = _expected_object(name)
    if expected is None:
        return []
    obj, status = expected
    findings = []
    if data.get("object") != obj:
        findings.append(Finding(R.SSE_EVENT_SCHEMA, f"{name} data.object is {show(data.get('object'))}, expected "
                                f"{show(obj)}", where))
    if status is not None and data.get("status") != status:
        findings.append(Finding(R.SSE_EVENT_SCHEMA, f"{name} data.status is {show(data.get('status'))}, expected "
                                f"{show(status)}", where))
    return findings


def _same(label: str, value: Any, expected: str | None, where: str) -> list[Finding]:
    if expected is not None and value != expected:
        return [Finding(R.SSE_IDS_CONSISTENT, f"{label} is {show(value)} but the stream's is {show(expected)}", where)]
    return []


def _owners(name: str, data: Mapping[str, Any], ids: _Ids, where: str) -> list[Finding]:
    """A step or message names the stream's thread, run and assistant."""
    return [
        *_same(f"{name} thread_id", data.get("thread_id"), ids.thread, where),
        *_same(f"{name} run_id", data.get("run_id"), ids.run, where),
        *_same(f"{name} assistant_id", data.get("assistant_id"), ids.assistant, where),
    ]


def _check_ids(name: str, data: Mapping[str, Any], ids: _Ids, *, first: bool, where: str) -> list[Finding]:
    obj_id = data.get("id")
    if name == "thread.created":
        ids.thread = obj_id if isinstance(obj_id, str) else None
        return []
    findings: list[Finding] = []
    if name.startswith("thread.run.step."):
        if name != "thread.run.step.delta":  # a delta carries only the step id
            findings += _owners(name, data, ids, where)
        if name == "thread.run.step.created":
            if str(obj_id) in ids.steps:
                findings.append(Finding(R.SSE_IDS_CONSISTENT, f"step id {show(obj_id)} is created twice", where))
            ids.steps.add(str(obj_id))
            ids.open_step = str(obj_id)
            details = data.get("step_details")
            creation = details.get("message_creation") if is_mapping(details) else None
            ids.step_message = creation.get("message_id") if is_mapping(creation) else None
        elif first:  # the tool step a submit-tool-outputs stream closes was created by an earlier stream
            ids.steps.add(str(obj_id))
            ids.run = ids.run or data.get("run_id")
            ids.thread = ids.thread or data.get("thread_id")
            ids.assistant = ids.assistant or data.get("assistant_id")
        elif obj_id != ids.open_step:
            findings.append(Finding(R.SSE_IDS_CONSISTENT, f"{name} names step {show(obj_id)} but the open step is "
                                    f"{show(ids.open_step)}", where))
        return findings
    if name.startswith("thread.message."):
        if name == "thread.message.created":
            if str(obj_id) in ids.messages:
                findings.append(Finding(R.SSE_IDS_CONSISTENT, f"message id {show(obj_id)} is created twice", where))
            ids.messages.add(str(obj_id))
            ids.open_message = str(obj_id)
            if ids.step_message is not None and obj_id != ids.step_message:
                findings.append(Finding(R.SSE_IDS_CONSISTENT, f"message {show(obj_id)} is created but the open step "
                                        f"announced message {show(ids.step_message)}", where))
        elif obj_id != ids.open_message:
            findings.append(Finding(R.SSE_IDS_CONSISTENT, f"{name} names message {show(obj_id)} but the open "
                                    f"message is {show(ids.open_message)}", where))
        if name != "thread.message.delta":
            findings += _owners(name, data, ids, where)
        return findings
    # run events
    if ids.run is None:
        ids.run = obj_id if isinstance(obj_id, str) else None
        ids.thread = ids.thread or data.get("thread_id")
        ids.assistant = ids.assistant or data.get("assistant_id")
    findings += _same(f"{name} id", obj_id, ids.run, where)
    findings += _same(f"{name} thread_id", data.get("thread_id"), ids.thread, where)
    findings += _same(f"{name} assistant_id", data.get("assistant_id"), ids.assistant, where)
    return findings


def _collect_deltas(
    name: str, data: Mapping[str, Any], deltas: dict[str, dict[int, list[str]]], where: str
) -> list[Finding]:
    message_id = str(data.get("id"))
    if name == "thread.message.delta":
        delta = data.get("delta")
        parts = delta.get("content") if is_mapping(delta) else None
        for part in parts if is_list(parts) else []:
            text = part.get("text") if is_mapping(part) else None
            value = text.get("value") if is_mapping(text) else None
            position = part.get("index") if is_mapping(part) else None
            if isinstance(value, str) and isinstance(position, int):
                deltas.setdefault(message_id, {}).setdefault(position, []).append(value)
        return []
    if name not in MESSAGE_END_EVENTS:
        return []
    pieces = deltas.pop(message_id, {})
    content = data.get("content")
    findings = []
    for position, part in enumerate(content if is_list(content) else []):
        text = part.get("text") if is_mapping(part) else None
        value = text.get("value") if is_mapping(text) else None
        if not isinstance(value, str):
            continue
        joined = "".join(pieces.pop(position, []))
        if joined != value:
            findings.append(Finding(R.SSE_DELTA_CONCAT, f"message {show(message_id)} content[{position}].text.value is "
                                    f"{show(value)} but its deltas concatenate to {show(joined)}", where))
    for position, rest in sorted(pieces.items()):
        findings.append(Finding(R.SSE_DELTA_CONCAT, f"message {show(message_id)} has deltas for content[{position}] "
                                f"({show(''.join(rest))}) that the final message lacks", where))
    return findings


def _json_events(events: Sequence[SseEvent]) -> list[tuple[str, Any]]:
    parsed = []
    for event in events:
        try:
            parsed.append((event.event or "", json.loads(event.data)))
        except ValueError:
            continue
    return parsed


def final_run(events: Sequence[SseEvent]) -> dict[str, Any] | None:
    """The last run object the stream carried (its final state), or None."""
    runs = [data for name, data in _json_events(events)
            if name.startswith("thread.run.") and not name.startswith("thread.run.step.") and isinstance(data, dict)]
    return runs[-1] if runs else None


def completed_messages(events: Sequence[SseEvent]) -> list[dict[str, Any]]:
    """The message objects of thread.message.completed events, in stream order."""
    return [data for name, data in _json_events(events)
            if name == "thread.message.completed" and isinstance(data, dict)]


def _is_filter_chunk(data: Mapping[str, Any]) -> bool:
    """Azure's content-filter chunks, which carry an empty id and object: the first chunk (no
    choices; prompt_filter_results, or prompt_annotations in older versions) and, with the
    asynchronous filter, annotation-only chunks (choices without delta, with filter results)."""
    if data.get("id") not in ("", None) or data.get("object") not in ("", None):
        return False
    choices = data.get("choices")
    if choices == []:
        return "prompt_filter_results" in data or "prompt_annotations" in data
    return is_list(choices) and all(
        is_mapping(c) and "delta" not in c and ("content_filter_results" in c or "content_filter_offsets" in c)
        for c in choices
    )


def check_chat_stream(
    events: Sequence[SseEvent], *, validate_event: EventValidator | None = None
) -> list[Finding]:
    """A streamed chat completion: data-only JSON chunks of one id, ended by ``data: [DONE]``."""
    findings: list[Finding] = []
    stream_id: str | None = None
    done_at: int | None = None
    for index, event in enumerate(events):
        where = f"chunk {index}"
        if done_at is not None:
            findings.append(Finding(R.SSE_DONE_LAST, f"{show(event.data)} follows [DONE]", where))
            continue
        if event.event is not None:
            findings.append(Finding(R.SSE_FRAMING, f"event: {show(event.event)} line in a chat stream (data-only "
                                    "events expected)", where))
        if event.data == DONE_DATA:
            done_at = index
            continue
        try:
            data = json.loads(event.data)
        except ValueError:
            findings.append(Finding(R.SSE_JSON_DATA, f"chunk data is not JSON: {show(event.data)}", where))
            continue
        if validate_event is not None:
            findings.extend(validate_event("chat.completion.chunk", data))
        if not is_mapping(data):
            findings.append(Finding(R.SSE_EVENT_SCHEMA, f"chunk is {show(data)}, expected an object", where))
            continue
        if _is_filter_chunk(data):
            continue
        if data.get("object") != "chat.completion.chunk":
            findings.append(Finding(R.SSE_EVENT_SCHEMA, f"chunk object is {show(data.get('object'))}, expected "
                                    "\"chat.completion.chunk\"", where))
        if stream_id is None:
            stream_id = str(data.get("id"))
        elif data.get("id") != stream_id:
            findings.append(Finding(R.SSE_IDS_CONSISTENT, f"chunk id is {show(data.get('id'))} but the stream's is "
                                    f"{show(stream_id)}", where))
    if done_at is None:
        findings.append(Finding(R.SSE_DONE_LAST, f"chat stream ended without data: [DONE] (after {len(events)} "
                                "chunks)"))
    return findings
