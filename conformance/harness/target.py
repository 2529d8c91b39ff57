"""Bring a target up for a run: start the embedded emulator, or bind to an endpoint."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from conformance.config import SettingsError, TargetSettings

READY_PREFIX = "aoai-conformance emulator listening on "


@dataclass
class EmulatorProcess:
    """The embedded emulator in a child process on a free loopback port."""

    url: str
    process: subprocess.Popen[str]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_emulator(
    api_key: str,
    *,
    faults: Sequence[str] = (),
    fault_header: bool = False,
    run_speed: str | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 30.0,
) -> EmulatorProcess:
    """Start `python -m conformance.emulator` on 127.0.0.1 and wait for its ready line."""
    cmd = [sys.executable, "-m", "conformance.emulator", "--host", "127.0.0.1", "--port", "0", "--api-key", api_key]
    for fault in faults:
        cmd += ["--fault", fault]
    if fault_header:
        cmd.append("--fault-header")
    if run_speed:
        cmd += ["--run-speed", run_speed]
    cmd += list(extra_args)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert process.stdout is not None
    lines: list[str] = []
    ready: list[str] = []
    settled = threading.Event()  # set on the ready line or when the child's output ends

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if not ready and line.startswith(READY_PREFIX):
                ready.append(line[len(READY_PREFIX) :].strip())
                settled.set()
            elif not ready:
                lines.append(line)
            # after the ready line keep draining so the child never blocks on a full pipe
        settled.set()

    threading.Thread(target=read, daemon=True, name="emulator-output").start()
    settled.wait(timeout)
    if not ready:
        process.kill()
        output = "".join(lines[-20:]).strip() or "(no output)"
        raise SettingsError(f"the embedded emulator did not start within {timeout:.0f} s:\n{output}")
    return EmulatorProcess(url=ready[0], process=process)


def bind_emulator(settings: TargetSettings, url: str) -> TargetSettings:
    return replace(settings, endpoint=url)


def token_provider_for(settings: TargetSettings) -> Callable[[], str] | None:
    """Entra ID bearer tokens through azure-identity, refreshed before they expire."""
    if settings.auth != "entra":
        return None
    try:
        from azure.identity import DefaultAzureCredential, get_bearer_token_provider
    except ImportError:
        raise SettingsError(
            "--auth entra needs azure-identity: pip install 'aoai-conformance[entra]'"
        ) from None
    provider: Callable[[], str] = get_bearer_token_provider(
        DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default"
    )
    return provider
