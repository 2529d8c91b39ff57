"""Request validation: the ONE place the emulator asks the contract whether a request is valid.

The contract (`conformance.spec`) decides; a rejected body or query becomes a 400 Azure envelope
naming the offending parameter. Loaded contracts are cached per api-version.
"""

from __future__ import annotations

import functools
from typing import Any

from conformance.emulator.errors import ApiError, bad_request
from conformance.findings import Finding


@functools.cache
def _contract(api_version: str) -> Any:
    """The contract for `api_version`, or None while `conformance.spec` cannot provide it."""
    try:
        from conformance.spec import load_contract  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    try:
        return load_contract(api_version)
    except (OSError, ValueError, LookupError):
        return None


def _param(finding: Finding) -> str | None:
    """The offending parameter from a finding's `where`: `$.tools[0].type` -> `tools[0].type`."""
    where = finding.where.strip()
    if where.startswith("$"):
        where = where[1:].lstrip(".")
    if where in ("", "body"):
        return None
    return where


def findings_to_error(findings: list[Finding]) -> ApiError | None:
    bad = [f for f in findings if f.severity == "error"]
    if not bad:
        return None
    first = bad[0]
    return bad_request(first.message, param=_param(first))


def validate_request(
    api_version: str, method: str, path: str, *, query: dict[str, str], body: Any, content_type: str
) -> None:
    """Raise a 400 ApiError when the contract rejects the request; silent when no contract is loaded."""
    contract = _contract(api_version)
    if contract is None:
        return
    matched = contract.match(method, path)
    if matched is None:
        return
    operation, _ = matched
    findings: list[Finding] = contract.validate_request(
        operation, query=query, body=body, content_type=content_type
    )
    error = findings_to_error(findings)
    if error is not None:
        raise error
