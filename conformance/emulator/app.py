"""The emulator's ASGI app: one catch-all endpoint that authenticates, routes, validates, dispatches.

Order (as the service's gateway does it): auth -> route -> api-version -> body -> triggers ->
contract validation -> handler. Client mistakes become Azure envelopes; only a bug in a handler
reaches the 500 catch-all.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.emulator import triggers
from conformance.emulator.chaos import ChaosMiddleware
from conformance.emulator.context import EmulatorState, EmuRequest
from conformance.emulator.engine import Engine
from conformance.emulator.errors import (
    ApiError,
    bad_request,
    error_response,
    rate_limited,
    route_not_found,
    server_error,
    unauthorized,
)
from conformance.emulator.faults import FAULT_HEADER, UnknownFault, parse_fault_header
from conformance.emulator.routing import EmuRoute, RouteTable, collect_routes
from conformance.emulator.settings import EmulatorSettings
from conformance.emulator.store import Store
from conformance.emulator.validation import validate_request
from conformance.versions import API_VERSIONS, DEFAULT_API_VERSION

log = logging.getLogger("conformance.emulator")

BASE = "/openai"
METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]


def _authorized(request: Request, settings: EmulatorSettings) -> bool:
    key = request.headers.get("api-key")
    if key is not None:
        return key in settings.api_keys
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    return not settings.bearer_tokens or token.strip() in settings.bearer_tokens


def _api_version(request: Request, faults: frozenset[str]) -> str:
    version = request.query_params.get("api-version")
    if "api_version_unchecked" in faults:
        return version if version in API_VERSIONS else DEFAULT_API_VERSION
    if not version:
        # The service's wording for this case is not on record; 400 naming the parameter.
        raise ApiError(
            400,
            "Missing required query parameter 'api-version'. Supported: " + ", ".join(API_VERSIONS) + ".",
            code="MissingApiVersionParameter",
            param="api-version",
        )
    if version not in API_VERSIONS:
        # Azure's gateway routes by api-version: an unknown one finds no resource.
        raise route_not_found()
    return version


async def _read_body(request: Request, settings: EmulatorSettings) -> bytes:
    declared = request.headers.get("content-length")
    too_big = ApiError(
        413,
        f"The request body is larger than the {settings.max_body_bytes} bytes this endpoint accepts.",
        code="RequestEntityTooLarge",
    )
    if declared and declared.isdigit() and int(declared) > settings.max_body_bytes:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > settings.max_body_bytes:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_json(route: EmuRoute, raw: bytes, content_type: str) -> object:
    if route.body != "json" or not raw.strip():
        return None
    media = content_type.split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise bad_request(
            f"Unsupported Content-Type '{media or '(none)'}': this operation expects application/json."
        )
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise bad_request(f"We could not parse the JSON body of your request: {exc}.") from None


def _check_triggers(raw: bytes) -> None:
    if b"[[emulator:" not in raw:  # one cheap test for ordinary traffic
        return
    if triggers.RATE_LIMIT.encode() in raw:
        raise rate_limited(triggers.RATE_LIMIT_RETRY_SECONDS)
    if triggers.SERVER_ERROR.encode() in raw:
        raise server_error()


class Dispatcher:
    def __init__(self, state: EmulatorState, table: RouteTable) -> None:
        self.state = state
        self.table = table

    def _faults(self, request: Request) -> frozenset[str]:
        settings = self.state.settings
        if not settings.fault_header:
            return settings.faults
        header = request.headers.get(FAULT_HEADER)
        return settings.faults | parse_fault_header(header) if header else settings.faults

    def _headers(self, request: Request, request_id: str) -> dict[str, str]:
        headers = {
            "apim-request-id": request_id,
            "x-request-id": request_id,
            "x-ms-region": self.state.settings.region,
            "x-ms-middleware-request-id": str(uuid.uuid4()),
        }
        client_id = request.headers.get("x-ms-client-request-id")
        if client_id:
            headers["x-ms-client-request-id"] = client_id
        return headers

    async def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        faults = self.state.settings.faults
        headers = self._headers(request, request_id)
        try:
            faults = self._faults(request)
            response = await self._dispatch(request, faults)
        except UnknownFault as exc:
            return error_response(bad_request(str(exc), param=FAULT_HEADER), faults, headers)
        except ApiError as exc:
            if exc.gateway:
                headers = {"apim-request-id": request_id}
            return error_response(exc, faults, headers)
        except Exception:  # a bug in the emulator, never client input (tests assert none happen)
            log.exception("emulator bug while serving %s %s", request.method, request.url.path)
            return error_response(server_error(), faults, headers)
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    async def _dispatch(self, request: Request, faults: frozenset[str]) -> Response:
        settings = self.state.settings
        if "auth_not_enforced" not in faults and not _authorized(request, settings):
            raise unauthorized()
        path = request.url.path
        if not path.startswith(BASE + "/"):
            raise route_not_found()
        path = path[len(BASE):]
        matched = self.table.match(request.method, path)
        if matched is None:
            raise route_not_found()
        route, params = matched
        api_version = _api_version(request, faults)
        raw = await _read_body(request, settings) if route.body != "none" else b""
        content_type = request.headers.get("content-type", "")
        body = _parse_json(route, raw, content_type)
        if request.method == "POST":
            _check_triggers(raw)
        query = {k: v for k, v in request.query_params.items() if k != "api-version"}
        # Multipart bodies are parsed by their handler, which validates the parsed form itself.
        if "bad_request_accepted" not in faults and route.body != "multipart":
            # the contract checks api-version too; give it the version being served (the
            # api_version_unchecked fault may have substituted one)
            full_query = {**dict(request.query_params), "api-version": api_version}
            if "page_limit_unbounded" in faults:
                full_query.pop("limit", None)  # the fault is that an out-of-range limit gets through
            validate_request(
                api_version, request.method, path, query=full_query, body=body, content_type=content_type
            )
        ctx = EmuRequest(
            request=request,
            state=self.state,
            operation_id=route.operation_id,
            api_version=api_version,
            faults=faults,
            params=params,
            query=query,
            body=body,
            raw_body=raw,
            content_type=content_type,
        )
        return await route.handler(ctx)


def create_app(
    settings: EmulatorSettings | None = None,
    *,
    clock: Callable[[], float] | None = None,
    routes: list[EmuRoute] | None = None,
) -> Starlette:
    """The emulator app. `clock` (seconds, float) lets tests drive run lifecycles without sleeping."""
    settings = settings or EmulatorSettings()
    store = Store(seed=settings.seed, clock=clock) if clock else Store(seed=settings.seed)
    engine = Engine(store, settings.run_pace, settings.run_expiry_seconds)
    state = EmulatorState(settings=settings, store=store, engine=engine)
    dispatcher = Dispatcher(state, RouteTable(routes if routes is not None else collect_routes()))

    async def unrouted(request: Request, exc: Exception) -> Response:
        # Starlette's `{path:path}` does not match a decoded newline (%0A): such a path got its
        # plain-text 404; answer the service's unknown-route envelope instead (found by the fuzzer).
        return error_response(route_not_found(), settings.faults, {})

    app = Starlette(routes=[Route("/{path:path}", dispatcher.handle, methods=METHODS)],
                    exception_handlers={404: unrouted})
    if settings.chaos.active:
        app.add_middleware(ChaosMiddleware, chaos=settings.chaos)
    app.state.emulator = state
    return app
