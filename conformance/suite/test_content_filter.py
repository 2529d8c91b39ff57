"""Content filtering: blocked prompts, annotations on allowed answers, and filtered assistant runs.

For the Assistants surface no live recording exists; SERVICE-FACTS lists three manifestations
client code must handle, so each is accepted and the test reports which one the target showed.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.client import ConformanceClient
from conformance.config import Deployments, TargetSettings
from conformance.emulator import triggers
from conformance.findings import require
from conformance.harness.tracker import Tracker
from conformance.invariants.errors import check_chat_annotations, check_content_filter_error
from conformance.invariants.lifecycle import check_run_history
from conformance.invariants.sse import check_content_type, parse_sse
from conformance.invariants.streams import check_run_stream, final_run
from conformance.spec import Contract
from conformance.suite import support

pytestmark = [pytest.mark.content_filter]


def _json(response: httpx.Response) -> Any:
    """The body as JSON, or its text: a non-JSON error body is judged by the rules, not a crash."""
    try:
        return response.json()
    except ValueError:
        return response.text


def _strict(settings: TargetSettings) -> bool:
    # The service sometimes omits innererror (an observed variant); the emulator documents the full form.
    return settings.kind == "emulator"


@pytest.mark.expensive
@pytest.mark.operation("ChatCompletions_Create")
def test_chat_filtered_prompt_is_rejected_with_results(
    client: ConformanceClient, deployments: Deployments, filter_prompt: str, aoai_settings: TargetSettings
) -> None:
    body = {"messages": [{"role": "user", "content": filter_prompt}], "max_tokens": 20}
    response = client.post(f"/deployments/{deployments.chat}/chat/completions", json=body)
    findings = check_content_filter_error(response.status_code, _json(response), strict=_strict(aoai_settings))
    require(findings, "chat completion with a filtered prompt")


@pytest.mark.expensive
@pytest.mark.operation("Completions_Create")
def test_completions_filtered_prompt_is_rejected_with_results(
    client: ConformanceClient, deployments: Deployments, filter_prompt: str, aoai_settings: TargetSettings
) -> None:
    body = {"prompt": filter_prompt, "max_tokens": 20}
    response = client.post(f"/deployments/{deployments.completions}/completions", json=body)
    findings = check_content_filter_error(response.status_code, _json(response), strict=_strict(aoai_settings))
    require(findings, "completion with a filtered prompt")


@pytest.mark.expensive
@pytest.mark.operation("ChatCompletions_Create")
def test_chat_allowed_answer_carries_filter_annotations(client: ConformanceClient, deployments: Deployments) -> None:
    body = {"messages": [{"role": "user", "content": "Name three colours."}], "max_tokens": 30}
    response = client.post(f"/deployments/{deployments.chat}/chat/completions", json=body)
    assert response.status_code == 200, f"an ordinary chat prompt answered {response.status_code}: {response.text[:300]}"
    require(check_chat_annotations(_json(response)), "allowed chat completion")


@pytest.mark.emulator_only("the filtered-completion trigger phrase")
@pytest.mark.operation("ChatCompletions_Create")
def test_chat_filtered_answer_finishes_content_filter(client: ConformanceClient, deployments: Deployments) -> None:
    body = {"messages": [{"role": "user", "content": f"Tell me {triggers.CONTENT_FILTER_COMPLETION}"}]}
    response = client.post(f"/deployments/{deployments.chat}/chat/completions", json=body)
    assert response.status_code == 200, f"a filtered answer answered {response.status_code}: {response.text[:300]}"
    completion = response.json()
    require(check_chat_annotations(completion), "chat completion whose answer was filtered")
    reasons = [choice.get("finish_reason") for choice in completion["choices"]]
    assert "content_filter" in reasons, f"finish_reason is {reasons}, expected content_filter"


def _filtered_run(
    client: ConformanceClient, contract: Contract, tracker: Tracker, prompt: str, strict: bool
) -> tuple[str, Any]:
    """Run an assistant on a filtered prompt; returns (manifestation, evidence) or fails."""
    assistant = tracker.assistant(instructions="Answer briefly.")
    thread = tracker.thread()
    message = client.post(f"/threads/{thread['id']}/messages", json={"role": "user", "content": prompt})
    if message.status_code == 400:
        require(check_content_filter_error(400, _json(message), strict=strict), "message with a filtered prompt")
        return "400 content-filter envelope on create message", _json(message)
    support.expect(contract, "Create_Message", message)
    created = client.post(f"/threads/{thread['id']}/runs", json={"assistant_id": assistant["id"]})
    if created.status_code == 400:
        require(check_content_filter_error(400, _json(created), strict=strict), "run on a filtered prompt")
        return "400 content-filter envelope on create run", _json(created)
    run = support.expect(contract, "Create_Run", created)
    history = support.settle(client, contract, run)
    require(check_run_history(history), f"run {run['id']} on a filtered prompt")
    final = history[-1]
    reason = (final.get("incomplete_details") or {}).get("reason")
    code = (final.get("last_error") or {}).get("code")
    if final["status"] == "incomplete" and reason == "content_filter":
        return "run incomplete, incomplete_details.reason content_filter", final["incomplete_details"]
    if final["status"] == "failed" and code == "content_filter":
        return "run failed, last_error.code content_filter", final["last_error"]
    raise AssertionError(
        f"a filtered prompt ended the run {final['status']!r} (incomplete_details {final.get('incomplete_details')}, "
        f"last_error {final.get('last_error')}); none of the documented content-filter outcomes"
    )


@pytest.mark.expensive
@pytest.mark.operation("Create_Run")
def test_run_on_filtered_prompt_shows_a_documented_outcome(
    client: ConformanceClient, contract: Contract, tracker: Tracker, filter_prompt: str,
    aoai_settings: TargetSettings, record_property: Any,
) -> None:
    manifestation, evidence = _filtered_run(client, contract, tracker, filter_prompt, _strict(aoai_settings))
    record_property("content_filter_manifestation", manifestation)
    print(f"content filter on an assistants run: {manifestation}: {evidence}")


@pytest.mark.emulator_only("the failed-run content-filter trigger phrase")
@pytest.mark.operation("Create_Run")
def test_run_on_filtered_prompt_can_fail_with_content_filter(
    client: ConformanceClient, contract: Contract, tracker: Tracker, record_property: Any
) -> None:
    prompt = f"Hello {triggers.CONTENT_FILTER_FAILED}"
    manifestation, _ = _filtered_run(client, contract, tracker, prompt, strict=True)
    record_property("content_filter_manifestation", manifestation)
    assert manifestation.startswith("run failed"), f"the failed-run trigger showed: {manifestation}"


@pytest.mark.expensive
@pytest.mark.operation("Create_Run")
def test_run_stream_on_filtered_prompt_ends_by_the_grammar(
    client: ConformanceClient, contract: Contract, tracker: Tracker, filter_prompt: str,
    aoai_settings: TargetSettings, record_property: Any,
) -> None:
    assistant = tracker.assistant(instructions="Answer briefly.")
    thread = tracker.thread()
    message = client.post(f"/threads/{thread['id']}/messages", json={"role": "user", "content": filter_prompt})
    if message.status_code == 400:
        require(check_content_filter_error(400, _json(message), strict=_strict(aoai_settings)), "filtered message")
        pytest.skip("the target refuses the filtered prompt when the message is created; there is no run to stream")
    support.expect(contract, "Create_Message", message)
    path = f"/threads/{thread['id']}/runs"
    status, content_type, raw = support.read_stream(client, path, {"assistant_id": assistant["id"], "stream": True})
    if status == 400:
        body = _json(httpx.Response(400, content=raw))
        require(check_content_filter_error(400, body, strict=_strict(aoai_settings)), "streamed run on a filtered prompt")
        record_property("content_filter_manifestation", "400 content-filter envelope on create run (stream)")
        return
    assert status == 200, f"POST {path} with stream: true answered {status}: {raw[:300]!r}"
    events, framing = parse_sse(raw)
    require([*check_content_type(content_type), *framing,
             *check_run_stream(events, kind="run", validate_event=contract.validate_event)],
            "run stream on a filtered prompt")
    run = final_run(events)
    assert run is not None, "the stream carried no run object"
    reason = (run.get("incomplete_details") or {}).get("reason")
    code = (run.get("last_error") or {}).get("code")
    assert (run["status"], reason, code) in (("incomplete", "content_filter", None), ("failed", None, "content_filter")), (
        f"a filtered prompt's streamed run ended {run['status']!r} (incomplete_details.reason {reason!r}, "
        f"last_error.code {code!r}); none of the documented content-filter outcomes"
    )
    record_property("content_filter_manifestation", f"streamed run {run['status']}")
