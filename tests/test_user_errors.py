"""Missing settings, unreachable targets and bad files stop a run with one message naming the fix,
never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)})


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["run", "--target", "url"], "needs an endpoint: pass --base-url or set AZURE_OPENAI_ENDPOINT", 4),
        (["run", "--target", "url", "-n", "2"], "needs an endpoint", 4),
        (["run", "--target", "url", "--base-url", "http://127.0.0.1:9", "--api-key", "k"],
         "cannot reach http://127.0.0.1:9", 3),
        (["run", "--api-version", "2023-01-01"], "'2023-01-01' is not covered; supported: 2024-05-01-preview", 4),
        (["run", "--target", "mine", "--targets-file", "nope.toml"], "nope.toml does not exist", 4),
        (["run", "--expectations", "missing.toml"], "missing.toml does not exist", 4),
        (["cleanup", "--target", "url"], "needs an endpoint", 2),
    ],
)
def test_bad_settings_are_one_message(args: list[str], message: str, code: int, tmp_path: Path) -> None:
    result = run_cli(*args, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert message in output, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert result.returncode == code, output[-3000:]
