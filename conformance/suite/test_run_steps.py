"""Run steps: after a run ends, its steps, its messages and the run itself tell the same story."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client import ConformanceClient
from conformance.findings import require
from conformance.harness.tracker import Tracker
from conformance.invariants.errors import check_not_found
from conformance.invariants.lifecycle import check_run_history, check_steps
from conformance.spec import Contract
from conformance.suite import support
from conformance.suite.conftest import Shared

pytestmark = [pytest.mark.lifecycle]


def _finished_run(client: ConformanceClient, contract: Contract, shared: Shared) -> dict[str, Any]:
    """One completed run per module and api-version: the tests below only read it (issue 8: cost)."""
    def make(tracker: Tracker) -> dict[str, Any]:
        assistant = tracker.assistant(instructions="Answer briefly.")
        # thread and run in one streamed request; its last run object (the finished run, checked
        # against the contract) is what the tests below compare the steps with
        final = support.streamed_thread_and_run(client, tracker, {"assistant_id": assistant["id"]},
                                                "Say hello in five words.")
        require(contract.validate_event("thread.run.completed", final), f"run {final.get('id')} as streamed")
        require(check_run_history([final]), f"run {final['id']}")
        assert final["status"] == "completed", f"the run ended {final['status']!r}, expected 'completed'"
        return final

    return shared.once("finished run", make)


def _steps(client: ConformanceClient, contract: Contract, run: dict[str, Any]) -> list[dict[str, Any]]:
    page = support.expect(contract, "List_Run_Steps",
                          client.get(f"/threads/{run['thread_id']}/runs/{run['id']}/steps", params={"limit": 100}))
    steps: list[dict[str, Any]] = page["data"]
    return steps


@pytest.mark.expensive
@pytest.mark.operation("List_Run_Steps")
def test_run_steps_agree_with_run_and_messages(
    client: ConformanceClient, contract: Contract, shared: Shared
) -> None:
    run = _finished_run(client, contract, shared)
    steps = _steps(client, contract, run)
    assert steps, "a completed run that answered lists no steps"
    messages = support.expect(contract, "List_Messages",
                              client.get(f"/threads/{run['thread_id']}/messages", params={"limit": 100}))
    message_ids = [m["id"] for m in messages["data"]]
    require(check_steps(run, steps, message_ids=message_ids), f"steps of run {run['id']}")
    answers = [m for m in messages["data"] if m.get("role") == "assistant"]
    assert all(m.get("run_id") == run["id"] for m in answers), (
        f"assistant messages name runs {[m.get('run_id') for m in answers]}, expected {run['id']}"
    )


@pytest.mark.expensive
@pytest.mark.operation("Get_Run_Step")
def test_run_step_get_matches_listed_step(client: ConformanceClient, contract: Contract, shared: Shared) -> None:
    run = _finished_run(client, contract, shared)
    steps = _steps(client, contract, run)
    assert steps, "a completed run that answered lists no steps"
    for listed in steps:
        path = f"/threads/{run['thread_id']}/runs/{run['id']}/steps/{listed['id']}"
        single = support.expect(contract, "Get_Run_Step", client.get(path))
        require(check_steps(run, [single]), f"step {listed['id']} read on its own")
        changed = support.subset(listed, single)
        assert not changed, f"step {listed['id']} read on its own differs from the listed one in {changed}"


@pytest.mark.expensive
@pytest.mark.operation("Get_Run_Step")
def test_run_step_get_through_other_run_is_not_found(
    client: ConformanceClient, contract: Contract, shared: Shared
) -> None:
    run = _finished_run(client, contract, shared)
    step = _steps(client, contract, run)[0]
    response = client.get(f"/threads/{run['thread_id']}/runs/run_not_this_one/steps/{step['id']}")
    body = support.expect(contract, "Get_Run_Step", response, status=404)
    require(check_not_found(response.status_code, body), "a step read through a run it does not belong to")
