"""Loading contracts: our bundled one per api-version (cached), or a foreign spec file."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from conformance.spec.contract import Contract
from conformance.spec.openapi30 import to_31
from conformance.spec.paths import bundled_path
from conformance.versions import check_version


class SpecError(ValueError):
    """A contract or spec file cannot be used; the message says why and what to do."""


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{path} does not exist; run `aoai-conformance bundle`") from None
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(document, dict):
        raise SpecError(f"{path} is not an OpenAPI document")
    return document


def load_contract(api_version: str, *, strict_reference: bool = False) -> Contract:
    """The project's contract for `api_version` (cached per arguments: treat it as read-only).

    `strict_reference=True` applies the published reference where the service deviates from it.
    """
    return _load_contract(api_version, bool(strict_reference))


@lru_cache(maxsize=8)
def _load_contract(api_version: str, strict_reference: bool) -> Contract:
    check_version(api_version)
    document = _read_json(bundled_path(api_version))
    if strict_reference:
        document = _apply_reference(document)
    return Contract(document, api_version)


def _apply_reference(document: dict[str, Any]) -> dict[str, Any]:
    # Imported here: only strict-reference runs need the deviations list (and its YAML) loaded.
    from conformance.spec.deviations import apply_reference, load_deviations

    return apply_reference(document, load_deviations())


def load_spec_file(path: str | Path, *, corrections: bool = True) -> Contract:
    """A foreign OpenAPI file (JSON or YAML, 3.0 or 3.1), with the project's corrections overlay applied."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"spec file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"spec file {path} cannot be read: {exc}") from None
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise SpecError(f"spec file {path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: "
                        f"{exc}") from None
    if not isinstance(document, dict) or "paths" not in document or "openapi" not in document:
        raise SpecError(f"spec file {path} is not an OpenAPI document (no `openapi` / `paths`)")
    if corrections:
        document = _corrected(document)
    if str(document.get("openapi", "")).startswith("3.0"):
        document = to_31(document)
    version = str(document.get("info", {}).get("version", ""))
    return Contract(document, version)


def _corrected(document: dict[str, Any]) -> dict[str, Any]:
    from conformance.spec.overlay import apply_corrections

    corrected, _notes = apply_corrections(document)
    return corrected
