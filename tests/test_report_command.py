"""`aoai-conformance report`: arguments, outputs, and one clear message for every bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conformance import cli
from conformance.report.command import main
from conformance.report.demo import record, write_dir


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_writes_html_summary_history_and_prints_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_dir(tmp_path / "res" / "live", [record(id="a", target="live")])
    write_dir(tmp_path / "res" / "emu", [record(id="a")])
    out = tmp_path / "out"
    code, stdout, err = _run(["--results", str(tmp_path / "res"), "--out", str(out),
                              "--history", str(tmp_path / "h" / "history.jsonl"), "--title", "Nightly <1>"], capsys)
    assert (code, err) == (0, "")
    assert stdout.strip() == str(out / "index.html")
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "<title>Nightly &lt;1&gt;</title>" in html
    assert (out / "summary.md").exists()
    assert len((tmp_path / "h" / "history.jsonl").read_text().splitlines()) == 1
    assert (tmp_path / "h" / "last-results.json").exists()


def test_no_history_touches_no_history_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_dir(tmp_path / "reports", [record(id="a")])
    code, _, _ = _run(["--no-history"], capsys)  # defaults: --results reports/ --out reports/
    assert code == 0
    assert (tmp_path / "reports" / "index.html").exists()
    assert not (tmp_path / "reports" / "history.jsonl").exists()
    assert "History is off" in (tmp_path / "reports" / "index.html").read_text(encoding="utf-8")


def test_dispatched_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_dir(tmp_path / "res", [record(id="a")])
    assert cli.main(["report", "--results", str(tmp_path / "res"), "--out", str(tmp_path), "--no-history"]) == 0
    assert capsys.readouterr().out.strip().endswith("index.html")


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("missing", r"results directory .*nope does not exist; pass --results DIR"),
        ("empty", r"no results\.jsonl found in or under .*; run the suite first"),
        ("not_json", r"results\.jsonl:2: not a JSON line .*fix or delete that line"),
        ("not_record", r"results\.jsonl: a line is not a test record"),
        ("bad_outcome", r"record 1 \('a'\) has unknown outcome 'great'"),
        ("bad_type", r"record 1 field 'duration' is not a number"),
        ("bad_run", r"run\.json: not a valid run file"),
        ("bad_history", r"history\.jsonl:1: not a JSON line"),
    ],
)
def test_bad_input_is_one_clear_message_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str, expected: str
) -> None:
    res = tmp_path / "res"
    res.mkdir()
    good = json.dumps({"id": "a", "area": "crud", "operation": "", "api_version": "v", "target": "t",
                       "outcome": "passed", "duration": 0.1})
    lines = {
        "not_json": good + "\n{broken\n",
        "not_record": json.dumps({"id": "a"}) + "\n",
        "bad_outcome": good.replace('"passed"', '"great"') + "\n",
        "bad_type": good.replace("0.1", '"slow"') + "\n",
    }
    target = tmp_path / "nope" if setup == "missing" else res
    if setup in lines:
        (res / "results.jsonl").write_text(lines[setup], encoding="utf-8")
    if setup in {"bad_run", "bad_history"}:
        (res / "results.jsonl").write_text(good + "\n", encoding="utf-8")
    if setup == "bad_run":
        (res / "run.json").write_text("[1, 2", encoding="utf-8")
    history = tmp_path / "history.jsonl"
    if setup == "bad_history":
        history.write_text("garbage\n", encoding="utf-8")
    code, out, err = _run(["--results", str(target), "--out", str(tmp_path / "out"), "--history", str(history)],
                          capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("aoai-conformance report: ") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert re.search(expected, err), err
    if setup == "bad_history":
        assert history.read_text() == "garbage\n"  # bad input leaves the history untouched
        assert not (tmp_path / "last-results.json").exists()


def test_results_without_records_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "results.jsonl").write_text("\n", encoding="utf-8")
    code, _, err = _run(["--results", str(tmp_path), "--out", str(tmp_path / "out"), "--no-history"], capsys)
    assert code == 2 and "hold no test records" in err and "Traceback" not in err


def test_lone_surrogate_from_a_server_does_not_abort(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = json.dumps({"id": "a", "area": "crud", "operation": "", "api_version": "v", "target": "t",
                       "outcome": "failed", "duration": 0.1, "message": "bad \ud800 byte"})
    assert "\\ud800" in line  # stays escaped in the file, becomes a lone surrogate when read
    (tmp_path / "results.jsonl").write_text(line + "\n", encoding="utf-8")
    code, _, err = _run(["--results", str(tmp_path), "--out", str(tmp_path / "out"), "--no-history"], capsys)
    assert (code, err) == (0, "")
    assert "bad ? byte" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")


def test_history_that_is_a_directory_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_dir(tmp_path / "res", [record(id="a")])
    (tmp_path / "hist").mkdir()
    code, _, err = _run(["--results", str(tmp_path / "res"), "--out", str(tmp_path / "out"),
                         "--history", str(tmp_path / "hist")], capsys)
    assert code == 2 and f"cannot use {tmp_path / 'hist'}" in err and "check --out and --history" in err
