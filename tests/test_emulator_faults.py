"""Every fault switch changes the behaviour it claims, and nothing when it is off.

Table-driven: each row runs one scenario twice (fault off, fault on) and evaluates a claim that
must be false without the fault and true with it. The suite engineer proves separately that the
suite catches each fault; here we prove each fault is real.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from conformance.emulator import triggers
from conformance.emulator.faults import FAULT_HEADER, FAULTS
from conformance.emulator.settings import EmulatorSettings
from conformance.emulator.testing import EmulatorApi, FakeClock
from conformance.invariants.rules import RULES

TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}


@dataclass
class World:
    api: EmulatorApi
    clock: FakeClock

    def assistant(self, **extra: Any) -> str:
        return str(self.api.raw("POST", "/assistants", {"model": "gpt-4o", "tools": [TOOL], **extra}).json()["id"])

    def run(self, text: str = "hello") -> dict[str, Any]:
        aid = self.assistant()
        body = {"assistant_id": aid, "thread": {"messages": [{"role": "user", "content": text}]}}
        result: dict[str, Any] = self.api.raw("POST", "/threads/runs", body).json()
        return result

    def get(self, run: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.api.raw("GET", f"/threads/{run['thread_id']}/runs/{run['id']}").json()
        return result

    def finished(self, text: str = "hello") -> dict[str, Any]:
        run = self.run(text)
        self.clock.advance(3)
        return self.get(run)

    def listing(self, **query: str) -> Any:
        if not self.api.client.app.state.emulator.store.assistants:  # type: ignore[attr-defined]
            for _ in range(25):
                self.assistant()
        return self.api.raw("GET", "/assistants", query=query)

    def ids(self, **query: str) -> list[str]:
        return [a["id"] for a in self.listing(**query).json()["data"]]

    def stream(self, text: str = "three words here") -> Any:
        aid = self.assistant()
        body = {"assistant_id": aid, "stream": True, "thread": {"messages": [{"role": "user", "content": text}]}}
        return self.api.raw("POST", "/threads/runs", body)


def events(response: Any) -> list[tuple[str, str]]:
    out = []
    for block in response.text.strip("\n").split("\n\n"):
        lines = block.split("\n")
        out.append((lines[0][len("event: "):], lines[1][len("data: "):]))
    return out


def _json_ok(data: str) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return data == "[DONE]"
    return True


def _two_reads(w: World) -> list[str]:
    run = w.run()
    w.clock.advance(1.5)
    first = w.get(run)["status"]
    w.clock.advance(0.1)
    return [first, w.get(run)["status"]]


def _terminal_twice(w: World) -> list[str]:
    run = w.run()
    w.clock.advance(3)
    return [w.get(run)["status"], w.get(run)["status"]]


def _cancelled(w: World) -> dict[str, Any]:
    run = w.run()
    w.api.raw("POST", f"/threads/{run['thread_id']}/runs/{run['id']}/cancel")
    w.clock.advance(2)
    return w.get(run)


def _waiting(w: World) -> dict[str, Any]:
    run = w.run("please lookup")
    w.clock.advance(2.5)
    return w.get(run)


def _steps(w: World) -> tuple[str, list[str]]:
    run = w.finished()
    steps = w.api.raw("GET", f"/threads/{run['thread_id']}/runs/{run['id']}/steps").json()["data"]
    return run["id"], [s["run_id"] for s in steps]


def _delta_text(w: World) -> tuple[str, str]:
    evs = events(w.stream())
    deltas = "".join(json.loads(d)["delta"]["content"][0]["text"]["value"] for n, d in evs if n == "thread.message.delta")
    done = json.loads(dict(evs)["thread.message.completed"])["content"][0]["text"]["value"]
    return deltas, done


def _newest_two(w: World) -> tuple[list[str], str]:
    newest = w.ids(limit="2")
    return w.ids(after=newest[0], limit="2"), newest[0]


def _modified(w: World) -> str:
    aid = w.assistant(name="before")
    w.api.raw("POST", f"/assistants/{aid}", {"name": "after"})
    return str(w.api.raw("GET", f"/assistants/{aid}").json()["name"])


def _deleted(w: World) -> int:
    aid = w.assistant()
    w.api.raw("DELETE", f"/assistants/{aid}")
    return int(w.api.raw("GET", f"/assistants/{aid}").status_code)


def _chat_filter(w: World) -> dict[str, Any]:
    body = {"messages": [{"role": "user", "content": triggers.CHAT_CONTENT_FILTER_PROMPT}]}
    error: dict[str, Any] = w.api.raw("POST", "/deployments/gpt-4o/chat/completions", body).json()["error"]
    return error


def _unauthenticated(w: World) -> int:
    return int(w.api.client.get("/openai/assistants", params={"api-version": w.api.api_version}).status_code)


def _no_version(w: World) -> int:
    return int(w.api.client.get("/openai/assistants", headers={"api-key": "emulator-key"}).status_code)


# fault -> (scenario, claim true only when the fault is on)
TABLE: dict[str, tuple[Callable[[World], Any], Callable[[Any], bool]]] = {
    "run_terminal_reverts": (_terminal_twice, lambda s: s == ["completed", "in_progress"]),
    "run_backwards": (_two_reads, lambda s: s == ["in_progress", "queued"]),
    "run_started_at_missing": (lambda w: w.finished(), lambda r: r["started_at"] is None),
    "run_completed_at_missing": (lambda w: w.finished(), lambda r: r["status"] == "completed" and r["completed_at"] is None),
    "run_cancelled_at_missing": (_cancelled, lambda r: r["status"] == "cancelled" and r["cancelled_at"] is None),
    "run_expires_at_kept": (lambda w: w.finished(), lambda r: r["expires_at"] is not None),
    "run_usage_mismatch": (lambda w: w.finished(), lambda r: r["usage"]["total_tokens"]
                           != r["usage"]["prompt_tokens"] + r["usage"]["completion_tokens"]),
    "run_usage_early": (lambda w: w.run(), lambda r: r["status"] == "queued" and r["usage"] is not None),
    "run_required_action_missing": (_waiting, lambda r: r["status"] == "requires_action" and r["required_action"] is None),
    "run_failed_no_error": (lambda w: w.finished(triggers.RUN_FAILED),
                            lambda r: r["status"] == "failed" and r["last_error"] is None),
    "step_wrong_run_id": (_steps, lambda s: bool(s[1]) and any(i != s[0] for i in s[1])),
    "page_has_more_wrong": (lambda w: w.listing(limit="100").json(), lambda b: b["has_more"] is True),
    "page_first_id_wrong": (lambda w: w.listing().json(), lambda b: b["first_id"] != b["data"][0]["id"]),
    "page_last_id_wrong": (lambda w: w.listing().json(), lambda b: b["last_id"] != b["data"][-1]["id"]),
    "page_after_ignored": (_newest_two, lambda s: s[1] in s[0]),
    "page_before_ignored": (lambda w: w.ids(order="asc", before=w.ids(order="asc")[3]), lambda ids: len(ids) > 3),
    "page_limit_unbounded": (lambda w: w.listing(limit="101").status_code, lambda status: status == 200),
    "page_order_ignored": (lambda w: (w.ids(order="asc"), w.ids(order="desc")), lambda s: s[0] == s[1][:20]),
    "page_duplicate_item": (_newest_two, lambda s: s[0][0] == s[1]),
    "page_default_limit_wrong": (lambda w: w.ids(), lambda ids: len(ids) == 10),
    "stream_no_done": (lambda w: events(w.stream()), lambda evs: evs[-1][0] != "done"),
    "stream_out_of_order": (lambda w: [n for n, _ in events(w.stream())],
                            lambda n: n.index("thread.run.in_progress") < n.index("thread.run.queued")),
    "stream_delta_mismatch": (_delta_text, lambda s: s[0] != s[1]),
    "stream_wrong_content_type": (lambda w: w.stream().headers["content-type"],
                                  lambda ct: not ct.startswith("text/event-stream")),
    "stream_bad_json": (lambda w: events(w.stream()), lambda evs: not all(_json_ok(d) for _, d in evs)),
    "stream_no_step_events": (lambda w: [n for n, _ in events(w.stream())],
                              lambda n: not any(x.startswith("thread.run.step.") for x in n)),
    "error_flat_envelope": (lambda w: w.api.raw("GET", "/assistants/asst_nope").json(), lambda b: "error" not in b),
    "unknown_id_400": (lambda w: w.api.raw("GET", "/assistants/asst_nope").status_code, lambda s: s == 400),
    "content_filter_no_innererror": (_chat_filter, lambda e: "innererror" not in e),
    "auth_not_enforced": (_unauthenticated, lambda s: s == 200),
    "api_version_unchecked": (_no_version, lambda s: s == 200),
    "bad_request_accepted": (lambda w: w.api.raw("POST", "/assistants", {"model": 5}).status_code, lambda s: s == 200),
    "schema_missing_required": (lambda w: w.api.raw("POST", "/assistants", {"model": "m"}).json(),
                                lambda a: "created_at" not in a),
    "schema_wrong_type": (lambda w: w.api.raw("POST", "/assistants", {"model": "m"}).json(),
                          lambda a: isinstance(a["created_at"], str)),
    "schema_wrong_object": (lambda w: w.api.raw("POST", "/assistants", {"model": "m"}).json(),
                            lambda a: a["object"] != "assistant"),
    "modify_ignored": (_modified, lambda name: name == "before"),
    "delete_not_deleted": (_deleted, lambda status: status == 200),
}


def world(faults: frozenset[str] = frozenset(), **settings: Any) -> World:
    clock = FakeClock()
    return World(EmulatorApi.create(EmulatorSettings(run_pace=1.0, faults=faults, **settings), clock=clock), clock)


def test_every_fault_has_a_row_and_names_a_known_rule() -> None:
    assert set(TABLE) == set(FAULTS)
    for fault in FAULTS.values():
        assert fault.breaks in RULES, fault
        assert fault.area in {"lifecycle", "pagination", "streaming", "errors", "schema", "crud"}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_fault_changes_what_it_claims(name: str) -> None:
    scenario, claim = TABLE[name]
    assert not claim(scenario(world())), f"{name}: the claim already holds without the fault"
    assert claim(scenario(world(frozenset({name})))), f"{name}: the fault did not change the behaviour"


def test_fault_header_applies_per_request_only_when_enabled() -> None:
    header = {FAULT_HEADER: "schema_wrong_object, unknown_id_400"}
    on = world(fault_header=True)
    assert on.api.raw("GET", "/assistants/asst_x", headers=header).status_code == 400
    assert on.api.raw("GET", "/assistants/asst_x").status_code == 404
    off = world()
    assert off.api.raw("GET", "/assistants/asst_x", headers=header).status_code == 404


def test_unknown_fault_in_header_is_a_400_naming_it() -> None:
    response = world(fault_header=True).api.raw("GET", "/assistants", headers={FAULT_HEADER: "no_such_fault"})
    assert response.status_code == 400 and "no_such_fault" in response.json()["error"]["message"]
