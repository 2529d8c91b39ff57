"""`aoai-conformance validate`: recorded cassettes pass; cassettes edited to break one rule (and the same
traffic as HAR) fail with that rule; unknown operations / api-versions are reported, not guessed."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.cassettes.store import Provenance, dump_cassette, load_interactions
from conformance.cassettes.validate import main
from conformance.results import RESULTS_FILE, read_records
from conformance.results import TestRecord as Record

ROOT = Path(__file__).resolve().parents[1]
VERSION = "2024-08-01-preview"
CASSETTES = ROOT / "cassettes" / VERSION
POLLED = "test_runs_lifecycle/test_run_polled_to_completion_is_a_legal_walk.yaml"
STREAM = "test_streaming/test_run_stream_follows_the_event_grammar.yaml"
GONE = "test_threads/test_thread_delete_envelope_then_gone.yaml"
WALKS = "test_pagination/test_messages_list_walks[asc].yaml"
Interactions = list[dict[str, Any]]


def _load(name: str) -> Interactions:
    path = CASSETTES / name
    if not path.is_file():
        pytest.fail(f"committed cassette {path} is missing: run `aoai-conformance record --target emulator`")
    return load_interactions(path)[1]


def _write(tmp_path: Path, interactions: Interactions, name: str = "edited.yaml") -> Path:
    path = tmp_path / name
    dump_cassette(path, Provenance("emulator", VERSION, "2026-01-01T00:00:00+00:00", "0.1.0"), interactions)
    return path


def _validate(tmp_path: Path, *files: Path) -> tuple[int, list[Record]]:
    report = tmp_path / "report"
    code = main([*map(str, files), "--report-dir", str(report)])
    return code, list(read_records(report / RESULTS_FILE))


def _body(interaction: dict[str, Any]) -> Any:
    return json.loads(interaction["response"]["body"]["string"])


def _set_body(interaction: dict[str, Any], body: Any) -> None:
    interaction["response"]["body"]["string"] = json.dumps(body)


def _failed_rules(records: list[Record]) -> set[str]:
    return {rule for r in records if r.outcome == "failed" for rule in r.rules}


@pytest.mark.parametrize("name", [POLLED, STREAM, GONE, WALKS])
def test_recorded_cassettes_are_conformant(name: str, tmp_path: Path) -> None:
    code, records = _validate(tmp_path, CASSETTES / name)
    assert code == 0, [r.message for r in records if r.outcome == "failed"]
    assert records and {r.kind for r in records} == {"validate"} and {r.target for r in records} == {"validate"}
    assert all(r.outcome == "passed" for r in records)


def test_the_whole_committed_set_validates_with_runs_and_walks_judged_together(tmp_path: Path) -> None:
    files = sorted(CASSETTES.glob("*/*.yaml"))
    code, records = _validate(tmp_path, *files)
    assert code == 0, [f"{r.id}: {r.message}" for r in records if r.outcome == "failed"][:10]
    assert any("walk of" in r.id for r in records) and any("snapshots" in r.id for r in records)


def _break_schema(items: Interactions) -> str:
    body = _body(items[0])  # Create_Thread answer
    del body["created_at"]
    _set_body(items[0], body)
    return "schema.response"


def _break_error_envelope(items: Interactions) -> str:
    _set_body(items[2], {"detail": "not found"})  # the 404 after delete
    return "errors.envelope"


def _list_gets(items: Interactions, limit: str) -> list[int]:
    return [i for i, item in enumerate(items)
            if item["request"]["method"] == "GET" and f"limit={limit}&" in item["request"]["uri"] + "&"]


def _break_page(items: Interactions) -> str:
    at = _list_gets(items, "100")[0]
    page = _body(items[at])
    page["first_id"] = "msg_not_on_the_page"
    _set_body(items[at], page)
    return "pagination.first_id"


def _break_walk(items: Interactions) -> str:
    # the limit=1 walk forwards: page 2 repeats page 1's item (its cursor chain stays intact)
    one, two = _list_gets(items, "1")[:2]
    first, second = _body(items[one]), _body(items[two])
    assert first["has_more"] is True and "after=" in items[two]["request"]["uri"]
    second["data"][0] = first["data"][0]
    second["first_id"] = first["data"][0]["id"]
    _set_body(items[two], second)
    return "pagination.walk_complete"


def _break_poll_walk(items: Interactions) -> str:
    # the run was seen completed, then in_progress again: a terminal status left
    at = max(i for i, item in enumerate(items)
             if item["request"]["method"] == "GET" and _body(item).get("status") == "completed")
    undone = dict(_body(items[at]), status="in_progress", completed_at=None)
    items.insert(at + 1, json.loads(json.dumps(items[at])))
    _set_body(items[at + 1], undone)
    return "lifecycle.terminal_absorbing"


def _break_stream_order(items: Interactions) -> str:
    raw: str = items[2]["response"]["body"]["string"]
    blocks = [b for b in raw.split("\n\n") if b.strip()]
    done = [b for b in blocks if "[DONE]" in b]
    rest = [b for b in blocks if "[DONE]" not in b]
    items[2]["response"]["body"]["string"] = "\n\n".join([*done, *rest]) + "\n\n"  # done first
    return "sse."


def _break_deltas(items: Interactions) -> str:
    raw: str = items[2]["response"]["body"]["string"]
    blocks = raw.split("\n\n")
    for index, block in enumerate(blocks):
        if block.startswith("event: thread.message.delta"):
            blocks[index] = block.replace('"value":"', '"value":"XX', 1)
            break
    else:
        pytest.fail("the recorded run stream has no message delta")
    items[2]["response"]["body"]["string"] = "\n\n".join(blocks)
    return "sse.delta_concat"


BREAKS: dict[str, tuple[str, Callable[[Interactions], str]]] = {
    "schema": (GONE, _break_schema),
    "error_envelope": (GONE, _break_error_envelope),
    "page": (WALKS, _break_page),
    "walk": (WALKS, _break_walk),
    "poll_walk": (POLLED, _break_poll_walk),
    "stream_order": (STREAM, _break_stream_order),
    "deltas": (STREAM, _break_deltas),
}


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_a_broken_cassette_fails_with_the_rule_it_breaks(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name, breaker = BREAKS[case]
    items = _load(name)
    rule = breaker(items)
    code, records = _validate(tmp_path, _write(tmp_path, items))
    out = capsys.readouterr().out
    assert code == 1
    rules = _failed_rules(records)
    assert any(r.startswith(rule) for r in rules), (rule, rules)
    failed = [r for r in records if r.outcome == "failed"]
    assert all(r.operation and f"{r.operation} (" in out for r in failed)  # grouped by operation


def _har(items: Interactions, *, base64_bodies: bool = False, key: str = "") -> dict[str, Any]:
    entries = []
    for item in items:
        request, response = item["request"], item["response"]
        text = response["body"]["string"]
        content: dict[str, Any] = {"mimeType": response["headers"].get("content-type", [""])[0], "text": text}
        if base64_bodies:
            content = {**content, "text": base64.b64encode(text.encode()).decode(), "encoding": "base64"}
        entries.append({
            "request": {"method": request["method"], "url": request["uri"],
                        "headers": [{"name": "api-key", "value": key}] if key else []},
            "response": {"status": response["status"]["code"],
                         "headers": [{"name": k, "value": v[0]} for k, v in response["headers"].items()],
                         "content": content},
        })
    return {"log": {"version": "1.2", "entries": entries}}


@pytest.mark.parametrize("base64_bodies", [False, True])
def test_har_files_validate_like_cassettes(base64_bodies: bool, tmp_path: Path) -> None:
    good = tmp_path / "good.har"
    good.write_text(json.dumps(_har(_load(STREAM), base64_bodies=base64_bodies)))
    code, records = _validate(tmp_path, good)
    assert code == 0 and records and all(r.outcome == "passed" for r in records)
    broken_items = _load(STREAM)
    _break_stream_order(broken_items)
    bad = tmp_path / "bad.har"
    bad.write_text(json.dumps(_har(broken_items, base64_bodies=base64_bodies)))
    code, records = _validate(tmp_path, bad)
    assert code == 1 and any(r.startswith("sse.") for r in _failed_rules(records))


def test_a_har_key_and_host_never_reach_the_results(tmp_path: Path) -> None:
    items = _load(GONE)
    for item in items:
        item["request"]["uri"] = item["request"]["uri"].replace("replay.invalid", "contoso-canary.openai.azure.com")
    har = tmp_path / "captured.har"
    har.write_text(json.dumps(_har(items, key="canary-key-0123456789")))
    _validate(tmp_path, har)
    text = (tmp_path / "report" / RESULTS_FILE).read_text()
    assert "canary" not in text


def test_unknown_operations_and_api_versions_are_reported_not_guessed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = _load(GONE)[:2]
    unknown_version = json.loads(json.dumps(items[0]))
    unknown_version["request"]["uri"] = unknown_version["request"]["uri"].replace(VERSION, "2031-01-01-preview")
    unknown_path = json.loads(json.dumps(items[0]))
    unknown_path["request"]["uri"] = unknown_path["request"]["uri"].replace("/openai/threads", "/openai/gizmos")
    code, records = _validate(tmp_path, _write(tmp_path, [*items, unknown_version, unknown_path]))
    out = capsys.readouterr().out
    assert code == 0
    skipped = {r.id: r for r in records if r.outcome == "skipped"}
    assert len(skipped) == 2 and all(not r.operation for r in skipped.values())
    messages = " ".join(r.message for r in skipped.values())
    assert "2031-01-01-preview" in messages and "/gizmos" in messages
    assert "(unknown operation or api-version)" in out


def test_unreadable_files_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.har"
    bad.write_text("{not json")
    assert main([str(bad), "--report-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.har" in err and "Traceback" not in err
    assert main([str(tmp_path / "missing.yaml"), "--report-dir", str(tmp_path / "r")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_a_stream_whose_body_was_not_captured_is_not_judged(tmp_path: Path) -> None:
    har = _har(_load(STREAM))
    stream = next(e for e in har["log"]["entries"] if e["response"]["content"]["mimeType"].startswith("text/event-stream"))
    del stream["response"]["content"]["text"]
    path = tmp_path / "no-body.har"
    path.write_text(json.dumps(har))
    code, records = _validate(tmp_path, path)
    assert code == 0
    assert [r.message for r in records if r.outcome == "skipped"] == ["the event-stream body was not captured"]
