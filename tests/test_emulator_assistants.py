"""Every Assistants operation on the emulator answers what the contract allows, in both api-versions,
and CRUD behaves (modify applies, delete removes, unknown ids are 404)."""

from __future__ import annotations

import pytest

from conformance.emulator.routes_assistants import ROUTES
from conformance.emulator.settings import EmulatorSettings
from conformance.emulator.testing import EmulatorApi, FakeClock
from conformance.spec import load_contract
from conformance.versions import API_VERSIONS

ASSISTANT_TAGS = {"Assistants", "Threads", "Messages", "Runs", "Run Steps"}
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}}


@pytest.fixture(params=API_VERSIONS)
def api(request: pytest.FixtureRequest) -> EmulatorApi:
    return EmulatorApi.create(EmulatorSettings(run_pace=1.0), clock=FakeClock(), api_version=request.param)


@pytest.mark.parametrize("version", API_VERSIONS)
def test_routes_cover_every_assistants_operation_of_the_contract(version: str) -> None:
    contract = load_contract(version)
    wanted = {(op.method, op.path, op.operation_id) for op in contract.operations if op.tag in ASSISTANT_TAGS}
    served = {(r.method, r.path, r.operation_id) for r in ROUTES}
    assert wanted == served


def test_every_operation_answers_contract_valid(api: EmulatorApi) -> None:
    clock = api.client.app.state.emulator.store._clock  # type: ignore[attr-defined]
    called: set[str] = set()

    def call(op: str, method: str, path: str, body: object = None, **kw: object) -> object:
        called.add(op)
        return api.call(method, path, body, **kw)  # type: ignore[arg-type]

    asst = call("Create_Assistant", "POST", "/assistants",
                {"model": "gpt-4o", "name": "helper", "instructions": "Be brief.", "tools": [TOOL],
                 "metadata": {"k": "v"}})
    assert asst["model"] == "gpt-4o" and asst["tool_resources"] == {} and asst["response_format"] == "auto"
    aid = asst["id"]
    assert call("Get_Assistant", "GET", f"/assistants/{aid}") == asst
    assert call("Modify_Assistant", "POST", f"/assistants/{aid}", {"name": "renamed"})["name"] == "renamed"
    assert [a["id"] for a in call("List_Assistants", "GET", "/assistants")["data"]] == [aid]

    thread = call("Create_Thread", "POST", "/threads", {"messages": [{"role": "user", "content": "hi"}]})
    tid = thread["id"]
    assert call("Get_Thread", "GET", f"/threads/{tid}")["id"] == tid
    assert call("Modify_Thread", "POST", f"/threads/{tid}", {"metadata": {"a": "b"}})["metadata"] == {"a": "b"}
    msg = call("Create_Message", "POST", f"/threads/{tid}/messages",
               {"role": "user", "content": "What is get_weather for Paris?"})
    assert msg["content"][0]["text"]["value"] == "What is get_weather for Paris?"
    mid = msg["id"]
    assert call("Get_Message", "GET", f"/threads/{tid}/messages/{mid}")["id"] == mid
    assert call("Modify_Message", "POST", f"/threads/{tid}/messages/{mid}", {"metadata": {"x": "y"}})["metadata"] == {"x": "y"}

    run = call("Create_Run", "POST", f"/threads/{tid}/runs", {"assistant_id": aid})
    rid = run["id"]
    assert run["status"] == "queued"
    clock.advance(2.5)
    run = call("Get_Run", "GET", f"/threads/{tid}/runs/{rid}")
    assert run["status"] == "requires_action"
    calls = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather"]
    steps = call("List_Run_Steps", "GET", f"/threads/{tid}/runs/{rid}/steps")["data"]
    assert call("Get_Run_Step", "GET", f"/threads/{tid}/runs/{rid}/steps/{steps[0]['id']}")["type"] == "tool_calls"
    call("Submit_Tool_Outputs_To_Run", "POST", f"/threads/{tid}/runs/{rid}/submit_tool_outputs",
         {"tool_outputs": [{"tool_call_id": calls[0]["id"], "output": "sunny"}]})
    clock.advance(2.5)
    run = call("Get_Run", "GET", f"/threads/{tid}/runs/{rid}")
    assert run["status"] == "completed"
    assert call("Modify_Run", "POST", f"/threads/{tid}/runs/{rid}", {"metadata": {"m": "1"}})["metadata"] == {"m": "1"}
    assert [r["id"] for r in call("List_Runs", "GET", f"/threads/{tid}/runs")["data"]] == [rid]
    texts = [m["content"][0]["text"]["value"] for m in call("List_Messages", "GET", f"/threads/{tid}/messages")["data"]]
    assert texts[0] == "Tool results: get_weather: sunny"

    other = call("Create_Thread_And_Run", "POST", "/threads/runs",
                 {"assistant_id": aid, "thread": {"messages": [{"role": "user", "content": "hello"}]}})
    cancelled = call("Cancel_Run", "POST", f"/threads/{other['thread_id']}/runs/{other['id']}/cancel")
    assert cancelled["status"] == "cancelling" and cancelled["cancelled_at"] is None

    for op, path in (("Create_Run", f"/threads/{tid}/runs"), ("Create_Thread_And_Run", "/threads/runs")):
        body = {"assistant_id": aid, "stream": True, "tool_choice": "none"}
        text = call(op, "POST", path, body)
        assert text.endswith("event: done\ndata: [DONE]\n\n")

    assert call("Delete_Thread", "DELETE", f"/threads/{tid}") == {"id": tid, "object": "thread.deleted", "deleted": True}
    assert call("Delete_Assistant", "DELETE", f"/assistants/{aid}")["deleted"] is True
    assert called == {r.operation_id for r in ROUTES}


def test_deleted_objects_are_gone_and_unknown_ids_are_404(api: EmulatorApi) -> None:
    aid = api.call("POST", "/assistants", {"model": "gpt-4o"})["id"]
    tid = api.call("POST", "/threads")["id"]
    api.call("DELETE", f"/assistants/{aid}")
    api.call("DELETE", f"/threads/{tid}")
    for path in (f"/assistants/{aid}", f"/threads/{tid}", f"/threads/{tid}/messages", f"/threads/{tid}/runs/run_x"):
        body = api.call("GET", path, expect=404)
        assert body["error"]["message"].startswith("No ") and body["error"]["message"].endswith("'.")
    tid = api.call("POST", "/threads")["id"]
    for path in (f"/threads/{tid}/messages/msg_nope", f"/threads/{tid}/runs/run_nope",
                 f"/threads/{tid}/runs/run_nope/steps"):
        assert "nope" in api.call("GET", path, expect=404)["error"]["message"]
    api.call("DELETE", f"/assistants/{aid}", expect=404)


def test_modify_applies_only_given_fields(api: EmulatorApi) -> None:
    asst = api.call("POST", "/assistants", {"model": "gpt-4o", "name": "a", "description": "d"})
    changed = api.call("POST", f"/assistants/{asst['id']}", {"instructions": "new", "temperature": 0.5})
    assert (changed["name"], changed["description"], changed["instructions"], changed["temperature"]) == (
        "a", "d", "new", 0.5)
    assert api.call("GET", f"/assistants/{asst['id']}") == changed


def test_ids_are_deterministic_per_seed() -> None:
    def ids(seed: int) -> list[str]:
        api = EmulatorApi.create(EmulatorSettings(seed=seed), clock=FakeClock())
        return [api.call("POST", "/assistants", {"model": "m"})["id"] for _ in range(3)]

    first = ids(1)
    assert first == ids(1) and first != ids(2)
    assert all(i.startswith("asst_") and len(i) == 29 and i[5:].isalnum() for i in first)
