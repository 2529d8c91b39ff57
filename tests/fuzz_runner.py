"""Run the fuzz package in a child pytest against the embedded emulator (shared by the fuzz tests)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from suite_runner import SuiteRun, run_child

FuzzRun = SuiteRun


def run_fuzz(report_dir: Path, args: Sequence[str], *, timeout: float = 300.0,
             target: Sequence[str] = ("--target", "emulator")) -> FuzzRun:
    """`python -m pytest --pyargs conformance.fuzz` with `args`, against the embedded emulator by default."""
    return run_child("conformance.fuzz", report_dir, args, timeout=timeout, target=target)
