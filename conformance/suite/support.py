"""Small helpers the suite modules share: check an answer against the contract, poll a run.

They only call the client and `conformance.spec`; every rule they apply lives in
`conformance.invariants` or in the contract, so a failure names the rule it broke.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from conformance.client import ConformanceClient
from conformance.findings import ConformanceError, Finding, require
from conformance.harness.tracker import SetupFailed, Tracker
from conformance.spec import Contract

if TYPE_CHECKING:
    from conformance.suite.conftest import Shared

TERMINAL = frozenset({"completed", "failed", "cancelled", "incomplete", "expired"})


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.content


def describe(response: httpx.Response) -> str:
    """`METHOD path -> status` (no host, no query: never a credential or resource name)."""
    return f"{response.request.method} {response.request.url.path} -> {response.status_code}"


def expect(
    contract: Contract,
    operation_id: str,
    response: httpx.Response,
    status: int = 200,
) -> Any:
    """The parsed body, after checking the status and the contract's schema for it."""
    op = contract.operation(operation_id)
    findings: list[Finding] = []
    if response.status_code != status:
        rule = "errors.not_found" if status == 404 else "errors.bad_request" if status == 400 else "schema.status"
        findings.append(Finding(rule, f"expected HTTP {status}, got {response.status_code}: {response.text[:300]}", "status"))
        raise ConformanceError(findings, f"{operation_id}: {describe(response)}")
    body = _body(response)
    findings = contract.validate_response(op, response.status_code, dict(response.headers), body)
    require(findings, f"{operation_id}: {describe(response)}")
    return body


def poll_run(
    client: ConformanceClient,
    contract: Contract,
    thread_id: str,
    run_id: str,
    *,
    until: frozenset[str] = TERMINAL,
    timeout: float = 60.0,
    interval: float | None = None,
) -> list[dict[str, Any]]:
    """Every snapshot of the run, polled until its status is in `until` (bounded by `timeout`)."""
    snapshots: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    # the client's pace: quick on the emulator, gentle (fewer requests) on anything else
    delay = client.poll_interval if interval is None else interval
    while True:
        # wait first: the caller holds the answer that made or moved the run, so an immediate read
        # would mostly repeat it (one request per run saved on a live, request-budgeted target)
        time.sleep(delay)
        run = expect(contract, "Get_Run", client.get(f"/threads/{thread_id}/runs/{run_id}"))
        snapshots.append(run)
        if run.get("status") in until:
            return snapshots
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {run.get('status')!r} after {timeout:.0f} s of polling")
        delay = min(delay * 1.5, max(1.0, delay))


def subset(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """Keys of `expected` whose value `actual` does not echo."""
    return [key for key, value in expected.items() if actual.get(key) != value]


# ---------------------------------------------------------------- runs with a forced tool call
# (added by suite-lifecycle; used by the run, tool and streaming modules)

WEATHER_FUNCTION = "get_weather"
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": WEATHER_FUNCTION,
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
# Forcing the call makes the run stop in requires_action on the real service too, not only on a script.
FORCE_WEATHER: dict[str, Any] = {"type": "function", "function": {"name": WEATHER_FUNCTION}}
# The run gets the tool itself (a run's `tools` override its assistant's), so the module's brief
# assistant serves tool runs too: one assistant fewer to create and delete (issue 8: cost).
WEATHER_RUN: dict[str, Any] = {"tools": [WEATHER_TOOL], "tool_choice": FORCE_WEATHER}
WEATHER_QUESTION: dict[str, Any] = {"role": "user", "content": "What is the weather in Paris?"}


def tool_calls(run: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The tool calls a requires_action run waits for (empty when it waits for none)."""
    action = run.get("required_action") or {}
    calls = (action.get("submit_tool_outputs") or {}).get("tool_calls") or []
    return [call for call in calls if isinstance(call, dict)]


def read_stream(client: ConformanceClient, path: str, body: Mapping[str, Any]) -> tuple[int, str | None, bytes]:
    """POST a streaming request and return (status, Content-Type, the raw body bytes)."""
    with client.stream("POST", path, json=dict(body)) as response:
        raw = b"".join(response.iter_bytes())
        return response.status_code, response.headers.get("content-type"), raw


def settle(client: ConformanceClient, contract: Contract, run: dict[str, Any], **poll: Any) -> list[dict[str, Any]]:
    """The create answer, every poll until terminal, and one more read (a terminal status must stay)."""
    thread_id, run_id = run["thread_id"], run["id"]
    polled = poll_run(client, contract, thread_id, run_id, **poll)
    again = expect(contract, "Get_Run", client.get(f"/threads/{thread_id}/runs/{run_id}"))
    return [run, *polled, again]


def tool_run(client: ConformanceClient, contract: Contract, tracker: Tracker,
             shared: Shared) -> list[dict[str, Any]]:
    """Snapshots of a run stopped in requires_action by a forced function call (it stays active),
    polled from its create answer. Thread and run are made in one request (`POST /threads/runs`),
    on the module's brief assistant with the weather tool given to the run (issue 8: cost)."""
    from conformance.invariants.lifecycle import check_run_history

    body = {**WEATHER_RUN, "assistant_id": brief_assistant(shared)["id"],
            "thread": {"messages": [WEATHER_QUESTION], "metadata": tracker.metadata}}
    response = client.post("/threads/runs", json=body)
    if response.status_code == 200:  # register the new thread before any check can fail
        tracker.thread_and_run_created(response.json())
    run = expect(contract, "Create_Thread_And_Run", response)
    waiting = frozenset({"requires_action"}) | TERMINAL
    snapshots = [run, *poll_run(client, contract, run["thread_id"], run["id"], until=waiting)]
    require(check_run_history(snapshots), "tool run until requires_action")
    if snapshots[-1]["status"] != "requires_action":
        raise AssertionError(f"a run with a forced function call ended {snapshots[-1]['status']!r} "
                             "instead of waiting in requires_action")
    return snapshots


def brief_assistant(shared: Shared) -> dict[str, Any]:
    """The module's "Answer briefly." assistant for this api-version: runs only read it (issue 8: cost)."""
    return shared.once("brief assistant", lambda tracker: tracker.assistant(instructions="Answer briefly."))


def streamed_run(client: ConformanceClient, contract: Contract, thread_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """A run made with `stream: true` and read to its end: one request for a finished run, where a
    polled one takes several. For setup only; the stream itself is judged in `test_streaming`."""
    path = f"/threads/{thread_id}/runs"
    status, _, raw = read_stream(client, path, {**body, "stream": True})
    return _last_run(path, status, raw)


def waiting_run(client: ConformanceClient, contract: Contract, shared: Shared) -> dict[str, Any]:
    """A run waiting in requires_action, shared by the module's tests whose requests it must refuse
    (a conforming target leaves it waiting); a test that moves it makes its own with `tool_run`.

    Setup only: thread and run in one streamed request, read until the run waits (one request
    where a polled run takes several; the walk there is judged by the tool tests)."""
    def make(owner: Tracker) -> dict[str, Any]:
        body = {**WEATHER_RUN, "assistant_id": brief_assistant(shared)["id"], "stream": True,
                "thread": {"messages": [WEATHER_QUESTION], "metadata": owner.metadata}}
        run = _streamed(client, "/threads/runs", body, owner)
        if run.get("status") != "requires_action":
            raise SetupFailed(f"a run with a forced function call streamed to {run.get('status')!r} "
                              "instead of waiting in requires_action")
        return run

    return shared.once("waiting run", make)


def _streamed(client: ConformanceClient, path: str, body: Mapping[str, Any],
              tracker: Tracker | None = None) -> dict[str, Any]:
    """The last run object of a streamed request (setup); with `tracker`, the thread a
    create-thread-and-run made is registered for deletion first."""
    from conformance.invariants.sse import parse_sse

    status, _, raw = read_stream(client, path, {**body, "stream": True})
    if tracker is not None and status == 200:  # register the new thread before anything can fail
        for event in parse_sse(raw)[0]:
            if event.event == "thread.created":
                with contextlib.suppress(ValueError, TypeError, KeyError):
                    thread_id = str(json.loads(event.data)["id"])
                    tracker.register("thread", thread_id, f"/threads/{thread_id}")
                break
    return _last_run(path, status, raw)


def _last_run(path: str, status: int, raw: bytes) -> dict[str, Any]:
    from conformance.invariants.sse import parse_sse
    from conformance.invariants.streams import final_run

    if status != 200:
        raise SetupFailed(f"a streamed run (POST {path}) answered {status}: {raw[:300]!r}")
    run = final_run(parse_sse(raw)[0])
    if run is None:
        raise SetupFailed(f"the streamed run of POST {path} carried no run object")
    return run


def streamed_thread_and_run(client: ConformanceClient, tracker: Tracker, body: Mapping[str, Any],
                            question: str) -> dict[str, Any]:
    """Setup: a new thread holding `question` and a run on it, streamed to its end in one request."""
    thread = {"messages": [{"role": "user", "content": question}], "metadata": tracker.metadata}
    return _streamed(client, "/threads/runs", {**body, "thread": thread}, tracker)


# ---------------------------------------------------------------- the module's thread for runs
# Tests whose runs only they read put them on one thread per module and api-version, the question
# riding along as an additional message: a thread fewer to create and delete per test (issue 8).
# A test that failed with its run still active leaves that thread busy; the next test then
# answers 400 there and moves to a thread of its own, so a failure never makes another test fail.

def run_thread(shared: Shared) -> str:
    """The module's thread for runs (made empty; each run brings its question along)."""
    return shared.once("run thread", lambda owner: str(owner.thread()["id"]))


def _with_question(fields: Mapping[str, Any], question: str) -> dict[str, Any]:
    extra = [{"role": "user", "content": question}, *fields.get("additional_messages", [])]
    return {**fields, "additional_messages": extra}


def start_run(client: ConformanceClient, contract: Contract, tracker: Tracker, shared: Shared,
              question: str, **fields: Any) -> dict[str, Any]:
    """Create_Run on the module's run thread (or, when it is busy, on a new thread of the test)."""
    body = _with_question(fields, question)
    response = client.post(f"/threads/{run_thread(shared)}/runs", json=body)
    if response.status_code == 400:
        response = client.post(f"/threads/{tracker.thread()['id']}/runs", json=body)
    run: dict[str, Any] = expect(contract, "Create_Run", response)
    return run


def stream_run(client: ConformanceClient, tracker: Tracker, shared: Shared, question: str,
               **fields: Any) -> dict[str, Any]:
    """Setup: a run on the module's run thread (or a new one when it is busy) streamed until it
    ends or waits, in one request; its last run object."""
    body = {**_with_question(fields, question), "stream": True}
    path = f"/threads/{run_thread(shared)}/runs"
    status, _, raw = read_stream(client, path, body)
    if status == 400:
        return _streamed(client, f"/threads/{tracker.thread()['id']}/runs", body)
    return _last_run(path, status, raw)


def forget(tracker: Tracker, delete_path: str) -> None:
    """The test deleted this object itself: teardown need not send a second delete (issue 8)."""
    gone = [item for item in tracker.created if item.delete_path == delete_path]
    tracker.created[:] = [item for item in tracker.created if item.delete_path != delete_path]
    if tracker.ledger is not None:
        for item in gone:
            tracker.ledger.remove(tracker.target, tracker.run_id, item)
