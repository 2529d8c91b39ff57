#!/usr/bin/env python3
"""Quick start for a fresh machine with only Python 3.11+.

    python3 dev.py run [ARGS...]   the suite (hand-written + fuzzing) against the embedded emulator,
                                   writing reports/; ARGS go to `aoai-conformance run`
    python3 dev.py test [ARGS...]  the project's own checks: ruff, mypy, pytest

Creates ./.venv on first use and (re)installs the project into it whenever pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".aoai-conformance-installed"


def _sh(*args: str | Path) -> int:
    return subprocess.call([str(a) for a in args], cwd=ROOT)


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036  (dev.py runs under whatever python3 the user has)
        sys.exit(f"aoai-conformance needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print("dev.py: creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py: installing aoai-conformance and its test tools into .venv", flush=True)
    if _sh(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip") != 0:
        sys.exit("dev.py: could not upgrade pip in .venv (is the package index reachable?)")
    if _sh(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[dev]") != 0:
        sys.exit("dev.py: installing the project failed; see pip's message above.")
    STAMP.write_text(wanted)


def run(args: list[str]) -> int:
    # the main job: everything the suite checks, both api-versions, two workers
    return _sh(BIN / "aoai-conformance", "run", "--fuzz", "-n", "2", *args)


def test(args: list[str]) -> int:
    steps: list[tuple[str, list[str | Path]]] = [
        ("ruff", [BIN / "ruff", "check", "conformance", "tests", "bench", "dev.py"]),
        ("mypy", [BIN / "mypy"]),
        ("pytest", [BIN / "python", "-m", "pytest", *args]),
    ]
    for name, cmd in steps:
        print(f"dev.py: {name}", flush=True)
        code = _sh(*cmd)
        if code != 0:
            print(f"dev.py: {name} failed (exit {code})", flush=True)
            return code
    return 0


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test"}:
        print(__doc__)
        return 2
    ensure_venv()
    command, rest = sys.argv[1], sys.argv[2:]
    return run(rest) if command == "run" else test(rest)


if __name__ == "__main__":
    raise SystemExit(main())
