"""What changed since the previous build: per-test outcomes kept in ``last-results.json``.

The file beside the history holds two snapshots, `latest` (the last build) and `baseline` (the
one before it), each mapping "target<TAB>api-version<TAB>test id" to an outcome. A new build is
compared with `latest`; rebuilding the same runs is compared with `baseline`, so the change list
of a build stays the same however often its report is regenerated.

Only cells (target, api-version) present in this build are compared: a target whose job did not
run tonight is listed as missing, not as hundreds of removed tests, and its last outcomes are
carried forward for the next comparison.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.report.load import ReportInputError
from conformance.report.model import BAD, Build, Cell, record_key

SNAPSHOT_FILE = "last-results.json"


@dataclass
class Snapshot:
    build: str
    built_at: str
    outcomes: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {"build": self.build, "built_at": self.built_at, "outcomes": self.outcomes}


@dataclass
class Change:
    cell: Cell
    test_id: str
    before: str  # "" for a new test
    after: str  # "" for a removed test


@dataclass
class Changes:
    previous: str  # the build compared with, "" when there was none
    previous_at: str = ""
    newly_failing: list[Change] = field(default_factory=list)
    newly_passing: list[Change] = field(default_factory=list)
    other: list[Change] = field(default_factory=list)  # e.g. passed -> skipped, failed -> xfailed
    new: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)
    new_cells: list[Cell] = field(default_factory=list)
    missing_cells: list[Cell] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any((self.newly_failing, self.newly_passing, self.other, self.new, self.removed,
                        self.new_cells, self.missing_cells))


def snapshot_path(history: Path) -> Path:
    return history.parent / SNAPSHOT_FILE


def _split(key: str) -> tuple[Cell, str]:
    target, api_version, test_id = key.split("\t", 2)
    return Cell(target, api_version), test_id


def _read_snapshot(raw: Any, path: Path) -> Snapshot | None:
    if raw is None:
        return None
    ok = (isinstance(raw, dict) and isinstance(raw.get("outcomes"), dict)
          and all(isinstance(k, str) and k.count("\t") >= 2 and isinstance(v, str)
                  for k, v in raw["outcomes"].items()))
    if not ok:
        raise ReportInputError(f"{path}: not a report snapshot; delete it (the next report lists no changes)")
    return Snapshot(str(raw.get("build", "")), str(raw.get("built_at", "")), raw["outcomes"])


def load_snapshots(path: Path) -> tuple[Snapshot | None, Snapshot | None]:
    """(baseline, latest) from the file, each None when absent."""
    if not path.exists():
        return None, None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ReportInputError(
            f"{path}: not valid JSON; delete it (the next report lists no changes) or restore it from CI"
        ) from None
    if not isinstance(raw, dict):
        raise ReportInputError(f"{path}: not a report snapshot; delete it (the next report lists no changes)")
    return _read_snapshot(raw.get("baseline"), path), _read_snapshot(raw.get("latest"), path)


def outcomes_of(build: Build) -> dict[str, str]:
    return {record_key(r): r.outcome for r in build.records}


def compare(previous: Snapshot | None, build: Build) -> Changes:
    if previous is None:
        return Changes(previous="")
    changes = Changes(previous=previous.build, previous_at=previous.built_at)
    now = outcomes_of(build)
    cells_now = set(build.cells)
    cells_before = {_split(k)[0] for k in previous.outcomes}
    changes.new_cells = sorted(cells_now - cells_before)
    changes.missing_cells = sorted(cells_before - cells_now)
    for key in sorted(set(now) | set(previous.outcomes)):
        cell, test_id = _split(key)
        if cell in changes.new_cells or cell in changes.missing_cells:
            continue
        before, after = previous.outcomes.get(key, ""), now.get(key, "")
        change = Change(cell, test_id, before, after)
        if not before:
            changes.new.append(change)
        elif not after:
            changes.removed.append(change)
        elif before == after:
            continue
        elif after in BAD and before not in BAD:
            changes.newly_failing.append(change)
        elif after == "passed":
            changes.newly_passing.append(change)
        else:
            changes.other.append(change)
    return changes


def update(path: Path, build: Build, identity: str, built_at: str) -> Changes:
    """Compare `build` with the previous one recorded at `path`, then record `build` there."""
    baseline, latest = load_snapshots(path)
    rebuild = latest is not None and latest.build == identity
    previous = baseline if rebuild else latest
    changes = compare(previous, build)
    current = outcomes_of(build)
    if previous is not None:  # carry forward cells this build did not run
        cells_now = set(build.cells)
        for key, outcome in previous.outcomes.items():
            if _split(key)[0] not in cells_now:
                current[key] = outcome
    snapshot = {
        "baseline": previous.as_json() if previous else None,
        "latest": Snapshot(identity, built_at, current).as_json(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # No indent: with one, json falls back to its slow pure-Python encoder (seconds for 20k tests).
    path.write_text(json.dumps(snapshot, sort_keys=True) + "\n", encoding="utf-8")
    return changes
