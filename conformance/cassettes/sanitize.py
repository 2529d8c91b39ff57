"""Scrub secrets and resource identity out of recorded interactions.

Applied twice: when an interaction is recorded (with the run's own key and host, so exact values
go) and when a cassette is loaded (generic patterns only, so a cassette edited or recorded by an
older version can never bring a credential or a host back into a run or a report).
Interactions are vcrpy's shapes: a request dict (method, uri, body, headers: name -> [values]) and
a response dict (status, headers: name -> [values], body: {string}).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

PLACEHOLDER_HOST = "replay.invalid"  # RFC 6761: never resolves, so a replayed URL reaches nothing
PLACEHOLDER_ORIGIN = f"https://{PLACEHOLDER_HOST}"
REDACTED = "REDACTED"
ZERO_ID = "00000000-0000-0000-0000-000000000000"

CREDENTIAL_HEADERS = frozenset({"api-key", "authorization", "ocp-apim-subscription-key", "cookie", "set-cookie"})
# Per-request ids: they identify a call on the service side and change on every recording.
REQUEST_ID_HEADERS = frozenset({
    "apim-request-id", "x-request-id", "x-ms-request-id", "x-ms-client-request-id", "request-id",
    "x-ms-correlation-request-id", "x-ms-routing-request-id", "azureml-model-session", "x-ms-deployment-name",
})

# Azure host names and ARM resource paths, whatever the recording target was.
_AZURE_HOST = re.compile(
    r"\b[a-z0-9][a-z0-9-]*\.(?:openai\.azure\.com|cognitiveservices\.azure\.com|services\.ai\.azure\.com"
    r"|openai\.azure\.us|azure-api\.net)\b",
    re.IGNORECASE,
)
_ARM = [
    (re.compile(r"(/subscriptions/)[0-9a-fA-F-]{36}", re.IGNORECASE), rf"\g<1>{ZERO_ID}"),
    (re.compile(r"(/resourceGroups/)[^/\s\"']+", re.IGNORECASE), r"\g<1>redacted-group"),
    (re.compile(r"(/accounts/)[^/\s\"']+", re.IGNORECASE), r"\g<1>redacted-resource"),
]


@dataclass(frozen=True)
class Secrets:
    """Exact values of the run being recorded (empty at load time)."""

    host: str = ""  # netloc of the endpoint, e.g. "myres.openai.azure.com" or "127.0.0.1:8123"
    values: tuple[str, ...] = field(default=(), repr=False)  # api key, resource name, ...

    @classmethod
    def for_endpoint(cls, endpoint: str | None, api_key: str | None) -> Secrets:
        host = urlsplit(endpoint).netloc if endpoint else ""
        values = [v for v in (api_key,) if v]
        name = host.split(":", 1)[0].split(".", 1)[0] if host else ""
        # The resource name is the first label of an Azure host; a bare IP or localhost names nothing.
        if name and not name.isdigit() and name != "localhost" and "." in host:
            values.append(name)
        return cls(host=host, values=tuple(sorted(set(values), key=len, reverse=True)))


NO_SECRETS = Secrets()  # load time: generic patterns only


def scrub_text(text: str, secrets: Secrets = NO_SECRETS) -> str:
    if secrets.host:
        text = text.replace(secrets.host, PLACEHOLDER_HOST)
    for value in secrets.values:
        if len(value) >= 4:  # a 1-3 letter resource name would shred ordinary words
            text = re.sub(re.escape(value), REDACTED, text, flags=re.IGNORECASE)
    text = _AZURE_HOST.sub(PLACEHOLDER_HOST, text)
    for pattern, replacement in _ARM:
        text = pattern.sub(replacement, text)
    return text


def scrub_uri(uri: str, secrets: Secrets = NO_SECRETS) -> str:
    parts = urlsplit(uri)
    path = scrub_text(parts.path, secrets)
    query = scrub_text(parts.query, secrets)
    return urlunsplit(("https", PLACEHOLDER_HOST, path, query, ""))


def scrub_headers(headers: dict[str, Any], secrets: Secrets = NO_SECRETS) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, values in headers.items():
        lower = name.lower()
        if lower in ("set-cookie", "cookie"):
            continue
        items = values if isinstance(values, list) else [values]
        if lower in CREDENTIAL_HEADERS:
            items = [REDACTED for _ in items]
        elif lower in REQUEST_ID_HEADERS:
            items = [ZERO_ID for _ in items]
        elif lower == "host":
            items = [PLACEHOLDER_HOST for _ in items]
        else:
            items = [scrub_text(str(v), secrets) for v in items]
        clean[name] = items if isinstance(values, list) else items[0]
    return clean


def scrub_body(body: Any, secrets: Secrets = NO_SECRETS) -> Any:
    """Text bodies are scrubbed in place; bytes stay bytes (SSE bodies keep every other byte)."""
    if isinstance(body, str):
        return scrub_text(body, secrets)
    if isinstance(body, bytes):
        try:
            return scrub_text(body.decode("utf-8"), secrets).encode("utf-8")
        except UnicodeDecodeError:
            return body  # audio and images: nothing textual to leak
    return body


def scrub_response(response: dict[str, Any], secrets: Secrets = NO_SECRETS) -> dict[str, Any]:
    response = dict(response)
    response["headers"] = scrub_headers(dict(response.get("headers") or {}), secrets)
    body = dict(response.get("body") or {})
    if "string" in body:
        body["string"] = scrub_body(body["string"], secrets)
    response["body"] = body
    return response


def leaks(text: str, needles: Iterable[str]) -> list[str]:
    """The needles (canaries) that occur in `text`, case-insensitively."""
    lower = text.lower()
    return [n for n in needles if n and n.lower() in lower]
