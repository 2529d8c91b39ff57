"""The fuzzer's generated cases/s, through bench/fuzz_rate.py (written by the fuzz engineer) when present.

The script's last stdout line is read as JSON; a `cases_per_second` (or `cases/s`) key becomes the
figure, the rest is kept as detail. Bounded by a timeout.
"""

from __future__ import annotations

import json
import subprocess

from bench.common import BENCH, PYTHON, ROOT
from bench.figures import Figure, missing

SCRIPT = BENCH / "fuzz_rate.py"
CMD = "python bench/fuzz_rate.py"


def fuzz_figures(quick: bool, timeout: float = 180.0) -> list[Figure]:
    if not SCRIPT.exists():
        return [missing("fuzz", "generated cases/s", "cases/s", CMD, "not available yet: bench/fuzz_rate.py is absent")]
    args = [PYTHON, str(SCRIPT), *(["--quick"] if quick else [])]
    try:
        proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [missing("fuzz", "generated cases/s", "cases/s", CMD, f"stopped after {timeout:.0f} s")]
    lines = proc.stdout.strip().splitlines()
    try:
        data = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        data = {}
    rate = data.get("cases_per_second", data.get("cases/s")) if isinstance(data, dict) else None
    if proc.returncode != 0 or not isinstance(rate, int | float):
        tail = (lines or proc.stderr.strip().splitlines() or ["no output"])[-1][:300]
        return [missing("fuzz", "generated cases/s", "cases/s", CMD, f"exit {proc.returncode}, no cases_per_second: {tail}")]
    return [Figure("fuzz", "generated cases/s", float(rate), "cases/s", str(data.get("command", CMD)),
                   str(data.get("note", "")), detail=data)]
