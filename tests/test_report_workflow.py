"""examples/nightly.yml: the workflow wires the commands and files the report actually uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.report.changes import SNAPSHOT_FILE
from conformance.report.command import HTML_FILE, SUMMARY_FILE

WORKFLOW = Path(__file__).resolve().parents[1] / "examples" / "nightly.yml"


@pytest.fixture(scope="module")
def jobs() -> dict[str, Any]:
    document = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert document.get(True, document.get("on"))["schedule"], "the workflow must be scheduled"
    result: dict[str, Any] = document["jobs"]
    return result


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def _uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if str(step.get("uses", "")).startswith(action)]


def test_suite_jobs_run_their_targets_and_upload_results(jobs: dict[str, Any]) -> None:
    assert "aoai-conformance run --target live --report-dir reports/live" in _runs(jobs["live"])
    assert "aoai-conformance run --target emulator --report-dir reports/emulator" in _runs(jobs["emulator"])
    live_env = jobs["live"]["env"]
    assert live_env["AZURE_OPENAI_ENDPOINT"] == "${{ secrets.AZURE_OPENAI_ENDPOINT }}"
    assert live_env["AZURE_OPENAI_API_KEY"] == "${{ secrets.AZURE_OPENAI_API_KEY }}"
    for name in ("live", "emulator"):
        [upload] = _uses(jobs[name], "actions/upload-artifact")
        assert upload["if"].startswith("always()")  # failing tests still upload their results
        assert upload["with"]["path"] == f"reports/{name}/"


def test_report_job_restores_history_builds_and_publishes(jobs: dict[str, Any]) -> None:
    report = jobs["report"]
    assert set(report["needs"]) == {"live", "emulator"}
    assert "cancelled()" in report["if"]
    assert "aoai-conformance report --results reports/ --history reports/history.jsonl" in _runs(report)
    assert "$GITHUB_STEP_SUMMARY" in _runs(report) and f"reports/{SUMMARY_FILE}" in _runs(report)
    [restore] = _uses(report, "actions/cache/restore")
    [save] = _uses(report, "actions/cache/save")
    for step in (restore, save):  # the snapshot the change list needs travels with the history
        assert set(step["with"]["path"].split()) == {"reports/history.jsonl", f"reports/{SNAPSHOT_FILE}"}
    published = _uses(report, "actions/upload-artifact")[0]["with"]["path"].split()
    assert f"reports/{HTML_FILE}" in published and "reports/history.jsonl" in published
    order = report["steps"]
    build = next(i for i, step in enumerate(order) if "report --results" in step.get("run", ""))
    assert order.index(restore) < build < order.index(save)
