"""Findings: what every check in the project returns.

An invariant, a schema check or a traffic validator returns a list of `Finding`s; an empty list
means conforming. `rule` is a stable dotted id (e.g. ``pagination.first_id``) that fault switches,
expectations, reports and tests refer to; `message` names the offending field and value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "info"]


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    where: str = ""
    severity: Severity = "error"

    def __str__(self) -> str:
        place = f" at {self.where}" if self.where else ""
        return f"[{self.rule}]{place}: {self.message}"


class ConformanceError(AssertionError):
    """Raised by `require` when a check found non-conformance; pytest reports it as a failure."""

    def __init__(self, findings: list[Finding], context: str = "") -> None:
        self.findings = findings
        head = f"{context}: " if context else ""
        lines = "\n".join(f"  - {f}" for f in findings)
        super().__init__(f"{head}{len(findings)} conformance finding(s)\n{lines}")

    @property
    def rules(self) -> list[str]:
        return sorted({f.rule for f in self.findings})


def errors(findings: Iterable[Finding]) -> list[Finding]:
    """Only the findings that make a response non-conformant (not the informational ones)."""
    return [f for f in findings if f.severity == "error"]


def require(findings: Iterable[Finding], context: str = "") -> None:
    """Raise `ConformanceError` when any error-level finding is present."""
    bad = errors(findings)
    if bad:
        raise ConformanceError(bad, context)
