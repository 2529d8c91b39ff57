"""The suite's checks work: for every fault in the emulator's catalogue, the suite restricted to the
fault's area fails at least one test with a message naming the rule the fault breaks.

One child pytest per fault (one api-version, one area), stopped at the first failure that names
the rule. They are started together, a few at a time, the first time any case needs a result;
each parametrized case then reads its own.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from suite_runner import ChildPool, SuiteRun, pool_for_module, run_suite

from conformance import results
from conformance.emulator.faults import FAULTS
from conformance.versions import DEFAULT_API_VERSION

pytestmark = [pytest.mark.slow]

# Fault area -> the suite markers whose tests exercise it. A schema fault shows in every answer the
# suite checks against the contract; the CRUD and lifecycle tests read the objects it corrupts.
AREA_MARKERS: dict[str, str] = {
    "lifecycle": "lifecycle",
    "pagination": "pagination",
    "streaming": "streaming",
    "errors": "errors or content_filter",
    "schema": "crud",
    "crud": "crud",
}
PARALLEL = 3  # children mostly wait on run pacing, so a few at a time fit on 2 cores
CHILD_TIMEOUT = 240.0


@pytest.fixture(scope="module")
def fault_runs(request: pytest.FixtureRequest) -> Iterator[ChildPool[str]]:
    with tempfile.TemporaryDirectory(prefix="aoai-fault-suite-") as workdir:

        def run(name: str) -> SuiteRun:
            fault = FAULTS[name]
            args = ["-m", AREA_MARKERS[fault.area], "--api-version", DEFAULT_API_VERSION, "--emulator-fault", name]
            return run_suite(Path(workdir) / name, args, timeout=CHILD_TIMEOUT, stop_on_rule=fault.breaks)

        with pool_for_module(request, run, "fault", PARALLEL) as pool:
            yield pool


def _caught_by(records: list[results.TestRecord], rule: str) -> list[results.TestRecord]:
    return [r for r in records if r.outcome in ("failed", "error") and (rule in r.rules or rule in r.message)]


def test_every_fault_area_has_suite_markers() -> None:
    missing = sorted({fault.area for fault in FAULTS.values()} - AREA_MARKERS.keys())
    assert not missing, f"fault areas without suite markers to run: {missing}"


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_suite_catches_fault(fault: str, fault_runs: ChildPool[str]) -> None:
    spec = FAULTS[fault]
    run = fault_runs.result(fault)
    assert run.records, f"the child suite wrote no results (exit {run.returncode}):\n{run.tail()}"
    caught = _caught_by(run.records, spec.breaks)
    failing = [f"{r.id}: {r.rules or r.message[:120]}" for r in run.records if r.outcome in ("failed", "error")]
    assert caught, (
        f"fault {fault} ({spec.description}) breaks {spec.breaks}, but no {AREA_MARKERS[spec.area]!r} test "
        f"reported it; {len(run.records)} tests ran in {run.seconds:.1f} s, failing: {failing or 'none'}"
    )
    print(f"{fault}: caught by {len(caught)} of {len(run.records)} tests in {run.seconds:.1f} s, e.g. {caught[0].id}")
