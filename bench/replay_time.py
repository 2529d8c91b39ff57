"""Wall time of replaying the whole hand-written suite, both api-versions, from the committed cassettes.

    .venv/bin/python bench/replay_time.py [--runs N] [--cassette-dir DIR]

Bounded: at most 5 runs, each killed after 120 s. Prints one line per run and the best time; exits
non-zero when a run fails or the best time is over the 20 s target.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 20.0
TIMEOUT = 120.0


def replay_once(cassettes: Path) -> tuple[float, int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_OPENAI_", "AOAI_CONFORMANCE_"))}
    env["PYTHONPATH"] = str(ROOT)
    with tempfile.TemporaryDirectory() as report:
        cmd = [sys.executable, "-m", "pytest", "--pyargs", "conformance.suite",
               "-c", str(ROOT / "conformance" / "suite" / "suite.ini"), "-q", "-p", "no:randomly",
               "--target", "replay", "--api-version", "all", "--cassette-dir", str(cassettes), "--report-dir", report]
        started = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
        elapsed = time.perf_counter() - started
    summary = next((line for line in reversed(done.stdout.splitlines()) if " in " in line), done.stdout[-200:])
    return elapsed, done.returncode, summary.strip("= ")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="1-5 (default 1)")
    parser.add_argument("--cassette-dir", default=str(ROOT / "cassettes"))
    options = parser.parse_args()
    runs = min(max(options.runs, 1), 5)
    best = float("inf")
    for number in range(1, runs + 1):
        elapsed, code, summary = replay_once(Path(options.cassette_dir))
        print(f"run {number}: {elapsed:.1f} s (exit {code}): {summary}")
        if code != 0:
            return code
        best = min(best, elapsed)
    print(f"best: {best:.1f} s (target under {TARGET_SECONDS:.0f} s)")
    return 0 if best < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
