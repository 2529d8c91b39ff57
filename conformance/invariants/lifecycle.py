"""Run lifecycle: the status graph and the per-status field rules (SERVICE-FACTS "Run lifecycle")."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from itertools import pairwise
from typing import Any, Final

from conformance.findings import Finding
from conformance.invariants import rules as R
from conformance.invariants._common import is_int, is_list, is_mapping, show

RUN_STATUSES: Final = frozenset(
    {"queued", "in_progress", "requires_action", "cancelling", "cancelled", "failed", "completed",
     "incomplete", "expired"}
)
TERMINAL_STATUSES: Final = frozenset({"completed", "failed", "cancelled", "incomplete", "expired"})
ACTIVE_STATUSES: Final = RUN_STATUSES - TERMINAL_STATUSES

# Legal single transitions. Terminal statuses have no way out.
TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    "queued": frozenset({"in_progress", "cancelling", "cancelled", "failed", "expired"}),
    "in_progress": frozenset(
        {"requires_action", "cancelling", "completed", "failed", "incomplete", "expired", "cancelled"}
    ),
    "requires_action": frozenset({"queued", "in_progress", "cancelling", "expired", "failed", "cancelled"}),
    "cancelling": frozenset({"cancelled", "completed", "failed", "expired", "incomplete"}),
    **{status: frozenset() for status in TERMINAL_STATUSES},
}


def _closure() -> dict[str, frozenset[str]]:
    # Polling may miss states, so an observed step a -> b is legal when b is reachable from a.
    reach: dict[str, frozenset[str]] = {}
    for start in RUN_STATUSES:
        seen: set[str] = set()
        todo = list(TRANSITIONS[start])
        while todo:
            status = todo.pop()
            if status not in seen:
                seen.add(status)
                todo.extend(TRANSITIONS[status])
        reach[start] = frozenset(seen)
    return reach


REACHABLE: Final[Mapping[str, frozenset[str]]] = _closure()

# Fields that identify a run and must not change while it is polled.
STABLE_FIELDS: Final = ("id", "object", "thread_id", "assistant_id", "created_at")
_STICKY_TIMESTAMPS: Final = {
    "completed_at": R.LIFECYCLE_COMPLETED_AT,
    "failed_at": R.LIFECYCLE_FAILED_AT,
    "cancelled_at": R.LIFECYCLE_CANCELLED_AT,
}
# Statuses that can only be reached after the run has started executing.
_STARTED_STATUSES: Final = frozenset({"in_progress", "requires_action", "completed", "incomplete"})


def check_status_walk(statuses: Sequence[str], where: str = "") -> list[Finding]:
    """A polled sequence of statuses is a walk in the graph (states may be skipped, never undone)."""
    findings: list[Finding] = []
    for index, status in enumerate(statuses):
        if status not in RUN_STATUSES:
            findings.append(Finding(R.LIFECYCLE_STATUS, f"poll {index}: run.status {show(status)} is not a run "
                                    f"status", where))
    for index, (before, after) in enumerate(pairwise(statuses), start=1):
        if before == after or before not in RUN_STATUSES or after not in RUN_STATUSES:
            continue
        if before in TERMINAL_STATUSES:
            findings.append(Finding(
                R.LIFECYCLE_TERMINAL_ABSORBING,
                f"poll {index}: run.status went from terminal {show(before)} to {show(after)}", where))
        elif after not in REACHABLE[before]:
            findings.append(Finding(
                R.LIFECYCLE_TRANSITION,
                f"poll {index}: run.status went from {show(before)} to {show(after)}, which no path in the "
                f"run-status graph allows", where))
    return findings


def _is_null(run: Mapping[str, Any], key: str) -> bool:
    return run.get(key) is None


def _timestamp_iff(run: Mapping[str, Any], key: str, rule: str, status: str, when: str, where: str) -> list[Finding]:
    value = run.get(key)
    if status == when and not is_int(value):
        return [Finding(rule, f"run.{key} is {show(value)} while status is {show(status)}", where)]
    if status != when and value is not None:
        return [Finding(rule, f"run.{key} is {show(value)} while status is {show(status)} (set only when "
                        f"{show(when)})", where)]
    return []


def _check_started(run: Mapping[str, Any], status: str, resumed: bool, where: str) -> list[Finding]:
    started = run.get("started_at")
    if status == "queued" and started is not None and not resumed:
        return [Finding(R.LIFECYCLE_STARTED_AT, f"run.started_at is {show(started)} while status is \"queued\" "
                        "(the run has not started)", where)]
    if status in _STARTED_STATUSES and not is_int(started):
        return [Finding(R.LIFECYCLE_STARTED_AT, f"run.started_at is {show(started)} while status is "
                        f"{show(status)}", where)]
    created = run.get("created_at")
    if is_int(started) and is_int(created) and started < created:
        return [Finding(R.LIFECYCLE_STARTED_AT, f"run.started_at {started} is before run.created_at {created}",
                        where)]
    return []


def _check_expires(run: Mapping[str, Any], status: str, where: str) -> list[Finding]:
    expires, created = run.get("expires_at"), run.get("created_at")
    if status in TERMINAL_STATUSES:
        if expires is not None:
            return [Finding(R.LIFECYCLE_EXPIRES_AT, f"run.expires_at is {show(expires)} while status is "
                            f"{show(status)} (null once terminal)", where)]
        return []
    if not is_int(expires):
        return [Finding(R.LIFECYCLE_EXPIRES_AT, f"run.expires_at is {show(expires)} while status is {show(status)}",
                        where)]
    if is_int(created) and expires <= created:
        return [Finding(R.LIFECYCLE_EXPIRES_AT, f"run.expires_at {expires} is not after run.created_at {created}",
                        where)]
    return []


def _check_last_error(run: Mapping[str, Any], status: str, where: str) -> list[Finding]:
    error = run.get("last_error")
    if status != "failed":
        if error is not None:
            return [Finding(R.LIFECYCLE_LAST_ERROR, f"run.last_error is {show(error)} while status is {show(status)}",
                            where)]
        return []
    if not is_mapping(error):
        return [Finding(R.LIFECYCLE_LAST_ERROR, f"run.last_error is {show(error)} while status is \"failed\"", where)]
    return [
        Finding(R.LIFECYCLE_LAST_ERROR, f"run.last_error.{key} is {show(error.get(key))}, expected a string", where)
        for key in ("code", "message")
        if not isinstance(error.get(key), str)
    ]


def _check_required_action(run: Mapping[str, Any], status: str, where: str) -> list[Finding]:
    action = run.get("required_action")
    if status != "requires_action":
        if action is not None:
            return [Finding(R.LIFECYCLE_REQUIRED_ACTION, f"run.required_action is {show(action)} while status is "
                            f"{show(status)}", where)]
        return []
    if not is_mapping(action):
        return [Finding(R.LIFECYCLE_REQUIRED_ACTION, f"run.required_action is {show(action)} while status is "
                        "\"requires_action\"", where)]
    if action.get("type") != "submit_tool_outputs":
        return [Finding(R.LIFECYCLE_REQUIRED_ACTION, f"run.required_action.type is {show(action.get('type'))}, "
                        "expected \"submit_tool_outputs\"", where)]
    submit = action.get("submit_tool_outputs")
    calls = submit.get("tool_calls") if is_mapping(submit) else None
    if not is_list(calls) or not calls:
        return [Finding(R.LIFECYCLE_REQUIRED_ACTION, "run.required_action.submit_tool_outputs.tool_calls is "
                        f"{show(calls)}, expected a non-empty list", where)]
    findings = []
    for index, call in enumerate(calls):
        if not is_mapping(call) or not isinstance(call.get("id"), str) or call.get("type") != "function":
            findings.append(Finding(R.LIFECYCLE_REQUIRED_ACTION, "run.required_action.submit_tool_outputs."
                                    f"tool_calls[{index}] is {show(call)}, expected {{id, type: function, ...}}",
                                    where))
    return findings


def _check_incomplete(run: Mapping[str, Any], status: str, where: str) -> list[Finding]:
    details = run.get("incomplete_details")
    if status == "incomplete" and not (is_mapping(details) and isinstance(details.get("reason"), str)):
        return [Finding(R.LIFECYCLE_INCOMPLETE_DETAILS, f"run.incomplete_details is {show(details)} while status "
                        "is \"incomplete\" (expected {reason})", where)]
    if status != "incomplete" and details is not None:
        return [Finding(R.LIFECYCLE_INCOMPLETE_DETAILS, f"run.incomplete_details is {show(details)} while status "
                        f"is {show(status)}", where)]
    return []


def check_usage_object(usage: Any, label: str, where: str = "") -> list[Finding]:
    """`usage` holds non-negative integer token counts with prompt + completion == total."""
    if not is_mapping(usage):
        return [Finding(R.LIFECYCLE_USAGE, f"{label} is {show(usage)}, expected an object", where)]
    counts = {key: usage.get(key) for key in ("prompt_tokens", "completion_tokens", "total_tokens")}
    bad = [key for key, value in counts.items() if not is_int(value) or value < 0]
    if bad:
        return [Finding(R.LIFECYCLE_USAGE, f"{label}.{key} is {show(counts[key])}, expected a non-negative integer",
                        where) for key in bad]
    prompt, completion, total = counts.values()
    if prompt + completion != total:  # type: ignore[operator]
        return [Finding(R.LIFECYCLE_USAGE, f"{label}: prompt_tokens {prompt} + completion_tokens {completion} != "
                        f"total_tokens {total}", where)]
    return []


def _check_usage(run: Mapping[str, Any], status: str, where: str) -> list[Finding]:
    usage = run.get("usage")
    if status in ACTIVE_STATUSES:
        if usage is not None:
            return [Finding(R.LIFECYCLE_USAGE, f"run.usage is {show(usage)} while status is {show(status)} "
                            "(null until terminal)", where)]
        return []
    if usage is None:
        # A run cancelled or expired before it ran may have nothing to report.
        if status in ("completed", "incomplete"):
            return [Finding(R.LIFECYCLE_USAGE, f"run.usage is null while status is {show(status)}", where)]
        return []
    return check_usage_object(usage, "run.usage", where)


def check_run(run: Mapping[str, Any], *, resumed: bool = False, where: str = "") -> list[Finding]:
    """Per-status field consistency of one run object.

    `resumed` says the run has already been through requires_action, so a queued run may carry
    the started_at of its first execution.
    """
    if not is_mapping(run):
        return [Finding(R.LIFECYCLE_STATUS, f"run is {show(run)}, expected an object", where)]
    status = run.get("status")
    if not isinstance(status, str) or status not in RUN_STATUSES:
        return [Finding(R.LIFECYCLE_STATUS, f"run.status is {show(status)}, expected one of "
                        f"{', '.join(sorted(RUN_STATUSES))}", where)]
    return [
        *_check_started(run, status, resumed, where),
        *_timestamp_iff(run, "completed_at", R.LIFECYCLE_COMPLETED_AT, status, "completed", where),
        *_timestamp_iff(run, "failed_at", R.LIFECYCLE_FAILED_AT, status, "failed", where),
        *_timestamp_iff(run, "cancelled_at", R.LIFECYCLE_CANCELLED_AT, status, "cancelled", where),
        *_check_expires(run, status, where),
        *_check_last_error(run, status, where),
        *_check_required_action(run, status, where),
        *_check_incomplete(run, status, where),
        *_check_usage(run, status, where),
    ]


def check_run_history(snapshots: Sequence[Mapping[str, Any]], where: str = "") -> list[Finding]:
    """A polled sequence of the same run: each snapshot consistent, the walk legal, identity and
    terminal timestamps stable, nothing changes once terminal."""
    findings: list[Finding] = []
    resumed = False
    for index, run in enumerate(snapshots):
        place = f"{where} poll {index}".strip()
        findings.extend(check_run(run, resumed=resumed, where=place))
        resumed = resumed or (is_mapping(run) and run.get("status") == "requires_action")
    runs = [run for run in snapshots if is_mapping(run)]
    findings.extend(check_status_walk([run["status"] for run in runs if run.get("status") in RUN_STATUSES], where))
    findings.extend(_check_requeued(runs, where))
    for index, (before, after) in enumerate(pairwise(runs), start=1):
        place = f"{where} poll {index}".strip()
        for key in STABLE_FIELDS:
            if before.get(key) != after.get(key):
                findings.append(Finding(R.LIFECYCLE_STABLE_FIELDS, f"run.{key} changed from {show(before.get(key))} "
                                        f"to {show(after.get(key))}", place))
        for key, rule in _STICKY_TIMESTAMPS.items():
            if before.get(key) is not None and before.get(key) != after.get(key):
                findings.append(Finding(rule, f"run.{key} changed from {show(before.get(key))} to "
                                        f"{show(after.get(key))} once set", place))
        ended = before.get("status") in TERMINAL_STATUSES and before.get("status") == after.get("status")
        if ended and before.get("usage") != after.get("usage"):
            findings.append(Finding(R.LIFECYCLE_USAGE, f"run.usage changed from {show(before.get('usage'))} to "
                                    f"{show(after.get('usage'))} after the run ended", place))
    return findings


def _has_function_tool(run: Mapping[str, Any]) -> bool | None:
    """Whether the run can call a function; None when the snapshot does not say (no `tools` list)."""
    tools = run.get("tools")
    if not is_list(tools):
        return None
    return any(is_mapping(tool) and tool.get("type") == "function" for tool in tools)


def _check_requeued(runs: Sequence[Mapping[str, Any]], where: str) -> list[Finding]:
    """Back to queued only through requires_action, which needs a function tool.

    The status walk lets `in_progress -> queued` pass as a requires_action the polls may have
    missed; a run whose snapshots list no function tool can never wait for tool outputs, so for
    it the step back is illegal. Snapshots without a `tools` list are not judged."""
    findings: list[Finding] = []
    for index, (before, after) in enumerate(pairwise(runs), start=1):
        came_from = before.get("status")
        if after.get("status") != "queued" or came_from in ("queued", "requires_action") \
                or came_from not in RUN_STATUSES or came_from in TERMINAL_STATUSES:
            continue  # terminal -> queued is lifecycle.terminal_absorbing, reported by the walk
        if _has_function_tool(before) is False and _has_function_tool(after) is False:
            findings.append(Finding(
                R.LIFECYCLE_TRANSITION,
                f"poll {index}: run.status went from {show(came_from)} back to \"queued\", but the run has no "
                "function tool, so it never waits in requires_action and cannot be queued again",
                f"{where} poll {index}".strip()))
    return findings


def check_steps(
    run: Mapping[str, Any],
    steps: Sequence[Mapping[str, Any]],
    *,
    message_ids: Collection[str] | None = None,
    where: str = "",
) -> list[Finding]:
    """A run's steps agree with the run: ids, message references, terminal status, usage sum.

    `message_ids`, when given, are the ids of the thread's messages that message-creation steps
    must reference.
    """
    findings: list[Finding] = []
    for index, step in enumerate(steps):
        label = f"steps[{index}]"
        if not is_mapping(step):
            findings.append(Finding(R.LIFECYCLE_STEPS_CONSISTENT, f"{label} is {show(step)}, expected an object",
                                    where))
            continue
        for step_key, run_key in (("run_id", "id"), ("thread_id", "thread_id"), ("assistant_id", "assistant_id")):
            if step.get(step_key) != run.get(run_key):
                findings.append(Finding(R.LIFECYCLE_STEPS_CONSISTENT, f"{label}.{step_key} is "
                                        f"{show(step.get(step_key))} but run.{run_key} is {show(run.get(run_key))}",
                                        where))
        findings.extend(_check_step_details(step, label, message_ids, where))
        if run.get("status") in TERMINAL_STATUSES and step.get("status") in ("in_progress", None):
            findings.append(Finding(R.LIFECYCLE_STEPS_CONSISTENT, f"{label}.status is {show(step.get('status'))} "
                                    f"while run.status is {show(run.get('status'))}", where))
    findings.extend(_check_usage_sum(run, steps, where))
    return findings


def _check_step_details(
    step: Mapping[str, Any], label: str, message_ids: Collection[str] | None, where: str
) -> list[Finding]:
    details = step.get("step_details")
    kind = step.get("type")
    if not is_mapping(details) or details.get("type") != kind:
        return [Finding(R.LIFECYCLE_STEPS_CONSISTENT, f"{label}.step_details is {show(details)} but "
                        f"{label}.type is {show(kind)}", where)]
    if kind != "message_creation":
        return []
    creation = details.get("message_creation")
    message_id = creation.get("message_id") if is_mapping(creation) else None
    if not isinstance(message_id, str) or not message_id:
        return [Finding(R.LIFECYCLE_STEPS_CONSISTENT, f"{label}.step_details.message_creation.message_id is "
                        f"{show(message_id)}, expected a message id", where)]
    if message_ids is not None and message_id not in message_ids:
        return [Finding(R.LIFECYCLE_STEPS_CONSISTENT, f"{label}.step_details.message_creation.message_id "
                        f"{show(message_id)} is not a message of the thread", where)]
    return []


def _check_usage_sum(run: Mapping[str, Any], steps: Sequence[Mapping[str, Any]], where: str) -> list[Finding]:
    usage = run.get("usage")
    usages = [step.get("usage") for step in steps if is_mapping(step)]
    step_usages = [u for u in usages if is_mapping(u)]
    # Only comparable when the run reports usage and every step carries its own.
    if not is_mapping(usage) or not usages or len(step_usages) != len(usages):
        return []
    findings = []
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        parts = [u.get(key) for u in step_usages]
        counts = [p for p in parts if is_int(p)]
        if len(counts) != len(parts):
            continue
        total = sum(counts)
        if usage.get(key) != total:
            findings.append(Finding(R.LIFECYCLE_USAGE, f"run.usage.{key} is {show(usage.get(key))} but its steps "
                                    f"add up to {total}", where))
    return findings
