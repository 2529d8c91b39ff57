"""Cassette files: sanitising (at record and at load), byte-exact bodies, naming, ordered replay."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from conformance.cassettes.sanitize import (
    PLACEHOLDER_HOST,
    REDACTED,
    ZERO_ID,
    Secrets,
    scrub_headers,
    scrub_text,
)
from conformance.cassettes.store import (
    CassetteError,
    Provenance,
    cassette_file_name,
    dump_cassette,
    load_interactions,
    read_provenance,
)
from conformance.cassettes.tape import ReplayMiss, cassette, offline_transport, request_key

V5, V8 = "2024-05-01-preview", "2024-08-01-preview"


def _provenance(version: str = V8, test: str = "test_mod::test_x") -> Provenance:
    return Provenance(target="emulator", api_version=version, recorded_at="2026-01-01T00:00:00+00:00",
                      package_version="0.1.0", test=test)


def _interaction(uri: str, body: str | bytes, *, status: int = 200, headers: dict[str, list[str]] | None = None,
                 method: str = "GET") -> dict[str, object]:
    return {
        "request": {"method": method, "uri": uri, "body": None, "headers": {"api-key": ["sekret-key-123"]}},
        "response": {"status": {"code": status, "message": "OK"},
                     "headers": {"content-type": ["application/json"], **(headers or {})},
                     "body": {"string": body}},
    }


def test_secrets_of_an_azure_endpoint_name_the_resource() -> None:
    secrets = Secrets.for_endpoint("https://contoso-aoai.openai.azure.com", "k" * 32)
    assert secrets.host == "contoso-aoai.openai.azure.com"
    assert "contoso-aoai" in secrets.values and "k" * 32 in secrets.values
    assert Secrets.for_endpoint("http://127.0.0.1:8080", None).values == ()


def test_scrub_text_removes_host_resource_key_and_arm_ids() -> None:
    secrets = Secrets.for_endpoint("https://contoso-aoai.openai.azure.com", "abcd1234key")
    text = ("https://contoso-aoai.openai.azure.com/openai x Contoso-AOAI abcd1234key other.openai.azure.com "
            "/subscriptions/12345678-1234-1234-1234-123456789abc/resourceGroups/my-rg/providers/"
            "Microsoft.CognitiveServices/accounts/contoso-aoai")
    clean = scrub_text(text, secrets)
    for needle in ("contoso", "abcd1234key", "other.openai", "12345678-1234", "my-rg"):
        assert needle not in clean.lower()
    assert PLACEHOLDER_HOST in clean and ZERO_ID in clean


def test_scrub_headers_redacts_credentials_and_request_ids() -> None:
    headers = scrub_headers({"api-key": ["k"], "Authorization": "Bearer t", "apim-request-id": ["r1"],
                             "x-ms-client-request-id": ["r2"], "Set-Cookie": ["a=b"], "content-type": ["x"]})
    assert headers == {"api-key": [REDACTED], "Authorization": REDACTED, "apim-request-id": [ZERO_ID],
                       "x-ms-client-request-id": [ZERO_ID], "content-type": ["x"]}


def test_load_sanitises_again_what_a_file_brought_in(tmp_path: Path) -> None:
    """A cassette edited by hand (or recorded by an older version) cannot bring a secret back."""
    path = tmp_path / "c.yaml"
    leaked = _interaction("https://contoso-aoai.openai.azure.com/openai/threads?api-version=" + V8,
                          '{"host": "contoso-aoai.openai.azure.com"}', headers={"apim-request-id": ["abc"]})
    dump_cassette(path, _provenance(), [leaked])
    assert "contoso-aoai" in path.read_text()
    provenance, interactions = load_interactions(path)
    assert provenance == _provenance()
    text = repr(interactions)
    assert "contoso-aoai" not in text and "sekret-key-123" not in text and "'abc'" not in text


def test_bodies_survive_a_round_trip_byte_for_byte(tmp_path: Path) -> None:
    body = ("event: thread.run.created\r\ndata: {\"a\": \"x  \"}\r\n\r\n: comment\n\ndata:  lead\t\n\n"
            "data: caf\u00e9 \u2603\n\ndata: [DONE]\n\n")
    path = tmp_path / "sse.yaml"
    dump_cassette(path, _provenance(), [_interaction(f"https://{PLACEHOLDER_HOST}/openai/x?api-version={V8}", body)])
    _, interactions = load_interactions(path)
    assert interactions[0]["response"]["body"]["string"] == body  # type: ignore[index]


def test_provenance_is_read_from_the_header_and_names_no_host(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    dump_cassette(path, _provenance(V5), [])
    assert read_provenance(path) == _provenance(V5)
    head = path.read_text().split("interactions:")[0]
    assert "http" not in head and "127.0.0.1" not in head


@pytest.mark.parametrize(("name", "expected"), [
    (f"test_a[{V8}]", "test_a.yaml"),
    (f"test_a[{V8}-asc]", "test_a[asc].yaml"),
    (f"test_a[desc-{V8}]", "test_a[desc].yaml"),
])
def test_file_names_drop_the_api_version(name: str, expected: str) -> None:
    assert cassette_file_name(name, V8) == expected


def test_request_key_ignores_made_up_ids_and_query_order() -> None:
    a = request_key("get", "/openai/threads/thread_aoaic0123456789abcdef0123", "b=2&a=1")
    b = request_key("GET", "/openai/threads/thread_aoaicfedcba9876543210fedc", "a=1&b=2")
    assert a == b
    assert a != request_key("GET", "/openai/threads/thread_abc", "a=1&b=2")


def _client() -> httpx.Client:
    return httpx.Client(transport=offline_transport(), base_url=f"https://{PLACEHOLDER_HOST}")


def test_identical_requests_replay_in_recorded_order(tmp_path: Path) -> None:
    path = tmp_path / "poll.yaml"
    uri = f"https://{PLACEHOLDER_HOST}/openai/threads/t/runs/r?api-version={V8}"
    statuses = ["queued", "in_progress", "completed"]
    dump_cassette(path, _provenance(), [_interaction(uri, f'{{"status": "{s}"}}') for s in statuses])
    with cassette(path, _provenance(), record=False), _client() as client:
        seen = [client.get(f"/openai/threads/t/runs/r?api-version={V8}").json()["status"] for _ in statuses]
        assert seen == statuses
        with pytest.raises(ReplayMiss, match="already answered") as miss:
            client.get(f"/openai/threads/t/runs/r?api-version={V8}")  # each answer is played once
        assert "\n" not in str(miss.value) and str(path) in str(miss.value)


def test_a_request_for_another_api_version_does_not_match(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    dump_cassette(path, _provenance(), [_interaction(f"https://{PLACEHOLDER_HOST}/openai/threads?api-version={V8}", "{}")])
    with cassette(path, _provenance(), record=False), _client() as client, \
            pytest.raises(ReplayMiss, match="is not in it"):
        client.get(f"/openai/threads?api-version={V5}")


def test_missing_and_foreign_cassettes_are_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / V8 / "test_mod" / "test_x.yaml"
    with pytest.raises(CassetteError) as missing, cassette(path, _provenance(), record=False):
        pass
    message = str(missing.value)
    assert "\n" not in message and str(path) in message and "aoai-conformance record" in message
    dump_cassette(path, _provenance(V5), [])
    with pytest.raises(CassetteError, match=f"recorded for api-version {V5}"), cassette(path, _provenance(), record=False):
        pass


def test_offline_transport_refuses_to_connect() -> None:
    with httpx.Client(transport=offline_transport()) as client, pytest.raises(httpx.ConnectError, match="offline"):
        client.get("http://127.0.0.1:9/")
