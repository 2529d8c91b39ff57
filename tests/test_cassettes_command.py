"""`aoai-conformance record` refuses what it cannot do with one line; the committed cassettes hold no
loopback host, port or emulator key; verdict files merge partial recordings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conformance.cassettes.command import main as record_main
from conformance.cassettes.command import write_verdicts
from conformance.cassettes.store import read_provenance
from conformance.config import EMULATOR_API_KEY
from conformance.results import TestRecord as Record
from conformance.results import write_records
from conformance.versions import API_VERSIONS

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"


@pytest.mark.parametrize(("argv", "text"), [
    (["--target", "replay"], "records nothing"),
    (["--api-version", "2019-01-01"], "not covered"),
])
def test_record_refuses_with_one_line(argv: list[str], text: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert record_main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert text in err and "\n" not in err


def test_committed_cassettes_name_no_local_host_port_or_key() -> None:
    files = sorted(CASSETTES.glob("*/*/*.yaml"))
    if not files:
        pytest.fail("no committed cassettes: run `aoai-conformance record --target emulator`")
    local = re.compile(r"127\.0\.0\.1|localhost|:\d{4,5}/openai")
    leaks = [str(p) for p in files if local.search(p.read_text(encoding="utf-8")) or EMULATOR_API_KEY in p.read_text(encoding="utf-8")]
    assert not leaks, leaks[:10]
    for path in files:
        provenance = read_provenance(path)
        assert provenance is not None and provenance.api_version == path.parts[-3] in API_VERSIONS, path
        assert provenance.target == "emulator", path


def test_verdicts_of_a_partial_recording_merge_into_the_old_ones(tmp_path: Path) -> None:
    version = API_VERSIONS[-1]
    (tmp_path / version).mkdir()
    (tmp_path / version / "verdicts.json").write_text(json.dumps({"m::a": "passed", "m::b": "failed"}))
    results = tmp_path / "results.jsonl"
    write_records(results, [Record(id="m::b", area="crud", operation="", api_version=version, target="emulator",
                                   outcome="passed", duration=0.1)])
    write_verdicts(tmp_path, results)
    assert json.loads((tmp_path / version / "verdicts.json").read_text()) == {"m::a": "passed", "m::b": "passed"}
