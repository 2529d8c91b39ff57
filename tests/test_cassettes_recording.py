"""Recording through `tape.cassette` against the emulator: error answers (401, 404, 429) are kept, stream
bodies replay byte for byte, credentials and the loopback host never reach the file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conformance.cassettes.sanitize import PLACEHOLDER_HOST, Secrets
from conformance.cassettes.store import Provenance, load_interactions
from conformance.cassettes.tape import cassette, offline_transport
from conformance.emulator import triggers
from conformance.harness.target import EmulatorProcess, start_emulator

VERSION = "2024-08-01-preview"
KEY = "recording-test-key-5e1d"
PROVENANCE = Provenance("emulator", VERSION, "2026-01-01T00:00:00+00:00", "0.1.0", "test_mod::test_x")


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    process = start_emulator(KEY)
    try:
        yield process
    finally:
        process.stop()


def _exchanges(client: httpx.Client) -> list[tuple[int, bytes]]:
    q = {"api-version": VERSION}
    answers = []
    for method, path, kwargs in (
        ("POST", "/openai/threads", {"json": {}}),
        ("GET", "/openai/threads/thread_doesnotexist", {}),
        ("GET", "/openai/assistants", {"headers": {"api-key": "wrong"}}),
        ("POST", "/openai/deployments/gpt-4o/chat/completions",
         {"json": {"messages": [{"role": "user", "content": triggers.RATE_LIMIT}]}}),
        ("POST", "/openai/deployments/gpt-4o/chat/completions",
         {"json": {"messages": [{"role": "user", "content": "Say hello."}], "stream": True}}),
    ):
        with client.stream(method, path, params=q, **kwargs) as response:
            answers.append((response.status_code, b"".join(response.iter_raw())))
    return answers


def test_errors_and_streams_are_recorded_and_replayed_exactly(emulator: EmulatorProcess, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    secrets = Secrets.for_endpoint(emulator.url, KEY)
    with cassette(path, PROVENANCE, record=True, secrets=secrets), \
            httpx.Client(base_url=emulator.url, headers={"api-key": KEY}) as live:
        recorded = _exchanges(live)
    assert [status for status, _ in recorded] == [200, 404, 401, 429, 200]
    assert recorded[-1][1].startswith(b"data: ") and b"[DONE]" in recorded[-1][1]

    text = path.read_text(encoding="utf-8")
    host = emulator.url.split("//", 1)[1]
    assert KEY not in text and host not in text and PLACEHOLDER_HOST in text
    _, interactions = load_interactions(path)
    assert [i["response"]["status"]["code"] for i in interactions] == [200, 404, 401, 429, 200]

    with cassette(path, PROVENANCE, record=False), \
            httpx.Client(base_url=f"https://{PLACEHOLDER_HOST}", transport=offline_transport(),
                         headers={"api-key": "anything"}) as offline:
        replayed = _exchanges(offline)
    assert replayed == recorded  # statuses and every body byte, the SSE stream included
