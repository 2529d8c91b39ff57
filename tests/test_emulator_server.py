"""The emulator CLI and the in-thread server: first line, loopback only, clear usage errors,
quiet Ctrl-C, and real HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conformance.emulator.faults import FAULTS
from conformance.emulator.server import UsageError, main, start_in_thread
from conformance.emulator.settings import DEFAULT_API_KEY, EmulatorSettings

ROOT = Path(__file__).resolve().parents[1]
FIRST_LINE = re.compile(r"^aoai-conformance emulator listening on http://127\.0\.0\.1:(\d+)$")


def test_list_faults_prints_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list-faults"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(FAULTS)
    assert all(FAULTS[line.split()[0]].breaks in line for line in lines)


@pytest.mark.parametrize("argv, needle", [
    (["--host", "0.0.0.0"], "--allow-remote"),
    (["--fault", "no_such_fault"], "no_such_fault"),
    (["--run-speed", "warp"], "--run-speed"),
    (["--port", "70000"], "--port"),
    (["--api-key", ""], "--api-key"),
])
def test_usage_errors_are_one_line_and_exit_2(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err and "Traceback" not in err


def test_in_thread_server_serves_real_http_on_loopback() -> None:
    server = start_in_thread(EmulatorSettings(faults=frozenset({"schema_wrong_object"})))
    try:
        assert re.match(r"^http://127\.0\.0\.1:\d+$", server.url)
        with httpx.Client(base_url=server.url + "/openai", timeout=10) as client:
            response = client.post("/assistants", params={"api-version": "2024-08-01-preview"},
                                   headers={"api-key": DEFAULT_API_KEY}, json={"model": "gpt-4o"})
            assert response.status_code == 200 and response.headers["date"]
            assert response.json()["object"] != "assistant"  # the settings (a fault) reached the app
            unauthorized = client.get("/assistants", params={"api-version": "2024-08-01-preview"})
            assert unauthorized.status_code == 401
            assert set(unauthorized.headers) == {"apim-request-id", "content-type", "content-length", "date"}
    finally:
        server.stop()
    with pytest.raises(httpx.HTTPError):
        httpx.get(server.url + "/openai/assistants", timeout=1)


def test_in_thread_server_refuses_a_remote_host() -> None:
    with pytest.raises(UsageError):
        start_in_thread(EmulatorSettings(), host="0.0.0.0")


def test_cli_prints_the_first_line_serves_and_exits_quietly_on_ctrl_c() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.emulator", "--port", "0", "--run-speed", "slow"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().rstrip("\n")
        match = FIRST_LINE.match(first)
        assert match, first
        assert DEFAULT_API_KEY in process.stdout.readline()
        url = f"http://127.0.0.1:{match.group(1)}/openai/assistants"
        response = httpx.get(url, params={"api-version": "2024-05-01-preview"},
                             headers={"api-key": DEFAULT_API_KEY}, timeout=10)
        assert response.status_code == 200 and response.json()["object"] == "list"
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


@pytest.mark.parametrize("kwargs, needle", [({"faults": frozenset({"typo"})}, "typo"), ({"run_pace": -1}, "run_pace"),
                                            ({"max_body_bytes": 0}, "max_body_bytes")])
def test_settings_reject_nonsense_with_a_clear_message(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        EmulatorSettings(**kwargs)  # type: ignore[arg-type]
