"""Small helpers the suite modules share: check an answer against the contract, poll a run.

They only call the client and `conformance.spec`; every rule they apply lives in
`conformance.invariants` or in the contract, so a failure names the rule it broke.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx

from conformance.client import ConformanceClient
from conformance.findings import ConformanceError, Finding, require
from conformance.spec import Contract

TERMINAL = frozenset({"completed", "failed", "cancelled", "incomplete", "expired"})


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.content


def describe(response: httpx.Response) -> str:
    """`METHOD path -> status` (no host, no query: never a credential or resource name)."""
    return f"{response.request.method} {response.request.url.path} -> {response.status_code}"


def expect(
    contract: Contract,
    operation_id: str,
    response: httpx.Response,
    status: int = 200,
) -> Any:
    """The parsed body, after checking the status and the contract's schema for it."""
    op = contract.operation(operation_id)
    findings: list[Finding] = []
    if response.status_code != status:
        rule = "errors.not_found" if status == 404 else "errors.bad_request" if status == 400 else "schema.status"
        findings.append(Finding(rule, f"expected HTTP {status}, got {response.status_code}: {response.text[:300]}", "status"))
        raise ConformanceError(findings, f"{operation_id}: {describe(response)}")
    body = _body(response)
    findings = contract.validate_response(op, response.status_code, dict(response.headers), body)
    require(findings, f"{operation_id}: {describe(response)}")
    return body


def poll_run(
    client: ConformanceClient,
    contract: Contract,
    thread_id: str,
    run_id: str,
    *,
    until: frozenset[str] = TERMINAL,
    timeout: float = 60.0,
    interval: float = 0.05,
) -> list[dict[str, Any]]:
    """Every snapshot of the run, polled until its status is in `until` (bounded by `timeout`)."""
    snapshots: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    delay = interval
    while True:
        run = expect(contract, "Get_Run", client.get(f"/threads/{thread_id}/runs/{run_id}"))
        snapshots.append(run)
        if run.get("status") in until:
            return snapshots
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {run.get('status')!r} after {timeout:.0f} s of polling")
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)  # quick on an emulator, gentle on a live resource


def subset(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """Keys of `expected` whose value `actual` does not echo."""
    return [key for key, value in expected.items() if actual.get(key) != value]
