"""Merging results directories: shards, targets, api-versions, de-duplication, counts and colours."""

from __future__ import annotations

import itertools
from pathlib import Path

from conformance.report.demo import record, write_dir
from conformance.report.load import load_build, merge
from conformance.report.model import Build, Cell, Counts
from conformance.results import RunInfo


def test_shards_in_subfolders_merge(tmp_path: Path) -> None:
    write_dir(tmp_path / "job-a" / "shard-1", [record(id="t1"), record(id="t2", outcome="failed")])
    write_dir(tmp_path / "job-a" / "shard-2", [record(id="t3", outcome="skipped")])
    build = load_build([tmp_path])
    assert sorted(r.id for r in build.records) == ["t1", "t2", "t3"]
    counts = build.counts(Cell("emulator", "2024-08-01-preview"))
    assert (counts["passed"], counts["failed"], counts["skipped"]) == (1, 1, 1)


def test_several_result_dirs_are_all_read(tmp_path: Path) -> None:
    write_dir(tmp_path / "live", [record(id="t1", target="live")])
    write_dir(tmp_path / "emu", [record(id="t1", target="emulator")])
    build = load_build([tmp_path / "live", tmp_path / "emu"])
    assert build.cells == [Cell("emulator", "2024-08-01-preview"), Cell("live", "2024-08-01-preview")]


def test_same_id_on_other_target_or_version_is_another_cell() -> None:
    records = [record(id="t1"), record(id="t1", target="live"), record(id="t1", api_version="2024-05-01-preview")]
    merged = merge(records, [])
    assert len(merged) == 3
    assert len(Build(merged, []).cells) == 3


def test_duplicate_in_one_run_keeps_the_worse_outcome_whatever_the_order() -> None:
    dupes = [record(id="t1", outcome="passed"), record(id="t1", outcome="failed", message="boom"),
             record(id="t1", outcome="skipped")]
    results = {tuple((r.outcome, r.message) for r in merge(list(p), [])) for p in itertools.permutations(dupes)}
    assert results == {(("failed", "boom"),)}


def test_duplicate_with_equal_outcome_is_chosen_deterministically() -> None:
    a = record(id="t1", outcome="failed", message="first")
    b = record(id="t1", outcome="failed", message="second")
    assert merge([a, b], [])[0].message == merge([b, a], [])[0].message


def test_newer_run_supersedes_older_run_of_the_same_cell() -> None:
    runs = [RunInfo("old", "emulator", [], "2026-11-20T02:00:00Z", "2026-11-20T03:00:00Z"),
            RunInfo("new", "emulator", [], "2026-11-21T02:00:00Z", "2026-11-21T03:00:00Z")]
    old = record(id="t1", outcome="failed", run_id="old")
    new = record(id="t1", outcome="passed", run_id="new")
    assert merge([old, new], runs)[0].run_id == "new"
    assert merge([new, old], runs)[0].run_id == "new"


def test_run_id_filled_from_run_json(tmp_path: Path) -> None:
    run = RunInfo("nightly-7", "emulator", ["2024-08-01-preview"], "2026-11-21T02:00:00Z", requests=40, tokens=9)
    write_dir(tmp_path, [record(id="t1", run_id="", requests=3)], run)
    build = load_build([tmp_path])
    assert build.records[0].run_id == "nightly-7"
    assert build.run_ids == ["nightly-7"]
    assert build.cost() == (40, 9)  # the run file's totals win over the records' sum


def test_cost_falls_back_to_records_when_run_reports_none(tmp_path: Path) -> None:
    write_dir(tmp_path, [record(id="t1", requests=3, tokens=10), record(id="t2", requests=2, tokens=5)])
    assert load_build([tmp_path]).cost() == (5, 15)


def _counts(**outcomes: int) -> Counts:
    counts = Counts()
    for outcome, n in outcomes.items():
        for _ in range(n):
            counts.add(outcome)
    return counts


def test_cell_status_colours() -> None:
    assert _counts(passed=3, skipped=1).status == "pass"
    assert _counts(passed=3, failed=1, xfailed=1).status == "fail"
    assert _counts(passed=3, xpassed=1).status == "fail"  # a fixed known deviation is strict
    assert _counts(passed=3, error=1).status == "fail"
    assert _counts(passed=3, xfailed=2).status == "deviation"
    assert _counts(skipped=2, unavailable=1).status == "none"
    assert _counts(passed=2, unavailable=1).status == "partial"


def test_pass_rate_counts_deviations_but_not_skips() -> None:
    assert _counts(passed=3, xfailed=1, skipped=5, unavailable=2).pass_rate == 0.75
    assert _counts(skipped=2).pass_rate is None
