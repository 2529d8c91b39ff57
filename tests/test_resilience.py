from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from conformance.client import ClientError, ConformanceClient
from conformance.harness.resilience import ResilientTransport, RetryPolicy, TargetUnavailable
from conformance.harness.shared import Budget, Pacer


def scripted(*answers: int | Exception, headers: dict[str, str] | None = None) -> tuple[httpx.MockTransport, list[str]]:
    """A transport that answers the given statuses (or raises) in order and logs the methods it saw."""
    seen: list[str] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, headers=headers or {}, json={"error": {"code": str(answer), "message": "m"}})

    return httpx.MockTransport(handler), seen


def make_client(transport: httpx.BaseTransport, sleeps: list[float], **kwargs: object) -> ConformanceClient:
    resilient = ResilientTransport(transport, RetryPolicy(attempts=3, base_delay=0.5), sleep=sleeps.append, **kwargs)  # type: ignore[arg-type]
    return ConformanceClient("http://127.0.0.1:1", "v", api_key="k", transport=resilient)


def test_429_is_retried_after_retry_after_ms_even_for_a_create() -> None:
    transport, seen = scripted(429, 200, headers={"retry-after-ms": "1500", "retry-after": "9"})
    sleeps: list[float] = []
    assert make_client(transport, sleeps).post("/threads", json={}).status_code == 200
    assert seen == ["POST", "POST"]
    assert sleeps == [1.5]


def test_429_without_hint_backs_off_exponentially_then_target_unavailable() -> None:
    transport, seen = scripted(429, 429, 429)
    sleeps: list[float] = []
    with pytest.raises(TargetUnavailable, match="still answered 429 after 3 attempts"):
        make_client(transport, sleeps).get("/assistants")
    assert sleeps == [0.5, 1.0]
    assert len(seen) == 3


def test_a_create_is_never_sent_twice_on_5xx_or_connection_error() -> None:
    transport, seen = scripted(503)
    with pytest.raises(TargetUnavailable, match="answered 503"):
        make_client(transport, []).post("/threads", json={})
    assert seen == ["POST"]
    transport, seen = scripted(500)
    assert make_client(transport, []).post("/threads", json={}).status_code == 500  # a finding, not flakiness
    assert seen == ["POST"]
    transport, seen = scripted(httpx.ConnectError("down"))
    with pytest.raises(TargetUnavailable):
        make_client(transport, []).post("/threads", json={})
    assert seen == ["POST"]


def test_idempotent_5xx_is_retried_and_a_lasting_500_is_returned_as_a_finding() -> None:
    transport, seen = scripted(503, 200)
    assert make_client(transport, []).get("/assistants").status_code == 200
    transport, seen = scripted(500, 500, 500)
    assert make_client(transport, []).get("/assistants").status_code == 500
    assert len(seen) == 3


def test_retry_false_returns_the_raw_429() -> None:
    transport, seen = scripted(429)
    response = make_client(transport, []).post("/threads", json={}, retry=False)
    assert response.status_code == 429 and seen == ["POST"]
    transport, seen = scripted(httpx.ConnectError("down"))
    with pytest.raises(ClientError, match="cannot reach"):
        make_client(transport, []).get("/x", retry=False)


def test_budget_counts_every_attempt_across_instances(tmp_path: Path) -> None:
    transport, _ = scripted(429, 200, 200)
    budget = Budget(tmp_path, max_requests=3, max_tokens=None)
    client = make_client(transport, [], budget=budget)
    client.get("/a")
    assert budget.exhausted() is None
    client.get("/b")
    # a second process would open the same file: simulate with a new instance
    assert Budget(tmp_path, 3, None).exhausted() == "request budget reached (3 of --max-requests 3)"
    budget.charge(tokens=50)
    assert Budget(tmp_path, None, 40).exhausted() == "token budget reached (50 of --max-tokens 40)"


def test_pacer_spaces_request_starts(tmp_path: Path) -> None:
    waits: list[float] = []
    pacer: Pacer = Pacer(tmp_path, rps=10, sleep=waits.append)
    other = Pacer(tmp_path, rps=10, sleep=waits.append)  # another worker, same run folder
    acquire: list[Callable[[], None]] = [pacer.acquire, other.acquire, pacer.acquire]
    for call in acquire:
        call()
    assert len(waits) == 2
    assert waits[0] == pytest.approx(0.1, abs=0.02) and waits[1] == pytest.approx(0.2, abs=0.02)
