"""Setup that the tests of one module share, per api-version, to keep a live run cheap (issue 8).

`shared.once(name, make)` builds an object set the first time a test of the module asks for it
(with that test's client, so the requests count against that test in the results) and hands the
same set to every later test of the module on the same api-version. Whatever was made is tagged
like any tracked object and deleted when the module ends, whatever the outcome. Only read-only
uses may share a set: a test that changes what it reads keeps its own function-scoped `tracker`.

Under pytest-xdist each worker has its own module scope, so a set is at worst made once per worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from conformance.client import ConformanceClient
from conformance.config import TargetSettings
from conformance.harness.tracker import Ledger, SetupFailed, Tracker, state_dir

T = TypeVar("T")


class _Failed:
    """A shared set whose making failed: later tests report it instead of spending requests again."""

    def __init__(self, message: str) -> None:
        self.message = message


class SharedSets:
    """The module's shared sets, keyed by (api-version, name), and the trackers that own them."""

    def __init__(self) -> None:
        self._sets: dict[tuple[str, str], Any] = {}
        self._trackers: dict[str, Tracker] = {}

    def tracker_for(self, api_version: str, make: Callable[[], Tracker]) -> Tracker:
        if api_version not in self._trackers:
            self._trackers[api_version] = make()
        return self._trackers[api_version]

    def get(self, key: tuple[str, str]) -> Any:
        return self._sets.get(key)

    def put(self, key: tuple[str, str], value: Any) -> None:
        self._sets[key] = value

    def cleanup(self) -> None:
        for tracker in self._trackers.values():
            tracker.cleanup()
        self._trackers.clear()
        self._sets.clear()


class Shared:
    """One test's view of its module's shared sets (for its api-version)."""

    def __init__(self, sets: SharedSets, api_version: str, client: ConformanceClient,
                 tracker: Callable[[], Tracker]) -> None:
        self._sets = sets
        self._api_version = api_version
        self._client = client
        self._tracker = tracker

    def once(self, name: str, make: Callable[[Tracker], T]) -> T:
        """The set called `name`, made by `make(tracker)` the first time it is asked for."""
        key = (self._api_version, name)
        found = self._sets.get(key)
        if isinstance(found, _Failed):
            raise SetupFailed(f"shared setup {name!r} failed in an earlier test: {found.message}")
        if found is not None:
            return found  # type: ignore[no-any-return]
        tracker = self._sets.tracker_for(self._api_version, self._tracker)
        tracker.client = self._client  # this test's client: the requests count against this test
        try:
            made = make(tracker)
        except AssertionError as exc:
            # ConformanceError and SetupFailed are AssertionErrors: the first test shows the real failure
            self._sets.put(key, _Failed(str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            raise
        self._sets.put(key, made)
        return made


@pytest.fixture(scope="module")
def _shared_sets() -> Iterator[SharedSets]:
    sets = SharedSets()
    try:
        yield sets
    finally:
        sets.cleanup()


@pytest.fixture
def shared(
    _shared_sets: SharedSets,
    client: ConformanceClient,
    api_version: str,
    aoai_settings: TargetSettings,
    aoai_run_id: str,
) -> Shared:
    """Module-wide object sets per api-version; see the module docstring."""

    def make_tracker() -> Tracker:
        # built like the plugin's `tracker`: same tag, same ledger, so `cleanup` finds leftovers
        ledger = None if aoai_settings.kind == "emulator" else Ledger(state_dir() / "ledger.jsonl")
        return Tracker(client, aoai_run_id, target=aoai_settings.name, ledger=ledger,
                       model=aoai_settings.deployments.assistants_model)

    return Shared(_shared_sets, api_version, client, make_tracker)
