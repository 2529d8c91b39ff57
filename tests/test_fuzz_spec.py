"""`--spec PATH`: fuzzing from a foreign OpenAPI file (the official ones, corrections overlay applied).

The official files document only the 200 answers and spell a few objects differently, so against
the emulator (which follows the service) the fuzzer must run every one of their operations and
report such differences as failures with rule ids, not crash or stop at setup.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from fuzz_runner import run_fuzz

from conformance.versions import API_VERSIONS

pytestmark = [pytest.mark.slow]

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SPECS = SHARED / "reference-specs"


def _official(version: str) -> Path:
    path = SPECS / version / "inference.json"
    if not path.is_file():
        pytest.skip(f"{path} is absent (the shared reference material is not on this machine)")
    return path


def _operation_ids(path: Path) -> set[str]:
    document = json.loads(path.read_text(encoding="utf-8"))
    return {op["operationId"] for item in document["paths"].values() for op in item.values()
            if isinstance(op, dict) and "operationId" in op}


@pytest.mark.parametrize("version", API_VERSIONS)
def test_fuzzing_from_the_official_spec_runs_every_operation(version: str) -> None:
    spec = _official(version)
    with tempfile.TemporaryDirectory(prefix="aoai-fuzz-spec-") as workdir:
        run = run_fuzz(Path(workdir), ["--spec", str(spec), "--api-version", version, "--fuzz-budget", "1",
                                       "--seed", "11", "-k", "test_fuzz"], timeout=300)
    records = [r for r in run.records if r.id.startswith("test_fuzz::")]
    assert {r.operation for r in records} == _operation_ids(spec), run.tail()
    # Setup errors would mean the foreign spec could not be driven (ids, auth, base URL).
    assert not [r for r in records if r.outcome == "error"], [(r.id, r.message[:300]) for r in records if r.outcome == "error"]
    failed = [r for r in records if r.outcome == "failed"]
    # The official files leave out statuses the service sends (401, 400, 404): the fuzzer says so.
    assert failed and all(r.rules for r in failed), run.tail()
    assert any("schema.status" in r.rules for r in failed)


def test_a_missing_spec_file_is_a_usage_error() -> None:
    with tempfile.TemporaryDirectory(prefix="aoai-fuzz-spec-") as workdir:
        run = run_fuzz(Path(workdir), ["--spec", str(Path(workdir) / "nope.json")], timeout=120)
    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert "--spec" in run.output and "no such file" in run.output
    assert "Traceback" not in run.output
