"""Fuzz every operation of the contract (or of `--spec`), per api-version, with positive and negative data.

One test per (operation, api-version), named after the operation so `-k Create_Run`, JUnit and the
results file all say what was fuzzed. A failure message starts with the seed and the request as curl.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client import ConformanceClient
from conformance.config import TargetSettings
from conformance.fuzz.common import document_for, prepare, record, schema_for, target_for
from conformance.fuzz.driver import FuzzStats, fuzz_operation
from conformance.fuzz.plugin import resolve
from conformance.fuzz.report import FuzzFailure
from conformance.fuzz.setup import Provisioner, destructive, needs_run, track_created
from conformance.harness.shared import Budget
from conformance.harness.tracker import Tracker
from conformance.plugin import EXCHANGES_KEY, RECORDER_KEY, _settings
from conformance.spec import SpecError

pytestmark = [pytest.mark.fuzz]
REQUEST_EXCERPT = 8000  # characters of the failing request's curl kept in the results record


def _operation_ids(config: pytest.Config) -> list[str]:
    """Every operation of the documents this session fuzzes, in document order."""
    settings = _settings(config)
    options = resolve(config, config.stash[RECORDER_KEY].run_id, settings.kind == "emulator")
    names: list[str] = []
    for version in settings.api_versions:
        try:
            operations = document_for(options, version, settings.strict_reference).operations
        except SpecError as exc:
            raise pytest.UsageError(str(exc)) from None
        for op in operations:
            if op.operation_id not in names:
                names.append(op.operation_id)
    return names


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "operation_id" in metafunc.fixturenames:
        try:
            names = _operation_ids(metafunc.config)
        except pytest.UsageError as exc:  # a bad --spec / --fuzz-budget / --seed: one line, no traceback
            pytest.exit(f"aoai-conformance: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
        params = [pytest.param(name, id=name, marks=pytest.mark.operation(name)) for name in names]
        metafunc.parametrize("operation_id", params)


def test_fuzz(
    request: pytest.FixtureRequest,
    operation_id: str,
    api_version: str,
    aoai_settings: TargetSettings,
    aoai_run_id: str,
    client: ConformanceClient,
    tracker: Tracker,
    aoai_budget: Budget,
) -> None:
    options, contract = prepare(request, api_version, aoai_settings, aoai_run_id)
    try:
        op = contract.operation(operation_id)
    except KeyError:
        pytest.skip(f"{operation_id} is not in the {api_version} document")
    if (op.expensive or needs_run(op)) and not options.may_spend():
        pytest.skip(f"{operation_id} spends tokens or creates runs: pass --allow-expensive to fuzz it on a live target")
    schema = schema_for(contract, aoai_settings)
    operation: Any = schema.find_operation_by_id(operation_id)
    provisioner = Provisioner(tracker, aoai_settings)
    stats = FuzzStats()
    try:
        fuzz_operation(
            operation,
            target_for(aoai_settings, api_version),
            budget=options.budget,
            seed=options.seed,
            path_parameters=lambda: provisioner.path_parameters(op),
            before_case=provisioner.fresh if destructive(op) else None,
            stats=stats,
            on_response=lambda case, response: track_created(tracker, case, response),
        )
    except FuzzFailure as failure:
        record(request.node, request=failure.request[:REQUEST_EXCERPT], response=failure.response)
        raise
    finally:
        aoai_budget.charge(requests=stats.cases)  # --max-requests counts generated requests too
        sent = len(request.node.stash.get(EXCHANGES_KEY, []))
        record(request.node, requests=sent + stats.cases)
