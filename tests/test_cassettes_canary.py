"""Record through `aoai-conformance record` with canary credentials and a canary host name, then prove
neither reaches the cassettes or the reports, and that replaying the recording gives its verdicts."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.harness.target import EmulatorProcess, start_emulator
from conformance.results import RESULTS_FILE, read_records

ROOT = Path(__file__).resolve().parents[1]
VERSION = "2024-08-01-preview"
CANARY_KEY = "canaryKEY-7f3a9c1e5b2d4f60a8e1"
CANARY_RESOURCE = "canary-resource-q7x4"
CANARY_HOST = f"{CANARY_RESOURCE}.example.test"  # not Azure-shaped: only the exact-value scrub can catch it
CANARIES = (CANARY_KEY, CANARY_RESOURCE, CANARY_HOST)

# Loaded into the recording pytest: the canary host resolves to the local emulator.
DNS = f'''
import socket

_real = socket.getaddrinfo

def _resolve(host, *args, **kwargs):
    return _real("127.0.0.1" if host == {CANARY_HOST!r} else host, *args, **kwargs)

socket.getaddrinfo = _resolve
'''


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    process = start_emulator(CANARY_KEY)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def recording(emulator: EmulatorProcess, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("canary")
    (work / "canary_dns.py").write_text(DNS, encoding="utf-8")
    port = emulator.url.rsplit(":", 1)[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_OPENAI_", "AOAI_CONFORMANCE_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(work)])
    cmd = [sys.executable, "-m", "conformance.cli", "record", "--target", "url",
           "--base-url", f"http://{CANARY_HOST}:{port}", "--api-key", CANARY_KEY, "--api-version", VERSION,
           "--cassette-dir", str(work / "cassettes"), "--report-dir", str(work / "reports"), "-q",
           "--", "-p", "canary_dns"]
    done = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert (work / "reports" / RESULTS_FILE).exists(), done.stdout[-3000:] + done.stderr[-3000:]
    (work / "output.txt").write_text(done.stdout + done.stderr, encoding="utf-8")
    return work


def test_the_recording_really_used_the_canaries(recording: Path) -> None:
    records = list(read_records(recording / "reports" / RESULTS_FILE))
    assert sum(r.requests for r in records) > 50, "the recording must have sent traffic through the canary host"
    assert sum(1 for _ in (recording / "cassettes" / VERSION).rglob("*.yaml")) > 20


def test_no_canary_in_cassettes_or_reports(recording: Path) -> None:
    leaks = []
    for folder in ("cassettes", "reports"):
        for path in sorted((recording / folder).rglob("*")):
            if not path.is_file():
                continue
            text = path.read_bytes().decode("utf-8", errors="replace").lower()
            leaks += [f"{path.relative_to(recording)}: {c}" for c in CANARIES if c.lower() in text]
    assert (recording / "reports" / "index.html").exists(), "the record command must have written the HTML report"
    assert not leaks, "\n".join(leaks[:30])


def test_replaying_the_recording_reaches_its_verdicts(recording: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_OPENAI_", "AOAI_CONFORMANCE_"))}
    env["PYTHONPATH"] = str(ROOT)
    report = tmp_path / "replay"
    cmd = [sys.executable, "-m", "conformance.cli", "run", "--target", "replay", "--api-version", VERSION,
           "--report-dir", str(report), "--no-report", "-q", "--", "--cassette-dir", str(recording / "cassettes")]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    recorded = {r.id: r.outcome for r in read_records(recording / "reports" / RESULTS_FILE)}
    replayed = {r.id: r.outcome for r in read_records(report / RESULTS_FILE)} if (report / RESULTS_FILE).exists() else {}
    assert replayed, done.stdout[-3000:] + done.stderr[-3000:]
    assert replayed == recorded
