"""Unit tests of the fuzz layer's pieces: redaction, failure -> findings, the fuzzed document, runner flags."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from fuzz_runner import run_fuzz

from conformance.config import TargetSettings
from conformance.findings import ConformanceError, Finding
from conformance.fuzz.plugin import seed_of
from conformance.fuzz.report import FuzzFailure, findings_of, redact
from conformance.fuzz.setup import deployment_for, destructive, fuzz_document
from conformance.runner import build_parser, pytest_args
from conformance.spec import load_contract
from conformance.versions import DEFAULT_API_VERSION

SETTINGS = TargetSettings(kind="url", name="url", endpoint="https://example.openai.azure.com/", api_key="sekret-key-123")


def test_redact_removes_known_secrets_and_auth_headers() -> None:
    curl = "curl -H 'api-key: sekret-key-123' -H 'Authorization: Bearer eyJabc' -H 'x-other: keep' 'https://h/openai/x'"
    out = redact(curl, ["sekret-key-123"])
    assert "sekret-key-123" not in out and "eyJabc" not in out
    assert "x-other: keep" in out and out.count("***") == 2


def test_findings_keep_our_rules_and_map_builtin_checks() -> None:
    ours = ConformanceError([Finding("errors.envelope", "flat")])

    class Wrapped(AssertionError):  # what Schemathesis makes of an AssertionError raised by our check
        exception = ours

    class BuiltIn(AssertionError):
        checks = ("response_schema_conformance",)
        title = "Response violates schema"
        message = "created_at: 'x' is not an integer"

    group = BaseExceptionGroup("failures", [Wrapped("x"), BuiltIn("y")])
    rules = [f.rule for f in findings_of(group)]
    assert rules == ["errors.envelope", "schema.response"]
    assert [f.rule for f in findings_of(AssertionError("odd"))] == ["fuzz.check"]


def test_fuzz_failure_message_names_seed_and_request() -> None:
    failure = FuzzFailure([Finding("schema.response", "bad")], operation="GET /assistants", seed=42,
                          request="curl -X GET 'https://h/openai/assistants'", detail="more",
                          response="200 {}", selector="List_Assistants")
    assert failure.rules == ["schema.response"] and failure.seed == 42 and failure.response == "200 {}"
    text = str(failure)
    assert "seed 42" in text and "--seed 42 -k List_Assistants" in text and "curl -X GET" in text


def test_fuzz_document_pins_server_and_the_targets_scheme_only() -> None:
    contract = load_contract(DEFAULT_API_VERSION)
    doc = fuzz_document(contract.document, SETTINGS)
    assert doc["servers"] == [{"url": "https://example.openai.azure.com/openai"}]
    assert doc["security"] == [{"apiKey": []}]
    assert contract.document["security"] != doc["security"]  # the cached contract is not modified
    entra = fuzz_document(contract.document, TargetSettings(**{**SETTINGS.__dict__, "auth": "entra"}))
    assert entra["security"] == [{"bearer": []}]
    none = fuzz_document(contract.document, TargetSettings(**{**SETTINGS.__dict__, "auth": "none"}))
    assert "security" not in none


def test_path_ids_deployments_and_destructive_operations() -> None:
    contract = load_contract(DEFAULT_API_VERSION)
    assert deployment_for(contract.operation("embeddings_create"), SETTINGS) == SETTINGS.deployments.embeddings
    assert deployment_for(contract.operation("Speech_Create"), SETTINGS) == SETTINGS.deployments.speech
    assert deployment_for(contract.operation("ChatCompletions_Create"), SETTINGS) == SETTINGS.deployments.chat
    assert destructive(contract.operation("Delete_Thread")) and destructive(contract.operation("Cancel_Run"))
    assert not destructive(contract.operation("Get_Thread"))


def test_seed_is_stable_per_run_id() -> None:
    assert seed_of("abc") == seed_of("abc") != seed_of("abd")
    assert 0 <= seed_of("abc") < 2**32


def _args(argv: list[str]) -> list[str]:
    options: argparse.Namespace = build_parser().parse_args(argv)
    return pytest_args(options, [])


def test_runner_passes_fuzz_options_to_pytest() -> None:
    plain = _args([])
    assert "conformance.fuzz" not in plain and "--seed" not in plain
    args = _args(["--fuzz", "--fuzz-budget", "4", "--seed", "9", "--allow-expensive", "--spec", "x.json"])
    at = args.index("--pyargs")
    assert args[at + 1 : at + 3] == ["conformance.suite", "conformance.fuzz"]
    for flag, value in (("--fuzz-budget", "4"), ("--seed", "9"), ("--spec", "x.json")):
        assert args[args.index(flag) + 1] == value
    assert "--allow-expensive" in args


@pytest.mark.parametrize("bad", [["--fuzz-budget", "0"], ["--seed", "-1"]])
def test_bad_fuzz_options_are_usage_errors(bad: list[str], tmp_path: Path) -> None:
    run = run_fuzz(tmp_path, bad, timeout=120)
    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert bad[0] in run.output and "Traceback" not in run.output


def test_stateful_schema_leaves_out_what_is_injected() -> None:
    """The state machine takes no overrides: api-version and credentials must not be in its schema,
    or negative mode mutates them and the injected values mend the request (a false 'accepted')."""
    from conformance.config import resolve_settings
    from conformance.fuzz.test_stateful import _stateful_schema
    from conformance.spec import load_contract

    settings = resolve_settings({"target": "url", "base_url": "http://127.0.0.1:1", "api_key": "k"}, env={})
    schema = _stateful_schema(load_contract("2024-05-01-preview").document, settings)
    raw = schema.raw_schema
    assert "security" not in raw
    for item in raw["paths"].values():
        for node in [item, *(op for op in item.values() if isinstance(op, dict))]:
            for parameter in node.get("parameters", []) if isinstance(node.get("parameters"), list) else []:
                assert parameter.get("$ref") != "#/components/parameters/ApiVersion"
                assert parameter.get("name") != "api-version"
