"""Run the fuzz package in a child pytest against the embedded emulator (shared by the fuzz tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import conformance.suite
from conformance.results import RESULTS_FILE, TestRecord, read_records

ROOT = Path(__file__).resolve().parents[1]
SUITE_INI = Path(conformance.suite.__file__).resolve().parent / "suite.ini"


@dataclass
class FuzzRun:
    returncode: int
    output: str
    records: list[TestRecord]

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def run_fuzz(report_dir: Path, args: Sequence[str], *, timeout: float = 300.0,
             target: Sequence[str] = ("--target", "emulator")) -> FuzzRun:
    """`python -m pytest --pyargs conformance.fuzz` with `args`, against the embedded emulator by default."""
    cmd = [sys.executable, "-m", "pytest", "--pyargs", "conformance.fuzz", "-c", str(SUITE_INI),
           *target, "--report-dir", str(report_dir), "-q", "-p", "no:randomly", *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_OPENAI_", "AOAI_CONFORMANCE_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["AOAI_CONFORMANCE_STATE_DIR"] = str(report_dir / "state")  # a non-emulator target's ledger stays here
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    results = report_dir / RESULTS_FILE
    records = list(read_records(results)) if results.exists() else []
    return FuzzRun(done.returncode, done.stdout + done.stderr, records)
