"""Bring a target up for a run: start the embedded emulator, or bind to an endpoint."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import httpx

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


@functools.cache
def token_provider_for(settings: TargetSettings) -> Callable[[], str] | None:
    """Entra ID bearer tokens through azure-identity, refreshed before they expire (one per run)."""
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


def probe(settings: TargetSettings) -> None:
    """One request before the run: an unreachable target or refused credentials stop the run with
    one message naming the fix, instead of failing every test the same way."""
    assert settings.endpoint is not None
    provider = token_provider_for(settings)
    headers: dict[str, str] = {}
    if settings.auth == "key" and settings.api_key:
        headers["api-key"] = settings.api_key
    elif provider is not None:
        try:
            headers["Authorization"] = f"Bearer {provider()}"
        except Exception as exc:  # azure-identity raises many kinds; the first line says which
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SettingsError(
                f"Microsoft Entra ID sign-in failed: {first}. Sign in with `az login`, set AZURE_CLIENT_ID / "
                "AZURE_TENANT_ID / AZURE_CLIENT_SECRET, or use an api-key (--api-key / AZURE_OPENAI_API_KEY)"
            ) from None
    url = f"{settings.endpoint}/openai/assistants"
    try:
        response = httpx.get(url, params={"api-version": settings.api_versions[-1], "limit": 1},
                             headers=headers, timeout=min(settings.timeout, 30.0))
    except httpx.TransportError as exc:
        raise SettingsError(
            f"cannot reach {settings.endpoint}: {exc or type(exc).__name__}. Is it running, and is --base-url "
            "(AZURE_OPENAI_ENDPOINT) right?"
        ) from None
    if response.status_code in (401, 403):
        raise SettingsError(
            f"{settings.endpoint} refused the credentials ({response.status_code}): check --api-key "
            "(AZURE_OPENAI_API_KEY), or the role assignment for --auth entra"
        )
