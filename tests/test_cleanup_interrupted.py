"""Objects of an interrupted run never stay behind: Ctrl-C unwinds and deletes; after a kill, the
ledger lets `aoai-conformance cleanup` delete them, and only the objects of that run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance import cleanup
from conformance.emulator.server import RunningEmulator, start_in_thread
from conformance.emulator.settings import EmulatorSettings
from conformance.emulator.vector_stores_state import VectorStoreState
from conformance.harness.tracker import TAG_KEY

SUITE_INI = str(resources.files("conformance.suite").joinpath("suite.ini"))
VERSION = "2024-08-01-preview"

@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    # slow runs so the suite is still busy when it is interrupted
    running = start_in_thread(EmulatorSettings(run_pace=0.3))
    yield running
    running.stop()

def tagged_objects(running: RunningEmulator, run_id: str) -> list[str]:
    """Ids of every object in the emulator that carries this run's tag."""

    store: Any = running._server.config.app.state.emulator.store
    found = [a.id for a in store.assistants.values() if (a.metadata or {}).get(TAG_KEY) == run_id]
    found += [t.id for t in store.threads.values() if (t.metadata or {}).get(TAG_KEY) == run_id]
    found += [v.id for v in VectorStoreState.of(store).stores.values() if (v.metadata or {}).get(TAG_KEY) == run_id]
    return found

def start_suite(url: str, run_id: str, state_dir: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "pytest", "--pyargs", "conformance.suite", "-c", SUITE_INI, "-p", "no:xdist",
           "--target", "url", "--base-url", url, "--api-key", "emulator-key", "--api-version", VERSION,
           "--run-id", run_id, "-m", "lifecycle or crud", "-q"]
    env = {**os.environ, "AOAI_CONFORMANCE_STATE_DIR": str(state_dir)}
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)

def wait_for_objects(running: RunningEmulator, run_id: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not tagged_objects(running, run_id):
        assert process.poll() is None, "the suite ended before creating anything"
        assert time.monotonic() < deadline, "the suite created nothing within 60 s"
        time.sleep(0.05)

@pytest.mark.slow
def test_ctrl_c_deletes_what_the_run_created(emulator: RunningEmulator, tmp_path: Path) -> None:
    process = start_suite(emulator.url, "ctrlc", tmp_path)
    wait_for_objects(emulator, "ctrlc", process)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    assert tagged_objects(emulator, "ctrlc") == []

@pytest.mark.slow
def test_sigterm_deletes_what_the_run_created(emulator: RunningEmulator, tmp_path: Path) -> None:
    process = start_suite(emulator.url, "term", tmp_path)
    wait_for_objects(emulator, "term", process)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    assert tagged_objects(emulator, "term") == []

@pytest.mark.slow
def test_cleanup_after_a_killed_run_removes_that_run_only(
    emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # an object of somebody else, tagged by another run, must survive the sweep
    with httpx.Client(base_url=emulator.url + "/openai", params={"api-version": VERSION},
                      headers={"api-key": "emulator-key"}) as api:
        other = api.post("/assistants", json={"model": "gpt-4o", "metadata": {TAG_KEY: "another-run"}}).json()
        untagged = api.post("/threads", json={}).json()
    process = start_suite(emulator.url, "killed", tmp_path)
    wait_for_objects(emulator, "killed", process)
    process.kill()  # no teardown at all
    process.wait(timeout=30)
    assert tagged_objects(emulator, "killed"), "the kill left nothing behind: the test proves nothing"
    ledger = [json.loads(line) for line in (tmp_path / "ledger.jsonl").read_text().splitlines() if line.strip()]
    assert any(entry["run_id"] == "killed" for entry in ledger)

    monkeypatch.setenv("AOAI_CONFORMANCE_STATE_DIR", str(tmp_path))
    code = cleanup.main(["--target", "url", "--base-url", emulator.url, "--api-key", "emulator-key",
                         "--run-id", "killed"])
    assert code == 0, capsys.readouterr()
    assert tagged_objects(emulator, "killed") == []
    assert tagged_objects(emulator, "another-run") == [other["id"]]
    store: Any = emulator._server.config.app.state.emulator.store
    assert untagged["id"] in store.threads
