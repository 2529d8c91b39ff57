"""An httpx client bound to one target and one api-version.

Paths are relative to `<endpoint>/openai`; the `api-version` query parameter is added to every
call; auth is an `api-key` header or a bearer token. Every exchange is reported to an optional
observer as an `Exchange` that never carries credentials (the suite uses it to count requests and
tokens and to name the operations a test touched).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

_DEFAULT = object()


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str  # relative to /openai, without the query string
    status: int
    duration: float
    tokens: int  # usage.total_tokens the target reported, 0 when none


class ClientError(Exception):
    """The target could not be reached; the message names the URL and the fix."""


def _tokens_of(response: httpx.Response) -> int:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return 0
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return 0
    usage = body.get("usage") if isinstance(body, dict) else None
    total = usage.get("total_tokens") if isinstance(usage, dict) else None
    return total if isinstance(total, int) else 0


class ConformanceClient:
    def __init__(
        self,
        endpoint: str,
        api_version: str,
        *,
        api_key: str | None = None,
        token_provider: Callable[[], str] | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        observer: Callable[[Exchange], None] | None = None,
        poll_interval: float = 0.5,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.base_url = self.endpoint + "/openai"
        self.api_version = api_version
        self._api_key = api_key
        self._token_provider = token_provider
        self._observer = observer
        # first wait between two reads of a changing object (run, batch): tests poll with it
        self.poll_interval = poll_interval
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def __enter__(self) -> ConformanceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def auth_headers(self) -> dict[str, str]:
        if self._api_key is not None:
            return {"api-key": self._api_key}
        if self._token_provider is not None:
            return {"Authorization": f"Bearer {self._token_provider()}"}
        return {}

    def _build(
        self,
        method: str,
        path: str,
        *,
        json_body: Any,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        content: bytes | str | None,
        files: Any,
        data: Mapping[str, Any] | None,
        api_version: Any,
        auth: bool,
        retry: bool = True,
        stream: bool = False,
    ) -> httpx.Request:
        query: dict[str, Any] = {}
        version = self.api_version if api_version is _DEFAULT else api_version
        if version is not None:
            query["api-version"] = version
        query.update({k: v for k, v in (params or {}).items() if v is not None})
        all_headers = {**(self.auth_headers() if auth else {}), **(headers or {})}
        return self._http.build_request(
            method,
            path,
            params=query,
            headers=all_headers,
            json=json_body,
            content=content,
            files=files,
            data=data,
            # read by ResilientTransport: tests that provoke a 429 or 5xx want the raw answer
            extensions={**({} if retry else {"aoai_no_retry": True}), **({"aoai_stream": True} if stream else {})},
        )

    def _observe(self, request: httpx.Request, response: httpx.Response, started: float, tokens: int) -> None:
        if self._observer is None:
            return
        path = request.url.path
        prefix = httpx.URL(self.base_url).path
        if path.startswith(prefix):
            path = path[len(prefix) :] or "/"
        self._observer(Exchange(request.method, path, response.status_code, time.monotonic() - started, tokens))

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | str | None = None,
        files: Any = None,
        data: Mapping[str, Any] | None = None,
        api_version: Any = _DEFAULT,
        auth: bool = True,
        retry: bool = True,
    ) -> httpx.Response:
        """Send one request. `api_version=None` omits the parameter; `auth=False` sends no credentials;
        `retry=False` returns a 429 / 5xx as it came instead of retrying it."""
        request = self._build(
            method, path, json_body=json, params=params, headers=headers, content=content,
            files=files, data=data, api_version=api_version, auth=auth, retry=retry,
        )
        started = time.monotonic()
        response = self._send(request, stream=False)
        self._observe(request, response, started, _tokens_of(response))
        return response

    def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        try:
            return self._http.send(request, stream=stream)
        except httpx.TransportError as exc:
            raise ClientError(f"cannot reach {request.url.copy_with(query=None)}: {exc}") from exc

    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[httpx.Response]:
        """Send a request whose body is read incrementally (server-sent events)."""
        request = self._build(
            method, path, json_body=json, params=params, headers=headers, content=None,
            files=None, data=None, api_version=_DEFAULT, auth=True, stream=True,
        )
        started = time.monotonic()
        response = self._send(request, stream=True)
        try:
            yield response
        finally:
            response.close()
            # Streamed usage arrives inside events; tests count it from the final run object.
            self._observe(request, response, started, 0)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)
