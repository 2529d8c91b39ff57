"""Change detection between builds and the history file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conformance.report.changes import SNAPSHOT_FILE, Changes, update
from conformance.report.command import build_report
from conformance.report.demo import record, write_dir
from conformance.report.history import build_identity, read_history, record_build, summary_line
from conformance.report.load import ReportInputError, load_build
from conformance.report.model import Build, Cell


def _build(*records: object, run_id: str = "r1") -> Build:
    recs = [record(run_id=run_id, **r) for r in records]  # type: ignore[arg-type]
    return Build(recs, [])


def _update(path: Path, build: Build) -> Changes:
    return update(path, build, build_identity(build), "2026-11-22T00:00:00Z")


def test_first_build_has_nothing_to_compare(tmp_path: Path) -> None:
    changes = _update(tmp_path / SNAPSHOT_FILE, _build({"id": "a"}))
    assert changes.previous == ""


def test_newly_failing_passing_new_removed(tmp_path: Path) -> None:
    store = tmp_path / SNAPSHOT_FILE
    _update(store, _build({"id": "a"}, {"id": "b", "outcome": "failed"}, {"id": "c"}, {"id": "gone"},
                          {"id": "d", "outcome": "xfailed"}, run_id="r1"))
    changes = _update(store, _build({"id": "a", "outcome": "failed"}, {"id": "b"}, {"id": "c"},
                                    {"id": "fresh", "outcome": "skipped"}, {"id": "d", "outcome": "xpassed"},
                                    run_id="r2"))
    assert changes.previous == "r1"
    assert [c.test_id for c in changes.newly_failing] == ["a", "d"]
    assert [(c.test_id, c.before) for c in changes.newly_passing] == [("b", "failed")]
    assert [(c.test_id, c.after) for c in changes.new] == [("fresh", "skipped")]
    assert [c.test_id for c in changes.removed] == ["gone"]
    assert changes.other == []


def test_unchanged_build_reports_no_changes(tmp_path: Path) -> None:
    store = tmp_path / SNAPSHOT_FILE
    _update(store, _build({"id": "a"}, run_id="r1"))
    changes = _update(store, _build({"id": "a"}, run_id="r2"))
    assert changes.empty


def test_rebuilding_the_same_runs_keeps_the_same_change_list(tmp_path: Path) -> None:
    store = tmp_path / SNAPSHOT_FILE
    _update(store, _build({"id": "a"}, run_id="r1"))
    first = _update(store, _build({"id": "a", "outcome": "failed"}, run_id="r2"))
    again = _update(store, _build({"id": "a", "outcome": "failed"}, run_id="r2"))
    assert [c.test_id for c in first.newly_failing] == ["a"]
    assert again.newly_failing == first.newly_failing
    assert again.previous == "r1"


def test_missing_target_is_not_a_flood_of_removed_tests(tmp_path: Path) -> None:
    store = tmp_path / SNAPSHOT_FILE
    _update(store, _build({"id": "a"}, {"id": "a", "target": "live", "outcome": "failed"}, run_id="r1"))
    changes = _update(store, _build({"id": "a"}, run_id="r2"))
    assert changes.removed == []
    assert changes.missing_cells == [Cell("live", "2024-08-01-preview")]
    # live's outcomes are carried forward: when it comes back passing, that is a change.
    back = _update(store, _build({"id": "a"}, {"id": "a", "target": "live"}, run_id="r3"))
    assert [(c.cell.target, c.before) for c in back.newly_passing] == [("live", "failed")]


def test_corrupt_snapshot_is_a_clear_error(tmp_path: Path) -> None:
    store = tmp_path / SNAPSHOT_FILE
    store.write_text("{not json", encoding="utf-8")
    with pytest.raises(ReportInputError, match=r"last-results\.json: not valid JSON; delete it"):
        _update(store, _build({"id": "a"}))


def test_history_appends_one_line_per_build_and_replaces_on_rebuild(tmp_path: Path) -> None:
    history = tmp_path / "h" / "history.jsonl"
    b1 = _build({"id": "a"}, {"id": "b", "outcome": "failed"}, {"id": "c", "area": "streaming", "outcome": "skipped"},
                run_id="r1")
    record_build(history, summary_line(b1, "2026-11-21T00:00:00Z"))
    b2 = _build({"id": "a"}, {"id": "b"}, run_id="r2")
    record_build(history, summary_line(b2, "2026-11-22T00:00:00Z"))
    record_build(history, summary_line(b2, "2026-11-22T00:05:00Z"))  # same runs rebuilt
    lines = read_history(history)
    assert [line["build"] for line in lines] == ["r1", "r2"]
    assert lines[-1]["built_at"] == "2026-11-22T00:05:00Z"
    crud = next(c for c in lines[0]["cells"] if c["area"] == "crud")
    assert crud["counts"]["passed"] == 1 and crud["counts"]["failed"] == 1
    assert crud["pass_rate"] == 0.5
    streaming = next(c for c in lines[0]["cells"] if c["area"] == "streaming")
    assert streaming["pass_rate"] is None  # skipped only: nothing measured
    assert len(history.read_text().splitlines()) == 2


def test_history_line_without_trailing_newline_is_not_glued(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text(json.dumps({"build": "old", "cells": []}), encoding="utf-8")
    record_build(history, summary_line(_build({"id": "a"}), "2026-11-22T00:00:00Z"))
    assert [line["build"] for line in read_history(history)] == ["old", "r1"]


def test_corrupt_history_line_names_file_and_line(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text('{"build": "x", "cells": []}\n{oops\n', encoding="utf-8")
    with pytest.raises(ReportInputError, match=r"history\.jsonl:2: not a JSON line .*delete that line"):
        read_history(history)


def test_build_report_end_to_end_history_and_changes(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    write_dir(tmp_path / "b1", [record(id="a", run_id="n1"), record(id="b", run_id="n1")])
    write_dir(tmp_path / "b2", [record(id="a", run_id="n2", outcome="failed", rules=["pagination.first_id"]),
                                record(id="b", run_id="n2")])
    build_report([tmp_path / "b1"], tmp_path / "out", history)
    html = build_report([tmp_path / "b2"], tmp_path / "out", history).read_text(encoding="utf-8")
    assert len(read_history(history)) == 2
    section = html[html.index('id="changes"'):html.index('id="tests"')]
    assert "Newly failing (1)" in section
    link = re.search(r'<a href="#(r-\d+)">a</a>: passed → failed', section)
    assert link is not None and f'id="{link.group(1)}"' in html  # the change links to its test row
    summary = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert "**Newly failing** (1)" in summary
    assert load_build([tmp_path / "b2"]).run_ids == ["n2"]
