"""Error answers and content-filter results (SERVICE-FACTS "Errors" and "Content filter")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from conformance.findings import Finding
from conformance.invariants import rules as R
from conformance.invariants._common import is_int, is_list, is_mapping, show

SEVERITIES: Final = ("safe", "low", "medium", "high")
SEVERITY_CATEGORIES: Final = frozenset({"hate", "sexual", "violence", "self_harm"})
DETECTION_CATEGORIES: Final = frozenset(
    {"jailbreak", "protected_material_text", "protected_material_code", "indirect_attack", "profanity"}
)
# Keys that are not categories: a blocklist report and the filter's own failure.
OTHER_KEYS: Final = frozenset({"custom_blocklists", "error"})


def check_error_envelope(status: int, body: Any, *, strict: bool = False, where: str = "") -> list[Finding]:
    """A 4xx/5xx answer whose body is ``{"error": {"code", "message", ...}}``.

    A null `code` is what the OpenAI-style 404 for unknown ids carries: an info finding, an
    error only with `strict`.
    """
    findings = []
    if not 400 <= status <= 599:
        findings.append(Finding(R.ERRORS_ENVELOPE, f"status is {status}, expected a 4xx or 5xx error status", where))
    error = body.get("error") if is_mapping(body) else None
    if not is_mapping(error):
        findings.append(Finding(R.ERRORS_ENVELOPE, f"body is {show(body)}, expected {{\"error\": {{\"code\", "
                                "\"message\"}}}", where))
        return findings
    message, code = error.get("message"), error.get("code")
    if not isinstance(message, str) or not message.strip():
        findings.append(Finding(R.ERRORS_ENVELOPE, f"error.message is {show(message)}, expected a non-empty string",
                                where))
    if code is None and "code" in error:
        findings.append(Finding(R.ERRORS_ENVELOPE, "error.code is null (OpenAI-style error body)", where,
                                severity="error" if strict else "info"))
    elif not isinstance(code, str) or not code:
        findings.append(Finding(R.ERRORS_ENVELOPE, f"error.code is {show(code)}, expected a non-empty string", where))
    return findings


def _check_status(status: int, expected: int, rule: str, what: str, where: str) -> list[Finding]:
    if status != expected:
        return [Finding(rule, f"{what} answered status {status}, expected {expected}", where)]
    return []


def check_unauthorized(status: int, body: Any, *, where: str = "") -> list[Finding]:
    """A request with a missing or wrong key: 401 with the error envelope."""
    return [*_check_status(status, 401, R.ERRORS_UNAUTHORIZED, "a request without valid credentials", where),
            *check_error_envelope(status, body, where=where)]


def check_not_found(status: int, body: Any, *, where: str = "") -> list[Finding]:
    """An unknown id or route: 404 with the error envelope."""
    return [*_check_status(status, 404, R.ERRORS_NOT_FOUND, "an unknown id", where),
            *check_error_envelope(status, body, where=where)]


def check_content_filter_results(
    results: Any, *, rule: str = R.CONTENT_FILTER_ANNOTATIONS, label: str = "content_filter_results",
    where: str = "",
) -> list[Finding]:
    """Per-category results: ``{filtered, severity}`` for harm categories, ``{filtered, detected}``
    for detection categories; unknown categories are tolerated (info)."""
    if not is_mapping(results):
        return [Finding(rule, f"{label} is {show(results)}, expected an object", where)]
    findings = []
    for category, result in results.items():
        path = f"{label}.{category}"
        if category in OTHER_KEYS:
            continue
        if not is_mapping(result) or not isinstance(result.get("filtered"), bool):
            findings.append(Finding(rule, f"{path} is {show(result)}, expected {{filtered: boolean, ...}}", where))
        elif category in SEVERITY_CATEGORIES:
            if result.get("severity") not in SEVERITIES:
                findings.append(Finding(rule, f"{path}.severity is {show(result.get('severity'))}, expected one of "
                                        f"{', '.join(SEVERITIES)}", where))
        elif category in DETECTION_CATEGORIES:
            if not isinstance(result.get("detected"), bool):
                findings.append(Finding(rule, f"{path}.detected is {show(result.get('detected'))}, expected a "
                                        "boolean", where))
        else:
            findings.append(Finding(rule, f"unknown category {show(category)} tolerated", where, severity="info"))
    return findings


def _any_filtered(results: Mapping[str, Any]) -> bool:
    return any(is_mapping(r) and r.get("filtered") is True for r in results.values())


def check_content_filter_error(status: int, body: Any, *, strict: bool = False, where: str = "") -> list[Finding]:
    """A prompt the filter blocked: 400, code content_filter, innererror.code
    ResponsibleAIPolicyViolation and per-category results, at least one filtered.

    Observed variants are legal: no `jailbreak` key; no `innererror` at all (info, an error with
    `strict`); the reference's spelling `inner_error` / `content_filter_results` (info).
    """
    rule = R.ERRORS_CONTENT_FILTER
    findings = [*_check_status(status, 400, rule, "a filtered prompt", where),
                *check_error_envelope(status, body, where=where)]
    error = body.get("error") if is_mapping(body) else None
    if not is_mapping(error):
        return findings
    if error.get("code") != "content_filter":
        findings.append(Finding(rule, f"error.code is {show(error.get('code'))}, expected \"content_filter\"", where))
    inner_key = "innererror" if "innererror" in error else "inner_error"
    inner = error.get(inner_key)
    if inner is None:
        findings.append(Finding(rule, "error.innererror is absent (an observed variant)", where,
                                severity="error" if strict else "info"))
        return findings
    if inner_key == "inner_error":
        findings.append(Finding(rule, "error.inner_error is the reference's spelling; the service sends innererror",
                                where, severity="info"))
    if not is_mapping(inner):
        findings.append(Finding(rule, f"error.{inner_key} is {show(inner)}, expected an object", where))
        return findings
    if inner.get("code") != "ResponsibleAIPolicyViolation":
        findings.append(Finding(rule, f"error.{inner_key}.code is {show(inner.get('code'))}, expected "
                                "\"ResponsibleAIPolicyViolation\"", where))
    results_key = "content_filter_result" if "content_filter_result" in inner else "content_filter_results"
    results = inner.get(results_key)
    label = f"error.{inner_key}.{results_key}"
    findings.extend(check_content_filter_results(results, rule=rule, label=label, where=where))
    if is_mapping(results) and not _any_filtered(results):
        findings.append(Finding(rule, f"{label} has no category with filtered: true", where))
    return findings


def check_chat_annotations(body: Any, *, where: str = "") -> list[Finding]:
    """An allowed chat completion carries prompt_filter_results and choices[].content_filter_results;
    a choice ended by the filter (finish_reason content_filter) shows a filtered category."""
    rule = R.CONTENT_FILTER_ANNOTATIONS
    if not is_mapping(body):
        return [Finding(rule, f"body is {show(body)}, expected a chat completion object", where)]
    findings = []
    prompts = body.get("prompt_filter_results")
    if not is_list(prompts) or not prompts:
        findings.append(Finding(rule, f"prompt_filter_results is {show(prompts)}, expected a non-empty list", where))
    else:
        for index, entry in enumerate(prompts):
            label = f"prompt_filter_results[{index}]"
            if not is_mapping(entry) or not is_int(entry.get("prompt_index")):
                findings.append(Finding(rule, f"{label} is {show(entry)}, expected {{prompt_index, "
                                        "content_filter_results}", where))
                continue
            findings.extend(check_content_filter_results(entry.get("content_filter_results"), rule=rule,
                                                         label=f"{label}.content_filter_results", where=where))
    choices = body.get("choices")
    for index, choice in enumerate(choices if is_list(choices) else []):
        label = f"choices[{index}].content_filter_results"
        results = choice.get("content_filter_results") if is_mapping(choice) else None
        findings.extend(check_content_filter_results(results, rule=rule, label=label, where=where))
        if is_mapping(choice) and choice.get("finish_reason") == "content_filter" and is_mapping(results) \
                and not _any_filtered(results):
            findings.append(Finding(rule, f"choices[{index}].finish_reason is \"content_filter\" but {label} has "
                                    "no category with filtered: true", where))
    return findings


# ---------------------------------------------------------------- added by suite-crud (client mistakes)

def check_bad_request(status: int, body: Any, *, what: str = "invalid input", where: str = "") -> list[Finding]:
    """Invalid input (malformed JSON, a missing required field, a wrong type, an out-of-range
    value): 400 with the error envelope."""
    return [*_check_status(status, 400, R.ERRORS_BAD_REQUEST, what, where),
            *check_error_envelope(status, body, where=where)]


def check_api_version_rejected(status: int, body: Any, *, what: str = "the api-version", where: str = "") -> list[Finding]:
    """A missing or unsupported api-version: the service's status is not on record, so any 4xx
    with the error envelope conforms; a served (2xx) or 5xx answer does not."""
    findings = []
    if not 400 <= status <= 499:
        findings.append(Finding(R.ERRORS_API_VERSION, f"a request with {what} answered status {status}, "
                                "expected a 4xx rejection", where))
    findings.extend(check_error_envelope(status, body, where=where))
    return findings


def check_not_served(status: int, *, what: str = "a request without valid credentials", where: str = "") -> list[Finding]:
    """A request without valid credentials is never served (whatever the error status)."""
    if 200 <= status <= 399:
        return [Finding(R.ERRORS_AUTH, f"{what} was served with status {status}", where)]
    return []
