"""Vector store file batches: what a cancel must answer and where the batch must settle.

A cancel answers the batch as `cancelling` (or already `cancelled`); once settled it is
`cancelled`, no file is still in progress, and the file counts add up to the total. A batch that
finished before the cancel arrived (`completed` / `failed`) is the caller's business: the cancel
came too late, which is no rule broken.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.findings import Finding
from conformance.invariants import rules as R
from conformance.invariants._common import is_int, is_mapping, show

COUNT_KEYS = ("in_progress", "completed", "failed", "cancelled")
CANCEL_ANSWERS = frozenset({"cancelling", "cancelled"})


def _finding(message: str, where: str) -> Finding:
    return Finding(R.CRUD_BATCH_CANCELLED, message, where)


def check_batch_counts(batch: Mapping[str, Any], where: str = "") -> list[Finding]:
    """`file_counts` holds non-negative integers and in_progress + completed + failed + cancelled == total."""
    counts = batch.get("file_counts")
    if not is_mapping(counts):
        return [_finding(f"batch.file_counts is {show(counts)}, expected an object", where)]
    bad = [key for key in (*COUNT_KEYS, "total") if not is_int(counts.get(key)) or counts[key] < 0]
    if bad:
        return [_finding(f"batch.file_counts.{key} is {show(counts.get(key))}, expected a non-negative integer",
                         where) for key in bad]
    parts = sum(int(counts[key]) for key in COUNT_KEYS)
    if parts != counts["total"]:
        return [_finding(f"batch.file_counts add up to {parts} but total is {counts['total']}", where)]
    return []


def check_batch_cancel(
    answer: Mapping[str, Any],
    settled: Mapping[str, Any],
    *,
    batch_id: str | None = None,
    where: str = "",
) -> list[Finding]:
    """The cancel's answer and the batch read once it stopped changing.

    `batch_id`, when given, is the id of the batch that was cancelled: both objects must name it."""
    findings: list[Finding] = []
    for label, batch in (("cancel answer", answer), ("settled batch", settled)):
        if not is_mapping(batch):
            findings.append(_finding(f"{label} is {show(batch)}, expected a batch object", where))
            continue
        if batch_id is not None and batch.get("id") != batch_id:
            findings.append(_finding(f"{label}.id is {show(batch.get('id'))}, the cancelled batch is "
                                     f"{show(batch_id)}", where))
    if findings:
        return findings
    if answer.get("status") not in CANCEL_ANSWERS:
        findings.append(_finding(f"the cancel answered status {show(answer.get('status'))}, expected "
                                 "\"cancelling\" or \"cancelled\"", where))
    if settled.get("status") != "cancelled":
        findings.append(_finding(f"the cancelled batch settled as {show(settled.get('status'))}, expected "
                                 "\"cancelled\"", where))
    findings.extend(check_batch_counts(settled, where))
    counts = settled.get("file_counts")
    if is_mapping(counts) and is_int(counts.get("in_progress")) and counts["in_progress"] > 0:
        findings.append(_finding(f"the cancelled batch still counts {counts['in_progress']} file(s) in "
                                 "progress", where))
    return findings
