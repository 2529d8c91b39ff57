"""The CRUD/pagination helpers of the suite (`conformance.suite.resources`) against an in-thread emulator.

They must leave verdicts to the invariants: a walk over a target that ignores its cursor ends
quickly with the pages fetched (check_walk then names the rule), and a create that fails its
contract check has still registered the object for deletion.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.client import ConformanceClient
from conformance.config import TargetSettings
from conformance.emulator.server import start_in_thread
from conformance.emulator.settings import EmulatorSettings
from conformance.findings import ConformanceError
from conformance.harness.tracker import Tracker
from conformance.invariants.pagination import check_walk
from conformance.spec import load_contract
from conformance.suite.resources import MAX_PAGES, create, file_ids, ids_of, walk

VERSION = "2024-08-01-preview"


def _client(faults: frozenset[str]) -> Iterator[ConformanceClient]:
    settings = EmulatorSettings(faults=faults)
    emulator = start_in_thread(settings)
    try:
        with ConformanceClient(emulator.url, VERSION, api_key=settings.api_keys[0]) as client:
            yield client
    finally:
        emulator.stop()


@pytest.fixture
def clean() -> Iterator[ConformanceClient]:
    yield from _client(frozenset())


@pytest.fixture
def after_ignored() -> Iterator[ConformanceClient]:
    yield from _client(frozenset({"page_after_ignored"}))


@pytest.fixture
def wrong_object() -> Iterator[ConformanceClient]:
    yield from _client(frozenset({"schema_wrong_object"}))


def _thread_with_messages(client: ConformanceClient, count: int) -> tuple[Tracker, str, list[str]]:
    tracker = Tracker(client, "selftest", target="emulator")
    thread = tracker.thread()
    contract = load_contract(VERSION)
    path = f"/threads/{thread['id']}/messages"
    ids = [create(client, contract, None, "Create_Message", path, {"role": "user", "content": str(n)})["id"]
           for n in range(count)]
    return tracker, path, ids


def test_walk_collects_every_page_of_a_clean_list(clean: ConformanceClient) -> None:
    tracker, path, ids = _thread_with_messages(clean, 5)
    pages = walk(clean, load_contract(VERSION), "List_Messages", path, limit=2, order="asc")
    assert [ids_of(page) for page in pages] == [ids[0:2], ids[2:4], ids[4:5]]
    assert check_walk(pages, expected_ids=ids, order="asc", limit=2, exact=True) == []
    tracker.cleanup()


def test_walk_stops_when_the_target_ignores_the_cursor(after_ignored: ConformanceClient) -> None:
    tracker, path, ids = _thread_with_messages(after_ignored, 5)
    pages = walk(after_ignored, load_contract(VERSION), "List_Messages", path, limit=2, order="asc")
    assert len(pages) < MAX_PAGES and len(pages) <= 3, f"the walk went on for {len(pages)} pages"
    rules = {f.rule for f in check_walk(pages, expected_ids=ids, order="asc", limit=2, exact=True)}
    assert rules & {"pagination.cursor", "pagination.walk_complete"}, rules
    tracker.cleanup()


def test_create_registers_before_the_contract_check(wrong_object: ConformanceClient) -> None:
    tracker = Tracker(wrong_object, "selftest", target="emulator")
    with pytest.raises(ConformanceError) as failure:
        create(wrong_object, load_contract(VERSION), tracker, "Create_Thread", "/threads", {}, kind="thread")
    assert "schema.response" in failure.value.rules
    assert [item.kind for item in tracker.created] == ["thread"], "the object must be deleted at teardown"
    assert tracker.cleanup() == []


def test_file_ids_on_the_emulator_are_synthetic_and_distinct(clean: ConformanceClient) -> None:
    tracker = Tracker(clean, "selftest", target="emulator")
    ids = file_ids(clean, tracker, TargetSettings(kind="emulator", name="emulator", endpoint=None), 3)
    assert len(set(ids)) == 3 and all(i.startswith("file-") for i in ids)
    assert tracker.created == [], "synthetic ids have nothing to delete"
