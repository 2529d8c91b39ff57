"""Fuzz one operation: Hypothesis draws Schemathesis cases, each is sent and checked.

Positive then negative data, `budget` cases each, seeded, no example database (the target's state
changes between runs) and no shrinking (a failing request is reported as generated; the seed
replays it). The api-version, credentials and path ids are injected; the checks are Schemathesis's
built-ins plus `conformance.fuzz.checks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from conformance.findings import errors
from conformance.fuzz.checks import OUR_CHECKS
from conformance.fuzz.probes import filtered_prompt, unknown_id, without_api_version
from conformance.fuzz.report import FuzzFailure, curl_of, findings_of, redact, response_excerpt
from conformance.fuzz.setup import API_VERSION

REQUEST_TIMEOUT = 60.0


def _selector(case: Any) -> str:
    """The pytest -k expression that reruns just this operation."""
    return str(case.operation.definition.raw.get("operationId", "")) if case.operation.definition else ""


def _excluded(case: Any) -> list[Any]:
    """Form fields are strings on the wire: a type-mutated field (null -> "null") is valid as sent."""
    from schemathesis.specs.openapi.checks import negative_data_rejection

    return [negative_data_rejection] if (case.media_type or "").startswith("multipart/") else []


@dataclass
class FuzzStats:
    cases: int = 0  # requests sent
    by_status: dict[int, int] = field(default_factory=dict)
    on_response: Callable[[Any, Any], None] | None = field(default=None, repr=False)


@dataclass
class FuzzTarget:
    """Where and how to send: base URL (incl. /openai), api-version, auth headers, secrets to redact."""

    url: str
    api_version: str
    headers: dict[str, str]
    secrets: tuple[str, ...] = ()
    filter_prompt: str | None = None  # a prompt the target's content filter blocks, when known
    strict: bool = False  # the emulator documents the full error forms; the service has variants
    session: requests.Session = field(default_factory=requests.Session)


def fuzz_operation(
    operation: Any,
    target: FuzzTarget,
    *,
    budget: int,
    seed: int,
    path_parameters: Callable[[], dict[str, str]],
    before_case: Callable[[], None] | None = None,
    modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    stats: FuzzStats | None = None,
    on_response: Callable[[Any, Any], None] | None = None,
) -> FuzzStats:
    """Raise `FuzzFailure` on the first case a check rejects; return what was sent otherwise.

    `on_response(case, response)` sees every answer first (e.g. to track what a create made)."""
    stats = stats if stats is not None else FuzzStats()
    stats.on_response = on_response
    accepted: list[Any] = []
    for mode in modes:
        _fuzz_mode(operation, target, mode, budget, seed, path_parameters, before_case, stats, accepted)
    if accepted:
        _probe(accepted[-1], target, seed, path_parameters, before_case, stats)
    return stats


def _send(target: FuzzTarget, stats: FuzzStats) -> Callable[[Any], Any]:
    def send(case: Any) -> Any:
        stats.cases += 1
        response = case.call(base_url=target.url, session=target.session, headers=target.headers,
                             timeout=REQUEST_TIMEOUT)
        stats.by_status[response.status_code] = stats.by_status.get(response.status_code, 0) + 1
        if stats.on_response is not None:
            stats.on_response(case, response)
        return response
    return send


def _probe(case: Any, target: FuzzTarget, seed: int, path_parameters: Callable[[], dict[str, str]],
           before_case: Callable[[], None] | None, stats: FuzzStats) -> None:
    send = _send(target, stats)

    def fresh() -> Any:
        if before_case is not None:  # the accepted case used its objects up
            before_case()
            case.path_parameters = {**(case.path_parameters or {}), **path_parameters()}
        return case

    outcomes = [without_api_version(fresh(), send), unknown_id(fresh(), send)]
    if target.filter_prompt:
        outcomes.append(filtered_prompt(fresh(), send, target.filter_prompt, strict=target.strict))
    for outcome in outcomes:
        if outcome is None:
            continue
        probe, response, findings = outcome
        bad = errors(findings)
        if bad:
            raise FuzzFailure(bad, operation=case.operation.label, seed=seed,
                              request=curl_of(probe, target.url, target.secrets), detail="",
                              response=response_excerpt(response, target.secrets), selector=_selector(case))


def _fuzz_mode(operation: Any, target: FuzzTarget, mode: GenerationMode, budget: int, seed: int,
               path_parameters: Callable[[], dict[str, str]], before_case: Callable[[], None] | None,
               stats: FuzzStats, accepted: list[Any]) -> None:
    strategy = operation.as_strategy(
        generation_mode=mode,
        query={API_VERSION: target.api_version},
        headers=dict(target.headers),  # credentials are injected, never generated
        path_parameters=path_parameters(),
    )
    failures: list[FuzzFailure] = []

    @settings(max_examples=budget, database=None, deadline=None, derandomize=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
              print_blob=False, report_multiple_bugs=False)
    @hypothesis_seed(seed)
    @given(case=strategy)
    def run(case: Any) -> None:
        if before_case is not None:
            before_case()
            # A destructive call used up the objects: name the fresh ones.
            case.path_parameters = {**(case.path_parameters or {}), **path_parameters()}
        response = None
        try:
            response = _send(target, stats)(case)
            case.validate_response(
                response,
                additional_checks=list(OUR_CHECKS),
                excluded_checks=_excluded(case),
                headers=target.headers,
                transport_kwargs={"base_url": target.url, "headers": target.headers, "session": target.session},
            )
            if mode == GenerationMode.POSITIVE and 200 <= response.status_code < 300:
                accepted[:] = [case]
        except (AssertionError, BaseExceptionGroup) as error:
            failure = FuzzFailure(
                findings_of(error),
                operation=operation.label,
                seed=seed,
                request=curl_of(case, target.url, target.secrets),
                detail=redact(str(error), target.secrets)[:4000],
                response=response_excerpt(response, target.secrets),
                selector=_selector(case),
            )
            failures.append(failure)
            raise failure from None

    try:
        run()
    except Unsatisfiable:
        # Everything this operation takes is injected (path ids, api-version, credentials) and it has
        # no body or free query: there is no negative data to draw.
        if mode != GenerationMode.NEGATIVE:
            raise
    except FuzzFailure:
        raise failures[-1] from None
    except BaseException as error:
        if failures:  # Hypothesis may wrap the failure it replayed
            raise failures[-1] from None
        raise error
