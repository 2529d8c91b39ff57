"""Function tools: requires_action, submitting tool outputs, and the submissions the service refuses.

The function call is forced with `tool_choice`, so the run stops in requires_action on the real
service as well as on the emulator.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.client import ConformanceClient
from conformance.findings import require
from conformance.harness.tracker import Tracker
from conformance.invariants.errors import check_error_envelope
from conformance.invariants.lifecycle import check_run_history, check_steps
from conformance.spec import Contract
from conformance.suite import support
from conformance.suite.conftest import Shared

pytestmark = [pytest.mark.lifecycle]

WEATHER = json.dumps({"city": "Paris", "celsius": 21, "sky": "clear"})


def _submit(client: ConformanceClient, run: dict[str, Any], outputs: list[dict[str, Any]]) -> Any:
    path = f"/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs"
    return client.post(path, json={"tool_outputs": outputs})


def _answers(run: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"tool_call_id": call["id"], "output": WEATHER} for call in support.tool_calls(run)]


def _answered_run(
    client: ConformanceClient, contract: Contract, shared: Shared
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A tool run through requires_action, answered and settled: (snapshots until waiting, the
    submit answer and every poll after it). Shared by the module's tests, which only read it or
    send it what a conforming target refuses (issue 8: cost)."""
    def make(owner: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        waiting = support.tool_run(client, contract, owner, shared)
        run = waiting[-1]
        resumed = support.expect(contract, "Submit_Tool_Outputs_To_Run", _submit(client, run, _answers(run)))
        return waiting, support.settle(client, contract, resumed)

    return shared.once("answered tool run", make)


@pytest.mark.expensive
@pytest.mark.operation("Submit_Tool_Outputs_To_Run")
def test_run_requires_action_then_submitted_outputs_complete(
    client: ConformanceClient, contract: Contract, shared: Shared
) -> None:
    waiting, history = _answered_run(client, contract, shared)
    run = waiting[-1]
    calls = support.tool_calls(run)
    names = [call.get("function", {}).get("name") for call in calls]
    assert support.WEATHER_FUNCTION in names, f"the forced call to {support.WEATHER_FUNCTION} is missing: {names}"
    require(check_run_history([*waiting, *history]), f"run {run['id']} through requires_action")
    final = history[-1]
    assert final["status"] == "completed", f"the run ended {final['status']!r} after tool outputs"
    page = support.expect(contract, "List_Run_Steps",
                          client.get(f"/threads/{run['thread_id']}/runs/{run['id']}/steps", params={"limit": 100}))
    require(check_steps(final, page["data"]), f"steps of tool run {run['id']}")
    kinds = sorted(step.get("type") for step in page["data"])
    assert "tool_calls" in kinds, f"a run that called a tool lists steps of types {kinds}"


@pytest.mark.operation("Submit_Tool_Outputs_To_Run")
def test_run_submit_unknown_tool_call_id_is_rejected(
    client: ConformanceClient, contract: Contract, shared: Shared
) -> None:
    run = support.waiting_run(client, contract, shared)
    response = _submit(client, run, [{"tool_call_id": "call_not_asked_for", "output": WEATHER}])
    body = support.expect(contract, "Submit_Tool_Outputs_To_Run", response, status=400)
    require(check_error_envelope(response.status_code, body), "tool output for a call the run did not make")
    after = support.expect(contract, "Get_Run", client.get(f"/threads/{run['thread_id']}/runs/{run['id']}"))
    assert after["status"] == "requires_action", f"a refused submission moved the run to {after['status']!r}"


@pytest.mark.operation("Submit_Tool_Outputs_To_Run")
def test_run_submit_missing_output_is_rejected(
    client: ConformanceClient, contract: Contract, shared: Shared
) -> None:
    run = support.waiting_run(client, contract, shared)
    response = _submit(client, run, [])
    body = support.expect(contract, "Submit_Tool_Outputs_To_Run", response, status=400)
    require(check_error_envelope(response.status_code, body), "no output for the run's tool call")


@pytest.mark.expensive
@pytest.mark.operation("Submit_Tool_Outputs_To_Run")
def test_run_submit_when_not_waiting_is_rejected(
    client: ConformanceClient, contract: Contract, shared: Shared
) -> None:
    waiting, history = _answered_run(client, contract, shared)
    run = waiting[-1]
    response = _submit(client, run, _answers(run))  # the same outputs again, to a run no longer waiting
    body = support.expect(contract, "Submit_Tool_Outputs_To_Run", response, status=400)
    require(check_error_envelope(response.status_code, body), f"tool outputs for a {history[-1]['status']} run")
