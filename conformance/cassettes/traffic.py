"""Captured traffic, whatever recorded it: vcrpy YAML cassettes and HAR files, as `Captured` exchanges.

Everything is sanitised as it is read (credentials, hosts, request ids), so nothing a user captured
elsewhere can reach a printed finding or a results file.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from conformance.cassettes.store import CassetteError, load_interactions, sanitise_interaction


class TrafficError(Exception):
    """A file that is neither a readable cassette nor a HAR; the message names the file and why."""


@dataclass(frozen=True)
class Captured:
    source: str  # file name and position, e.g. "run.har#3"
    method: str
    url: str  # sanitised
    path: str  # as sent, e.g. /openai/threads/abc
    query: dict[str, str]
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # response headers, lower-case names
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None


def _text(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _headers(raw: Any) -> dict[str, str]:
    """vcrpy (name -> [values]) or HAR ([{name, value}]) headers, as lower-case name -> last value."""
    out: dict[str, str] = {}
    if isinstance(raw, dict):
        for name, values in raw.items():
            items = values if isinstance(values, list) else [values]
            if items:
                out[str(name).lower()] = str(items[-1])
    elif isinstance(raw, list):
        for entry in raw:
            if isinstance(entry, dict) and "name" in entry:
                out[str(entry["name"]).lower()] = str(entry.get("value", ""))
    return out


def _captured(source: str, method: str, url: str, status: Any, headers: Any, body: bytes) -> Captured:
    parts = urlsplit(url)
    try:
        code = int(status)
    except (TypeError, ValueError):
        code = 0
    return Captured(source=source, method=method.upper(), url=url, path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)), status=code,
                    headers=_headers(headers), body=body)


def _label(path: Path) -> str:
    """`<folder>/<file>`: enough to tell apart cassettes of the same test name in different modules."""
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def load_cassette_file(path: Path) -> list[Captured]:
    try:
        _, interactions = load_interactions(path)
    except CassetteError as exc:
        raise TrafficError(str(exc)) from None
    out = []
    for number, interaction in enumerate(interactions, 1):
        request, response = interaction["request"], interaction["response"]
        status = (response.get("status") or {}).get("code")
        out.append(_captured(f"{_label(path)}#{number}", str(request.get("method", "")), str(request.get("uri", "")),
                             status, response.get("headers"), _text((response.get("body") or {}).get("string"))))
    return out


def load_har_file(path: Path) -> list[Captured]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrafficError(f"{path}: not a readable HAR file ({type(exc).__name__})") from None
    entries = data.get("log", {}).get("entries") if isinstance(data, dict) and isinstance(data.get("log"), dict) else None
    if not isinstance(entries, list):
        raise TrafficError(f"{path}: not a HAR file (no log.entries list)")
    out = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            continue
        request, response = entry.get("request") or {}, entry.get("response") or {}
        content = response.get("content") or {}
        text = content.get("text")
        body = base64.b64decode(text) if content.get("encoding") == "base64" and isinstance(text, str) else _text(text)
        # the same scrubbing a cassette gets: HAR exports carry api-key headers and host names
        clean = sanitise_interaction({
            "request": {"method": request.get("method", ""), "uri": request.get("url", ""), "headers": {}, "body": None},
            "response": {"status": {"code": response.get("status")}, "headers": _headers(response.get("headers")),
                         "body": {"string": body}},
        })
        out.append(_captured(f"{_label(path)}#{number}", str(request.get("method", "")), clean["request"]["uri"],
                             response.get("status"), clean["response"]["headers"],
                             _text(clean["response"]["body"]["string"])))
    return out


def load_traffic(path: Path) -> list[Captured]:
    """HAR when the name ends in .har or the content is JSON, else a vcrpy YAML cassette."""
    if not path.is_file():
        raise TrafficError(f"{path}: no such file")
    if path.suffix.lower() == ".har":
        return load_har_file(path)
    head = path.read_bytes()[:200].lstrip()
    if head.startswith(b"{"):
        return load_har_file(path)
    return load_cassette_file(path)
