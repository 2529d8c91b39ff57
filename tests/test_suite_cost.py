"""The suite's request and token budget (issue 8), measured "live-like" against the emulator.

The suite runs in a child pytest as `--target url` against an emulator whose runs move at the
slow pace (0.5 s per phase), so the client polls at the live pace (0.5 s, growing) rather than the
embedded emulator's quick one, and the counts are what a live run would spend on the same
answers. This is the one place a budget is asserted: it counts requests and tokens from the
run's `run.json`, whose figure is every request the transport sent (teardown deletes and retries
included, across workers); it never times anything. The per-test records leave teardown out, so
their per-module sums are shown as information only, never judged.

Known gap: on a real resource `file_ids` uploads each file (one request per file, and one delete at
teardown), where the emulator behind `--target url` answers the first upload 404 and synthetic ids
are used: one request per `file_ids` call here. With 17 files uploaded per api-version run (errors 1,
versions 4, pagination 3, vector store files 2, vector stores 2, file batches 5) in 8 calls, a live
run spends about 34 - 8 = 26 requests more than measured here, plus whatever extra polls its slower
runs take.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.emulator.server import RunningEmulator, start_in_thread
from conformance.emulator.settings import DEFAULT_API_KEY, EmulatorSettings
from conformance.results import RESULTS_FILE, RUN_FILE, read_records, read_run_info
from conformance.versions import DEFAULT_API_VERSION

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
SUITE_INI = ROOT / "conformance" / "suite" / "suite.ini"
MAX_REQUESTS = 400
MAX_TOKENS = 30_000
SMOKE_MAX_REQUESTS = 40
CHILD_TIMEOUT = 600.0


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    running = start_in_thread(EmulatorSettings(run_pace=0.5))
    try:
        yield running
    finally:
        running.stop()


def _measure(emulator: RunningEmulator, report_dir: Path, *extra: str) -> tuple[int, int, Counter[str], str]:
    """(requests, tokens, requests per module, output tail) of one suite run for one api-version.

    requests and tokens: run.json's honest count; per module: the records' counts (teardown left out)."""
    command = [
        sys.executable, "-m", "pytest", "--pyargs", "conformance.suite", "-c", str(SUITE_INI),
        "--target", "url", "--base-url", emulator.url, "--api-key", DEFAULT_API_KEY,
        "--api-version", DEFAULT_API_VERSION, "--report-dir", str(report_dir), "-n", "2", "-q", "-p", "no:randomly",
        *extra,
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False)
    tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
    assert done.returncode == 0, f"the suite did not pass against the emulator (exit {done.returncode}):\n{tail}"
    info = read_run_info(report_dir / RUN_FILE)
    per_module: Counter[str] = Counter()
    for record in read_records(report_dir / RESULTS_FILE):
        per_module[record.id.split("::")[0]] += record.requests
    # run.json counts what the transport sent, the records only what tests sent before teardown: an
    # honest total can only be larger (the difference is the deletes at teardown, and any retries)
    assert info.requests >= sum(per_module.values()) > 0, (info.requests, per_module)
    return info.requests, info.tokens, per_module, tail


def _show(per_module: Counter[str]) -> str:
    return "per module before teardown: " + ", ".join(f"{module} {count}" for module, count in per_module.most_common())


def test_full_suite_within_request_and_token_budget(emulator: RunningEmulator, tmp_path: Path) -> None:
    requests, tokens, per_module, _ = _measure(emulator, tmp_path)
    print(f"{requests} requests sent (teardown included), {tokens} tokens; {_show(per_module)}")  # information
    assert tokens < MAX_TOKENS, f"{tokens} tokens, budget {MAX_TOKENS}"
    assert requests < MAX_REQUESTS, f"{requests} requests sent, budget {MAX_REQUESTS}; {_show(per_module)}"


def test_smoke_profile_is_small_and_touches_each_area(emulator: RunningEmulator, tmp_path: Path) -> None:
    requests, tokens, per_module, tail = _measure(emulator, tmp_path, "--profile", "smoke")
    assert requests < SMOKE_MAX_REQUESTS, f"smoke profile: {requests} requests: {_show(per_module)}"
    assert tokens < MAX_TOKENS
    areas = {record.area for record in read_records(tmp_path / RESULTS_FILE) if record.outcome == "passed"}
    # auth/api-version errors, CRUD, a run, a walk, a stream, a chat completion
    missing = {"errors", "crud", "lifecycle", "pagination", "streaming", "inference"} - areas
    assert not missing, f"the smoke profile passed no test of {sorted(missing)}:\n{tail}"


# ---------------------------------------------------------------- the shared sets that make it cheap

class _FakeTracker:
    def __init__(self) -> None:
        self.client: object = None
        self.cleaned = 0

    def cleanup(self) -> list[str]:
        self.cleaned += 1
        return []


def _views() -> tuple[object, list[_FakeTracker], Callable[[str, object], Any]]:
    from conformance.suite.conftest import Shared, SharedSets

    sets = SharedSets()
    trackers: list[_FakeTracker] = []

    def factory() -> Any:
        trackers.append(_FakeTracker())
        return trackers[-1]

    return sets, trackers, lambda version, client: Shared(sets, version, client, factory)  # type: ignore[arg-type]


def test_shared_set_is_made_once_per_api_version_and_deleted_at_module_end() -> None:
    sets, trackers, view = _views()
    calls: list[str] = []

    def make(tracker: Any) -> int:
        calls.append(str(tracker.client))
        return len(calls)

    assert view("v1", "client-a").once("items", make) == 1
    assert view("v1", "client-b").once("items", make) == 1  # the second test reads the same set
    assert view("v2", "client-c").once("items", make) == 2  # another api-version has its own
    assert view("v1", "client-d").once("other", make) == 3
    # each set was made with the client of the test that asked first: its requests count there
    assert calls == ["client-a", "client-c", "client-d"]
    sets.cleanup()  # type: ignore[attr-defined]
    assert [t.cleaned for t in trackers] == [1, 1]


def test_shared_set_that_failed_is_not_made_again() -> None:
    from conformance.harness.tracker import SetupFailed

    _, _, view = _views()
    calls: list[int] = []

    def make(tracker: Any) -> int:
        calls.append(1)
        raise AssertionError("creating a thread failed: POST /threads answered 500")

    with pytest.raises(AssertionError, match="answered 500"):
        view("v1", "a").once("thread", make)
    with pytest.raises(SetupFailed, match="failed in an earlier test: creating a thread failed"):
        view("v1", "b").once("thread", make)
    assert calls == [1]


# ---------------------------------------------------------------- the module run thread and its fallback

class _FakeContract:
    def operation(self, operation_id: str) -> str:
        return operation_id

    def validate_response(self, op: object, status: int, headers: object, body: object) -> list[object]:
        return []


class _FakeClient:
    """Answers POSTs from a script of statuses and records the paths."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.posts: list[str] = []

    def post(self, path: str, json: object = None) -> Any:
        import httpx

        self.posts.append(path)
        status = self.statuses.pop(0)
        body = {"id": "run_1", "thread_id": path.split("/")[2], "status": "queued"} if status == 200 else {
            "error": {"code": "conflict", "message": "Thread already has an active run."}}
        return httpx.Response(status, json=body, request=httpx.Request("POST", f"http://127.0.0.1{path}"))


class _ThreadTracker:
    def __init__(self) -> None:
        self.threads = 0

    def thread(self, **fields: Any) -> dict[str, Any]:
        self.threads += 1
        return {"id": f"thread_own{self.threads}"}


def _run_thread_view(thread_id: str) -> Any:
    from conformance.suite.conftest import Shared, SharedSets

    sets = SharedSets()
    sets.put(("v1", "run thread"), thread_id)  # the module's run thread, already made
    return Shared(sets, "v1", None, lambda: None)  # type: ignore[arg-type, return-value]


def test_run_goes_to_the_module_run_thread_with_its_question() -> None:
    from conformance.suite.support import start_run

    client, tracker = _FakeClient([200]), _ThreadTracker()
    run = start_run(client, _FakeContract(), tracker, _run_thread_view("thread_mod"), "Hi?",  # type: ignore[arg-type]
                    assistant_id="asst_1")
    assert client.posts == ["/threads/thread_mod/runs"] and tracker.threads == 0
    assert run["thread_id"] == "thread_mod"


def test_busy_module_run_thread_sends_the_run_to_a_thread_of_its_own() -> None:
    from conformance.suite.support import start_run

    # an earlier test failed with its run still active: the module thread answers 400
    client, tracker = _FakeClient([400, 200]), _ThreadTracker()
    run = start_run(client, _FakeContract(), tracker, _run_thread_view("thread_mod"), "Hi?",  # type: ignore[arg-type]
                    assistant_id="asst_1")
    assert client.posts == ["/threads/thread_mod/runs", "/threads/thread_own1/runs"]
    assert run["thread_id"] == "thread_own1"


def test_object_deleted_by_the_test_is_not_deleted_again() -> None:
    from conformance.harness.tracker import Created
    from conformance.suite.support import forget

    removed: list[Created] = []

    class Ledger:
        def remove(self, target: str, run_id: str, item: Created) -> None:
            removed.append(item)

    class Owner:
        def __init__(self) -> None:
            self.created = [Created("thread", "thread_a", "/threads/thread_a"),
                            Created("thread", "thread_b", "/threads/thread_b")]
            self.ledger, self.target, self.run_id = Ledger(), "t", "r"

    owner = Owner()
    forget(owner, "/threads/thread_a")  # type: ignore[arg-type]
    assert [item.id for item in owner.created] == ["thread_b"]
    assert [item.id for item in removed] == ["thread_a"]  # a later `cleanup` sweep will not look for it
