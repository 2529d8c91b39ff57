"""Budgets per target: against anything but the embedded emulator the fuzzer is small and operations
that spend tokens or create runs wait for `--allow-expensive`.

The "live" target here is an emulator this test starts on 127.0.0.1 and addresses as `--target url`,
so the fuzzer treats it exactly as it would a real resource.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from fuzz_runner import run_fuzz

from conformance.config import TargetSettings
from conformance.emulator.settings import DEFAULT_API_KEY
from conformance.fuzz.common import schema_for, target_for
from conformance.fuzz.driver import fuzz_operation
from conformance.fuzz.plugin import LIVE_BUDGET
from conformance.harness.target import EmulatorProcess, start_emulator
from conformance.spec import load_contract
from conformance.versions import DEFAULT_API_VERSION

pytestmark = [pytest.mark.slow]

SELECTION = "Get_Assistant or Create_Run or ChatCompletions_Create or List_Run_Steps or Create_Thread or Create_Assistant"


@pytest.fixture(scope="module")
def remote() -> Iterator[EmulatorProcess]:
    emulator = start_emulator(DEFAULT_API_KEY)
    try:
        yield emulator
    finally:
        emulator.stop()


def _url_target(emulator: EmulatorProcess) -> tuple[str, ...]:
    return ("--target", "url", "--base-url", emulator.url, "--api-key", DEFAULT_API_KEY)


def _expensive(operation_id: str) -> bool:
    op = load_contract(DEFAULT_API_VERSION).operation(operation_id)
    return op.expensive or "run_id" in op.path_params


def test_live_targets_skip_expensive_operations_and_use_a_small_budget(remote: EmulatorProcess, tmp_path: Path) -> None:
    run = run_fuzz(tmp_path, ["--api-version", DEFAULT_API_VERSION, "--seed", "3", "-k", f"test_fuzz and ({SELECTION})"],
                   target=_url_target(remote))
    by_op = {r.operation: r for r in run.records}
    assert set(by_op) == {"Get_Assistant", "Create_Run", "ChatCompletions_Create", "List_Run_Steps", "Create_Thread",
                          "Create_Thread_And_Run", "Create_Assistant"}  # -k matches substrings
    for name, record in by_op.items():
        if _expensive(name):
            assert record.outcome == "skipped" and "--allow-expensive" in record.message, record
        else:
            assert record.outcome == "passed", (record, run.tail())
            # positive + negative, LIVE_BUDGET each, plus at most three probes and the provisioning calls
            assert record.requests <= 2 * LIVE_BUDGET + 3 + 4, record
    assert "emulator-key" not in "".join(r.request + r.message for r in run.records)
    # What generated creates made was tracked (ledger) and deleted: the target is left as it was.
    ledger = [json.loads(line) for line in (tmp_path / "state" / "ledger.jsonl").read_text().splitlines()]
    added = {e["delete_path"] for e in ledger if e["op"] == "add"}
    removed = {e["delete_path"] for e in ledger if e["op"] == "remove"}
    assert len([p for p in added if p.startswith("/assistants/")]) > 1 and added == removed
    left = httpx.get(f"{remote.url}/openai/assistants", params={"api-version": DEFAULT_API_VERSION},
                     headers={"api-key": DEFAULT_API_KEY}).json()
    assert left["data"] == []


def test_allow_expensive_fuzzes_them_on_live_targets(remote: EmulatorProcess, tmp_path: Path) -> None:
    run = run_fuzz(tmp_path, ["--api-version", DEFAULT_API_VERSION, "--seed", "3", "--allow-expensive",
                              "-k", "test_fuzz and (Create_Run or ChatCompletions_Create)"], target=_url_target(remote))
    outcomes = {r.operation: r.outcome for r in run.records}
    assert outcomes == {"Create_Run": "passed", "ChatCompletions_Create": "passed"}, run.tail()


class _RecordingSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, bytes]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        self.sent.append((str(request.method), str(request.url), body))
        return super().send(request, **kwargs)


def _sent(remote: EmulatorProcess, operation_id: str, seed: int) -> list[tuple[str, str, bytes]]:
    settings = TargetSettings(kind="url", name="url", endpoint=remote.url, api_key=DEFAULT_API_KEY)
    contract = load_contract(DEFAULT_API_VERSION)
    target = target_for(settings, DEFAULT_API_VERSION)
    session = _RecordingSession()
    target.session = session
    operation = schema_for(contract, settings).find_operation_by_id(operation_id)
    fuzz_operation(operation, target, budget=4, seed=seed, path_parameters=dict)
    return session.sent


@pytest.mark.parametrize("operation_id", ["Create_Thread", "List_Assistants"])
def test_the_same_seed_sends_the_same_requests(remote: EmulatorProcess, operation_id: str) -> None:
    first, again, other = (_sent(remote, operation_id, seed) for seed in (17, 17, 18))
    assert first == again and len(first) >= 8
    assert first != other
