"""Turn pytest reports into `TestRecord`s and a per-area console summary."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance.results import Outcome, TestRecord

AREAS: tuple[str, ...] = (
    "crud", "lifecycle", "pagination", "streaming", "content_filter", "errors", "versions", "inference", "fuzz",
)
USER_PROPERTY = "aoai"


@dataclass
class _Pending:
    props: dict[str, Any] = field(default_factory=dict)
    outcome: Outcome | None = None
    message: str = ""
    duration: float = 0.0


def _first_line(text: str, limit: int = 2000) -> str:
    return text.strip()[:limit]


def _message(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    if hasattr(report, "wasxfail") and report.skipped:
        return str(report.wasxfail)
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return _first_line(str(crash.message))
    return _first_line(report.longreprtext or "")


class Recorder:
    """Collects reports (on the xdist controller or a plain session) into records."""

    def __init__(self, target: str, run_id: str) -> None:
        self.target = target
        self.run_id = run_id
        self._pending: dict[str, _Pending] = {}
        self._abandoned: set[str] = set()  # node ids whose current attempt was handed to a rerun
        self.records: list[TestRecord] = []
        self.started_at = ""

    def add(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties).get(USER_PROPERTY)
        if props is None:
            return  # not a conformance test
        if report.outcome == "rerun":  # type: ignore[comparison-overlap]  # pytest-rerunfailures
            # the attempt that follows decides; the rest of this attempt's reports are not a verdict
            self._pending.pop(report.nodeid, None)
            self._abandoned.add(report.nodeid)
            return
        if report.when == "setup":
            self._abandoned.discard(report.nodeid)
        elif report.nodeid in self._abandoned:
            if report.when == "teardown":
                self._abandoned.discard(report.nodeid)
            return
        entry = self._pending.setdefault(report.nodeid, _Pending())
        entry.props = json.loads(str(props))
        entry.duration += report.duration
        if report.when == "setup":
            if report.failed:
                entry.outcome, entry.message = "error", _message(report)
            elif report.skipped:
                entry.outcome = "xfailed" if hasattr(report, "wasxfail") else "skipped"
                entry.message = _message(report)
        elif report.when == "call":
            if hasattr(report, "wasxfail"):
                entry.outcome = "xfailed" if report.skipped else "xpassed"
                entry.message = str(report.wasxfail) if report.skipped else f"known deviation no longer seen: {report.wasxfail}"
            elif report.failed:
                entry.outcome, entry.message = "failed", _message(report)
            elif report.skipped:
                entry.outcome, entry.message = "skipped", _message(report)
            else:
                entry.outcome = "passed"
        elif report.when == "teardown":
            if report.failed and entry.outcome in (None, "passed"):
                entry.outcome, entry.message = "error", _message(report)
            self._finish(report.nodeid)

    def _finish(self, nodeid: str) -> None:
        entry = self._pending.pop(nodeid)
        props = entry.props
        if props.get("unavailable") and entry.outcome in ("failed", "error"):
            entry.outcome = "unavailable"
        self.records.append(
            TestRecord(
                id=str(props.get("id", nodeid)),
                area=str(props.get("area", "other")),
                operation=str(props.get("operation", "")),
                api_version=str(props.get("api_version", "")),
                target=self.target,
                outcome=entry.outcome or "error",
                duration=round(entry.duration, 4),
                message=entry.message,
                rules=list(props.get("rules", [])),
                kind=props.get("kind", "suite"),
                run_id=self.run_id,
                seed=props.get("seed"),
                request=str(props.get("request", "")),
                response=str(props.get("response", "")),
                operations=list(props.get("operations", [])),
                requests=int(props.get("requests", 0)),
                tokens=int(props.get("tokens", 0)),
            )
        )

    def summary_lines(self) -> list[str]:
        table: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        for record in self.records:
            table[(record.area, record.api_version)][record.outcome] += 1
        lines = []
        for (area, version), counts in sorted(table.items()):
            parts = ", ".join(f"{counts[o]} {o}" for o in ("passed", "failed", "xfailed", "xpassed", "error", "skipped", "unavailable") if counts[o])
            lines.append(f"{area:<15} {version:<20} {parts}")
        return lines
