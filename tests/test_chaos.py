"""A busy, flaky target does not change verdicts: 429s are waited out, 503s and drops end a test as
'unavailable' and it is rerun; a target that never recovers gives the 'unavailable' verdict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import httpx
import pytest

from conformance.emulator.chaos import Chaos, mint_token
from conformance.emulator.server import RunningEmulator, start_in_thread
from conformance.emulator.settings import EmulatorSettings

SUITE_INI = str(resources.files("conformance.suite").joinpath("suite.ini"))
VERSION = "2024-08-01-preview"


def run_suite(url: str, report_dir: Path, *extra: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "pytest", "--pyargs", "conformance.suite", "-c", SUITE_INI, "-p", "no:xdist",
           "--target", "url", "--base-url", url, "--api-key", "emulator-key", "--api-version", VERSION,
           "--report-dir", str(report_dir), "--run-id", report_dir.name, "-q", *extra]
    env = {**os.environ, "AOAI_CONFORMANCE_STATE_DIR": str(report_dir / "state")}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)


def verdicts(report_dir: Path) -> dict[str, str]:
    lines = (report_dir / "results.jsonl").read_text().splitlines()
    return {record["id"]: record["outcome"] for record in map(json.loads, lines)}


@pytest.fixture
def emulators() -> Iterator[tuple[RunningEmulator, RunningEmulator]]:
    clean = start_in_thread(EmulatorSettings())
    flaky = start_in_thread(EmulatorSettings(chaos=Chaos(rate_429=0.10, rate_503=0.05, seed=7)))
    yield clean, flaky
    clean.stop()
    flaky.stop()


@pytest.mark.slow
def test_verdicts_under_10pct_429_and_5pct_503_equal_the_clean_run(
    emulators: tuple[RunningEmulator, RunningEmulator], tmp_path: Path
) -> None:
    clean, flaky = emulators
    runs = [run_suite(clean.url, tmp_path / "clean"),
            run_suite(flaky.url, tmp_path / "flaky", "--unavailable-reruns", "8")]
    outputs = [process.communicate(timeout=600)[0].decode(errors="replace") for process in runs]
    clean_verdicts, flaky_verdicts = verdicts(tmp_path / "clean"), verdicts(tmp_path / "flaky")
    assert len(clean_verdicts) > 100, outputs[0][-2000:]
    assert " rerun" in outputs[1], "no test was rerun: the chaos did not reach the suite"
    differences = {test: (clean_verdicts.get(test), flaky_verdicts.get(test))
                   for test in clean_verdicts.keys() | flaky_verdicts.keys()
                   if clean_verdicts.get(test) != flaky_verdicts.get(test)}
    assert differences == {}, outputs[1][-3000:]


def test_a_target_that_keeps_throttling_is_unavailable_not_failed(tmp_path: Path) -> None:
    always = start_in_thread(EmulatorSettings(chaos=Chaos(rate_429=1.0)))
    try:
        process = run_suite(always.url, tmp_path / "down", "-k", "test_assistant_create_echoes_request",
                            "--unavailable-reruns", "1", "--retries", "2")
        output = process.communicate(timeout=120)[0].decode(errors="replace")
    finally:
        always.stop()
    outcomes = set(verdicts(tmp_path / "down").values())
    assert outcomes == {"unavailable"}, output[-2000:]


def test_expiring_bearer_tokens_are_refused_once_expired() -> None:
    running = start_in_thread(EmulatorSettings(chaos=Chaos(expiring_tokens=True)))
    try:
        with httpx.Client(base_url=running.url + "/openai", params={"api-version": VERSION}) as api:
            fresh, _ = mint_token(ttl=60)
            stale, _ = mint_token(ttl=-1)
            assert api.get("/assistants", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
            refused = api.get("/assistants", headers={"Authorization": f"Bearer {stale}"})
            assert refused.status_code == 401 and refused.json()["error"]["code"] == "401"
    finally:
        running.stop()


def test_entra_token_provider_refreshes_before_expiry() -> None:
    """azure-identity's bearer provider (what --auth entra uses) asks for a new token near expiry."""
    identity = pytest.importorskip("azure.identity")
    from azure.core.credentials import AccessToken

    issued: list[str] = []

    class ShortLivedCredential:
        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            token, expires = mint_token(ttl=2)
            issued.append(token)
            return AccessToken(token, expires)

    provider = identity.get_bearer_token_provider(ShortLivedCredential(), "https://cognitiveservices.azure.com/.default")
    first = provider()
    time.sleep(1.1)
    second = provider()
    assert first in issued and second in issued and len(issued) >= 2


def test_dropped_connections_are_retried_for_reads_and_never_for_creates() -> None:
    from conformance.client import ConformanceClient
    from conformance.harness.resilience import ResilientTransport, RetryPolicy, TargetUnavailable

    running = start_in_thread(EmulatorSettings(chaos=Chaos(drop_rate=0.3, seed=1)))
    transport = ResilientTransport(httpx.HTTPTransport(), RetryPolicy(attempts=8, base_delay=0.001))
    client = ConformanceClient(running.url, VERSION, api_key="emulator-key", transport=transport)
    try:
        assert all(client.get("/assistants").status_code == 200 for _ in range(20))
        outcomes = []
        for _ in range(20):
            try:
                outcomes.append(client.post("/threads", json={}).status_code)
            except TargetUnavailable:
                outcomes.append(-1)  # dropped: a create is never resent
        assert -1 in outcomes and 200 in outcomes
    finally:
        running.stop()
