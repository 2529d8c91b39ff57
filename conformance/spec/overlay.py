"""The corrections overlay (schemas/corrections.yaml): make a foreign spec usable before loading it.

Microsoft's official inference.json files have a few defects (required names that are not
properties) and do not declare the event streams; each correction is a small declarative edit at a
JSON pointer that applies only when its target exists and still has the defect.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

import yaml

from conformance.spec.paths import SCHEMAS
from conformance.spec.pointers import lookup, unescape

Op = Literal["remove", "replace", "add"]
OPS: tuple[str, ...] = get_args(Op)
CORRECTIONS_FILE = SCHEMAS / "corrections.yaml"


class CorrectionsError(ValueError):
    """corrections.yaml is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class Correction:
    id: str
    why: str
    op: Op
    path: str  # JSON pointer
    value: Any
    replacement: Any = None  # `with` of a replace


def load_corrections(path: Path = CORRECTIONS_FILE) -> list[Correction]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorrectionsError(f"{path} does not exist") from None
    except yaml.YAMLError as exc:
        raise CorrectionsError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, list):
        raise CorrectionsError(f"{path}: expected a list of corrections, got {type(raw).__name__}")
    return [_parse(entry, f"{path.name} entry {number}") for number, entry in enumerate(raw, 1)]


def _parse(entry: Any, where: str) -> Correction:
    if not isinstance(entry, dict):
        raise CorrectionsError(f"{where}: expected a mapping")
    for key in ("id", "why", "op", "path"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise CorrectionsError(f"{where}: `{key}` must be a non-empty string")
    where = f"{where} ({entry['id']})"
    if entry["op"] not in OPS:
        raise CorrectionsError(f"{where}: op {entry['op']!r} is not one of {', '.join(OPS)}")
    if not entry["path"].startswith("/"):
        raise CorrectionsError(f"{where}: path {entry['path']!r} is not a JSON pointer (starts with /)")
    if "value" not in entry:
        raise CorrectionsError(f"{where}: `value` is missing")
    if entry["op"] == "replace" and "with" not in entry:
        raise CorrectionsError(f"{where}: a replace needs `with`")
    return Correction(id=entry["id"], why=entry["why"], op=cast(Op, entry["op"]), path=entry["path"],
                      value=entry["value"], replacement=entry.get("with"))


def apply_corrections(document: dict[str, Any],
                      corrections: list[Correction] | None = None) -> tuple[dict[str, Any], list[str]]:
    """A corrected copy of `document` and one human note per correction that applied."""
    result = copy.deepcopy(document)
    notes: list[str] = []
    for correction in load_corrections() if corrections is None else corrections:
        if _apply(result, correction):
            notes.append(f"{correction.id}: {correction.why}")
    return result, notes


def _apply(document: dict[str, Any], correction: Correction) -> bool:
    if correction.op == "add":
        parent_ptr, _, last = correction.path.rpartition("/")
        try:
            parent = lookup(document, parent_ptr)
        except KeyError:
            return False
        key = unescape(last)
        if not isinstance(parent, dict) or key in parent:
            return False
        parent[key] = copy.deepcopy(correction.value)
        return True
    try:
        target = lookup(document, correction.path)
    except KeyError:
        return False
    if not isinstance(target, list) or correction.value not in target:
        return False
    if correction.op == "remove":
        target[:] = [item for item in target if item != correction.value]
    else:
        target[:] = [correction.replacement if item == correction.value else item for item in target]
        # A replacement that was already listed must not appear twice.
        target[:] = list(dict.fromkeys(target))
    return True
