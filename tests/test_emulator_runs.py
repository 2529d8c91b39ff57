"""Run lifecycle on the emulator: statuses over time, per-status fields, steps, usage, tool calls,
cancel, active-run conflicts and the trigger phrases. A fake clock moves time; nothing sleeps."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.emulator import triggers
from conformance.emulator.engine import TERMINAL, TRANSITIONS
from conformance.emulator.settings import EmulatorSettings
from conformance.emulator.testing import EmulatorApi, FakeClock
from conformance.findings import errors
from conformance.invariants.lifecycle import check_run, check_run_history, check_steps

PACE = 1.0
TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}


class Runs:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.api = EmulatorApi.create(EmulatorSettings(run_pace=PACE), clock=self.clock)
        self.assistant = self.api.call("POST", "/assistants", {"model": "gpt-4o", "instructions": "Be brief.",
                                                               "tools": [TOOL]})["id"]

    def thread(self, text: str = "hello there") -> str:
        return str(self.api.call("POST", "/threads", {"messages": [{"role": "user", "content": text}]})["id"])

    def run(self, thread: str, **body: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.api.call("POST", f"/threads/{thread}/runs",
                                               {"assistant_id": self.assistant, **body})
        return result

    def get(self, run: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.api.call("GET", f"/threads/{run['thread_id']}/runs/{run['id']}")
        return result

    def steps(self, run: dict[str, Any]) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.api.call(
            "GET", f"/threads/{run['thread_id']}/runs/{run['id']}/steps", query={"order": "asc"})["data"]
        return data

    def poll(self, run: dict[str, Any], times: int = 6, step: float = 0.5) -> list[dict[str, Any]]:
        seen = [run]
        for _ in range(times):
            self.clock.advance(step)
            seen.append(self.get(run))
        return seen


@pytest.fixture
def runs() -> Runs:
    return Runs()


def test_transition_table_agrees_with_the_invariants_library() -> None:
    """Two encodings of the service's graph (the emulator's and the checker's) must agree."""
    from conformance.invariants import lifecycle

    assert dict(TRANSITIONS) == dict(lifecycle.TRANSITIONS)
    assert lifecycle.TERMINAL_STATUSES == TERMINAL


def test_plain_run_walks_queued_in_progress_completed_with_fields_per_status(runs: Runs) -> None:
    run = runs.run(runs.thread("hello there"))
    history = runs.poll(run)
    statuses = [r["status"] for r in history]
    assert statuses == ["queued", "queued", "in_progress", "in_progress", "completed", "completed", "completed"]
    assert not errors(check_run_history(history))
    queued, in_progress, done = history[0], history[2], history[-1]
    assert queued["started_at"] is None and queued["usage"] is None
    assert queued["expires_at"] == queued["created_at"] + 600
    assert in_progress["started_at"] == queued["created_at"] + 1 and in_progress["usage"] is None
    assert done["completed_at"] == queued["created_at"] + 2
    assert done["expires_at"] is None and done["failed_at"] is None and done["cancelled_at"] is None
    # prompt: instructions (2 words) + "hello there" (2); reply "You said: hello there" (4)
    assert done["usage"] == {"prompt_tokens": 4, "completion_tokens": 4, "total_tokens": 8}


def test_reply_message_and_step_appear_while_in_progress(runs: Runs) -> None:
    thread = runs.thread("ping")
    run = runs.run(thread)
    runs.clock.advance(1.2)
    assert runs.get(run)["status"] == "in_progress"
    messages = runs.api.call("GET", f"/threads/{thread}/messages")["data"]
    assert messages[0]["role"] == "assistant" and messages[0]["run_id"] == run["id"]
    assert messages[0]["content"][0]["text"]["value"] == "You said: ping"
    [step] = runs.steps(run)
    assert step["status"] == "in_progress" and step["usage"] is None
    assert step["step_details"]["message_creation"]["message_id"] == messages[0]["id"]
    runs.clock.advance(1)
    done = runs.get(run)
    [step] = runs.steps(run)
    assert step["status"] == "completed" and step["usage"] == done["usage"]
    assert not errors(check_steps(done, [step], message_ids={m["id"] for m in messages}))


def test_tool_run_requires_action_then_resumes_and_restamps_started_at(runs: Runs) -> None:
    run = runs.run(runs.thread("please lookup the answer"))
    runs.clock.advance(2.5)
    waiting = runs.get(run)
    assert waiting["status"] == "requires_action"
    assert not errors(check_run(waiting))
    [call] = waiting["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert call["function"]["name"] == "lookup" and call["id"].startswith("call_")
    path = f"/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs"
    resumed = runs.api.call("POST", path, {"tool_outputs": [{"tool_call_id": call["id"], "output": "42"}]})
    assert resumed["status"] == "queued" and resumed["required_action"] is None
    history = [waiting, resumed, *runs.poll(resumed)]
    assert not errors(check_run_history(history))
    done = history[-1]
    assert done["status"] == "completed" and done["started_at"] > waiting["started_at"]
    steps = runs.steps(done)
    assert [s["type"] for s in steps] == ["tool_calls", "message_creation"]
    assert steps[0]["step_details"]["tool_calls"][0]["function"]["output"] == "42"
    total = sum(s["usage"]["total_tokens"] for s in steps)
    assert done["usage"]["total_tokens"] == total == done["usage"]["prompt_tokens"] + done["usage"]["completion_tokens"]
    assert not errors(check_steps(done, steps))


@pytest.mark.parametrize("outputs, needle", [
    ([], "Expected tool outputs"),
    ([{"tool_call_id": "call_wrong", "output": "x"}], "call_wrong"),
])
def test_submit_tool_outputs_rejects_missing_or_wrong_ids(runs: Runs, outputs: list[Any], needle: str) -> None:
    run = runs.run(runs.thread("lookup"))
    runs.clock.advance(2.5)
    path = f"/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs"
    body = runs.api.call("POST", path, {"tool_outputs": outputs}, expect=400)
    assert needle in body["error"]["message"] and body["error"]["param"] == "tool_outputs"
    assert runs.get(run)["status"] == "requires_action"


def test_submit_tool_outputs_to_a_run_not_waiting_is_400(runs: Runs) -> None:
    run = runs.run(runs.thread("hi"))
    path = f"/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs"
    body = runs.api.call("POST", path, {"tool_outputs": [{"tool_call_id": "call_x", "output": "x"}]}, expect=400)
    assert "queued" in body["error"]["message"]


@pytest.mark.parametrize("choice, text, called", [
    ({"type": "function", "function": {"name": "lookup"}}, "no mention", ["lookup"]),
    ("auto", "no mention", []),
    ("none", "lookup please", []),
])
def test_tool_choice_rule(runs: Runs, choice: Any, text: str, called: list[str]) -> None:
    run = runs.run(runs.thread(text), tool_choice=choice)
    assert run["tool_choice"] == choice
    runs.clock.advance(2.5)
    got = runs.get(run)
    names = [c["function"]["name"] for c in (got["required_action"] or {}).get("submit_tool_outputs", {}).get("tool_calls", [])]
    assert names == called
    assert got["status"] == ("requires_action" if called else "completed")


def test_run_options_are_reflected(runs: Runs) -> None:
    thread = runs.thread("hi")
    run = runs.run(thread, instructions="Base.", additional_instructions="Extra.", temperature=0.2, top_p=0.5,
                   metadata={"k": "v"}, parallel_tool_calls=False, response_format={"type": "json_object"},
                   truncation_strategy={"type": "last_messages", "last_messages": 1},
                   additional_messages=[{"role": "user", "content": "added"}], model="gpt-4o-mini")
    assert run["instructions"] == "Base. Extra."
    assert (run["temperature"], run["top_p"], run["metadata"], run["parallel_tool_calls"]) == (0.2, 0.5, {"k": "v"}, False)
    assert run["response_format"] == {"type": "json_object"} and run["model"] == "gpt-4o-mini"
    assert run["truncation_strategy"] == {"type": "last_messages", "last_messages": 1}
    runs.clock.advance(2.5)
    done = runs.get(run)
    # truncation keeps 1 message ("added"): prompt = 2 instruction words + 1
    assert done["usage"]["prompt_tokens"] == 3
    texts = [m["content"][0]["text"]["value"] for m in runs.api.call("GET", f"/threads/{thread}/messages")["data"]]
    assert texts == ["You said: added", "added", "hi"]


@pytest.mark.parametrize("field, limit, reason", [("max_completion_tokens", 256, "max_completion_tokens"),
                                                  ("max_prompt_tokens", 256, "max_prompt_tokens"),
                                                  ("max_prompt_tokens", 256.0, "max_prompt_tokens")])
def test_token_limits_end_incomplete(runs: Runs, field: str, limit: float, reason: str) -> None:
    run = runs.run(runs.thread(" ".join(["word"] * 300)), **{field: limit})
    runs.clock.advance(2.5)
    done = runs.get(run)
    assert done["status"] == "incomplete" and done["incomplete_details"] == {"reason": reason}
    assert not errors(check_run(done))
    if reason == "max_completion_tokens":
        assert done["usage"]["completion_tokens"] == 256


@pytest.mark.parametrize("phrase, status, check", [
    (triggers.CONTENT_FILTER, "incomplete", lambda r: r["incomplete_details"] == {"reason": "content_filter"}),
    (triggers.CONTENT_FILTER_FAILED, "failed", lambda r: r["last_error"]["code"] == "content_filter"),
    (triggers.RUN_FAILED, "failed", lambda r: r["last_error"]["code"] == "rate_limit_exceeded" and r["failed_at"]),
    (triggers.RUN_EXPIRED, "expired", lambda r: r["expires_at"] is None),
])
def test_trigger_phrases_end_runs(runs: Runs, phrase: str, status: str, check: Any) -> None:
    run = runs.run(runs.thread(f"hello {phrase}"))
    history = runs.poll(run)
    assert history[-1]["status"] == status and check(history[-1])
    assert history[-1]["usage"] is not None
    assert not errors(check_run_history(history))


def test_content_filter_leaves_an_incomplete_message(runs: Runs) -> None:
    thread = runs.thread(triggers.CONTENT_FILTER)
    runs.run(thread)
    runs.clock.advance(3)
    reply = runs.api.call("GET", f"/threads/{thread}/messages")["data"][0]
    assert reply["status"] == "incomplete" and reply["incomplete_details"] == {"reason": "content_filter"}


def test_cancel_goes_cancelling_then_cancelled(runs: Runs) -> None:
    run = runs.run(runs.thread("hi"))
    path = f"/threads/{run['thread_id']}/runs/{run['id']}/cancel"
    cancelling = runs.api.call("POST", path)
    assert cancelling["status"] == "cancelling" and cancelling["cancelled_at"] is None
    history = [run, cancelling, *runs.poll(cancelling, times=3)]
    done = history[-1]
    assert done["status"] == "cancelled" and done["cancelled_at"] == run["created_at"] + 1
    assert done["expires_at"] is None and done["usage"] is not None
    assert not errors(check_run_history(history))
    body = runs.api.call("POST", path, expect=400)
    assert "cancelled" in body["error"]["message"]


def test_cancel_while_requires_action_closes_the_tool_step(runs: Runs) -> None:
    run = runs.run(runs.thread("lookup"))
    runs.clock.advance(2.5)
    runs.api.call("POST", f"/threads/{run['thread_id']}/runs/{run['id']}/cancel")
    runs.clock.advance(1.5)
    done = runs.get(run)
    [step] = runs.steps(run)
    assert done["status"] == "cancelled" and step["status"] == "cancelled" and step["cancelled_at"]
    assert done["required_action"] is None


def test_requires_action_expires_after_ten_minutes(runs: Runs) -> None:
    run = runs.run(runs.thread("lookup"))
    runs.clock.advance(601)
    done = runs.get(run)
    assert done["status"] == "expired" and done["expires_at"] is None
    assert runs.steps(run)[0]["status"] == "expired"


def test_active_run_blocks_new_runs_and_messages(runs: Runs) -> None:
    thread = runs.thread("hi")
    run = runs.run(thread)
    body = runs.api.call("POST", f"/threads/{thread}/runs", {"assistant_id": runs.assistant}, expect=400)
    assert body["error"]["message"] == f"Thread {thread} already has an active run {run['id']}."
    body = runs.api.call("POST", f"/threads/{thread}/messages", {"role": "user", "content": "more"}, expect=400)
    assert body["error"]["message"] == f"Can't add messages to {thread} while a run {run['id']} is active."
    runs.clock.advance(3)
    runs.api.call("POST", f"/threads/{thread}/messages", {"role": "user", "content": "more"})
    runs.run(thread)


def test_lifecycle_is_the_same_however_often_it_is_polled() -> None:
    def final(polls: int) -> dict[str, Any]:
        runs = Runs()
        run = runs.run(runs.thread("same"))
        for _ in range(polls):
            runs.clock.advance(3 / max(polls, 1))
            runs.get(run)
        runs.clock.advance(3)
        return runs.get(run)

    assert final(0) == final(1) == final(12)


def test_unknown_assistant_is_404_and_adds_nothing(runs: Runs) -> None:
    thread = runs.thread("hi")
    runs.api.call("POST", f"/threads/{thread}/runs",
                  {"assistant_id": "asst_missing", "additional_messages": [{"role": "user", "content": "x"}]},
                  expect=404)
    assert len(runs.api.call("GET", f"/threads/{thread}/messages")["data"]) == 1


def test_run_inherits_zero_temperature_from_the_assistant(runs: Runs) -> None:
    aid = runs.api.call("POST", "/assistants", {"model": "gpt-4o", "temperature": 0, "top_p": 0.1})["id"]
    thread = runs.thread("hi")
    run = runs.api.call("POST", f"/threads/{thread}/runs", {"assistant_id": aid})
    assert (run["temperature"], run["top_p"]) == (0, 0.1)
