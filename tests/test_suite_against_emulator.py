"""The whole hand-written suite passes against the clean emulator, for every api-version, within its
time budget, and writes a results file a report can be built from."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from suite_runner import SuiteRun, run_suite

from conformance.harness.recorder import AREAS
from conformance.spec import load_contract
from conformance.versions import API_VERSIONS

pytestmark = [pytest.mark.slow]

BUDGET_SECONDS = 60.0  # the suite's promise: both api-versions with -n 2 in under a minute


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SuiteRun, float]]:
    report_dir: Path = tmp_path_factory.mktemp("suite-report")
    started = time.monotonic()
    run = run_suite(report_dir, ["-n", "2", "--api-version", "all"])
    yield run, time.monotonic() - started


def test_suite_passes_against_clean_emulator(clean_run: tuple[SuiteRun, float]) -> None:
    run, _ = clean_run
    bad = [f"{r.id}: {r.outcome}: {r.message[:200]}" for r in run.records if r.outcome in ("failed", "error", "xpassed")]
    assert run.returncode == 0 and not bad, (
        f"the suite failed against the clean emulator (exit {run.returncode}):\n" + "\n".join(bad or [run.tail()])
    )


def test_suite_finishes_within_budget(clean_run: tuple[SuiteRun, float]) -> None:
    _, seconds = clean_run
    assert seconds < BUDGET_SECONDS, f"the suite took {seconds:.0f} s for all api-versions, budget {BUDGET_SECONDS:.0f} s"


def test_suite_records_cover_every_version_and_area(clean_run: tuple[SuiteRun, float]) -> None:
    run, _ = clean_run
    assert run.records, f"no results were written:\n{run.tail()}"
    versions: dict[str, set[str]] = defaultdict(set)
    for record in run.records:
        versions[record.id.split("[", 1)[0]].add(record.api_version)
    partial = {test: sorted(seen) for test, seen in versions.items() if seen != set(API_VERSIONS)}
    assert not partial, f"tests not recorded once per api-version {list(API_VERSIONS)}: {partial}"
    areas = {record.area for record in run.records}
    assert not areas - set(AREAS), f"records with unknown areas: {sorted(areas - set(AREAS))}"
    expected = {"crud", "lifecycle", "pagination", "streaming", "content_filter", "errors"}
    assert expected <= areas, f"areas missing from the results: {sorted(expected - areas)}"


def test_suite_records_name_the_target_and_versions(clean_run: tuple[SuiteRun, float]) -> None:
    run, _ = clean_run
    targets = {r.target for r in run.records}
    assert targets == {"emulator"}, f"records name targets {sorted(targets)}, expected the emulator"
    assert run.info is not None and run.info.target == "emulator", f"run.json names {run.info.target if run.info else None!r}"
    assert run.info is not None and sorted(run.info.api_versions) == sorted(API_VERSIONS), (
        f"run.json lists api-versions {run.info.api_versions if run.info else None}"
    )


def test_suite_records_name_the_operations_they_test(clean_run: tuple[SuiteRun, float]) -> None:
    run, _ = clean_run
    problems = []
    for record in run.records:
        if record.outcome != "passed":
            continue
        known = {op.operation_id for op in load_contract(record.api_version).operations}
        if record.operation and record.operation not in known:
            problems.append(f"{record.id}: operation {record.operation!r} is not in the contract")
        elif record.operation and record.operation not in record.operations:
            problems.append(f"{record.id}: marked {record.operation!r} but called only {record.operations}")
        if record.requests <= 0:
            problems.append(f"{record.id}: passed without sending a request")
    assert not problems, "results records that do not describe their test:\n" + "\n".join(problems)
