"""Unit tests for the invariants suite-crud added: read-back, gone, client-mistake and default-page checks."""

from __future__ import annotations

from typing import Any

from conformance.invariants.errors import check_api_version_rejected, check_bad_request, check_not_served
from conformance.invariants.objects import check_gone, check_roundtrip
from conformance.invariants.pagination import check_same_page

ENVELOPE = {"error": {"code": "invalid_request", "message": "bad"}}


def rules(findings: list[Any]) -> set[str]:
    return {f.rule for f in findings if f.severity == "error"}


def test_roundtrip_equal_object_conforms() -> None:
    obj = {"id": "a", "name": "x", "metadata": {"k": "v"}}
    assert check_roundtrip(obj, dict(obj)) == []


def test_roundtrip_changed_field_is_a_finding() -> None:
    assert rules(check_roundtrip({"id": "a", "name": "x"}, {"id": "a", "name": "y"})) == {"crud.roundtrip"}


def test_roundtrip_missing_field_only_allowed_when_omissible() -> None:
    created = {"id": "m", "status": "completed"}
    assert rules(check_roundtrip(created, {"id": "m"})) == {"crud.roundtrip"}
    assert check_roundtrip(created, {"id": "m"}, omissible={"status"}) == []
    assert check_roundtrip(created, {"id": "m", "status": None}, omissible={"status"}) == []
    assert rules(check_roundtrip(created, {"id": "m", "status": "incomplete"}, omissible={"status"})) == {
        "crud.roundtrip"
    }


def test_gone_needs_404_with_envelope() -> None:
    assert check_gone(404, ENVELOPE) == []
    assert rules(check_gone(200, {"id": "a"})) == {"crud.deleted_gone", "errors.envelope"}


def test_bad_request_needs_400_with_envelope() -> None:
    assert check_bad_request(400, ENVELOPE) == []
    assert rules(check_bad_request(200, {"id": "x"})) == {"errors.bad_request", "errors.envelope"}
    assert rules(check_bad_request(500, ENVELOPE)) == {"errors.bad_request"}


def test_api_version_rejection_accepts_any_4xx() -> None:
    assert check_api_version_rejected(400, ENVELOPE) == []
    assert check_api_version_rejected(404, ENVELOPE) == []
    assert rules(check_api_version_rejected(200, {"object": "list"})) == {"errors.api_version", "errors.envelope"}
    assert rules(check_api_version_rejected(500, ENVELOPE)) == {"errors.api_version"}


def test_not_served_flags_only_success() -> None:
    assert check_not_served(401) == []
    assert check_not_served(403) == []
    assert rules(check_not_served(200)) == {"errors.auth"}


def page(ids: list[str], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": [{"id": i} for i in ids], "has_more": has_more}


def test_same_page_compares_ids_order_and_has_more() -> None:
    assert check_same_page(page(["a", "b"], True), page(["a", "b"], True)) == []
    assert rules(check_same_page(page(["b", "a"], True), page(["a", "b"], True))) == {"pagination.order"}
    assert rules(check_same_page(page(["a", "b"], False), page(["a", "b"], True))) == {"pagination.order"}
    found = check_same_page(page(["a"], True), page(["a", "b"], True), rule="pagination.limit")
    assert rules(found) == {"pagination.limit"}


def test_filtered_page_holds_only_matching_items() -> None:
    from conformance.invariants.pagination import check_filtered

    good = {"object": "list", "data": [{"id": "a", "status": "completed"}], "has_more": False}
    assert check_filtered(good, field="status", value="completed") == []
    bad = {"object": "list", "data": [{"id": "a", "status": "completed"}, {"id": "b", "status": "failed"}]}
    assert rules(check_filtered(bad, field="status", value="completed")) == {"pagination.filter"}


def test_limit_rejected_needs_400_envelope() -> None:
    from conformance.invariants.pagination import check_limit_rejected

    assert check_limit_rejected("0", 400, ENVELOPE) == []
    assert rules(check_limit_rejected("101", 200, {"object": "list", "data": []})) == {"pagination.limit"}
    assert rules(check_limit_rejected("abc", 400, {"detail": "bad"})) == {"errors.envelope"}


def test_orders_reverse_each_other_on_complete_lists() -> None:
    from conformance.invariants.pagination import check_orders_reverse

    assert check_orders_reverse(page(["a", "b", "c"], False), page(["c", "b", "a"], False)) == []
    assert rules(check_orders_reverse(page(["a", "b"], False), page(["a", "b"], False))) == {"pagination.order"}
    assert check_orders_reverse(page(["a", "b"], True), page(["a", "b"], False)) == []
