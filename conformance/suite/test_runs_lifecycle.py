"""Runs: the status walk, cancel, the active-run conflicts, what a run echoes, failed and expired runs.

Every test arranges through the tracker, calls the API and judges the raw answers with the
contract (`support.expect`) and the lifecycle invariants, so a failure names the rule it broke.

Cost (issue 8): runs only their own test reads go to the module's run thread with their question as
an additional message (`support.start_run`; a busy thread sends the test to one of its own), all
on the module's brief assistant, with run-level `instructions` / `tools` where a test needs others.
Runs that are only the stage for the behaviour under test (a finished run to cancel, a run whose
messages or bound are read) are streamed to that state in one request; polled walks are judged elsewhere.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client import ConformanceClient
from conformance.emulator import triggers
from conformance.findings import Finding, require
from conformance.harness.tracker import Tracker
from conformance.invariants import rules as R
from conformance.invariants.errors import check_error_envelope, check_not_found
from conformance.invariants.lifecycle import check_run_history
from conformance.spec import Contract
from conformance.suite import support
from conformance.suite.conftest import Shared

pytestmark = [pytest.mark.lifecycle]

QUESTION = "Say hello in five words."


def _thread_with_question(tracker: Tracker, text: str = QUESTION) -> dict[str, Any]:
    return tracker.thread(messages=[{"role": "user", "content": text}])


def _create_run(client: ConformanceClient, contract: Contract, thread_id: str, **fields: Any) -> dict[str, Any]:
    run: dict[str, Any] = support.expect(contract, "Create_Run", client.post(f"/threads/{thread_id}/runs", json=fields))
    return run


@pytest.mark.expensive
@pytest.mark.operation("Create_Run")
def test_run_polled_to_completion_is_a_legal_walk(
    client: ConformanceClient, contract: Contract, tracker: Tracker, shared: Shared
) -> None:
    assistant = support.brief_assistant(shared)
    run = support.start_run(client, contract, tracker, shared, QUESTION, assistant_id=assistant["id"])
    assert run["status"] == "queued", f"a new run answered status {run['status']!r}, expected 'queued'"
    # A fifth of the target's poll pace: every state the run passes through gets read more than once
    # (0.01 s on the embedded emulator; 0.1 s, growing, where a run takes seconds and requests cost).
    history = support.settle(client, contract, run, interval=client.poll_interval / 5)
    require(check_run_history(history), f"run {run['id']} polled to the end")
    assert history[-1]["status"] == "completed", f"the run ended {history[-1]['status']!r}, expected 'completed'"


@pytest.mark.smoke
@pytest.mark.expensive
@pytest.mark.operation("Create_Thread_And_Run")
def test_run_create_thread_and_run_completes(client: ConformanceClient, contract: Contract, tracker: Tracker, shared: Shared) -> None:
    assistant = support.brief_assistant(shared)
    body = {
        "assistant_id": assistant["id"],
        "thread": {"messages": [{"role": "user", "content": QUESTION}], "metadata": tracker.metadata},
    }
    response = client.post("/threads/runs", json=body)
    if response.status_code == 200:
        tracker.thread_and_run_created(response.json())
    run = support.expect(contract, "Create_Thread_And_Run", response)
    history = support.settle(client, contract, run)
    require(check_run_history(history), f"thread-and-run {run['id']}")
    assert history[-1]["status"] == "completed", f"the run ended {history[-1]['status']!r}, expected 'completed'"
    messages = support.expect(contract, "List_Messages", client.get(f"/threads/{run['thread_id']}/messages"))
    roles = [m.get("role") for m in messages["data"]]
    assert "user" in roles and "assistant" in roles, f"the new thread holds messages with roles {roles}"


@pytest.mark.expensive
@pytest.mark.operation("Cancel_Run")
def test_run_cancel_active_ends_cancelled(client: ConformanceClient, contract: Contract, tracker: Tracker,
                                          shared: Shared) -> None:
    assistant = support.brief_assistant(shared)
    run = support.start_run(client, contract, tracker, shared, "Explain how a compiler works, step by step.",
                            assistant_id=assistant["id"], instructions="Write a long, detailed answer.")
    path = f"/threads/{run['thread_id']}/runs/{run['id']}"
    response = client.post(f"{path}/cancel")
    if response.status_code == 400:
        latest = support.expect(contract, "Get_Run", client.get(path))
        if latest["status"] in support.TERMINAL:
            pytest.skip(f"the run ended {latest['status']!r} before it could be cancelled")
    cancelling = support.expect(contract, "Cancel_Run", response)
    history = support.settle(client, contract, run)
    require(check_run_history([run, cancelling, *history[1:]]), f"run {run['id']} cancelled")
    final = history[-1]["status"]
    if final != "cancelled":
        pytest.skip(f"the run ended {final!r} before the cancel took effect")


@pytest.mark.operation("Cancel_Run")
def test_run_cancel_requires_action_ends_cancelled(
    client: ConformanceClient, contract: Contract, tracker: Tracker, shared: Shared
) -> None:
    # streamed to requires_action (one request; the polled walk there is judged by the tool tests)
    run = support.stream_run(client, tracker, shared, "What is the weather in Paris?",
                             assistant_id=support.brief_assistant(shared)["id"], **support.WEATHER_RUN)
    assert run["status"] == "requires_action", f"a run with a forced function call reached {run['status']!r}"
    waiting = [run]
    cancelling = support.expect(contract, "Cancel_Run", client.post(f"/threads/{run['thread_id']}/runs/{run['id']}/cancel"))
    assert cancelling["status"] in ("cancelling", "cancelled"), (
        f"cancel answered status {cancelling['status']!r}, expected 'cancelling' (or already 'cancelled')"
    )
    history = support.settle(client, contract, cancelling)
    require(check_run_history([*waiting, *history]), f"run {run['id']} cancelled while waiting for tool outputs")
    assert history[-1]["status"] == "cancelled", f"the cancelled run ended {history[-1]['status']!r}"


@pytest.mark.expensive
@pytest.mark.operation("Cancel_Run")
def test_run_cancel_finished_is_rejected(client: ConformanceClient, contract: Contract, tracker: Tracker, shared: Shared) -> None:
    # finished in one streamed request: the run is only the stage for the refused cancel
    run = support.stream_run(client, tracker, shared, QUESTION, assistant_id=support.brief_assistant(shared)["id"])
    assert run["status"] in support.TERMINAL, f"the streamed run ended its stream {run['status']!r}"
    path = f"/threads/{run['thread_id']}/runs/{run['id']}"
    response = client.post(f"{path}/cancel")
    body = support.expect(contract, "Cancel_Run", response, status=400)
    require(check_error_envelope(response.status_code, body), f"cancel of a {run['status']} run")
    after = support.expect(contract, "Get_Run", client.get(path))
    require(check_run_history([run, after]), "the finished run after a refused cancel")


@pytest.mark.operation("Create_Run")
def test_run_create_while_run_active_is_rejected(
    client: ConformanceClient, contract: Contract, shared: Shared
) -> None:
    run = support.waiting_run(client, contract, shared)
    response = client.post(f"/threads/{run['thread_id']}/runs", json={"assistant_id": run["assistant_id"]})
    body = support.expect(contract, "Create_Run", response, status=400)
    require(check_error_envelope(response.status_code, body), "a second run on a thread with an active run")


@pytest.mark.operation("Create_Message")
def test_message_create_while_run_active_is_rejected(
    client: ConformanceClient, contract: Contract, shared: Shared
) -> None:
    run = support.waiting_run(client, contract, shared)
    response = client.post(f"/threads/{run['thread_id']}/messages", json={"role": "user", "content": "One more thing."})
    body = support.expect(contract, "Create_Message", response, status=400)
    require(check_error_envelope(response.status_code, body), "a message on a thread with an active run")


@pytest.mark.expensive
@pytest.mark.operation("Get_Run")
def test_run_get_through_other_thread_is_not_found(
    client: ConformanceClient, contract: Contract, tracker: Tracker, shared: Shared
) -> None:
    run = support.waiting_run(client, contract, shared)  # any run will do: it is only read
    other = support.run_thread(shared)  # the module's run thread, never the waiting run's
    assert other != run["thread_id"], "the waiting run is on the module's run thread; it needs a thread of its own"
    response = client.get(f"/threads/{other}/runs/{run['id']}")
    body = support.expect(contract, "Get_Run", response, status=404)
    require(check_not_found(response.status_code, body), "a run read through a thread it does not belong to")


# What a run must echo from its create request; response_format JSON needs the word JSON in the prompt.
RUN_SETTINGS: dict[str, Any] = {
    "instructions": "Reply with a JSON object with one key, answer.",
    "temperature": 0.5,
    "top_p": 0.9,
    "max_prompt_tokens": 2000,
    "max_completion_tokens": 500,
    "truncation_strategy": {"type": "last_messages", "last_messages": 5},
    "tool_choice": "none",
    "response_format": {"type": "json_object"},
}


def _echo_findings(sent: dict[str, Any], run: dict[str, Any], label: str) -> list[Finding]:
    return [
        Finding(R.CRUD_ROUNDTRIP, f"run.{key} is {run.get(key)!r}, the request set {sent[key]!r}", label)
        for key in support.subset(sent, run)
    ]


@pytest.mark.expensive
@pytest.mark.operation("Create_Run")
def test_run_reflects_request_settings(client: ConformanceClient, contract: Contract, tracker: Tracker, shared: Shared) -> None:
    assistant = support.brief_assistant(shared)
    # Only what this api-version's contract has on both the request and the run object.
    schemas = contract.document["components"]["schemas"]
    known = set(schemas["createRunRequest"]["properties"]) & set(schemas["runObject"]["properties"])
    sent = {k: v for k, v in {**RUN_SETTINGS, "metadata": {**tracker.metadata, "case": "settings"}}.items() if k in known}
    assert "metadata" in sent, f"the {contract.api_version} contract has no run metadata"
    run = support.start_run(client, contract, tracker, shared, QUESTION, assistant_id=assistant["id"], **sent)
    # polled to its end; the last poll is the final read (terminal_absorbing has its own tests)
    history = [run, *support.poll_run(client, contract, run["thread_id"], run["id"])]
    require(check_run_history(history), f"run {run['id']} with settings")
    require([*_echo_findings(sent, run, "create answer"), *_echo_findings(sent, history[-1], "final read")],
            "run settings echoed")


@pytest.mark.expensive
@pytest.mark.operation("Create_Run")
def test_run_additional_messages_join_the_thread(
    client: ConformanceClient, contract: Contract, tracker: Tracker, shared: Shared
) -> None:
    assistant = support.brief_assistant(shared)
    extra = f"Also name a colour. ({tracker.name('extra')})"
    # streamed to its end in one request: what the thread holds afterwards is the behaviour under test
    run = support.stream_run(
        client, tracker, shared, QUESTION, assistant_id=assistant["id"],
        additional_instructions="Mention the weather too.",
        additional_messages=[{"role": "user", "content": extra}],
    )
    require(check_run_history([run]), f"run {run['id']} with additional messages")
    messages = support.expect(contract, "List_Messages", client.get(f"/threads/{run['thread_id']}/messages"))
    texts = [part.get("text", {}).get("value") for m in messages["data"] if m.get("role") == "user"
             for part in m.get("content", [])]
    assert extra in texts, f"the additional message is not in the thread; user texts: {texts}"


@pytest.mark.expensive
@pytest.mark.operation("Create_Run")
def test_run_max_completion_tokens_bounds_the_answer(
    client: ConformanceClient, contract: Contract, tracker: Tracker, shared: Shared, record_property: Any
) -> None:
    limit = 256  # the contract's minimum
    # streamed to its end in one request, then read back: the stored run is what is judged
    run = support.stream_run(client, tracker, shared, "Write a 3000-word essay about the history of bridges.",
                             assistant_id=support.brief_assistant(shared)["id"],
                             instructions="Write at great length.", max_completion_tokens=limit)
    final = support.expect(contract, "Get_Run", client.get(f"/threads/{run['thread_id']}/runs/{run['id']}"))
    require(check_run_history([run, final]), f"run {run['id']} with max_completion_tokens {limit}")
    record_property("outcome", final["status"])
    assert final["status"] in ("completed", "incomplete"), f"the run ended {final['status']!r}"
    if final["status"] == "incomplete":
        reason = final["incomplete_details"]["reason"]
        assert reason == "max_completion_tokens", f"incomplete_details.reason is {reason!r}"
    used = final["usage"]["completion_tokens"]
    assert used <= limit, f"usage.completion_tokens {used} exceeds max_completion_tokens {limit}"


@pytest.mark.emulator_only("the run-failure trigger phrase")
@pytest.mark.operation("Create_Run")
def test_run_failed_carries_last_error(client: ConformanceClient, contract: Contract, tracker: Tracker, shared: Shared) -> None:
    assistant = support.brief_assistant(shared)
    thread = _thread_with_question(tracker, f"Hello {triggers.RUN_FAILED}")
    run = _create_run(client, contract, thread["id"], assistant_id=assistant["id"])
    history = support.settle(client, contract, run)
    require(check_run_history(history), f"run {run['id']} that fails")
    assert history[-1]["status"] == "failed", f"the run ended {history[-1]['status']!r}, expected 'failed'"


@pytest.mark.emulator_only("the run-expiry trigger phrase")
@pytest.mark.operation("Create_Run")
def test_run_expired_is_terminal(client: ConformanceClient, contract: Contract, tracker: Tracker, shared: Shared) -> None:
    assistant = support.brief_assistant(shared)
    thread = _thread_with_question(tracker, f"Hello {triggers.RUN_EXPIRED}")
    run = _create_run(client, contract, thread["id"], assistant_id=assistant["id"])
    history = support.settle(client, contract, run)
    require(check_run_history(history), f"run {run['id']} that expires")
    assert history[-1]["status"] == "expired", f"the run ended {history[-1]['status']!r}, expected 'expired'"
