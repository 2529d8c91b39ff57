"""Coverage of contract operations: from the spec layer, else from the bundled document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.report import coverage as cov
from conformance.report.demo import record
from conformance.report.model import Build

DOC = {"paths": {
    "/assistants": {"get": {"operationId": "List_Assistants"}, "post": {"operationId": "Create_Assistant"},
                    "parameters": [{"name": "api-version"}]},
    "/threads/{thread_id}": {"delete": {"operationId": "Delete_Thread"}},
}}


@pytest.fixture
def no_spec_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(name: str) -> object:
        raise ImportError(name)

    monkeypatch.setattr(cov.importlib, "import_module", fail)


def test_operations_in_document_ignores_non_methods() -> None:
    assert cov.operations_in_document(DOC) == ["Create_Assistant", "Delete_Thread", "List_Assistants"]


@pytest.mark.usefixtures("no_spec_layer")
def test_falls_back_to_bundled_file_and_lists_never_exercised(tmp_path: Path) -> None:
    (tmp_path / "2024-08-01-preview.json").write_text(json.dumps(DOC), encoding="utf-8")
    build = Build([
        record(id="a", operation="Create_Assistant"),
        record(id="b", operation="", operations=["List_Assistants", "Invented_Op"]),
        record(id="c", operation="Delete_Thread", outcome="skipped"),  # skipped: did not exercise it
    ], [])
    [item] = cov.coverage(build, bundled=tmp_path)
    assert item.source == "schemas/bundled/2024-08-01-preview.json"
    assert item.never == ["Delete_Thread"]
    assert item.unknown == ["Invented_Op"]


@pytest.mark.usefixtures("no_spec_layer")
def test_without_any_contract_says_so(tmp_path: Path) -> None:
    [item] = cov.coverage(Build([record()], []), bundled=tmp_path)
    assert item.contract is None and "not available" in item.source


def test_spec_layer_operation_objects_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    class Op:
        def __init__(self, operation_id: str) -> None:
            self.operation_id = operation_id

    class Contract:
        operations = (Op("Get_Run"), Op("Create_Run"))

    class Spec:
        @staticmethod
        def load_contract(version: str) -> Contract:
            return Contract()

    monkeypatch.setattr(cov.importlib, "import_module", lambda name: Spec)
    assert cov.contract_operations("2024-08-01-preview") == (["Create_Run", "Get_Run"], "conformance.spec.load_contract")
