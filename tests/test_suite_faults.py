"""The suite's checks work: for every fault in the emulator's catalogue, the suite restricted to the
fault's area fails at least one test with a message naming the rule the fault breaks.

One child pytest per fault (one api-version, one area), stopped at the first failure that names
the rule. They are started together, a few at a time, the first time any case needs a result;
each parametrized case then reads its own.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from suite_runner import SuiteRun, run_suite

from conformance import results
from conformance.emulator.faults import FAULTS, Fault
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


class FaultRuns:
    """Child suite runs keyed by fault name, started lazily and shared by the parametrized cases."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._pool = ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="fault-suite")
        self._futures: dict[str, Future[SuiteRun]] = {}
        self._lock = threading.Lock()

    def start(self, names: list[str]) -> None:
        with self._lock:
            for name in names:
                if name not in self._futures:
                    self._futures[name] = self._pool.submit(self._run, FAULTS[name])

    def result(self, name: str) -> SuiteRun:
        self.start([name])
        return self._futures[name].result()

    def _run(self, fault: Fault) -> SuiteRun:
        args = ["-m", AREA_MARKERS[fault.area], "--api-version", DEFAULT_API_VERSION, "--emulator-fault", fault.name]
        return run_suite(self.workdir / fault.name, args, timeout=CHILD_TIMEOUT, stop_on_rule=fault.breaks)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def fault_runs(request: pytest.FixtureRequest) -> Iterator[FaultRuns]:
    with tempfile.TemporaryDirectory(prefix="aoai-fault-suite-") as workdir:
        runs = FaultRuns(Path(workdir))
        if not hasattr(request.config, "workerinput"):
            # Start every selected case's child at once; under xdist each case starts its own.
            selected = [item.callspec.params["fault"] for item in request.session.items
                        if item.module is request.module and hasattr(item, "callspec")]
            runs.start(selected)
        try:
            yield runs
        finally:
            runs.close()


def _caught_by(records: list[results.TestRecord], rule: str) -> list[results.TestRecord]:
    return [r for r in records if r.outcome in ("failed", "error") and (rule in r.rules or rule in r.message)]


def test_every_fault_area_has_suite_markers() -> None:
    missing = sorted({fault.area for fault in FAULTS.values()} - AREA_MARKERS.keys())
    assert not missing, f"fault areas without suite markers to run: {missing}"


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_suite_catches_fault(fault: str, fault_runs: FaultRuns) -> None:
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
