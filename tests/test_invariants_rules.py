"""The rule catalogue: well-formed ids, every constant described, every rule a module emits listed."""

from __future__ import annotations

import ast
from pathlib import Path

from conformance.invariants import rules

PACKAGE = Path(rules.__file__).parent

# The ids the emulator's fault catalogue and the suite were promised (issue 4).
PROMISED = [
    "lifecycle.transition", "lifecycle.terminal_absorbing", "lifecycle.started_at",
    "lifecycle.completed_at", "lifecycle.failed_at", "lifecycle.cancelled_at", "lifecycle.expires_at",
    "lifecycle.required_action", "lifecycle.incomplete_details", "lifecycle.last_error", "lifecycle.usage",
    "lifecycle.steps_consistent", "pagination.envelope", "pagination.first_id", "pagination.last_id",
    "pagination.order", "pagination.limit", "pagination.has_more", "pagination.cursor",
    "pagination.walk_complete", "sse.content_type", "sse.framing", "sse.json_data", "sse.event_order",
    "sse.event_schema", "sse.ids_consistent", "sse.delta_concat", "sse.done_last", "errors.envelope",
    "errors.not_found", "errors.unauthorized", "errors.auth", "errors.api_version",
    "errors.content_filter", "errors.bad_request", "content_filter.annotations", "crud.modify_applied",
    "crud.delete_envelope", "crud.deleted_gone", "crud.roundtrip", "schema.request", "schema.response",
    "schema.status", "schema.content_type",
]


def constants() -> dict[str, str]:
    return {name: value for name, value in vars(rules).items()
            if name.isupper() and isinstance(value, str) and name != "RULE_ID"}


def test_ids_are_area_dot_name() -> None:
    bad = [rule for rule in rules.RULES if not rules.RULE_ID.match(rule)]
    assert bad == []


def test_every_constant_is_described_and_every_description_has_a_constant() -> None:
    assert set(constants().values()) == set(rules.RULES)
    assert all(description.strip() for description in rules.RULES.values())


def test_promised_ids_exist() -> None:
    assert set(PROMISED) - set(rules.RULES) == set()


def test_modules_emit_only_catalogued_rules() -> None:
    # Every `R.NAME` a rule module uses names a catalogue constant; no module spells an id inline.
    used: set[str] = set()
    inline: list[str] = []
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name == "rules.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "R":
                used.add(node.attr)
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Finding" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                inline.append(f"{path.name}:{node.lineno}")
    assert used and used <= set(constants())
    assert inline == []


def test_describe() -> None:
    assert rules.describe("pagination.first_id") == rules.RULES["pagination.first_id"]
    assert rules.describe("made.up") == "made.up"
