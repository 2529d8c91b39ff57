"""Object CRUD outcomes: delete envelopes, applied modifications, assistants content-filter outcomes."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from conformance.findings import Finding
from conformance.invariants import rules as R
from conformance.invariants._common import is_list, is_mapping, show
from conformance.invariants.errors import check_content_filter_error, check_error_envelope


def check_deleted(body: Any, *, object_name: str, object_id: str, where: str = "") -> list[Finding]:
    """``{"id": <object_id>, "object": "<object_name>.deleted", "deleted": true}``
    (`object_name` is the object's type, e.g. ``assistant`` or ``thread.message``)."""
    rule = R.CRUD_DELETE_ENVELOPE
    if not is_mapping(body):
        return [Finding(rule, f"delete body is {show(body)}, expected an object", where)]
    expected = {"id": object_id, "object": f"{object_name}.deleted", "deleted": True}
    return [
        Finding(rule, f"{key} is {show(body.get(key))}, expected {show(value)}", where)
        for key, value in expected.items()
        # `is` for deleted: 1 == True in Python, but JSON 1 is not true.
        if not (body.get(key) is value if isinstance(value, bool) else body.get(key) == value)
    ]


def matches(actual: Any, expected: Any) -> bool:
    """`actual` shows everything `expected` asks for: objects may carry extra keys (the service
    fills in defaults), lists match element-wise, scalars are equal (bools only to bools)."""
    if is_mapping(expected):
        return is_mapping(actual) and all(k in actual and matches(actual[k], v) for k, v in expected.items())
    if is_list(expected):
        return is_list(actual) and len(actual) == len(expected) and all(
            matches(a, e) for a, e in zip(actual, expected, strict=True))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    return bool(actual == expected)


def check_modified(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    changes: Mapping[str, Any],
    *,
    ignore: Collection[str] = (),
    where: str = "",
) -> list[Finding]:
    """A modify call applied `changes` and nothing else: every changed field reads back as sent,
    every other field of `before` is unchanged (except those in `ignore`, e.g. a run's status)."""
    rule = R.CRUD_MODIFY_APPLIED
    findings = [
        Finding(rule, f"{key} is {show(after.get(key))} after modify, expected {show(value)}", where)
        for key, value in changes.items()
        if not matches(after.get(key), value)
    ]
    findings.extend(
        Finding(rule, f"{key} changed from {show(value)} to {show(after.get(key))} although the modify did not "
                "touch it", where)
        for key, value in before.items()
        if key not in changes and key not in ignore and after.get(key) != value
    )
    return findings


def check_assistant_content_filter_outcome(status: int, body: Any, *, where: str = "") -> list[Finding]:
    """A filtered Assistants prompt ends one of the three ways client code handles (SERVICE-FACTS):
    a 400 content-filter envelope on the creating call; or, given the final run (status 2xx), run
    incomplete with incomplete_details.reason content_filter, or run failed with last_error.code
    content_filter."""
    rule = R.ERRORS_CONTENT_FILTER
    if status == 400:
        return check_content_filter_error(status, body, where=where)
    if not 200 <= status <= 299 or not is_mapping(body) or body.get("object") != "thread.run":
        return [Finding(rule, f"a filtered prompt answered status {status} with {show(body)}, expected a 400 "
                        "content-filter error or a run ended by the filter", where)]
    run_status = body.get("status")
    details, error = body.get("incomplete_details"), body.get("last_error")
    if run_status == "incomplete" and is_mapping(details) and details.get("reason") == "content_filter":
        return []
    if run_status == "failed" and is_mapping(error) and error.get("code") == "content_filter":
        return []
    return [Finding(rule, f"run.status is {show(run_status)} with incomplete_details {show(details)} and last_error "
                    f"{show(error)}, expected incomplete (reason content_filter) or failed (code content_filter)",
                    where)]


# ---------------------------------------------------------------- added by suite-crud (read-back and gone checks)

def check_roundtrip(
    created: Mapping[str, Any],
    read: Mapping[str, Any],
    *,
    omissible: Collection[str] = (),
    where: str = "",
) -> list[Finding]:
    """A retrieve reads back the object the create answered: every field of `created` is present
    and equal in `read`, except fields in `omissible`, which may be absent (the service omits a
    message's `status` and its timestamps on GET) but, when present, must still agree."""
    rule = R.CRUD_ROUNDTRIP
    findings = []
    for key, value in created.items():
        if key not in read:
            if key not in omissible:
                findings.append(Finding(rule, f"{key} ({show(value)} on create) is missing when read back", where))
            continue
        # An omissible field read back as null says "not reported", like an absent one.
        silent = key in omissible and read[key] is None
        if not silent and not matches(read[key], value):
            findings.append(Finding(rule, f"{key} reads back as {show(read[key])}, created as {show(value)}", where))
    return findings


def check_gone(status: int, body: Any, *, what: str = "the deleted object", where: str = "") -> list[Finding]:
    """A deleted object answers 404 afterwards, with the error envelope."""
    findings = []
    if status != 404:
        findings.append(Finding(R.CRUD_DELETED_GONE, f"{what} answered status {status} after its delete, "
                                "expected 404", where))
    findings.extend(check_error_envelope(status, body, where=where))
    return findings
