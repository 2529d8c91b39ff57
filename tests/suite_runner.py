"""Run the hand-written suite or the fuzzer in a child pytest, against the embedded emulator by default.

Shared by the tests that prove the suite and the fuzzer work: against the clean emulator, and against
the emulator with each fault switched on (`ChildPool` runs those children a few at a time).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import pytest

import conformance.suite
from conformance.results import RESULTS_FILE, RunInfo, TestRecord, read_records, read_run_info

ROOT = Path(__file__).resolve().parents[1]
SUITE_INI = Path(conformance.suite.__file__).resolve().parent / "suite.ini"
K = TypeVar("K")


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
    return run_child("conformance.suite", report_dir, args, timeout=timeout, stop_on_rule=stop_on_rule)


def run_child(
    package: str,
    report_dir: Path,
    args: Sequence[str],
    *,
    timeout: float = 300.0,
    stop_on_rule: str | None = None,
    target: Sequence[str] = ("--target", "emulator"),
) -> SuiteRun:
    """`python -m pytest --pyargs <package>` with `args` against `target`; the results it wrote."""
    cmd = [sys.executable, "-m", "pytest", "--pyargs", package, "-c", str(SUITE_INI),
           *target, "--report-dir", str(report_dir), "-q", "-p", "no:randomly", *args]
    # The user's target settings must not leak into a run that is about the emulator.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_OPENAI_", "AOAI_CONFORMANCE_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["AOAI_CONFORMANCE_STATE_DIR"] = str(report_dir / "state")  # a non-emulator target's ledger stays here
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


class ChildPool(Generic[K]):
    """Child runs keyed by case, started together (a few at a time) the first time any case needs a
    result, and shared by the parametrized cases that read them."""

    def __init__(self, run: Callable[[K], SuiteRun], parallel: int = 3) -> None:
        self._run = run
        self._pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="child-run")
        self._futures: dict[K, Future[SuiteRun]] = {}
        self._lock = threading.Lock()

    def start(self, keys: Iterable[K]) -> None:
        with self._lock:
            for key in keys:
                if key not in self._futures:
                    self._futures[key] = self._pool.submit(self._run, key)

    def result(self, key: K) -> SuiteRun:
        self.start([key])
        return self._futures[key].result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def pool_for_module(request: pytest.FixtureRequest, run: Callable[[str], SuiteRun], param: str,
                    parallel: int = 3) -> Iterator[ChildPool[str]]:
    """A pool for the cases of the requesting module, all started at once (under xdist each case
    starts its own when it asks)."""
    pool: ChildPool[str] = ChildPool(run, parallel)
    if not hasattr(request.config, "workerinput"):
        pool.start(item.callspec.params[param] for item in request.session.items
                   if item.module is request.module and hasattr(item, "callspec"))
    try:
        yield pool
    finally:
        pool.close()


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
