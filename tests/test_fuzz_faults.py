"""The fuzzer catches every schema-level and error-level fault switch of the emulator: with the fault
on, at least one fuzz test fails naming the rule the fault breaks.

One child fuzz run per fault (one api-version, small budget), a few at a time, started together the
first time a case needs a result.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz_runner import FuzzRun, run_fuzz
from suite_runner import ChildPool, pool_for_module

from conformance.emulator.faults import FAULTS
from conformance.versions import DEFAULT_API_VERSION

pytestmark = [pytest.mark.slow]

FAULT_NAMES = sorted(name for name, fault in FAULTS.items() if fault.area in {"schema", "errors"})
# Fault -> the operations it shows on (as the suite's fault test picks areas): keeps each child short.
OPERATIONS: dict[str, str] = {
    "error_flat_envelope": "Assistant",
    "unknown_id_400": "Get_Assistant or Get_Thread or Get_Vector_Store",
    "content_filter_no_innererror": "ChatCompletions_Create",
    "auth_not_enforced": "Assistant",
    "api_version_unchecked": "Assistant",
    "bad_request_accepted": "Create_Assistant or ChatCompletions_Create or List_Assistants",
    "schema_missing_required": "Assistant or Thread",
    "schema_wrong_type": "Assistant or Thread",
    "schema_wrong_object": "Assistant or Thread",
}
PARALLEL = 3
SEED = 7
BUDGET = 4  # few operations per child (see OPERATIONS), so a budget that finds each fault is cheap


@pytest.fixture(scope="module")
def fault_runs(request: pytest.FixtureRequest) -> Iterator[ChildPool[str]]:
    with tempfile.TemporaryDirectory(prefix="aoai-fault-fuzz-") as workdir:

        def run(name: str) -> FuzzRun:
            args = ["--api-version", DEFAULT_API_VERSION, "--fuzz-budget", str(BUDGET), "--seed", str(SEED),
                    "--emulator-fault", name, "-k", f"test_fuzz and ({OPERATIONS.get(name, 'test_fuzz')})"]
            return run_fuzz(Path(workdir) / name, args, timeout=300)

        with pool_for_module(request, run, "fault", PARALLEL) as pool:
            yield pool


def test_the_catalogue_has_schema_and_error_faults() -> None:
    assert {FAULTS[n].area for n in FAULT_NAMES} == {"schema", "errors"}
    assert set(OPERATIONS) <= set(FAULT_NAMES)  # a new fault runs on every operation until mapped


@pytest.mark.parametrize("fault", FAULT_NAMES)
def test_fuzzer_reports_the_fault(fault: str, fault_runs: ChildPool[str]) -> None:
    run = fault_runs.result(fault)
    failed = [r for r in run.records if r.outcome == "failed"]
    assert failed, f"no fuzz test failed with {fault} on:\n{run.tail()}"
    rule = FAULTS[fault].breaks
    naming = [r for r in failed if rule in r.rules]
    assert naming, f"{fault}: failures name {sorted({x for r in failed for x in r.rules})}, not {rule}"
    # Every failure is reproducible: the seed and the request (as curl, no credential) are recorded.
    for record in naming:
        assert record.seed == SEED and record.request.startswith("curl "), record
        assert "emulator-key" not in record.request and "emulator-key" not in record.message
