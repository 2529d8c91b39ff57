"""Defensive readers for request bodies.

The contract rejects bad bodies before a handler runs, but with the `bad_request_accepted` fault
(or a body the contract leaves open) a handler still sees anything; these readers turn a wrong
type into a default instead of an exception, so client input can never cause a 500.
"""

from __future__ import annotations

from typing import Any


def text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    return value if isinstance(value, str) else None


def number(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def objects(body: dict[str, Any], key: str) -> list[dict[str, Any]] | None:
    value = body.get(key)
    if not isinstance(value, list):
        return None
    return [item for item in value if isinstance(item, dict)]


def mapping(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    return value if isinstance(value, dict) else None


def metadata(body: dict[str, Any]) -> dict[str, str] | None:
    value = body.get("metadata")
    if not isinstance(value, dict):
        return None
    return {str(k): str(v) for k, v in value.items()}


def content_text(content: Any) -> str:
    """A message's content (string or array of parts) as plain text; non-text parts are dropped."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                value = part.get("text")
                if isinstance(value, dict):  # message-object form {"value": ...}
                    value = value.get("value")
                if isinstance(value, str):
                    parts.append(value)
        return "\n".join(parts)
    return ""
