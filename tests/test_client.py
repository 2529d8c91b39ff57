from __future__ import annotations

import httpx
import pytest

from conformance.client import ClientError, ConformanceClient, Exchange


def _echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        json={"path": request.url.path, "query": dict(request.url.params), "key": request.headers.get("api-key"),
              "auth": request.headers.get("authorization"), "usage": {"total_tokens": 7}},
    )


def test_paths_are_under_openai_and_api_version_is_added() -> None:
    seen: list[Exchange] = []
    client = ConformanceClient("http://127.0.0.1:1/", "2024-08-01-preview", api_key="k1",
                               transport=httpx.MockTransport(_echo), observer=seen.append)
    body = client.get("/assistants", params={"limit": 5, "after": None}).json()
    assert body["path"] == "/openai/assistants"
    assert body["query"] == {"api-version": "2024-08-01-preview", "limit": "5"}
    assert body["key"] == "k1"
    assert seen == [Exchange("GET", "/assistants", 200, seen[0].duration, 7)]


def test_api_version_can_be_omitted_or_overridden_and_auth_dropped() -> None:
    client = ConformanceClient("http://127.0.0.1:1", "2024-08-01-preview", api_key="k1",
                               transport=httpx.MockTransport(_echo))
    assert client.get("/x", api_version=None).json()["query"] == {}
    assert client.get("/x", api_version="1999-01-01").json()["query"] == {"api-version": "1999-01-01"}
    assert client.get("/x", auth=False).json()["key"] is None


def test_bearer_token_when_no_key() -> None:
    client = ConformanceClient("http://127.0.0.1:1", "v", token_provider=lambda: "tok",
                               transport=httpx.MockTransport(_echo))
    assert client.get("/x").json()["auth"] == "Bearer tok"


def test_exchanges_never_carry_credentials() -> None:
    seen: list[Exchange] = []
    client = ConformanceClient("http://127.0.0.1:1", "v", api_key="super-secret-key",
                               transport=httpx.MockTransport(_echo), observer=seen.append)
    client.post("/threads", json={"a": 1})
    assert "super-secret-key" not in repr(seen)


def test_unreachable_target_is_a_client_error_naming_the_url() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = ConformanceClient("http://127.0.0.1:1", "v", api_key="k", transport=httpx.MockTransport(refuse))
    with pytest.raises(ClientError, match=r"cannot reach http://127.0.0.1:1/openai/threads"):
        client.get("/threads")
