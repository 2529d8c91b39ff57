"""Realistic sample results for the report's tests and for looking at the report by hand.

    python -m conformance.report.demo OUT_DIR     # writes 5 builds, prints the HTML path

Two targets (emulator, live) x two api-versions, sharded results, failures with rule ids, known
deviations, skips, an unavailable area, an xpass, a fuzz failure with its seed; five builds so the
history chart has lines and the change list has newly failing / passing / new / removed tests.
Nothing here is a real observation of the service: it is made-up data of the right shape.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from conformance.results import RESULTS_FILE, RUN_FILE, RunInfo, TestRecord, write_records, write_run_info

TARGETS = ("emulator", "live")
VERSIONS = ("2024-05-01-preview", "2024-08-01-preview")
BUILDS = 5


@dataclass(frozen=True)
class Spec:
    id: str
    area: str
    operation: str
    operations: tuple[str, ...] = ()


TESTS = (
    Spec("test_crud.py::test_create_assistant", "crud", "Create_Assistant"),
    Spec("test_crud.py::test_get_assistant", "crud", "Get_Assistant", ("Create_Assistant",)),
    Spec("test_crud.py::test_delete_thread", "crud", "Delete_Thread", ("Create_Thread",)),
    Spec("test_crud.py::test_modify_message", "crud", "Modify_Message", ("Create_Thread", "Create_Message")),
    Spec("test_lifecycle.py::test_run_reaches_terminal", "lifecycle", "", ("Create_Run", "Get_Run")),
    Spec("test_lifecycle.py::test_cancel_run", "lifecycle", "Cancel_Run", ("Create_Run",)),
    Spec("test_lifecycle.py::test_terminal_absorbing", "lifecycle", "Get_Run", ("Create_Run",)),
    Spec("test_pagination.py::test_list_messages_first_id", "pagination", "List_Messages"),
    Spec("test_pagination.py::test_list_assistants_after", "pagination", "List_Assistants"),
    Spec("test_pagination.py::test_limit_bounds", "pagination", "List_Assistants"),
    Spec("test_streaming.py::test_run_stream_order", "streaming", "Create_Run"),
    Spec("test_streaming.py::test_done_last", "streaming", "Create_Thread_And_Run"),
    Spec("test_content_filter.py::test_filtered_prompt_envelope", "content_filter", "ChatCompletions_Create"),
    Spec("test_content_filter.py::test_annotations_present", "content_filter", "ChatCompletions_Create"),
    Spec("test_errors.py::test_unknown_thread_404", "errors", "Get_Thread"),
    Spec("test_errors.py::test_bad_api_version", "errors", "List_Assistants"),
    Spec("test_versions.py::test_truncation_strategy", "versions", "Create_Run"),
    Spec("test_vector_stores.py::test_file_batch", "crud", "Create_Vector_Store_File_Batch"),
    Spec("fuzz::Create_Run", "fuzz", "Create_Run"),
    Spec("fuzz::List_Messages", "fuzz", "List_Messages"),
)
NEW_IN_LAST = Spec("test_vector_stores.py::test_file_batch_cancel", "crud", "Cancel_Vector_Store_File_Batch")
REMOVED_IN_LAST = "test_crud.py::test_modify_message"

CURL = ("curl -X POST 'https://<resource>.openai.azure.com/openai/threads/thread_Qx/runs?api-version={v}' "
        "-H 'api-key: ***' -H 'content-type: application/json' -d '{{\"assistant_id\": \"asst_7\", \"stream\": true}}'")


def _outcome(spec: Spec, target: str, version: str, build: int) -> TestRecord:
    record = TestRecord(id=spec.id, area=spec.area, operation=spec.operation, api_version=version,
                        target=target, outcome="passed", duration=0.05 + (len(spec.id) % 7) * 0.13,
                        operations=list(spec.operations), requests=2 + len(spec.operations), tokens=0)
    if spec.area in {"lifecycle", "streaming", "content_filter"}:
        record.tokens = 120 + 10 * build if target == "live" else 0
    if spec.area == "streaming" and version == VERSIONS[0]:
        record.outcome, record.message = "skipped", "stream on runs exists from 2024-08-01-preview"
    elif target == "live" and spec.area == "content_filter" and spec.id.endswith("envelope"):
        record.outcome = "xfailed"
        record.message = "known deviation: service sends innererror.content_filter_result, reference documents inner_error"
        record.rules = ["errors.envelope"]
    elif target == "live" and spec.id.endswith("test_file_batch"):
        record.outcome, record.message = "unavailable", "503 ServiceUnavailable on 3 attempts (retry budget spent)"
    elif target == "live" and spec.id.endswith("limit_bounds") and build >= 3:
        record.outcome, record.rules = "failed", ["pagination.limit_range"]
        record.message = "[pagination.limit_range] at query.limit: limit=101 accepted, expected 400"
        record.request = CURL.format(v=version).replace("/threads/thread_Qx/runs", "/assistants?limit=101")
        record.response = 'HTTP/1.1 200 OK\ncontent-type: application/json\n\n{"object": "list", "data": [...], "first_id": "asst_1"}'
    elif target == "emulator" and version == VERSIONS[1] and spec.id.endswith("first_id") and build == BUILDS:
        record.outcome, record.rules = "failed", ["pagination.first_id"]
        record.message = "[pagination.first_id] at body.first_id: 'msg_9' is not the id of data[0] ('msg_3')"
    elif target == "live" and spec.id.endswith("terminal_absorbing") and build <= 2:
        record.outcome, record.rules = "failed", ["lifecycle.terminal_absorbing"]
        record.message = "[lifecycle.terminal_absorbing]: run went completed -> in_progress"
    elif target == "emulator" and spec.id.endswith("bad_api_version") and build == 4:
        record.outcome, record.message = "xpassed", "expected deviation errors.api_version_message did not occur"
    elif spec.id == "fuzz::Create_Run" and target == "live" and version == VERSIONS[1] and build >= 4:
        record.outcome, record.kind, record.seed = "failed", "fuzz", 184467 + build
        record.rules = ["schema.response", "sse.done_last"]
        record.message = "[schema.response] at body.truncation_strategy: None is not of type 'object'"
        record.request, record.response = CURL.format(v=version), "HTTP/1.1 200 OK\n\nevent: thread.run.created\ndata: {...}"
    if spec.area == "fuzz":
        record.kind = "fuzz"
    return record


def write_build(root: Path, build: int) -> Path:
    """Results of build `build` under root/build-N/<target>[/shard-K]; returns root/build-N."""
    base = root / f"build-{build}"
    for target in TARGETS:
        run_id = f"{target}-2026112{build}"
        specs = [s for s in TESTS if not (build == BUILDS and s.id == REMOVED_IN_LAST)]
        if build == BUILDS:
            specs.append(NEW_IN_LAST)
        records = [_outcome(s, target, v, build) for v in VERSIONS for s in specs]
        for r in records:
            r.run_id = run_id
        # The emulator job is sharded in two, with one test in both shards (a retried job).
        shards = [records] if target == "live" else [records[::2], records[1::2] + records[:1]]
        for k, shard in enumerate(shards, 1):
            folder = base / target / (f"shard-{k}" if len(shards) > 1 else "")
            (folder / RESULTS_FILE).unlink(missing_ok=True)
            write_records(folder / RESULTS_FILE, shard)
            write_run_info(folder / RUN_FILE, RunInfo(
                run_id=run_id, target=target, api_versions=list(VERSIONS),
                started_at=f"2026-11-2{build}T02:00:00Z", finished_at=f"2026-11-2{build}T02:{10 + k:02d}:00Z",
                package_version="0.1.0", command=f"aoai-conformance run --target {target}",
                requests=sum(r.requests for r in shard) if target == "live" else 0,
            ))
    return base


def write_sample(root: Path, builds: int = BUILDS) -> Path:
    """Build the report `builds` times over successive builds; return the last HTML path."""
    from conformance.report.command import build_report

    html = root
    for n in range(1, builds + 1):
        html = build_report([write_build(root, n)], root / "report", root / "history.jsonl",
                            title="Sample compatibility report (made-up data)")
    return html


def record(**fields: object) -> TestRecord:
    """A passing suite record with sensible defaults; tests override what they care about."""
    base: dict[str, object] = {"id": "test_x.py::test_one", "area": "crud", "operation": "Create_Assistant",
                               "api_version": VERSIONS[1], "target": "emulator", "outcome": "passed",
                               "duration": 0.1, "run_id": "run-1"}
    base.update(fields)
    return TestRecord(**base)  # type: ignore[arg-type]


def write_dir(folder: Path, records: list[TestRecord], run: RunInfo | None = None) -> Path:
    """A results directory as the suite writes it: results.jsonl (+ run.json)."""
    (folder / RESULTS_FILE).unlink(missing_ok=True)
    write_records(folder / RESULTS_FILE, records)
    if run is not None:
        write_run_info(folder / RUN_FILE, run)
    return folder


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m conformance.report.demo OUT_DIR")
    print(write_sample(Path(sys.argv[1])))
