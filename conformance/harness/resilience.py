"""Retries, pacing and request counting as an httpx transport, so every test gets them unasked.

- 429: always retried (the request was not processed), after `retry-after-ms` / `retry-after`
  when given, else a bounded exponential backoff.
- 502/503/504 and connection errors: retried for idempotent methods only (never a second create);
  for a create they end the test as `TargetUnavailable` at once (the pytest plugin reruns such a
  test, which creates afresh after its teardown deleted whatever the first attempt made).
- 500: retried for idempotent methods; when it persists it is returned: a 500 is a finding.
- Still throttled / down / unreachable after the last attempt: `TargetUnavailable`, which the
  suite reports as "unavailable", a verdict distinct from pass and fail.
A request can opt out (tests that provoke a 429 or a 5xx on purpose): `extensions={"aoai_no_retry": True}`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from conformance.client import ClientError
from conformance.harness.shared import Budget, ConcurrencyCap, Pacer

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})
UNAVAILABLE_STATUSES = frozenset({429, 502, 503, 504})
NO_RETRY = "aoai_no_retry"
STREAM = "aoai_stream"


class TargetUnavailable(ClientError):
    """The target kept throttling or failing; not a conformance verdict."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # total tries per request
    base_delay: float = 0.5
    max_delay: float = 30.0  # never wait longer than this for one retry


def retry_delay(response: httpx.Response, attempt: int, policy: RetryPolicy) -> float:
    """The wait the target asked for, else exponential backoff; capped by the policy."""
    for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = response.headers.get(header)
        if raw is None:
            continue
        try:
            wait: float = min(max(float(raw) * scale, 0.0), policy.max_delay)
            return wait
        except ValueError:
            continue  # an HTTP-date retry-after: fall back to backoff
    return min(policy.base_delay * (2.0**attempt), policy.max_delay)


class ResilientTransport(httpx.BaseTransport):
    def __init__(
        self,
        inner: httpx.BaseTransport,
        policy: RetryPolicy = RetryPolicy(),
        *,
        pacer: Pacer | None = None,
        cap: ConcurrencyCap | None = None,
        budget: Budget | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = inner
        self.policy = policy
        self.pacer = pacer
        self.cap = cap
        self.budget = budget
        self._sleep = sleep

    def _send_once(self, request: httpx.Request) -> httpx.Response:
        if self.pacer is not None:
            self.pacer.acquire()
        if self.budget is not None:
            self.budget.charge(requests=1)
        # A body cut short is a transport failure of this attempt, so read it here, where it can be
        # retried; an event stream is left to its reader (it is consumed as it arrives).
        whole = not request.extensions.get(STREAM)
        with self.cap.slot() if self.cap is not None else contextlib.nullcontext():
            response = self.inner.handle_request(request)
            if whole or self.cap is not None:  # under a cap, hold the slot for the whole exchange
                response.read()
            return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        no_retry = bool(request.extensions.get(NO_RETRY))
        idempotent = request.method in IDEMPOTENT
        attempts = 1 if no_retry else self.policy.attempts
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._send_once(request)
            except httpx.TransportError as exc:
                if no_retry:
                    raise
                if last or not idempotent:
                    raise TargetUnavailable(f"{request.method} {request.url.path}: {exc}") from exc
                self._sleep(min(self.policy.base_delay * (2.0**attempt), self.policy.max_delay))
                continue
            status = response.status_code
            retryable = status == 429 or (idempotent and status in (500, 502, 503, 504))
            if no_retry:
                return response
            if not retryable:
                if status in UNAVAILABLE_STATUSES:  # a create the target could not take: never resent
                    response.close()
                    raise TargetUnavailable(f"{request.method} {request.url.path} answered {status}")
                return response
            if last:
                if status in UNAVAILABLE_STATUSES:
                    response.close()
                    raise TargetUnavailable(
                        f"{request.method} {request.url.path} still answered {status} after {attempts} attempts"
                    )
                return response
            response.read()
            delay = retry_delay(response, attempt, self.policy)
            response.close()
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self.inner.close()
