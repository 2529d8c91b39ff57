"""Run-stream grammar, ids, deltas and chat-completion streams, on the recorded event orders."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from conformance.findings import Finding, errors
from conformance.invariants import (
    SseEvent,
    check_chat_stream,
    check_run_stream,
    completed_messages,
    final_run,
    parse_sse,
)
from conformance.invariants.streams import KNOWN_EVENTS

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
T = 1727000000
RUN_IDS = {"thread_id": "thread_1", "run_id": "run_1", "assistant_id": "asst_1"}
USAGE = {"prompt_tokens": 40, "completion_tokens": 5, "total_tokens": 45}


def thread() -> dict[str, Any]:
    return {"id": "thread_1", "object": "thread", "created_at": T, "metadata": {}, "tool_resources": {}}


def run(status: str) -> dict[str, Any]:
    return {"id": "run_1", "object": "thread.run", "created_at": T, "thread_id": "thread_1",
            "assistant_id": "asst_1", "status": status, "usage": USAGE if status == "completed" else None}


def step(status: str, step_id: str = "step_1", message_id: str | None = "msg_1") -> dict[str, Any]:
    details: dict[str, Any] = (
        {"type": "message_creation", "message_creation": {"message_id": message_id}} if message_id
        else {"type": "tool_calls", "tool_calls": [{"id": "call_1", "type": "function",
                                                   "function": {"name": "get_weather", "arguments": "{}",
                                                                "output": "sunny" if status == "completed"
                                                                else None}}]}
    )
    return {"id": step_id, "object": "thread.run.step", "created_at": T, **RUN_IDS,
            "type": details["type"], "status": status, "step_details": details,
            "usage": USAGE if status == "completed" else None}


def message(status: str, text: str | None, message_id: str = "msg_1") -> dict[str, Any]:
    content = [] if text is None else [{"type": "text", "text": {"value": text, "annotations": []}}]
    return {"id": message_id, "object": "thread.message", "created_at": T, "thread_id": "thread_1",
            "run_id": "run_1", "assistant_id": "asst_1", "role": "assistant", "status": status,
            "content": content}


def delta(value: str, first: bool, message_id: str = "msg_1") -> dict[str, Any]:
    # SERVICE-FACTS: the first delta carries annotations: [], later ones omit it.
    text: dict[str, Any] = {"value": value, **({"annotations": []} if first else {})}
    return {"id": message_id, "object": "thread.message.delta",
            "delta": {"content": [{"index": 0, "type": "text", "text": text}]}}


def ev(name: str, data: Any) -> SseEvent:
    return SseEvent(name, data if isinstance(data, str) else json.dumps(data, separators=(",", ":")))


def message_events(message_id: str, pieces: list[str], step_id: str) -> list[SseEvent]:
    return [
        ev("thread.run.step.created", step("in_progress", step_id, message_id)),  # recorded: already in_progress
        ev("thread.run.step.in_progress", step("in_progress", step_id, message_id)),
        ev("thread.message.created", message("in_progress", None, message_id)),
        ev("thread.message.in_progress", message("in_progress", None, message_id)),
        *[ev("thread.message.delta", delta(p, i == 0, message_id)) for i, p in enumerate(pieces)],
        ev("thread.message.completed", message("completed", "".join(pieces), message_id)),
        ev("thread.run.step.completed", step("completed", step_id, message_id)),
    ]


def recorded_run_stream() -> list[SseEvent]:
    """create run, stream: true, in the order SERVICE-FACTS recorded."""
    return [
        ev("thread.run.created", run("queued")),
        ev("thread.run.queued", run("queued")),
        ev("thread.run.in_progress", run("in_progress")),
        *message_events("msg_1", ["Hello", "! How", " can I help?"], "step_1"),
        ev("thread.run.completed", run("completed")),
        ev("done", "[DONE]"),
    ]


def recorded_tool_stream() -> list[SseEvent]:
    return [
        ev("thread.run.created", run("queued")),
        ev("thread.run.queued", run("queued")),
        ev("thread.run.in_progress", run("in_progress")),
        ev("thread.run.step.created", step("in_progress", "step_1", None)),
        ev("thread.run.step.in_progress", step("in_progress", "step_1", None)),
        ev("thread.run.step.delta", {"id": "step_1", "object": "thread.run.step.delta",
                                     "delta": {"step_details": {"type": "tool_calls"}}}),
        ev("thread.run.requires_action", run("requires_action")),
        ev("done", "[DONE]"),
    ]


def recorded_submit_stream() -> list[SseEvent]:
    return [
        ev("thread.run.step.completed", step("completed", "step_1", None)),
        ev("thread.run.queued", run("queued")),
        ev("thread.run.in_progress", run("in_progress")),
        *message_events("msg_2", ["It is ", "sunny."], "step_2"),
        ev("thread.run.completed", run("completed")),
        ev("done", "[DONE]"),
    ]


def rules_of(findings: list[Finding]) -> set[str]:
    return {f.rule for f in errors(findings)}


def to_bytes(events: list[SseEvent]) -> bytes:
    return b"".join(f"event: {e.event}\ndata: {e.data}\n\n".encode() for e in events)


# conforming streams ------------------------------------------------------------------------------

def test_recorded_run_stream() -> None:
    assert check_run_stream(recorded_run_stream(), kind="run") == []


def test_recorded_thread_and_run_stream() -> None:
    events = [ev("thread.created", thread()), *recorded_run_stream()]
    assert check_run_stream(events, kind="thread_and_run") == []


def test_recorded_requires_action_then_submit_tool_outputs() -> None:
    assert check_run_stream(recorded_tool_stream(), kind="run") == []
    assert check_run_stream(recorded_submit_stream(), kind="submit_tool_outputs") == []


def test_from_wire_bytes() -> None:
    events, framing = parse_sse(to_bytes(recorded_run_stream()))
    assert framing == []
    assert check_run_stream(events) == []


def test_content_filtered_message_is_incomplete() -> None:
    events = recorded_run_stream()
    events[-4] = ev("thread.message.incomplete", {**message("incomplete", "Hello! How can I help?")})
    events[-2] = ev("thread.run.incomplete", {**run("incomplete"), "incomplete_details": {"reason": "content_filter"}})
    assert check_run_stream(events) == []


def test_cancelled_mid_message() -> None:
    events = recorded_run_stream()[:8]  # ... first message delta
    events += [ev("thread.run.cancelling", run("cancelling")), ev("thread.run.cancelled", run("cancelled")),
               ev("done", "[DONE]")]
    assert errors(check_run_stream(events)) == []


def test_error_event_ends_the_stream() -> None:
    events = [*recorded_run_stream()[:4], ev("error", {"code": "server_error", "message": "timeout"})]
    assert check_run_stream(events) == []
    assert rules_of(check_run_stream([*events, ev("thread.run.step.in_progress", step("in_progress"))])) == {
        "sse.event_order"}


def test_unknown_events_are_tolerated_as_info() -> None:
    events = recorded_run_stream()
    events.insert(3, ev("thread.run.step.annotated", {"future": True}))
    findings = check_run_stream(events)
    assert errors(findings) == []
    assert [f.severity for f in findings] == ["info"]


def test_validate_event_sees_every_json_event() -> None:
    seen: list[str] = []

    def validate(name: str, data: Any) -> list[Finding]:
        seen.append(name)
        return [Finding("sse.event_schema", f"{name} rejected")] if name == "thread.run.completed" else []

    findings = check_run_stream(recorded_run_stream(), validate_event=validate)
    assert seen == [e.event for e in recorded_run_stream()[:-1]]
    assert [f.message for f in findings] == ["thread.run.completed rejected"]


def test_helpers() -> None:
    events = recorded_run_stream()
    final = final_run(events)
    assert final is not None and final["status"] == "completed"
    assert [m["content"][0]["text"]["value"] for m in completed_messages(events)] == ["Hello! How can I help?"]
    assert final_run([]) is None


# violations -------------------------------------------------------------------------------------

def swap(events: list[SseEvent], i: int, j: int) -> list[SseEvent]:
    events[i], events[j] = events[j], events[i]
    return events


def edit(events: list[SseEvent], index: int, change: Any) -> list[SseEvent]:
    data = json.loads(events[index].data)
    change(data)
    events[index] = ev(str(events[index].event), data)
    return events


def set_path(path: str, value: Any) -> Any:
    def change(data: Any) -> None:
        *parents, last = path.split(".")
        for key in parents:
            data = data[int(key)] if isinstance(data, list) else data[key]
        data[int(last) if isinstance(data, list) else last] = value
    return change


CASES: list[tuple[str, Any, str]] = [
    ("created/queued swapped", lambda e: swap(e, 0, 1), "sse.event_order"),
    ("in_progress missing", lambda e: e[:2] + e[3:], "sse.event_order"),
    ("delta before message in_progress", lambda e: swap(e, 6, 7), "sse.event_order"),
    ("step completed before message completed", lambda e: swap(e, 10, 11), "sse.event_order"),
    ("thread.created in a run stream", lambda e: [ev("thread.created", thread()), *e], "sse.event_order"),
    ("event after done", lambda e: [*e, ev("thread.run.completed", run("completed"))], "sse.done_last"),
    ("no done", lambda e: e[:-1], "sse.done_last"),
    ("data not JSON", lambda e: [*e[:2], SseEvent("thread.run.in_progress", "{status: in_progress}"), *e[3:]],
     "sse.json_data"),
    ("done data", lambda e: [*e[:-1], SseEvent("done", "DONE")], "sse.json_data"),
    ("event line missing", lambda e: [*e[:2], SseEvent(None, e[2].data), *e[3:]], "sse.framing"),
    ("status disagrees with event", lambda e: edit(e, 12, set_path("status", "in_progress")), "sse.event_schema"),
    ("object disagrees with event", lambda e: edit(e, 3, set_path("object", "thread.run")), "sse.event_schema"),
    ("run id changes", lambda e: edit(e, 2, set_path("id", "run_2")), "sse.ids_consistent"),
    ("thread id changes", lambda e: edit(e, 12, set_path("thread_id", "thread_2")), "sse.ids_consistent"),
    ("step names another run", lambda e: edit(e, 3, set_path("run_id", "run_2")), "sse.ids_consistent"),
    ("step completed for another step", lambda e: edit(e, 11, set_path("id", "step_9")), "sse.ids_consistent"),
    ("delta for another message", lambda e: edit(e, 8, set_path("id", "msg_9")), "sse.ids_consistent"),
    ("message of another run", lambda e: edit(e, 10, set_path("run_id", "run_2")), "sse.ids_consistent"),
    ("message is not the step's", lambda e: edit(e, 5, set_path("id", "msg_9")), "sse.ids_consistent"),
    ("completed text differs", lambda e: edit(e, 10, set_path("content.0.text.value", "Hello!")),
     "sse.delta_concat"),
    ("delta for a missing part", lambda e: edit(e, 8, set_path("delta.content.0.index", 1)), "sse.delta_concat"),
]


@pytest.mark.parametrize(("change", "rule"), [(c, r) for _, c, r in CASES], ids=[n for n, _, _ in CASES])
def test_violation_fires_its_rule(change: Any, rule: str) -> None:
    events = change(copy.deepcopy(recorded_run_stream()))
    assert rule in rules_of(check_run_stream(events, kind="run"))


def test_second_step_and_message_need_new_ids() -> None:
    events = recorded_run_stream()
    events[-2:-2] = message_events("msg_2", ["More."], "step_2")
    assert check_run_stream(events) == []
    events[-2:-2] = message_events("msg_1", ["Again."], "step_1")
    assert "sse.ids_consistent" in rules_of(check_run_stream(events))


def test_thread_and_run_needs_thread_created() -> None:
    assert "sse.event_order" in rules_of(check_run_stream(recorded_run_stream(), kind="thread_and_run"))


def test_thread_id_must_match_thread_created() -> None:
    events = [ev("thread.created", {**thread(), "id": "thread_9"}), *recorded_run_stream()]
    assert "sse.ids_consistent" in rules_of(check_run_stream(events, kind="thread_and_run"))


def test_submit_stream_must_start_with_the_tool_step() -> None:
    assert "sse.event_order" in rules_of(check_run_stream(recorded_submit_stream()[1:], kind="submit_tool_outputs"))


def test_one_missing_event_is_one_finding() -> None:
    events = recorded_run_stream()
    del events[2]  # thread.run.in_progress
    assert len(errors(check_run_stream(events))) == 1


def test_reference_documents_no_event_the_grammar_does_not_know() -> None:
    docs = sorted(SHARED.glob("reference-docs/001_*.txt")) if SHARED.is_dir() else []
    if not docs:
        pytest.skip(f"reference docs not found under {SHARED} (../shared is absent in a fresh clone)")
    text = docs[0].read_text(encoding="utf-8")
    section = text[text.index("assistantStreamEvent"):]
    documented = set(re.findall(r"^(thread(?:\.[a-z_]+)+|done|error)$", section, flags=re.MULTILINE))
    assert "thread.run.step.delta" in documented
    assert documented <= KNOWN_EVENTS, documented - KNOWN_EVENTS


# chat completion streams -------------------------------------------------------------------------

def chunk(content: str | None, finish: str | None = None, chunk_id: str = "chatcmpl-1") -> SseEvent:
    choice = {"index": 0, "delta": {} if content is None else {"content": content}, "finish_reason": finish,
              "content_filter_results": {}}
    return SseEvent(None, json.dumps({"id": chunk_id, "object": "chat.completion.chunk", "created": T,
                                      "model": "gpt-4o", "choices": [choice]}))


def chat_stream() -> list[SseEvent]:
    prompt_filter = {"choices": [], "created": 0, "id": "", "model": "", "object": "",
                     "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]}
    return [SseEvent(None, json.dumps(prompt_filter)), chunk("Hel"), chunk("lo"), chunk(None, "stop"),
            SseEvent(None, "[DONE]")]


def test_async_filter_annotation_chunks_are_tolerated() -> None:
    annotation = {"id": "", "object": "", "created": 0, "model": "", "choices": [
        {"index": 0, "finish_reason": None, "content_filter_results": {},
         "content_filter_offsets": {"check_offset": 4, "start_offset": 4, "end_offset": 9}}]}
    events = chat_stream()
    events.insert(3, SseEvent(None, json.dumps(annotation)))
    assert check_chat_stream(events) == []
    annotation["choices"][0]["delta"] = {"content": "x"}  # a content chunk must name the stream
    events[3] = SseEvent(None, json.dumps(annotation))
    assert "sse.ids_consistent" in rules_of(check_chat_stream(events))


def test_azure_chat_stream() -> None:
    assert check_chat_stream(chat_stream()) == []
    events, framing = parse_sse(b"".join(f"data: {e.data}\n\n".encode() for e in chat_stream()))
    assert framing == []
    assert check_chat_stream(events) == []


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda e: [*e[:2], chunk("x", chunk_id="chatcmpl-2"), *e[2:]], "sse.ids_consistent"),
        (lambda e: [*e[:-1]], "sse.done_last"),
        (lambda e: [*e, chunk("late")], "sse.done_last"),
        (lambda e: [*e[:1], SseEvent(None, "not json"), *e[1:]], "sse.json_data"),
        (lambda e: [*e[:1], SseEvent("message", e[1].data), *e[2:]], "sse.framing"),
        (lambda e: [*e[:1], SseEvent(None, e[1].data.replace("chat.completion.chunk", "chat.completion")), *e[2:]],
         "sse.event_schema"),
    ],
)
def test_chat_stream_violations(change: Any, rule: str) -> None:
    assert rule in rules_of(check_chat_stream(change(chat_stream())))


def test_published_spec_documents_no_event_the_grammar_does_not_know() -> None:
    specs = sorted(SHARED.glob("reference-specs/*/inference.json")) if SHARED.is_dir() else []
    if not specs:
        pytest.skip(f"official specs not found under {SHARED} (../shared is absent in a fresh clone)")
    for spec in specs:
        schemas = json.loads(spec.read_text(encoding="utf-8"))["components"]["schemas"]
        names = {name for key, schema in schemas.items() if key.endswith(("StreamEvent", "errorEvent", "doneEvent"))
                 for variant in schema.get("oneOf", [schema])
                 for name in variant.get("properties", {}).get("event", {}).get("enum", [])}
        assert {"thread.run.created", "done", "error"} <= names, spec
        assert names <= KNOWN_EVENTS, (spec, names - KNOWN_EVENTS)
