"""Run lifecycle invariants: per-status fields, status walks, polled histories, steps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.findings import errors
from conformance.invariants import (
    ACTIVE_STATUSES,
    RUN_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    check_run,
    check_run_history,
    check_status_walk,
    check_steps,
)

CREATED = 1727000000
USAGE = {"prompt_tokens": 60, "completion_tokens": 12, "total_tokens": 72}
TOOL_CALLS = [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]


def make_run(status: str, **overrides: Any) -> dict[str, Any]:
    """A run shaped as the service records it in `status` (SERVICE-FACTS "Run lifecycle")."""
    terminal = status in TERMINAL_STATUSES
    run: dict[str, Any] = {
        "id": "run_abc", "object": "thread.run", "created_at": CREATED, "assistant_id": "asst_abc",
        "thread_id": "thread_abc", "status": status,
        "started_at": None if status == "queued" else CREATED + 1,
        "expires_at": None if terminal else CREATED + 600,
        "cancelled_at": CREATED + 3 if status == "cancelled" else None,
        "failed_at": CREATED + 3 if status == "failed" else None,
        "completed_at": CREATED + 3 if status == "completed" else None,
        "required_action": {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": TOOL_CALLS}}
        if status == "requires_action" else None,
        "last_error": {"code": "rate_limit_exceeded", "message": "Rate limit is exceeded. Try again in 60 seconds."}
        if status == "failed" else None,
        "incomplete_details": {"reason": "max_completion_tokens"} if status == "incomplete" else None,
        "usage": dict(USAGE) if terminal else None,
        "model": "gpt-4o", "instructions": "", "tools": [], "metadata": {}, "parallel_tool_calls": True,
    }
    run.update(overrides)
    return run


def rules_of(findings: list[Any]) -> set[str]:
    return {f.rule for f in errors(findings)}


@pytest.mark.parametrize("status", sorted(RUN_STATUSES))
def test_consistent_run_has_no_findings(status: str) -> None:
    assert errors(check_run(make_run(status))) == []


@pytest.mark.parametrize(
    ("status", "overrides", "rule"),
    [
        ("paused", {}, "lifecycle.status"),
        ("queued", {"started_at": CREATED + 1}, "lifecycle.started_at"),
        ("in_progress", {"started_at": None}, "lifecycle.started_at"),
        ("in_progress", {"started_at": CREATED - 5}, "lifecycle.started_at"),
        ("completed", {"completed_at": None}, "lifecycle.completed_at"),
        ("in_progress", {"completed_at": CREATED + 2}, "lifecycle.completed_at"),
        ("completed", {"completed_at": True}, "lifecycle.completed_at"),
        ("failed", {"failed_at": None}, "lifecycle.failed_at"),
        ("completed", {"failed_at": CREATED + 2}, "lifecycle.failed_at"),
        ("cancelled", {"cancelled_at": None}, "lifecycle.cancelled_at"),
        ("cancelling", {"cancelled_at": CREATED + 2}, "lifecycle.cancelled_at"),
        ("in_progress", {"expires_at": None}, "lifecycle.expires_at"),
        ("queued", {"expires_at": CREATED}, "lifecycle.expires_at"),
        ("completed", {"expires_at": CREATED + 600}, "lifecycle.expires_at"),
        ("requires_action", {"required_action": None}, "lifecycle.required_action"),
        ("requires_action", {"required_action": {"type": "other"}}, "lifecycle.required_action"),
        ("requires_action", {"required_action": {"type": "submit_tool_outputs",
                                                 "submit_tool_outputs": {"tool_calls": []}}},
         "lifecycle.required_action"),
        ("requires_action", {"required_action": {"type": "submit_tool_outputs",
                                                 "submit_tool_outputs": {"tool_calls": [{"type": "function"}]}}},
         "lifecycle.required_action"),
        ("in_progress", {"required_action": {"type": "submit_tool_outputs"}}, "lifecycle.required_action"),
        ("incomplete", {"incomplete_details": None}, "lifecycle.incomplete_details"),
        ("completed", {"incomplete_details": {"reason": "max_prompt_tokens"}}, "lifecycle.incomplete_details"),
        ("failed", {"last_error": None}, "lifecycle.last_error"),
        ("failed", {"last_error": {"code": 429, "message": "x"}}, "lifecycle.last_error"),
        ("completed", {"last_error": {"code": "server_error", "message": "x"}}, "lifecycle.last_error"),
        ("in_progress", {"usage": dict(USAGE)}, "lifecycle.usage"),
        ("completed", {"usage": None}, "lifecycle.usage"),
        ("completed", {"usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 3}}, "lifecycle.usage"),
        ("completed", {"usage": {"prompt_tokens": -1, "completion_tokens": 1, "total_tokens": 0}},
         "lifecycle.usage"),
    ],
)
def test_inconsistent_run_fires_its_rule(status: str, overrides: dict[str, Any], rule: str) -> None:
    findings = check_run(make_run(status, **overrides))
    assert rule in rules_of(findings), findings


def test_message_names_field_and_value() -> None:
    [finding] = check_run(make_run("completed", completed_at=None))
    assert finding.message == 'run.completed_at is null while status is "completed"'


def test_resumed_queued_run_may_keep_its_first_started_at() -> None:
    run = make_run("queued", started_at=CREATED + 1)
    assert errors(check_run(run, resumed=True)) == []


def test_cancelled_before_start_needs_no_usage_or_start() -> None:
    assert errors(check_run(make_run("cancelled", started_at=None, usage=None))) == []


# status walks -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "walk",
    [
        ["queued", "queued", "in_progress", "completed"],  # the recorded non-streamed run
        ["queued", "completed"],  # in_progress not observed
        ["in_progress", "requires_action", "queued", "in_progress", "completed"],  # a tool run
        ["queued", "cancelling", "cancelled", "cancelled"],
        ["in_progress", "queued"],  # requires_action -> queued happened between polls
    ],
)
def test_legal_walks(walk: list[str]) -> None:
    assert check_status_walk(walk) == []


@pytest.mark.parametrize(
    ("walk", "rule"),
    [
        (["queued", "completed", "in_progress"], "lifecycle.terminal_absorbing"),
        (["failed", "completed"], "lifecycle.terminal_absorbing"),
        (["cancelling", "in_progress"], "lifecycle.transition"),
        (["cancelling", "requires_action"], "lifecycle.transition"),
        (["queued", "sleeping"], "lifecycle.status"),
    ],
)
def test_illegal_walks(walk: list[str], rule: str) -> None:
    assert rule in rules_of(check_status_walk(walk))


@st.composite
def observed_walks(draw: st.DrawFn) -> list[str]:
    """A random walk in the graph, then polled: states skipped or seen several times."""
    status = draw(st.sampled_from(sorted(RUN_STATUSES)))
    walk = [status]
    for _ in range(draw(st.integers(0, 12))):
        nexts = sorted(TRANSITIONS[status])
        if not nexts:
            break
        status = draw(st.sampled_from(nexts))
        walk.append(status)
    seen = [s for s in walk for _ in range(draw(st.integers(0, 2)))]
    return seen or walk[:1]


@given(observed_walks())
def test_random_observed_walks_are_accepted(walk: list[str]) -> None:
    assert check_status_walk(walk) == []


@given(observed_walks(), st.sampled_from(sorted(TERMINAL_STATUSES)), st.sampled_from(sorted(RUN_STATUSES)),
       observed_walks())
def test_any_step_out_of_a_terminal_status_is_rejected(
    head: list[str], terminal: str, other: str, tail: list[str]
) -> None:
    if other == terminal:
        other = next(s for s in sorted(RUN_STATUSES) if s != terminal)
    walk = [*head, terminal, other, *tail]
    assert "lifecycle.terminal_absorbing" in rules_of(check_status_walk(walk))


# polled histories --------------------------------------------------------------------------------

def tool_run_history() -> list[dict[str, Any]]:
    return [
        make_run("queued"),
        make_run("in_progress"),
        make_run("requires_action"),
        make_run("queued", started_at=CREATED + 1),  # resumed: keeps the first start until re-stamped
        make_run("in_progress", started_at=CREATED + 5),
        make_run("completed", started_at=CREATED + 5),
        make_run("completed", started_at=CREATED + 5),
    ]


def test_recorded_tool_run_history_is_consistent() -> None:
    assert errors(check_run_history(tool_run_history())) == []


@pytest.mark.parametrize(
    ("index", "overrides", "rule"),
    [
        (6, {"status": "in_progress", "expires_at": CREATED + 600, "completed_at": None, "usage": None},
         "lifecycle.terminal_absorbing"),
        (6, {"completed_at": CREATED + 9}, "lifecycle.completed_at"),
        (6, {"usage": {"prompt_tokens": 70, "completion_tokens": 12, "total_tokens": 82}}, "lifecycle.usage"),
        (2, {"created_at": CREATED + 1}, "lifecycle.stable_fields"),
        (4, {"thread_id": "thread_other"}, "lifecycle.stable_fields"),
    ],
)
def test_history_violations(index: int, overrides: dict[str, Any], rule: str) -> None:
    history = tool_run_history()
    history[index] = {**history[index], **overrides}
    assert rule in rules_of(check_run_history(history))


def test_history_queued_started_before_any_requires_action_is_flagged() -> None:
    history = [make_run("queued", started_at=CREATED + 1), make_run("in_progress")]
    assert "lifecycle.started_at" in rules_of(check_run_history(history))


def test_failed_at_may_not_change_once_set() -> None:
    history = [make_run("failed"), make_run("failed", failed_at=CREATED + 99)]
    assert "lifecycle.failed_at" in rules_of(check_run_history(history))


# steps ------------------------------------------------------------------------------------------

def make_step(index: int, kind: str = "message_creation", **overrides: Any) -> dict[str, Any]:
    details: dict[str, Any] = (
        {"type": "message_creation", "message_creation": {"message_id": f"msg_{index}"}}
        if kind == "message_creation" else {"type": "tool_calls", "tool_calls": []}
    )
    step = {
        "id": f"step_{index}", "object": "thread.run.step", "created_at": CREATED + index, "run_id": "run_abc",
        "assistant_id": "asst_abc", "thread_id": "thread_abc", "type": kind, "status": "completed",
        "step_details": details, "usage": {"prompt_tokens": 30, "completion_tokens": 6, "total_tokens": 36},
    }
    step.update(overrides)
    return step


def test_steps_add_up_to_the_run() -> None:
    run = make_run("completed")
    steps = [make_step(1, "tool_calls"), make_step(2)]
    assert errors(check_steps(run, steps, message_ids={"msg_2"})) == []


@pytest.mark.parametrize(
    ("step_overrides", "rule"),
    [
        ({"run_id": "run_other"}, "lifecycle.steps_consistent"),
        ({"thread_id": "thread_other"}, "lifecycle.steps_consistent"),
        ({"assistant_id": "asst_other"}, "lifecycle.steps_consistent"),
        ({"status": "in_progress"}, "lifecycle.steps_consistent"),
        ({"step_details": {"type": "message_creation", "message_creation": {}}}, "lifecycle.steps_consistent"),
        ({"step_details": {"type": "message_creation", "message_creation": {"message_id": "msg_gone"}}},
         "lifecycle.steps_consistent"),
        ({"step_details": {"type": "tool_calls", "tool_calls": []}}, "lifecycle.steps_consistent"),
        ({"usage": {"prompt_tokens": 31, "completion_tokens": 6, "total_tokens": 37}}, "lifecycle.usage"),
    ],
)
def test_inconsistent_steps(step_overrides: dict[str, Any], rule: str) -> None:
    run = make_run("completed")
    steps = [make_step(1, "tool_calls"), make_step(2, **step_overrides)]
    assert rule in rules_of(check_steps(run, steps, message_ids={"msg_2"}))


def test_usage_sum_skipped_when_a_step_has_no_usage() -> None:
    run = make_run("completed", usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2})
    steps = [make_step(1, "tool_calls", usage=None), make_step(2)]
    assert errors(check_steps(run, steps)) == []


def test_active_statuses_partition() -> None:
    assert ACTIVE_STATUSES | TERMINAL_STATUSES == RUN_STATUSES
    assert not ACTIVE_STATUSES & TERMINAL_STATUSES


# parity with Microsoft's published spec (test data in ../shared) ---------------------------------

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def published_specs() -> list[Path]:
    specs = sorted(SHARED.glob("reference-specs/*/inference.json")) if SHARED.is_dir() else []
    if not specs:
        pytest.skip(f"official specs not found under {SHARED} (../shared is absent in a fresh clone)")
    return specs


def test_statuses_are_the_published_ones_plus_incomplete() -> None:
    for spec in published_specs():
        schemas = json.loads(spec.read_text(encoding="utf-8"))["components"]["schemas"]
        published = set(schemas["runObject"]["properties"]["status"]["enum"])
        # SERVICE-FACTS: the reference omits `incomplete`, yet runs end that way.
        assert RUN_STATUSES - published == {"incomplete"}, spec
        assert published <= RUN_STATUSES, spec


# ---------------------------------------------------------------- back to queued (added by suite-cost)

WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


def test_requeued_run_without_function_tool_is_a_transition_finding() -> None:
    # the emulator's run_backwards fault: an in_progress run read again as queued, no tools at all
    history = [make_run("queued"), make_run("in_progress"), make_run("queued", started_at=CREATED + 1)]
    findings = errors(check_run_history(history))
    assert "lifecycle.transition" in rules_of(findings)
    assert any("no function tool" in f.message for f in findings)


@pytest.mark.parametrize("tools", [[{"type": "file_search"}], [{"type": "code_interpreter"}]])
def test_requeued_run_with_only_other_tools_is_a_finding(tools: list[dict[str, Any]]) -> None:
    history = [make_run("in_progress", tools=tools), make_run("queued", started_at=CREATED + 1, tools=tools)]
    assert "lifecycle.transition" in rules_of(check_run_history(history))


def test_requeued_run_with_function_tool_may_have_missed_requires_action() -> None:
    # in_progress -> (requires_action, unseen) -> queued: legal for a run that can call a function
    history = [make_run("in_progress", tools=[WEATHER_TOOL]),
               make_run("queued", started_at=CREATED + 1, tools=[WEATHER_TOOL])]
    assert "lifecycle.transition" not in rules_of(check_run_history(history))


def test_requeued_after_requires_action_is_legal_even_without_tools_listed() -> None:
    history = [make_run("in_progress", tools=[WEATHER_TOOL]), make_run("requires_action", tools=[WEATHER_TOOL]),
               make_run("queued", started_at=CREATED + 1, tools=[WEATHER_TOOL])]
    assert rules_of(check_run_history(history)) == set()


def test_requeued_run_without_tools_field_is_not_judged() -> None:
    before, after = make_run("in_progress"), make_run("queued", started_at=CREATED + 1)
    del before["tools"], after["tools"]
    assert "lifecycle.transition" not in rules_of(check_run_history([before, after]))


@given(st.sampled_from(sorted(ACTIVE_STATUSES - {"queued", "requires_action"})))
def test_no_active_status_but_requires_action_leads_back_to_queued_without_tools(came_from: str) -> None:
    history = [make_run(came_from), make_run("queued", started_at=CREATED + 1)]
    assert "lifecycle.transition" in rules_of(check_run_history(history))
