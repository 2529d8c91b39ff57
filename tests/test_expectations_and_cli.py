from __future__ import annotations

from pathlib import Path

import pytest

from conformance import cli
from conformance.config import SettingsError
from conformance.harness.expectations import load_expectations, parse_expectations
from conformance.harness.tracker import Created, Ledger


def test_expectations_match_by_name_id_and_version() -> None:
    [only_05, any_version] = parse_expectations(
        '[[deviation]]\ntest = "test_a"\napi_version = "2024-05-01-preview"\nreason = "r1"\n'
        '[[deviation]]\ntest = "test_b[2024-08-01-preview]"\nreason = "r2"\n',
        "x.toml",
    )
    assert only_05.matches("test_a", "m.py::test_a[2024-05-01-preview]", "2024-05-01-preview")
    assert not only_05.matches("test_a", "m.py::test_a[2024-08-01-preview]", "2024-08-01-preview")
    assert any_version.matches("test_b", "m.py::test_b[2024-08-01-preview]", "2024-08-01-preview")
    assert not any_version.matches("test_b", "m.py::test_b[2024-05-01-preview]", "2024-05-01-preview")


@pytest.mark.parametrize(
    ("text", "message"),
    [("[[deviation]]\ntest = 'x'\n", "needs `test` and `reason`"), ("deviation = 3", "use \\[\\[deviation\\]\\]"),
     ("[[deviation", "not valid TOML")],
)
def test_bad_expectations_name_the_file_and_problem(text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_expectations(text, "x.toml")


def test_packaged_emulator_expectations_are_empty_and_missing_user_file_is_clear(tmp_path: Path) -> None:
    assert load_expectations("emulator", None) == []
    assert load_expectations("no-such-target", None) == []
    with pytest.raises(SettingsError, match="does not exist"):
        load_expectations("emulator", str(tmp_path / "nope.toml"))


def test_ledger_keeps_only_what_was_never_deleted(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.jsonl")
    a, b = Created("thread", "thread_a", "/threads/thread_a"), Created("assistant", "asst_b", "/assistants/asst_b")
    ledger.add("live", "run1", a)
    ledger.add("live", "run1", b)
    ledger.add("other", "run2", a)
    ledger.remove("live", "run1", a)
    with (tmp_path / "ledger.jsonl").open("a") as out:
        out.write('{"op": "add", "targ')  # a line cut by a killed process
    assert ledger.outstanding("live") == [("run1", b)]
    assert ledger.outstanding("other") == [("run2", a)]


def test_cli_help_and_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 0
    assert "run" in capsys.readouterr().out
    assert cli.main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err
    assert cli.main(["--version"]) == 0
