"""Run the hand-written conformance suite in a child pytest against the embedded emulator.

Shared by the tests that prove the suite works: against the clean emulator, and against the
emulator with each fault switched on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

import conformance.suite
from conformance.results import RESULTS_FILE, RunInfo, TestRecord, read_records, read_run_info

ROOT = Path(__file__).resolve().parents[1]
SUITE_INI = Path(conformance.suite.__file__).resolve().parent / "suite.ini"


@dataclass
class SuiteRun:
    returncode: int
    output: str
    records: list[TestRecord]
    info: RunInfo | None
    seconds: float = 0.0

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def run_suite(
    report_dir: Path, args: Sequence[str], *, timeout: float = 300.0, stop_on_rule: str | None = None
) -> SuiteRun:
    """`python -m pytest --pyargs conformance.suite` with `args`, target forced to the emulator;
    with `stop_on_rule`, the child stops at the first failure whose report names that rule."""
    cmd = [sys.executable, "-m", "pytest", "--pyargs", "conformance.suite", "-c", str(SUITE_INI),
           "--target", "emulator", "--report-dir", str(report_dir), "-q", "-p", "no:randomly", *args]
    # The user's target settings must not leak into a run that is about the emulator.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_OPENAI_", "AOAI_CONFORMANCE_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if stop_on_rule:
        cmd += ["-p", "suite_runner"]
        env[STOP_ON_RULE_ENV] = stop_on_rule
        env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent), env["PYTHONPATH"]])
    started = time.monotonic()
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        returncode, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        returncode, output = -1, f"the child suite ran over its {exc.timeout:.0f} s limit and was killed"
    results = report_dir / RESULTS_FILE
    records = list(read_records(results)) if results.exists() else []
    info_path = report_dir / "run.json"
    info = read_run_info(info_path) if info_path.exists() else None
    return SuiteRun(returncode, output, records, info, time.monotonic() - started)


# ---- loaded in the child with `-p suite_runner` when a run only needs to see one rule reported

STOP_ON_RULE_ENV = "AOAI_SUITE_STOP_ON_RULE"
_SESSION: list[pytest.Session] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    _SESSION[:] = [session]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Once a failure names the rule, the rest of the run cannot change the verdict: stop early.
    rule = os.environ.get(STOP_ON_RULE_ENV)
    if rule and report.failed and rule in report.longreprtext and _SESSION:
        _SESSION[0].shouldstop = f"a failure reported {rule}"
