"""The merged view of one build: records grouped into cells, areas and operations, with counts.

A *cell* is one (target, api-version) pair: a column of the matrix. Everything the HTML, the
Markdown and the history write is computed here once, so the three always agree.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from conformance.results import Outcome, RunInfo, TestRecord

# Outcomes in display order.
OUTCOMES: tuple[Outcome, ...] = (
    "passed", "failed", "xpassed", "error", "xfailed", "skipped", "unavailable",
)
# A known deviation that no longer happens is strict: it counts as a failure, like an error.
BAD: frozenset[str] = frozenset({"failed", "xpassed", "error"})
# Outcomes that measured the target; skipped and unavailable say nothing about compatibility.
MEASURED: frozenset[str] = frozenset({"passed", "failed", "xpassed", "error", "xfailed"})

Status = Literal["fail", "deviation", "pass", "partial", "none"]


@dataclass(frozen=True, order=True)
class Cell:
    target: str
    api_version: str

    @property
    def label(self) -> str:
        return f"{self.target} · {self.api_version}"


@dataclass
class Counts:
    by_outcome: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: str) -> None:
        self.by_outcome[outcome] += 1

    def __getitem__(self, outcome: str) -> int:
        return self.by_outcome.get(outcome, 0)

    @property
    def total(self) -> int:
        return sum(self.by_outcome.values())

    @property
    def bad(self) -> int:
        return sum(self[o] for o in BAD)

    @property
    def measured(self) -> int:
        return sum(self[o] for o in MEASURED)

    @property
    def pass_rate(self) -> float | None:
        """passed / measured; known deviations count against the rate (the target does differ)."""
        return self["passed"] / self.measured if self.measured else None

    @property
    def status(self) -> Status:
        if self.bad:
            return "fail"
        if self["xfailed"]:
            return "deviation"
        if not self["passed"]:
            return "none"
        return "partial" if self["unavailable"] else "pass"

    def as_dict(self) -> dict[str, int]:
        return {o: self[o] for o in OUTCOMES}


def test_key(target: str, api_version: str, test_id: str) -> str:
    """Identity of a test across builds: the same id on another target or api-version is another test."""
    return f"{target}\t{api_version}\t{test_id}"


def record_key(record: TestRecord) -> str:
    return test_key(record.target, record.api_version, record.id)


def operations_of(record: TestRecord) -> list[str]:
    ops = [record.operation] if record.operation else []
    return ops + [o for o in record.operations if o and o not in ops]


@dataclass
class Build:
    """Merged records (already de-duplicated) and the runs they came from."""

    records: list[TestRecord]
    runs: list[RunInfo]

    @cached_property
    def cells(self) -> list[Cell]:
        return sorted({Cell(r.target, r.api_version) for r in self.records})

    @cached_property
    def areas(self) -> list[str]:
        return sorted({r.area or "(none)" for r in self.records})

    @property
    def run_ids(self) -> list[str]:
        ids = {r.run_id for r in self.runs} | {r.run_id for r in self.records}
        return sorted(i for i in ids if i)

    @property
    def finished_at(self) -> str:
        stamps = [r.finished_at or r.started_at for r in self.runs]
        return max((s for s in stamps if s), default="")

    def counts(self, cell: Cell | None = None, area: str | None = None,
               operation: str | None = None) -> Counts:
        """Counts of the records in `cell` / `area` / `operation` (None: any)."""
        return self._counts.get((cell, area, operation), Counts())

    @cached_property
    def _counts(self) -> dict[tuple[Cell | None, str | None, str | None], Counts]:
        # One pass over the records for every (cell?, area?, operation?) combination the page asks for.
        index: dict[tuple[Cell | None, str | None, str | None], Counts] = {}
        for record in self.records:
            cell = Cell(record.target, record.api_version)
            area, op = record.area or "(none)", record.operation or "(several)"
            for key in itertools.product((cell, None), (area, None), (op, None)):
                counts = index.get(key)
                if counts is None:
                    counts = index[key] = Counts()
                counts.add(record.outcome)
        return index

    @cached_property
    def groups(self) -> dict[tuple[Cell, str], list[TestRecord]]:
        """Records per (cell, area), in record order."""
        groups: dict[tuple[Cell, str], list[TestRecord]] = {}
        for record in self.records:
            groups.setdefault((Cell(record.target, record.api_version), record.area or "(none)"), []).append(record)
        return groups

    def operations_in(self, area: str) -> list[str]:
        return sorted({r.operation or "(several)" for r in self.records if (r.area or "(none)") == area})

    def cost(self) -> tuple[int, int]:
        """(requests, tokens): a run's RunInfo total where it reports one, else the sum of its records."""
        totals = []
        for name in ("requests", "tokens"):
            reported = {r.run_id for r in self.runs if getattr(r, name)}
            from_runs = sum(getattr(r, name) for r in self.runs if r.run_id in reported)
            from_records = sum(getattr(r, name) for r in self.records if r.run_id not in reported)
            totals.append(from_runs + from_records)
        return totals[0], totals[1]
