"""Streamed runs on the emulator: the service's exact event order, framing, deltas that add up,
requires_action and submit-tool-outputs streams, and streamed objects equal to a later GET."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.emulator.settings import EmulatorSettings
from conformance.emulator.testing import EmulatorApi, FakeClock
from conformance.findings import errors
from conformance.invariants.sse import parse_sse
from conformance.invariants.streams import check_run_stream
from conformance.versions import API_VERSIONS

TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}
MESSAGE_EVENTS = ["thread.run.step.created", "thread.run.step.in_progress", "thread.message.created",
                  "thread.message.in_progress"]
RUN_ORDER_HEAD = ["thread.run.created", "thread.run.queued", "thread.run.in_progress", *MESSAGE_EVENTS]
RUN_ORDER_TAIL = ["thread.message.completed", "thread.run.step.completed", "thread.run.completed", "done"]


def parse(text: str) -> list[tuple[str, str]]:
    """(event, data) pairs, asserting the exact framing the service uses."""
    assert text.endswith("\n\n")
    events = []
    for block in text[:-2].split("\n\n"):
        name_line, data_line = block.split("\n")
        assert name_line.startswith("event: ") and data_line.startswith("data: ")
        events.append((name_line[7:], data_line[6:]))
    return events


def without_deltas(events: list[tuple[str, str]]) -> list[str]:
    return [name for name, _ in events if name != "thread.message.delta"]


@pytest.fixture(params=API_VERSIONS)
def api(request: pytest.FixtureRequest) -> EmulatorApi:
    return EmulatorApi.create(EmulatorSettings(run_pace=1.0), clock=FakeClock(), api_version=request.param)


def _assistant(api: EmulatorApi) -> str:
    return str(api.call("POST", "/assistants", {"model": "gpt-4o", "tools": [TOOL]})["id"])


def test_create_run_stream_order_framing_and_content(api: EmulatorApi) -> None:
    aid = _assistant(api)
    thread = api.call("POST", "/threads", {"messages": [{"role": "user", "content": "tell me three things"}]})["id"]
    response = api.raw("POST", f"/threads/{thread}/runs", {"assistant_id": aid, "stream": True})
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["x-ms-region"] and response.headers["apim-request-id"]
    events = parse(response.text)
    assert without_deltas(events) == RUN_ORDER_HEAD + RUN_ORDER_TAIL
    assert events[-1] == ("done", "[DONE]")
    for name, data in events[:-1]:
        assert json.dumps(json.loads(data), separators=(",", ":"), ensure_ascii=False) == data, name
    deltas = [json.loads(d)["delta"]["content"][0]["text"] for n, d in events if n == "thread.message.delta"]
    assert len(deltas) > 1 and deltas[0]["annotations"] == [] and all("annotations" not in d for d in deltas[1:])
    completed = json.loads(dict(events)["thread.message.completed"])
    assert "".join(d["value"] for d in deltas) == completed["content"][0]["text"]["value"] == "You said: tell me three things"
    assert json.loads(events[0][1])["status"] == "queued"
    sse_events, framing = parse_sse(response.content)
    assert not errors(framing) and not errors(check_run_stream(sse_events, kind="run"))


def test_streamed_objects_equal_a_later_get(api: EmulatorApi) -> None:
    aid = _assistant(api)
    thread = api.call("POST", "/threads", {"messages": [{"role": "user", "content": "hi"}]})["id"]
    events = dict(parse(api.call("POST", f"/threads/{thread}/runs", {"assistant_id": aid, "stream": True})))
    run = json.loads(events["thread.run.completed"])
    assert api.call("GET", f"/threads/{thread}/runs/{run['id']}") == run
    message = json.loads(events["thread.message.completed"])
    assert api.call("GET", f"/threads/{thread}/messages/{message['id']}") == message
    step = json.loads(events["thread.run.step.completed"])
    assert api.call("GET", f"/threads/{thread}/runs/{run['id']}/steps/{step['id']}") == step
    assert step["step_details"]["message_creation"]["message_id"] == message["id"]
    assert run["usage"] == step["usage"]


def test_create_thread_and_run_stream_starts_with_thread_created(api: EmulatorApi) -> None:
    aid = _assistant(api)
    text = api.call("POST", "/threads/runs",
                    {"assistant_id": aid, "stream": True, "thread": {"messages": [{"role": "user", "content": "x"}]}})
    events = parse(text)
    assert without_deltas(events) == ["thread.created", *RUN_ORDER_HEAD, *RUN_ORDER_TAIL]
    thread = json.loads(events[0][1])
    assert all(json.loads(d).get("thread_id", thread["id"]) == thread["id"] for n, d in events[1:-1])


def test_requires_action_stream_then_submit_stream_resumes(api: EmulatorApi) -> None:
    aid = _assistant(api)
    thread = api.call("POST", "/threads", {"messages": [{"role": "user", "content": "lookup the weather"}]})["id"]
    first = parse(api.call("POST", f"/threads/{thread}/runs", {"assistant_id": aid, "stream": True}))
    assert [n for n, _ in first] == ["thread.run.created", "thread.run.queued", "thread.run.in_progress",
                                     "thread.run.step.created", "thread.run.step.in_progress",
                                     "thread.run.step.delta", "thread.run.requires_action", "done"]
    delta = json.loads(first[5][1])["delta"]["step_details"]["tool_calls"][0]
    assert delta["function"]["name"] == "lookup" and delta["function"]["output"] is None
    run = json.loads(first[6][1])
    call_id = run["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
    assert call_id == delta["id"]
    resumed = parse(api.call("POST", f"/threads/{thread}/runs/{run['id']}/submit_tool_outputs",
                             {"stream": True, "tool_outputs": [{"tool_call_id": call_id, "output": "rain"}]}))
    assert without_deltas(resumed) == ["thread.run.step.completed", "thread.run.queued", "thread.run.in_progress",
                                       *MESSAGE_EVENTS, *RUN_ORDER_TAIL]
    tool_step = json.loads(resumed[0][1])
    assert tool_step["step_details"]["tool_calls"][0]["function"]["output"] == "rain" and tool_step["usage"]
    final = json.loads(dict(resumed)["thread.run.completed"])
    assert final["usage"]["total_tokens"] == sum(
        s["usage"]["total_tokens"] for s in api.call("GET", f"/threads/{thread}/runs/{run['id']}/steps")["data"])
    sse_events, _ = parse_sse(api.raw("POST", "/threads/runs", {"assistant_id": aid, "stream": True,
                                                                "thread": {"messages": [{"role": "user", "content": "lookup"}]}}).content)
    assert not errors(check_run_stream(sse_events, kind="thread_and_run"))


@pytest.mark.parametrize("phrase, last", [("[[emulator:content_filter]]", "thread.run.incomplete"),
                                          ("[[emulator:run_failed]]", "thread.run.failed"),
                                          ("[[emulator:run_expired]]", "thread.run.expired")])
def test_streams_of_runs_that_do_not_complete(api: EmulatorApi, phrase: str, last: str) -> None:
    aid = _assistant(api)
    thread = api.call("POST", "/threads", {"messages": [{"role": "user", "content": phrase}]})["id"]
    names = [n for n, _ in parse(api.call("POST", f"/threads/{thread}/runs", {"assistant_id": aid, "stream": True}))]
    assert names[-2:] == [last, "done"]
    if last == "thread.run.incomplete":
        assert "thread.message.incomplete" in names


def test_stream_false_answers_json(api: EmulatorApi) -> None:
    aid = _assistant(api)
    thread = api.call("POST", "/threads")["id"]
    run: Any = api.call("POST", f"/threads/{thread}/runs", {"assistant_id": aid, "stream": False})
    assert run["status"] == "queued"
