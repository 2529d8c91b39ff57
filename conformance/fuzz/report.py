"""Turning a Schemathesis failure into what a person and the results file need.

`FuzzFailure` is a `ConformanceError` (so the suite plugin records its rule ids) whose message
starts with the seed and the request as curl, with every credential removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from conformance.findings import ConformanceError, Finding

# Built-in Schemathesis checks -> the rule id of ours they stand for (`fuzz.<check>` otherwise).
CHECK_RULES: dict[str, str] = {
    "not_a_server_error": "fuzz.server_error",
    "status_code_conformance": "schema.status",
    "content_type_conformance": "schema.content_type",
    "response_headers_conformance": "schema.headers",
    "response_schema_conformance": "schema.response",
    "negative_data_rejection": "errors.bad_request",
    "positive_data_acceptance": "fuzz.positive_data_rejected",
    "ignored_auth": "errors.auth",
    "use_after_free": "crud.deleted_gone",
    "ensure_resource_availability": "fuzz.resource_unavailable",
    "missing_required_header": "errors.bad_request",
    "unsupported_method": "fuzz.unsupported_method",
}
_SECRET_HEADER = re.compile(r"(-H\s+'(?:api-key|authorization|ocp-apim-subscription-key)\s*:\s*)[^']*'", re.I)


class FuzzFailure(ConformanceError):
    """A generated request whose answer broke a check; `request` is its curl, `seed` reproduces it."""

    def __init__(self, findings: list[Finding], *, operation: str, seed: int, request: str, detail: str,
                 response: str = "", selector: str = "") -> None:
        self.seed = seed
        self.request = request
        self.response = response
        select = f" -k {selector}" if selector else ""
        super().__init__(findings, f"{operation} (seed {seed}; reproduce: aoai-conformance run --fuzz -m fuzz "
                                   f"--seed {seed}{select})")
        self.args = (f"{self.args[0]}\nrequest: {request}\n{detail}".rstrip(),)


def redact(text: str, secrets: Iterable[str]) -> str:
    """Credentials out of any text we print or record: known values, then auth headers of a curl."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _SECRET_HEADER.sub(r"\1***'", text)


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for sub in error.exceptions for leaf in _leaves(sub)]
    return [error]


def findings_of(error: BaseException) -> list[Finding]:
    """One finding per Schemathesis failure (our own checks keep their findings and rules)."""
    findings: list[Finding] = []
    for leaf in _leaves(error):
        inner = getattr(leaf, "exception", None)
        if isinstance(inner, ConformanceError):
            findings.extend(inner.findings)
            continue
        if isinstance(leaf, ConformanceError):
            findings.extend(leaf.findings)
            continue
        checks: Sequence[str] = getattr(leaf, "checks", ()) or ()
        rule = next((CHECK_RULES[c] for c in checks if c in CHECK_RULES), f"fuzz.{checks[0]}" if checks else "fuzz.check")
        title = getattr(leaf, "title", "") or type(leaf).__name__
        message = getattr(leaf, "message", "") or str(leaf)
        findings.append(Finding(rule, f"{title}: {message}".strip()[:1500]))
    return findings or [Finding("fuzz.check", str(error)[:1500])]


def response_excerpt(response: Any, secrets: Iterable[str], limit: int = 2000) -> str:
    """`<status> <body start>` of a Schemathesis response, credentials removed."""
    if response is None:
        return ""
    try:
        body = bytes(response.content or b"")[:limit].decode("utf-8", errors="replace")
    except Exception:  # an excerpt is a courtesy: never hide the real failure behind its own
        body = ""
    return redact(f"{response.status_code} {body}", secrets)


def curl_of(case: Any, url: str, secrets: Iterable[str]) -> str:
    """The request as curl, sent to `url`, with no credential in it."""
    try:
        text = str(case.as_curl_command(headers={}, base_url=url))
    except Exception as exc:  # a curl is a courtesy: never hide the real failure behind its own
        text = f"{case.method} {case.formatted_path} (no curl: {type(exc).__name__})"
    return redact(text, secrets)
