"""Chaos settings: the emulator behaving like a busy, flaky shared resource, on purpose.

Wraps the app as plain ASGI middleware, only when some setting is on (zero cost otherwise):
a rate of 429s (with `retry-after-ms` / `retry-after`), a rate of 503s, added latency, dropped
connections (the body is cut short, so the client sees the connection close mid-response), and
bearer tokens that expire (`emulator-token.<unix expiry>`), to prove the suite's retries,
`unavailable` verdict, pacing and token refresh. Draws come from a seeded generator.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_PREFIX = "emulator-token."
THROTTLE_MESSAGE = "Rate limit is exceeded. Try again in 1 seconds."
UNAVAILABLE_MESSAGE = "The service is temporarily unable to process your request. Please try again later."
EXPIRED_MESSAGE = "Access denied: the bearer token has expired. Request a new token."


@dataclass(frozen=True)
class Chaos:
    rate_429: float = 0.0
    rate_503: float = 0.0
    latency_ms: float = 0.0
    drop_rate: float = 0.0
    expiring_tokens: bool = False  # bearer tokens must be `emulator-token.<expiry>` and not expired
    retry_after_ms: int = 20  # what a 429 asks the client to wait
    seed: int = 0

    @property
    def active(self) -> bool:
        return bool(self.rate_429 or self.rate_503 or self.latency_ms or self.drop_rate or self.expiring_tokens)


def mint_token(ttl: float, now: float | None = None) -> tuple[str, int]:
    """A token the emulator accepts until `now + ttl`; returns (token, expiry epoch seconds)."""
    expires = int((time.time() if now is None else now) + ttl)
    return f"{TOKEN_PREFIX}{expires}", expires


def token_expired(authorization: str, now: float) -> bool:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.startswith(TOKEN_PREFIX):
        return False
    try:
        return int(token[len(TOKEN_PREFIX) :]) <= now
    except ValueError:
        return True


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
    payload = json.dumps(body, separators=(",", ":")).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


class ChaosMiddleware:
    def __init__(self, app: ASGIApp, chaos: Chaos) -> None:
        self.app = app
        self.chaos = chaos
        self.random = random.Random(chaos.seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/openai/"):
            await self.app(scope, receive, send)
            return
        chaos = self.chaos
        if chaos.latency_ms:
            await asyncio.sleep(chaos.latency_ms / 1000)
        if chaos.expiring_tokens:
            headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
            if token_expired(headers.get("authorization", ""), time.time()):
                await _send_json(send, 401, {"error": {"code": "401", "message": EXPIRED_MESSAGE}}, {})
                return
        draw = self.random.random()
        if draw < chaos.rate_429:
            await _send_json(
                send, 429, {"error": {"code": "429", "message": THROTTLE_MESSAGE}},
                {"retry-after-ms": str(chaos.retry_after_ms), "retry-after": "1"},
            )
            return
        if draw < chaos.rate_429 + chaos.rate_503:
            await _send_json(send, 503, {"error": {"code": "ServiceUnavailable", "message": UNAVAILABLE_MESSAGE}}, {})
            return
        if draw < chaos.rate_429 + chaos.rate_503 + chaos.drop_rate:
            await self._dropped(send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _dropped(send: Send) -> None:
        # Promise a body and stop short: the server closes the connection mid-response.
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")]})
        # the server refuses a short body (h11 and httptools both raise): the connection then closes
        with contextlib.suppress(Exception):
            await send({"type": "http.response.body", "body": b'{"id":', "more_body": False})


def with_chaos(app: ASGIApp, chaos: Chaos) -> ASGIApp:
    return ChaosMiddleware(app, chaos) if chaos.active else app
