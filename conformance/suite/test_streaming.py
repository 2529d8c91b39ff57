"""Server-sent event streams: runs, thread-and-run, tool-output submission, chat completions.

The raw bytes are parsed with the invariants' SSE parser, so framing defects are findings too, and
judged by the stream grammar plus the contract's schema for each event.

Cost (issue 8): the run streams go to one thread per module and api-version that holds the question
(no message is added, so nothing but the run's own events can enter a stream), on the module's brief
assistant; the tool run gets its tool from the run's `tools`. A test that failed with its run still
active leaves the thread busy: the next one answers 400 there and streams on a thread of its own.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.client import ConformanceClient
from conformance.config import Deployments
from conformance.findings import Finding, require
from conformance.harness.tracker import Tracker
from conformance.invariants.sse import SseEvent, check_content_type, parse_sse
from conformance.invariants.streams import (
    StreamKind,
    check_chat_stream,
    check_run_stream,
    completed_messages,
    final_run,
)
from conformance.spec import Contract
from conformance.suite import support
from conformance.suite.conftest import Shared

pytestmark = [pytest.mark.streaming]

QUESTION = "Say hello in five words."


def _read(client: ConformanceClient, path: str, body: dict[str, Any],
          busy: Tracker | None = None) -> tuple[list[SseEvent], list[Finding]]:
    """The stream's events and framing findings. `busy`: `path` is on the module's thread, and a 400
    there (an earlier failed test left a run active) moves the stream to a new thread of `busy`."""
    status, content_type, raw = support.read_stream(client, path, {**body, "stream": True})
    if status == 400 and busy is not None:
        thread = busy.thread(messages=[{"role": "user", "content": QUESTION}])
        path = f"/threads/{thread['id']}/runs"
        status, content_type, raw = support.read_stream(client, path, {**body, "stream": True})
    assert status == 200, f"POST {path} with stream: true answered {status}: {raw[:300]!r}"
    events, framing = parse_sse(raw)
    return events, [*check_content_type(content_type), *framing]


def _run_stream(
    client: ConformanceClient, contract: Contract, path: str, body: dict[str, Any], kind: StreamKind,
    tracker: Tracker | None = None, busy: Tracker | None = None,
) -> list[SseEvent]:
    events, findings = _read(client, path, body, busy)
    if tracker is not None:  # the stream created a thread: register it before judging anything
        created = [json.loads(e.data) for e in events if e.event == "thread.created"]
        if created and isinstance(created[0], dict) and "id" in created[0]:
            tracker.register("thread", created[0]["id"], f"/threads/{created[0]['id']}")
    findings += check_run_stream(events, kind=kind, validate_event=contract.validate_event)
    require(findings, f"{kind} stream from POST {path}")
    return events


def _thread(shared: Shared) -> str:
    """The module's thread for run streams: it holds the question, and every run answers it."""
    return shared.once("stream thread", lambda owner: str(
        owner.thread(messages=[{"role": "user", "content": QUESTION}])["id"]))


def _stream_on_thread(client: ConformanceClient, contract: Contract, tracker: Tracker, shared: Shared,
                      body: dict[str, Any]) -> list[SseEvent]:
    """A judged run stream on the module's thread (or on a new one of the test's when it is busy)."""
    return _run_stream(client, contract, f"/threads/{_thread(shared)}/runs", body, "run", busy=tracker)


def _text(message: dict[str, Any]) -> list[str]:
    return [part["text"]["value"] for part in message.get("content", []) if part.get("type") == "text"]


def _final(events: list[SseEvent]) -> dict[str, Any]:
    run = final_run(events)
    assert run is not None, "the stream carried no run object"
    return run


@pytest.mark.smoke
@pytest.mark.expensive
@pytest.mark.operation("Create_Run")
def test_run_stream_follows_the_event_grammar(
    client: ConformanceClient, contract: Contract, tracker: Tracker, shared: Shared
) -> None:
    assistant = support.brief_assistant(shared)
    events = _stream_on_thread(client, contract, tracker, shared, {"assistant_id": assistant["id"]})
    assert _final(events)["status"] == "completed", f"the streamed run ended {_final(events)['status']!r}"


@pytest.mark.expensive
@pytest.mark.operation("Create_Run")
def test_run_stream_result_matches_retrieve(client: ConformanceClient, contract: Contract, tracker: Tracker, shared: Shared) -> None:
    assistant = support.brief_assistant(shared)
    events = _stream_on_thread(client, contract, tracker, shared, {"assistant_id": assistant["id"]})
    streamed = _final(events)
    thread = {"id": streamed["thread_id"]}
    stored = support.expect(contract, "Get_Run", client.get(f"/threads/{thread['id']}/runs/{streamed['id']}"))
    assert stored["status"] == streamed["status"], (
        f"the stream ended the run {streamed['status']!r} but a retrieve says {stored['status']!r}"
    )
    messages = completed_messages(events)
    assert messages, "the stream completed no message"
    for message in messages:
        path = f"/threads/{thread['id']}/messages/{message['id']}"
        kept = support.expect(contract, "Get_Message", client.get(path))
        assert _text(kept) == _text(message), (
            f"message {message['id']} streamed as {_text(message)} but reads back as {_text(kept)}"
        )


@pytest.mark.expensive
@pytest.mark.operation("Create_Thread_And_Run")
def test_thread_and_run_stream_follows_the_event_grammar(
    client: ConformanceClient, contract: Contract, tracker: Tracker, shared: Shared
) -> None:
    assistant = support.brief_assistant(shared)
    body = {
        "assistant_id": assistant["id"],
        "thread": {"messages": [{"role": "user", "content": QUESTION}], "metadata": tracker.metadata},
    }
    events = _run_stream(client, contract, "/threads/runs", body, "thread_and_run", tracker=tracker)
    run = _final(events)
    assert run["status"] == "completed", f"the streamed run ended {run['status']!r}"
    stored = support.expect(contract, "Get_Run", client.get(f"/threads/{run['thread_id']}/runs/{run['id']}"))
    assert stored["status"] == run["status"], f"a retrieve says {stored['status']!r}, the stream {run['status']!r}"


@pytest.mark.expensive
@pytest.mark.operation("Submit_Tool_Outputs_To_Run")
def test_run_stream_requires_action_then_submit_stream(
    client: ConformanceClient, contract: Contract, tracker: Tracker, shared: Shared
) -> None:
    body = {"assistant_id": support.brief_assistant(shared)["id"], **support.WEATHER_RUN}
    first = _final(_stream_on_thread(client, contract, tracker, shared, body))
    thread = {"id": first["thread_id"]}
    assert first["status"] == "requires_action", f"the forced tool call stream ended {first['status']!r}"
    outputs = [{"tool_call_id": call["id"], "output": '{"celsius": 21}'} for call in support.tool_calls(first)]
    path = f"/threads/{thread['id']}/runs/{first['id']}/submit_tool_outputs"
    events = _run_stream(client, contract, path, {"tool_outputs": outputs}, "submit_tool_outputs")
    run = _final(events)
    assert run["id"] == first["id"], f"the submit stream is about run {run['id']}, not {first['id']}"
    assert run["status"] == "completed", f"the run ended {run['status']!r} after the streamed tool outputs"


@pytest.mark.expensive
@pytest.mark.operation("ChatCompletions_Create")
def test_chat_completion_stream_chunks_end_with_done(
    client: ConformanceClient, contract: Contract, deployments: Deployments
) -> None:
    body = {"messages": [{"role": "user", "content": QUESTION}], "max_tokens": 50}
    events, findings = _read(client, f"/deployments/{deployments.chat}/chat/completions", body)
    findings += check_chat_stream(events, validate_event=contract.validate_event)
    require(findings, "chat completion stream")
    chunks = [json.loads(e.data) for e in events if e.data != "[DONE]"]
    text = "".join(c["choices"][0].get("delta", {}).get("content") or "" for c in chunks if c.get("choices"))
    assert text, "the chat stream delivered no content"
