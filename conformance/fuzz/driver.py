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
from schemathesis import GenerationMode

from conformance.fuzz.checks import OUR_CHECKS
from conformance.fuzz.report import FuzzFailure, curl_of, findings_of, redact
from conformance.fuzz.setup import API_VERSION

REQUEST_TIMEOUT = 60.0


@dataclass
class FuzzStats:
    cases: int = 0  # requests sent
    by_status: dict[int, int] = field(default_factory=dict)


@dataclass
class FuzzTarget:
    """Where and how to send: base URL (incl. /openai), api-version, auth headers, secrets to redact."""

    url: str
    api_version: str
    headers: dict[str, str]
    secrets: tuple[str, ...] = ()
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
) -> FuzzStats:
    """Raise `FuzzFailure` on the first case a check rejects; return what was sent otherwise."""
    stats = stats if stats is not None else FuzzStats()
    for mode in modes:
        _fuzz_mode(operation, target, mode, budget, seed, path_parameters, before_case, stats)
    return stats


def _fuzz_mode(operation: Any, target: FuzzTarget, mode: GenerationMode, budget: int, seed: int,
               path_parameters: Callable[[], dict[str, str]], before_case: Callable[[], None] | None,
               stats: FuzzStats) -> None:
    strategy = operation.as_strategy(
        generation_mode=mode,
        query={API_VERSION: target.api_version},
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
        stats.cases += 1
        try:
            response = case.call(base_url=target.url, session=target.session, headers=target.headers,
                                 timeout=REQUEST_TIMEOUT)
            stats.by_status[response.status_code] = stats.by_status.get(response.status_code, 0) + 1
            case.validate_response(
                response,
                additional_checks=list(OUR_CHECKS),
                headers=target.headers,
                transport_kwargs={"base_url": target.url, "headers": target.headers, "session": target.session},
            )
        except (AssertionError, BaseExceptionGroup) as error:
            failure = FuzzFailure(
                findings_of(error),
                operation=operation.label,
                seed=seed,
                request=curl_of(case, target.url, target.secrets),
                detail=redact(str(error), target.secrets)[:4000],
            )
            failures.append(failure)
            raise failure from None

    try:
        run()
    except FuzzFailure:
        raise failures[-1] from None
    except BaseException as error:
        if failures:  # Hypothesis may wrap the failure it replayed
            raise failures[-1] from None
        raise error
