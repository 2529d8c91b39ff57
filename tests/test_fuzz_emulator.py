"""The fuzzer against the clean emulator: every operation of both api-versions fuzzed, zero failures,
no 500 to any generated input, one record per operation (kind fuzz, seed), test ids that name
their operations (the pytest 9.2 pitfall of issue 5)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz_runner import FuzzRun, run_fuzz

from conformance.spec import load_contract
from conformance.versions import API_VERSIONS

pytestmark = [pytest.mark.slow]

SEED = 20240801
BUDGET = 3  # small: CI speed; the default run (budget 6) is what `aoai-conformance run --fuzz` does


@pytest.fixture(scope="module")
def clean_run() -> Iterator[FuzzRun]:
    with tempfile.TemporaryDirectory(prefix="aoai-fuzz-clean-") as workdir:
        yield run_fuzz(Path(workdir), ["--fuzz-budget", str(BUDGET), "--seed", str(SEED)], timeout=400)


def test_clean_emulator_has_zero_failures(clean_run: FuzzRun) -> None:
    bad = [r for r in clean_run.records if r.outcome not in ("passed", "skipped")]
    assert clean_run.returncode == 0 and not bad, (
        "\n".join(f"{r.id}: {r.outcome}: {r.message[:600]}" for r in bad) or clean_run.tail()
    )


def test_every_operation_of_both_versions_is_fuzzed(clean_run: FuzzRun) -> None:
    for version in API_VERSIONS:
        expected = {op.operation_id for op in load_contract(version).operations}
        fuzzed = {r.operation for r in clean_run.records
                  if r.api_version == version and r.id.startswith("test_fuzz::") and r.outcome == "passed"}
        assert fuzzed == expected, f"{version}: not fuzzed: {sorted(expected - fuzzed)}"
        stateful = [r for r in clean_run.records if r.api_version == version and r.id.startswith("test_stateful::")]
        assert [r.outcome for r in stateful] == ["passed"], clean_run.tail()
        assert len(stateful[0].operations) >= 3, f"the state machine only called {stateful[0].operations}"


def test_records_carry_area_kind_seed_and_request_counts(clean_run: FuzzRun) -> None:
    assert clean_run.records
    for record in clean_run.records:
        assert (record.area, record.kind, record.seed) == ("fuzz", "fuzz", SEED), record
        assert record.requests > 0, record
        assert record.id.endswith(f"[{record.operation}-{record.api_version}]") or record.id.startswith("test_stateful")


def test_no_server_error_for_any_generated_input(clean_run: FuzzRun) -> None:
    # `not_a_server_error` runs on every response; its rule must not appear, and no 500 in the output.
    assert not [r for r in clean_run.records if "fuzz.server_error" in r.rules]
    assert "[500]" not in clean_run.output


def test_fuzz_test_ids_name_their_operations() -> None:
    with tempfile.TemporaryDirectory(prefix="aoai-fuzz-ids-") as workdir:
        run = run_fuzz(Path(workdir), ["--collect-only"], timeout=120)
    ids = [line for line in run.output.splitlines() if "::test_fuzz[" in line]
    names = {re.sub(r".*::test_fuzz\[(.+)-\d{4}-\d{2}-\d{2}-preview\]$", r"\1", line) for line in ids}
    expected = {op.operation_id for version in API_VERSIONS for op in load_contract(version).operations}
    assert names == expected, run.tail()
    assert len(ids) == len(set(ids)) == sum(len(load_contract(v).operations) for v in API_VERSIONS)


@pytest.mark.parametrize("path", ["/threads/%1A/runs/a%0Ab/cancel", "/assistants/x%0Ay", "/no/such%0Aroute"])
def test_paths_starlette_cannot_route_get_the_service_404_envelope(path: str) -> None:
    # Found by the stateful fuzzer: a decoded newline in a path id fell through to Starlette's text/plain 404.
    from conformance.emulator.testing import EmulatorApi
    from conformance.invariants import check_error_envelope

    response = EmulatorApi.create().raw("POST" if path.endswith("cancel") else "GET", path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert not check_error_envelope(404, response.json())
