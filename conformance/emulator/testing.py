"""Helpers for driving the emulator in-process: a fake clock and a contract-checking client.

Used by the emulator's own tests and usable by anyone who wants an emulator without a socket:

    clock = FakeClock()
    api = EmulatorApi.create(EmulatorSettings(run_pace=1.0), clock=clock)
    run = api.call("POST", "/threads/runs", {...})
    clock.advance(2)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.emulator.app import create_app
from conformance.emulator.settings import DEFAULT_API_KEY, EmulatorSettings
from conformance.findings import Finding, errors
from conformance.versions import DEFAULT_API_VERSION

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx2 is not ours to act on
    from starlette.testclient import TestClient


class FakeClock:
    """A clock tests move by hand; starts at a fixed instant so timestamps are reproducible."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ContractViolation(AssertionError):
    def __init__(self, method: str, path: str, status: int, findings: list[Finding]) -> None:
        lines = "\n".join(f"  - {f}" for f in findings)
        super().__init__(f"{method} {path} -> {status} breaks the contract:\n{lines}")
        self.findings = findings


@dataclass
class EmulatorApi:
    client: TestClient
    api_version: str = DEFAULT_API_VERSION
    key: str = DEFAULT_API_KEY

    @classmethod
    def create(cls, settings: EmulatorSettings | None = None, *, clock: FakeClock | None = None,
               api_version: str = DEFAULT_API_VERSION) -> EmulatorApi:
        app = create_app(settings, clock=clock)
        return cls(TestClient(app, raise_server_exceptions=True), api_version)

    def raw(self, method: str, path: str, body: Any = None, *, query: dict[str, str] | None = None,
            headers: dict[str, str] | None = None, content: bytes | None = None) -> httpx.Response:
        params = {"api-version": self.api_version, **(query or {})}
        sent = {"api-key": self.key, **(headers or {})}
        response: httpx.Response
        if content is not None:
            response = self.client.request(method, "/openai" + path, params=params, headers=sent, content=content)
        else:
            response = self.client.request(method, "/openai" + path, params=params, headers=sent, json=body)
        return response

    def findings(self, method: str, path: str, response: httpx.Response) -> list[Finding]:
        """Contract findings for a response (uses the contract of this client's api-version)."""
        from conformance.spec import load_contract

        contract = load_contract(self.api_version)
        matched = contract.match(method, path)
        if matched is None:
            return [Finding("schema.response", f"{method} {path} is not in the contract")]
        media = response.headers.get("content-type", "")
        body: Any = response.content if "event-stream" in media else (response.json() if response.content else None)
        return errors(contract.validate_response(matched[0], response.status_code, response.headers, body))

    def call(self, method: str, path: str, body: Any = None, *, query: dict[str, str] | None = None,
             expect: int = 200, headers: dict[str, str] | None = None) -> Any:
        """Send, assert the status and the contract, return the JSON (or the raw text of a stream)."""
        response = self.raw(method, path, body, query=query, headers=headers)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text[:500]}"
        found = self.findings(method, path, response)
        if found:
            raise ContractViolation(method, path, response.status_code, found)
        if "event-stream" in response.headers.get("content-type", ""):
            return response.text
        return response.json()
