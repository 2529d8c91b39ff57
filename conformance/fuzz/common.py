"""What the fuzz modules share: the document to fuzz, its Schemathesis schema, the target, the record.

The document is our contract for the test's api-version, or the `--spec` file (corrections overlay
applied); the Schemathesis schema built from it is cached per session (building costs seconds).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from conformance.config import TargetSettings
from conformance.fuzz.driver import FuzzTarget
from conformance.fuzz.plugin import FuzzOptions, resolve
from conformance.fuzz.setup import auth_headers, base_url, fuzz_schema
from conformance.harness.target import token_provider_for
from conformance.plugin import EXTRA_PROPS_KEY
from conformance.spec import Contract, load_contract, load_spec_file


def options_for(request: pytest.FixtureRequest, settings: TargetSettings, run_id: str) -> FuzzOptions:
    return resolve(request.config, run_id, settings.kind == "emulator")


def prepare(request: pytest.FixtureRequest, api_version: str, settings: TargetSettings,
            run_id: str) -> tuple[FuzzOptions, Contract]:
    """What every fuzz test opens with: its options, the document it fuzzes, the seed in its record."""
    options = options_for(request, settings, run_id)
    record(request.node, seed=options.seed)
    return options, document_for(options, api_version, settings.strict_reference)


def spec_contract(path: str | Path) -> Contract:
    """A foreign spec file, loaded once per session (SpecError when it cannot be used)."""
    return _spec(str(Path(path).resolve()))


@lru_cache(maxsize=4)
def _spec(path: str) -> Contract:
    return load_spec_file(Path(path))


def document_for(options: FuzzOptions, api_version: str, strict_reference: bool = False) -> Contract:
    if options.spec is not None:
        return spec_contract(options.spec)
    return load_contract(api_version, strict_reference=strict_reference)


_SCHEMAS: dict[tuple[int, str, str], Any] = {}


def schema_for(contract: Contract, settings: TargetSettings) -> Any:
    key = (id(contract), settings.endpoint or "", settings.auth)
    if key not in _SCHEMAS:
        _SCHEMAS[key] = fuzz_schema(contract.document, settings)
    return _SCHEMAS[key]


def target_for(settings: TargetSettings, api_version: str) -> FuzzTarget:
    assert settings.endpoint is not None
    provider = token_provider_for(settings)
    token = provider() if provider is not None else None
    headers = auth_headers(settings, token)
    secrets = tuple(s for s in (settings.api_key, token) if s)
    prompt = settings.filter_prompt
    if not prompt and settings.kind == "emulator":
        from conformance.emulator import triggers

        prompt = triggers.CHAT_CONTENT_FILTER_PROMPT
    return FuzzTarget(url=base_url(settings.endpoint), api_version=api_version, headers=headers, secrets=secrets,
                      filter_prompt=prompt or None, strict=settings.kind == "emulator")


def record(item: pytest.Item, **fields: Any) -> None:
    """Fields of this test's results record (kind fuzz, seed, request as curl, requests sent)."""
    item.stash.setdefault(EXTRA_PROPS_KEY, {"kind": "fuzz"}).update(fields)
