"""What a route handler receives: the parsed request plus the emulator's state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from conformance.emulator.engine import Engine
from conformance.emulator.errors import bad_request
from conformance.emulator.settings import EmulatorSettings
from conformance.emulator.store import Store


@dataclass
class EmulatorState:
    """One per app: settings, store and run engine (tests reach it as `app.state.emulator`)."""

    settings: EmulatorSettings
    store: Store
    engine: Engine


@dataclass
class EmuRequest:
    request: Request
    state: EmulatorState
    operation_id: str
    api_version: str
    faults: frozenset[str]
    params: dict[str, str]  # path parameters, named as in the contract path
    query: dict[str, str]  # last value wins for repeated keys
    body: Any  # parsed JSON body, or None when the body was empty / not JSON (multipart)
    raw_body: bytes = b""
    content_type: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> EmulatorSettings:
        return self.state.settings

    @property
    def store(self) -> Store:
        return self.state.store

    def json_body(self) -> dict[str, Any]:
        """The body as an object ({} when empty); a 400 when it is JSON but not an object."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise bad_request("The request body must be a JSON object.")
        return self.body


Handler = Callable[[EmuRequest], Awaitable[Response]]


def ok(body: Any, status: int = 200) -> JSONResponse:
    """A JSON success answer; the app adds the service headers."""
    return JSONResponse(body, status_code=status)
