"""Azure error envelopes: every 4xx/5xx the emulator sends is built here.

Handlers raise `ApiError`; the app turns it into a response with `error_response`, which is the
one place the `error_flat_envelope` fault can bend the shape.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

UNAUTHORIZED_MESSAGE = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid "
    "key for an active subscription and use a correct regional API endpoint for your resource."
)
NOT_FOUND_MESSAGE = "Resource not found"


class ApiError(Exception):
    """A client-visible error; `body` is the full envelope, `headers` extra response headers."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        type: str | None = "invalid_request_error",
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        bare: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        error: dict[str, Any]
        if bare:  # gateway-style envelope: only code and message
            error = {"code": code or str(status), "message": message}
        else:
            error = {"message": message, "type": type, "param": param, "code": code}
        if extra:
            error.update(extra)
        self.body: dict[str, Any] = {"error": error}
        # gateway errors (401, unknown route) carry no service headers
        self.gateway = False


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


def not_found(kind: str, object_id: str, faults: frozenset[str] = frozenset()) -> ApiError:
    """Unknown id: the OpenAI-style 404 the service sends (`unknown_id_400` turns it into a 400)."""
    status = 400 if "unknown_id_400" in faults else 404
    return ApiError(status, f"No {kind} found with id '{object_id}'.")


def route_not_found() -> ApiError:
    err = ApiError(404, NOT_FOUND_MESSAGE, bare=True)
    return err


def unauthorized() -> ApiError:
    err = ApiError(401, UNAUTHORIZED_MESSAGE, bare=True)
    err.gateway = True
    return err


def rate_limited(seconds: int) -> ApiError:
    return ApiError(
        429,
        f"Rate limit is exceeded. Try again in {seconds} seconds.",
        bare=True,
        headers={"retry-after": str(seconds), "retry-after-ms": str(seconds * 1000)},
    )


def server_error(message: str = "The server had an error while processing your request. Sorry about that!") -> ApiError:
    return ApiError(500, message, type="server_error", code="server_error")


def error_body(err: ApiError, faults: frozenset[str]) -> dict[str, Any]:
    if "error_flat_envelope" in faults:
        return dict(err.body["error"])  # the envelope's content without the {"error": ...} wrapper
    return err.body


def error_response(err: ApiError, faults: frozenset[str], headers: dict[str, str]) -> JSONResponse:
    return JSONResponse(error_body(err, faults), status_code=err.status, headers={**headers, **err.headers})
