"""`--target replay` over the committed cassettes: offline, complete, and with the recorded verdicts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import conformance.suite
from conformance.cassettes.command import VERDICTS_FILE
from conformance.cassettes.store import cassette_path
from conformance.results import RESULTS_FILE, read_records
from conformance.results import TestRecord as Record
from conformance.versions import API_VERSIONS

ROOT = Path(__file__).resolve().parents[1]
CASSETTES = ROOT / "cassettes"
SUITE_INI = Path(conformance.suite.__file__).resolve().parent / "suite.ini"

# Loaded into the replaying pytest: any socket connection or child process (the emulator) fails the run.
GUARD = '''
import socket, subprocess

def _refuse(*args, **kwargs):
    raise RuntimeError("replay touched the network or started a process")

def pytest_configure(config):
    socket.socket.connect = _refuse
    socket.create_connection = _refuse
    subprocess.Popen.__init__ = _refuse
'''


def _env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "replay_guard.py").write_text(GUARD, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_OPENAI_", "AOAI_CONFORMANCE_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(tmp_path)])
    return env


def replay(tmp_path: Path, cassettes: Path, *args: str, guard: bool = True) -> tuple[int, str, list[Record]]:
    report = tmp_path / "report"
    cmd = [sys.executable, "-m", "pytest", "--pyargs", "conformance.suite", "-c", str(SUITE_INI), "-q",
           "-p", "no:randomly", "--target", "replay", "--cassette-dir", str(cassettes), "--report-dir", str(report),
           *(["-p", "replay_guard"] if guard else []), *args]
    done = subprocess.run(cmd, cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    results = report / RESULTS_FILE
    return done.returncode, done.stdout + done.stderr, list(read_records(results)) if results.exists() else []


def _verdicts(version: str) -> dict[str, str]:
    path = CASSETTES / version / VERDICTS_FILE
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else {}


def _collected(tmp_path: Path) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", "--pyargs", "conformance.suite", "-c", str(SUITE_INI), "-q",
           "--collect-only", "-p", "no:randomly", "--target", "replay", "--cassette-dir", str(CASSETTES)]
    done = subprocess.run(cmd, cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    nodes = [line.strip() for line in done.stdout.splitlines() if "::" in line and ".py::" in line]
    assert nodes, done.stdout[-2000:]
    return nodes


@pytest.fixture(scope="module")
def committed() -> Path:
    if not any((CASSETTES / v).is_dir() for v in API_VERSIONS):
        pytest.fail("no committed cassettes: run `aoai-conformance record --target emulator`")
    return CASSETTES


def test_committed_cassettes_cover_every_suite_test(committed: Path, tmp_path: Path) -> None:
    missing = []
    for node in _collected(tmp_path):
        module = node.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
        name = node.split("::", 1)[1]
        version = next((v for v in API_VERSIONS if v in name), None)
        if version is None:
            continue
        verdict = _verdicts(version).get(f"{module}::{name}")
        if verdict == "skipped":
            continue  # skipped when recorded (api-version or target): sends nothing, needs no cassette
        if verdict is None or not cassette_path(committed, version, module, name).is_file():
            missing.append(f"{module}::{name}")
    assert not missing, (f"{len(missing)} suite test(s) have no committed cassette (re-record with "
                         f"`aoai-conformance record --target emulator`): " + ", ".join(missing[:20]))


def test_replay_is_offline_and_reaches_the_recorded_verdicts(committed: Path, tmp_path: Path) -> None:
    _code, output, records = replay(tmp_path, committed)
    assert records, output[-3000:]
    assert "touched the network" not in output, output[-3000:]
    differences = []
    for record in records:
        recorded = _verdicts(record.api_version).get(record.id)
        if recorded is not None and recorded != record.outcome:
            differences.append(f"{record.id}: recorded {recorded}, replayed {record.outcome}: {record.message[:200]}")
    assert not differences, "\n".join(differences)
    assert {r.target for r in records} == {"replay"}
    compared = sum(1 for r in records if r.id in _verdicts(r.api_version))
    assert compared >= len(records) * 0.9, "most replayed tests must have a recorded verdict to compare with"


def test_missing_cassette_fails_with_one_line_naming_it_and_the_command(committed: Path, tmp_path: Path) -> None:
    copy = tmp_path / "cassettes"
    shutil.copytree(committed, copy)
    version = API_VERSIONS[-1]
    victim = cassette_path(copy, version, "test_threads", f"test_thread_retrieve_roundtrip[{version}]")
    assert victim.is_file()
    victim.unlink()
    code, _output, records = replay(tmp_path, copy, "-k", "test_thread_retrieve_roundtrip", "--api-version", version)
    assert code != 0
    [record] = records
    assert record.outcome in ("error", "failed")
    assert "\n" not in record.message.strip()
    assert str(victim) in record.message and "aoai-conformance record" in record.message


def test_a_cassette_of_another_api_version_is_never_used(committed: Path, tmp_path: Path) -> None:
    copy = tmp_path / "cassettes"
    shutil.copytree(committed, copy)
    old, new = API_VERSIONS[0], API_VERSIONS[-1]
    name = "test_thread_retrieve_roundtrip"
    shutil.copy(cassette_path(copy, old, "test_threads", f"{name}[{old}]"),
                cassette_path(copy, new, "test_threads", f"{name}[{new}]"))
    code, _output, records = replay(tmp_path, copy, "-k", name, "--api-version", new)
    assert code != 0
    [record] = records
    assert record.outcome in ("error", "failed") and f"recorded for api-version {old}" in record.message


def test_a_request_the_cassette_lacks_fails_with_one_line(committed: Path, tmp_path: Path) -> None:
    from conformance.cassettes.store import Provenance, dump_cassette, load_interactions

    copy = tmp_path / "cassettes"
    shutil.copytree(committed, copy)
    version = API_VERSIONS[-1]
    name = "test_thread_retrieve_roundtrip"
    path = cassette_path(copy, version, "test_threads", f"{name}[{version}]")
    provenance, interactions = load_interactions(path)
    assert provenance is not None
    gets = [i for i, item in enumerate(interactions) if item["request"]["method"] == "GET"]
    assert gets, "the recorded retrieve test sends a GET"
    del interactions[gets[0]]
    dump_cassette(path, Provenance(**{**provenance.__dict__}), interactions)
    code, _output, records = replay(tmp_path, copy, "-k", name, "--api-version", version)
    assert code != 0
    [record] = records
    assert record.outcome == "failed"
    assert record.message.count("\n") == 0, record.message
    assert "is not in it" in record.message and "aoai-conformance record" in record.message
