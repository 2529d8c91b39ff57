"""Stateful fuzzing: the contract's links drive Schemathesis's state machine through realistic chains
(assistant -> thread -> message -> run -> steps; vector store -> files -> batch -> cancel).

Bounded by `max_examples` (sequences) and `stateful_step_count` (calls per sequence), no example
database (the target's state changes), seeded. The api-version is set in `before_call` (the state
machine ignores `[parameters]` overrides under pytest); objects the sequences create are handed to
the tracker, which deletes them at teardown.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as hypothesis_seed

from conformance.client import ConformanceClient
from conformance.config import TargetSettings
from conformance.fuzz.checks import OUR_CHECKS
from conformance.fuzz.common import prepare, record, target_for
from conformance.fuzz.driver import REQUEST_TIMEOUT
from conformance.fuzz.report import FuzzFailure, curl_of, findings_of, redact
from conformance.fuzz.setup import API_VERSION, fuzz_config, fuzz_document, track_created
from conformance.harness.shared import Budget
from conformance.harness.tracker import Tracker
from conformance.plugin import EXCHANGES_KEY

pytestmark = [pytest.mark.fuzz]

STEPS_PER_SEQUENCE = 8


def _linked_operations(contract: Any, may_spend: bool) -> list[str]:
    """Operations that are a link's source or target (building the machine on these only is fast)."""
    linked: set[str] = set()
    for op in contract.operations:
        for response in op.definition.get("responses", {}).values():
            links = response.get("links", {}) if isinstance(response, dict) else {}
            if links:
                linked.add(op.operation_id)
                linked.update(str(link.get("operationId")) for link in links.values() if isinstance(link, dict))
    ops = {op.operation_id: op for op in contract.operations}
    return sorted(name for name in linked if name in ops and (may_spend or not ops[name].expensive))


def test_stateful(
    request: pytest.FixtureRequest,
    api_version: str,
    aoai_settings: TargetSettings,
    aoai_run_id: str,
    client: ConformanceClient,
    tracker: Tracker,
    aoai_budget: Budget,
) -> None:
    options, contract = prepare(request, api_version, aoai_settings, aoai_run_id)
    names = _linked_operations(contract, options.may_spend())
    if not names:
        pytest.skip("the document has no links to walk")
    schema = _stateful_schema(contract.document, aoai_settings).include(operation_id=names)
    target = target_for(aoai_settings, api_version)
    sent: list[Any] = []
    last: list[Any] = []

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            case.query = {**(case.query or {}), API_VERSION: api_version}
            last[:] = [case]

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": target.url, "headers": target.headers, "session": target.session,
                    "timeout": REQUEST_TIMEOUT}

        def after_call(self, response: Any, case: Any) -> None:
            sent.append(case)
            track_created(tracker, case, response)

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            super().validate_response(response, case, additional_checks=[*(additional_checks or []), *OUR_CHECKS],
                                      **kwargs)

    bounded = settings(max_examples=options.budget, stateful_step_count=STEPS_PER_SEQUENCE, database=None,
                       deadline=None, phases=[Phase.explicit, Phase.generate],
                       suppress_health_check=list(HealthCheck), print_blob=False)
    try:
        _run(hypothesis_seed(options.seed)(Machine), bounded)
    except (AssertionError, BaseExceptionGroup) as error:
        curl = curl_of(last[0], target.url, target.secrets)[:8000] if last else ""
        record(request.node, request=curl)
        raise FuzzFailure(findings_of(error), operation=f"stateful {api_version}", seed=options.seed,
                          request=curl, detail=redact(str(error), target.secrets)[:4000],
                          selector="test_stateful") from None
    finally:
        aoai_budget.charge(requests=len(sent))  # --max-requests counts generated requests too
        called = sorted({str(case.operation.definition.raw.get("operationId", case.operation.label)) for case in sent})
        record(request.node, requests=len(request.node.stash.get(EXCHANGES_KEY, [])) + len(sent), operations=called)


def _stateful_schema(document: Mapping[str, Any], target_settings: TargetSettings) -> Any:
    """The contract without what we inject (api-version, credentials).

    The state machine takes no overrides, so in negative mode it would mutate the api-version or drop
    the key, and our `before_call` / headers would mend the request again: a valid request the
    negative-data check then reports as "accepted". Left out of the schema, they are never generated.
    """
    doc = copy.deepcopy(dict(document))
    for item in doc.get("paths", {}).values():
        for node in [item, *(op for op in item.values() if isinstance(op, dict))]:
            if isinstance(node.get("parameters"), list):
                node["parameters"] = [p for p in node["parameters"] if not _is_api_version(doc, p)]
    no_auth = dataclasses.replace(target_settings, auth="none")  # the key goes in get_call_kwargs
    return schemathesis.openapi.from_dict(fuzz_document(doc, no_auth), config=fuzz_config())


def _is_api_version(doc: Mapping[str, Any], parameter: Any) -> bool:
    if isinstance(parameter, dict) and isinstance(parameter.get("$ref"), str):
        parameter = doc.get("components", {}).get("parameters", {}).get(parameter["$ref"].rsplit("/", 1)[-1], {})
    return isinstance(parameter, dict) and parameter.get("in") == "query" and parameter.get("name") == API_VERSION


def _run(machine: Any, bounded: settings) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(machine, settings=bounded)
