"""File-batch cancel invariant (crud.batch_cancelled): good and bad minimal inputs."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.findings import errors
from conformance.invariants import RULES, check_batch_cancel, check_batch_counts
from conformance.invariants import rules as R


def batch(status: str, **counts: int) -> dict[str, Any]:
    file_counts = {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0, **counts}
    file_counts["total"] = counts.get("total", sum(file_counts.values()))
    return {"id": "vsfb_1", "object": "vector_store.files_batch", "status": status, "file_counts": file_counts}


def rules(findings: list[Any]) -> set[str]:
    return {f.rule for f in findings}


def test_rule_is_catalogued() -> None:
    assert R.CRUD_BATCH_CANCELLED in RULES


@pytest.mark.parametrize("answer", ["cancelling", "cancelled"])
def test_cancel_that_settles_cancelled_passes(answer: str) -> None:
    assert check_batch_cancel(batch(answer, in_progress=2, completed=1), batch("cancelled", completed=1, cancelled=2),
                              batch_id="vsfb_1") == []


@pytest.mark.parametrize(("answer", "settled", "needle"), [
    (batch("in_progress", in_progress=3), batch("cancelled", cancelled=3), "cancel answered"),
    (batch("cancelling", in_progress=3), batch("completed", completed=3), "settled as"),
    (batch("cancelling", in_progress=3), batch("cancelled", in_progress=1, cancelled=2), "in progress"),
    (batch("cancelling", in_progress=3), batch("cancelled", cancelled=2, total=3), "add up to 2"),
])
def test_bad_cancel_is_a_finding(answer: dict[str, Any], settled: dict[str, Any], needle: str) -> None:
    findings = check_batch_cancel(answer, settled, batch_id="vsfb_1")
    assert rules(findings) == {R.CRUD_BATCH_CANCELLED}
    assert any(needle in f.message for f in findings), [f.message for f in findings]


def test_other_batch_or_not_an_object_is_a_finding() -> None:
    other = {**batch("cancelled", cancelled=1), "id": "vsfb_2"}
    assert rules(check_batch_cancel(batch("cancelling", in_progress=1), other, batch_id="vsfb_1")) == {
        R.CRUD_BATCH_CANCELLED}
    assert rules(check_batch_cancel("oops", batch("cancelled"))) == {R.CRUD_BATCH_CANCELLED}  # type: ignore[arg-type]


@pytest.mark.parametrize("counts", [None, {"in_progress": 0, "completed": -1, "failed": 0, "cancelled": 0, "total": 0},
                                    {"in_progress": True, "completed": 0, "failed": 0, "cancelled": 0, "total": 1}])
def test_malformed_counts_are_findings(counts: Any) -> None:
    assert rules(check_batch_counts({"file_counts": counts})) == {R.CRUD_BATCH_CANCELLED}


@given(st.lists(st.integers(min_value=0, max_value=50), min_size=4, max_size=4), st.integers(-3, 3))
def test_counts_add_up_exactly(parts: list[int], delta: int) -> None:
    counts = dict(zip(("in_progress", "completed", "failed", "cancelled"), parts, strict=True))
    findings = check_batch_counts({"file_counts": {**counts, "total": sum(parts) + delta}})
    assert (findings == []) == (delta == 0)
    errors(findings)  # Finding objects, usable by require()
