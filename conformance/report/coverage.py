"""Which contract operations a build exercised, per api-version, and which it never touched.

The contract's operation list comes from `conformance.spec.load_contract(version).operations` when
that is importable, else straight from ``schemas/bundled/<version>.json`` (the committed bundle), so
the report works while the spec layer is being written and in a checkout without it. When neither
is available the section says so instead of claiming full coverage.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.report.model import Build, operations_of

_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
BUNDLED = Path(__file__).resolve().parents[2] / "schemas" / "bundled"


@dataclass
class Coverage:
    api_version: str
    exercised: list[str]
    contract: list[str] | None  # None: the contract could not be loaded
    source: str  # where the contract's list came from, shown in the report
    never: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # exercised but not in the contract


def _ids_from(operations: Any) -> list[str]:
    """Operation ids from whatever `load_contract(...).operations` holds (mapping or objects)."""
    if isinstance(operations, dict):
        return sorted(str(k) for k in operations)
    ids = []
    for op in operations:
        name = op if isinstance(op, str) else getattr(op, "operation_id", None) or getattr(op, "operationId", None)
        if isinstance(name, str):
            ids.append(name)
    return sorted(set(ids))


def _from_spec_layer(version: str) -> list[str] | None:
    try:
        spec = importlib.import_module("conformance.spec")
        contract = spec.load_contract(version)
        ids = _ids_from(contract.operations)
    except Exception:  # the spec layer is optional here: any failure means "use the bundle"
        return None
    return ids or None


def operations_in_document(document: dict[str, Any]) -> list[str]:
    ids = []
    for item in (document.get("paths") or {}).values():
        for method, operation in (item or {}).items():
            if method in _METHODS and isinstance(operation, dict) and operation.get("operationId"):
                ids.append(str(operation["operationId"]))
    return sorted(set(ids))


def _from_bundle(version: str, bundled: Path) -> list[str] | None:
    path = bundled / f"{version}.json"
    try:
        return operations_in_document(json.loads(path.read_text(encoding="utf-8"))) or None
    except (OSError, ValueError, AttributeError):
        return None


def contract_operations(version: str, bundled: Path = BUNDLED) -> tuple[list[str] | None, str]:
    ids = _from_spec_layer(version)
    if ids is not None:
        return ids, "conformance.spec.load_contract"
    ids = _from_bundle(version, bundled)
    if ids is not None:
        return ids, f"schemas/bundled/{version}.json"
    return None, "contract not available (no conformance.spec.load_contract, no bundled file)"


def coverage(build: Build, bundled: Path = BUNDLED) -> list[Coverage]:
    result = []
    versions = sorted({r.api_version for r in build.records})
    for version in versions:
        exercised = _exercised(r for r in build.records if r.api_version == version and r.outcome != "skipped")
        contract, source = contract_operations(version, bundled)
        item = Coverage(version, exercised, contract, source)
        if contract is not None:
            item.never = sorted(set(contract) - set(exercised))
            item.unknown = sorted(set(exercised) - set(contract))
        result.append(item)
    return result


def _exercised(records: Iterable[Any]) -> list[str]:
    ops: set[str] = set()
    for record in records:
        ops.update(operations_of(record))
    return sorted(ops)
