"""Azure content-filter annotations and the content-filter 400, shaped as the service sends them.

SERVICE-FACTS "Content filter": allowed answers carry `prompt_filter_results` and per-choice
`content_filter_results`; a blocked prompt is a 400 whose `innererror` (not `inner_error`) holds
`content_filter_result` (singular). The fault `content_filter_no_innererror` drops `innererror`.
"""

from __future__ import annotations

from typing import Any

HARM_CATEGORIES: tuple[str, ...] = ("hate", "self_harm", "sexual", "violence")

BLOCKED_MESSAGE = (
    "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. "
    "Please modify your prompt and retry. To learn more about our content filtering policies please read "
    "our documentation: https://go.microsoft.com/fwlink/?linkid=2198766"
)


def _safe() -> dict[str, Any]:
    return {"filtered": False, "severity": "safe"}


def prompt_results(*, jailbreak: bool = False) -> dict[str, Any]:
    """Per-category results for a prompt: all safe, jailbreak detected only when blocked for it."""
    results: dict[str, Any] = {name: _safe() for name in HARM_CATEGORIES}
    results["jailbreak"] = {"filtered": jailbreak, "detected": jailbreak}
    return results


def prompt_filter_results(prompt_count: int = 1) -> list[dict[str, Any]]:
    """`prompt_filter_results` of an allowed request (one entry per prompt)."""
    return [{"prompt_index": i, "content_filter_results": prompt_results()} for i in range(prompt_count)]


def choice_results(*, filtered_category: str | None = None) -> dict[str, Any]:
    """`choices[].content_filter_results`; `filtered_category` marks an output blocked for that harm."""
    results: dict[str, Any] = {name: _safe() for name in HARM_CATEGORIES}
    if filtered_category is not None:
        results[filtered_category] = {"filtered": True, "severity": "medium"}
    results["protected_material_text"] = {"filtered": False, "detected": False}
    results["protected_material_code"] = {"filtered": False, "detected": False}
    return results


def blocked_prompt_body(*, include_innererror: bool = True) -> dict[str, Any]:
    """The 400 body for a prompt the filter rejects (jailbreak, as in the recorded service answer)."""
    error: dict[str, Any] = {
        "message": BLOCKED_MESSAGE,
        "type": None,
        "param": "prompt",
        "code": "content_filter",
        "status": 400,
    }
    if include_innererror:
        error["innererror"] = {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_result": prompt_results(jailbreak=True),
        }
    return {"error": error}
