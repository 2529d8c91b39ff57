"""The emulator's wire behaviour: auth, api-version, service headers, error envelopes, malformed
input (always a 4xx envelope, never a 500), body limits and the rate-limit / server-error triggers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.emulator import triggers
from conformance.emulator.errors import UNAUTHORIZED_MESSAGE
from conformance.emulator.routes_assistants import ROUTES
from conformance.emulator.settings import EmulatorSettings
from conformance.emulator.testing import EmulatorApi, FakeClock
from conformance.findings import errors
from conformance.invariants.errors import check_error_envelope
from conformance.versions import API_VERSIONS


@pytest.fixture
def api() -> EmulatorApi:
    return EmulatorApi.create(EmulatorSettings(api_keys=("k1", "k2")), clock=FakeClock())


def _with_key(api: EmulatorApi, key: str) -> EmulatorApi:
    api.key = key
    return api


@pytest.mark.parametrize("headers", [{}, {"api-key": "wrong"}, {"api-key": ""}, {"authorization": "Bearer "},
                                     {"authorization": "Basic abc"}])
def test_missing_or_wrong_credentials_are_401_gateway_envelope(api: EmulatorApi, headers: dict[str, str]) -> None:
    response = api.client.get("/openai/assistants", params={"api-version": api.api_version}, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "401", "message": UNAUTHORIZED_MESSAGE}}
    assert {"x-ms-region", "x-request-id"}.isdisjoint(response.headers) and "apim-request-id" in response.headers


@pytest.mark.parametrize("headers", [{"api-key": "k2"}, {"authorization": "Bearer any-entra-token"}])
def test_key_or_bearer_token_is_accepted(api: EmulatorApi, headers: dict[str, str]) -> None:
    response = api.client.get("/openai/assistants", params={"api-version": api.api_version}, headers=headers)
    assert response.status_code == 200


def test_configured_bearer_tokens_are_enforced() -> None:
    api = EmulatorApi.create(EmulatorSettings(bearer_tokens=("good",)), clock=FakeClock())
    for token, status in (("good", 200), ("bad", 401)):
        response = api.client.get("/openai/assistants", params={"api-version": api.api_version},
                                  headers={"authorization": f"Bearer {token}"})
        assert response.status_code == status


def test_success_headers(api: EmulatorApi) -> None:
    _with_key(api, "k1")
    response = api.raw("GET", "/assistants", headers={"x-ms-client-request-id": "abc-123"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.headers["x-ms-client-request-id"] == "abc-123"
    assert response.headers["x-ms-region"] == "emulator"
    assert response.headers["apim-request-id"] == response.headers["x-request-id"]
    assert response.headers["x-ms-middleware-request-id"]
    assert "x-ms-client-request-id" not in api.raw("GET", "/assistants").headers


def test_api_version_missing_is_400_and_unsupported_is_404(api: EmulatorApi) -> None:
    headers = {"api-key": "k1"}
    missing = api.client.get("/openai/assistants", headers=headers)
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "api-version"
    unsupported = api.client.get("/openai/assistants", params={"api-version": "2023-01-01"}, headers=headers)
    assert unsupported.status_code == 404
    for response in (missing, unsupported):
        assert not errors(check_error_envelope(response.status_code, response.json()))


def test_each_request_is_validated_with_the_contract_of_its_version(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.emulator import app as app_module

    seen: list[str] = []
    real = app_module.validate_request

    def spy(api_version: str, *args: Any, **kwargs: Any) -> None:
        seen.append(api_version)
        real(api_version, *args, **kwargs)

    monkeypatch.setattr(app_module, "validate_request", spy)
    for version in API_VERSIONS:
        api = EmulatorApi.create(EmulatorSettings(), clock=FakeClock(), api_version=version)
        api.call("POST", "/assistants", {"model": "gpt-4o"})
        assert api.call("POST", "/assistants", {"model": 1}, expect=400)["error"]["param"] == "model"
    assert seen == [v for v in API_VERSIONS for _ in range(2)]


@pytest.mark.parametrize("path", ["/openai/nowhere", "/nowhere", "/openai/assistants/a/b/c", "/openai"])
def test_unknown_routes_are_404_resource_not_found(api: EmulatorApi, path: str) -> None:
    response = api.client.get(path, params={"api-version": api.api_version}, headers={"api-key": "k1"})
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "404", "message": "Resource not found"}}


def test_wrong_method_on_a_known_path_is_404(api: EmulatorApi) -> None:
    response = api.client.put("/openai/assistants", params={"api-version": api.api_version},
                              headers={"api-key": "k1"})
    assert response.status_code == 404


@pytest.mark.parametrize("content, content_type, needle", [
    (b"{not json", "application/json", "could not parse"),
    (b'{"model": "gpt-4o"}', "text/plain", "Content-Type"),
    (b"\xff\xfe", "application/json", "could not parse"),
    (b"[1, 2]", "application/json", "expected object"),
    (b'"text"', "application/json", ""),
])
def test_malformed_bodies_are_400_envelopes(api: EmulatorApi, content: bytes, content_type: str, needle: str) -> None:
    _with_key(api, "k1")
    response = api.raw("POST", "/assistants", content=content, headers={"content-type": content_type})
    assert response.status_code == 400, response.text
    assert not errors(check_error_envelope(400, response.json()))
    assert needle in response.json()["error"]["message"]


def test_empty_body_without_content_type_creates_a_thread(api: EmulatorApi) -> None:
    _with_key(api, "k1")
    response = api.raw("POST", "/threads", content=b"")
    assert response.status_code == 200 and response.json()["object"] == "thread"


def test_invalid_body_names_the_parameter(api: EmulatorApi) -> None:
    _with_key(api, "k1")
    body = api.call("POST", "/assistants", {"model": "gpt-4o", "temperature": "hot"}, expect=400)
    assert body["error"]["param"] == "temperature" and "temperature" in body["error"]["message"]
    body = api.call("POST", "/assistants", {}, expect=400)
    assert body["error"]["param"] == "model"


def test_oversized_body_is_413() -> None:
    api = EmulatorApi.create(EmulatorSettings(max_body_bytes=1000), clock=FakeClock())
    response = api.raw("POST", "/assistants", {"model": "m", "instructions": "x" * 2000})
    assert response.status_code == 413 and not errors(check_error_envelope(413, response.json()))


def test_rate_limit_trigger_is_429_with_retry_headers(api: EmulatorApi) -> None:
    _with_key(api, "k1")
    thread = api.call("POST", "/threads")["id"]
    response = api.raw("POST", f"/threads/{thread}/messages", {"role": "user", "content": triggers.RATE_LIMIT})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1" and response.headers["retry-after-ms"] == "1000"
    assert response.json()["error"]["message"] == "Rate limit is exceeded. Try again in 1 seconds."
    assert api.call("GET", f"/threads/{thread}/messages")["data"] == []


def test_server_error_trigger_is_500_envelope(api: EmulatorApi) -> None:
    _with_key(api, "k1")
    response = api.raw("POST", "/threads", {"messages": [{"role": "user", "content": triggers.SERVER_ERROR}]})
    assert response.status_code == 500 and not errors(check_error_envelope(500, response.json()))


FIELD_VALUES: list[Any] = [None, True, [], {}, -1]
GARBAGE: list[Any] = [None, 0, -1, 1e308, True, "", "x" * 5000, [], {}, [{}], {"a": {"b": []}}, "\u0000\ud7ff"]


def _fill(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    return path


@pytest.mark.parametrize("faults", [frozenset(), frozenset({"bad_request_accepted"})])
def test_garbage_never_causes_a_500(faults: frozenset[str]) -> None:
    """Every route x every garbage body / field value: a 2xx or 4xx answer, never a 5xx, also when
    the contract check is switched off and the handlers see the garbage themselves."""
    api = EmulatorApi.create(EmulatorSettings(faults=faults), clock=FakeClock())
    aid = api.call("POST", "/assistants", {"model": "gpt-4o"})["id"]
    thread = api.call("POST", "/threads", {"messages": [{"role": "user", "content": "hi"}]})["id"]
    run = api.call("POST", f"/threads/{thread}/runs", {"assistant_id": aid})
    ids = {"assistant_id": aid, "thread_id": thread, "run_id": run["id"], "message_id": "msg_x", "step_id": "step_x"}
    fields = ["model", "assistant_id", "messages", "metadata", "tools", "tool_outputs", "content", "role",
              "stream", "limit", "thread", "additional_messages", "truncation_strategy", "tool_choice"]
    for route in ROUTES:
        path = _fill(route.path, ids)
        for value in GARBAGE:
            shallow = route.method == "POST" and value in FIELD_VALUES
            bodies = [value] + ([{f: value} for f in fields] if shallow else [])
            for body in bodies:
                response = api.raw(route.method, path, content=json.dumps(body).encode(),
                                   headers={"content-type": "application/json"},
                                   query={"limit": str(value), "order": str(value), "after": str(value)})
                assert response.status_code < 500, (route.operation_id, body, response.text)


def test_a_handler_bug_is_a_500_envelope_not_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    from conformance.emulator.app import create_app
    from conformance.emulator.context import EmuRequest
    from conformance.emulator.routing import EmuRoute
    from conformance.emulator.testing import TestClient

    async def broken(ctx: EmuRequest) -> Any:
        raise KeyError("bug")

    app = create_app(EmulatorSettings(), routes=[EmuRoute("GET", "/assistants", "List_Assistants", broken, body="none")])
    response = TestClient(app).get("/openai/assistants", params={"api-version": API_VERSIONS[0]},
                                   headers={"api-key": "emulator-key"})
    assert response.status_code == 500 and not errors(check_error_envelope(500, response.json()))
    assert "Traceback" not in response.text and "KeyError" in caplog.text
