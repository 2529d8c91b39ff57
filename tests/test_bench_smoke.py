"""Smoke tests of bench/: the scripts run with tiny bounds and write well-formed output.

No timing is asserted here: figures are only checked to be present, numeric and explained.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is a folder of scripts beside the package, not installed
    sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402
from bench.common import percentile  # noqa: E402
from bench.figures import Figure, check  # noqa: E402
from bench.load import Op, parse_wrk, run_load  # noqa: E402
from bench.readme import END, START, update  # noqa: E402
from conformance.emulator.server import RunningEmulator, start_in_thread  # noqa: E402

RUN = ROOT / "bench" / "run"
VERSION = "2024-08-01-preview"


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    running = start_in_thread()
    yield running
    running.stop()


def _bench(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    out, readme = tmp_path / "results.json", tmp_path / "README.md"
    readme.write_text(f"# Bench\n\nhand-written text\n\n{START}\nold table\n{END}\n\nafter\n")
    proc = subprocess.run([str(RUN), "--quick", "--out", str(out), "--readme", str(readme), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=240,
                          env={"PATH": "/usr/bin:/bin", "BENCH_NO_INSTALL": "1", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc, json.loads(out.read_text())


def _well_formed(results: dict[str, object]) -> list[dict[str, object]]:
    figures = results["figures"]
    assert isinstance(figures, list) and figures
    machine = results["machine"]
    assert isinstance(machine, dict)
    for key in ("nproc", "memory", "python", "date", "loadavg_at_start"):
        assert machine[key], key
    for fig in figures:
        assert set(Figure.__dataclass_fields__) <= set(fig)
        assert fig["command"], fig
        # a figure has a number, or no number and the reason why
        assert isinstance(fig["value"], int | float) or (fig["value"] is None and fig["note"]), fig
    return figures


@pytest.mark.slow
def test_bench_run_quick_emulator_sections(tmp_path: Path) -> None:
    proc, results = _bench(tmp_path, "--only", "emulator,streams,memory,fuzz")
    figures = _well_formed(results)
    groups = {f["group"] for f in figures}
    assert {"emulator", "streams", "memory", "fuzz"} <= groups, groups
    by_name = {(f["group"], f["name"]): f for f in figures}
    retrieve = by_name[("emulator", "retrieve assistant: requests/s")]
    assert retrieve["value"] and retrieve["value"] > 0 and retrieve["target"] == ">= 1500"
    assert retrieve["detail"]["errors"] == 0
    streams = next(f for f in figures if f["group"] == "streams" and "concurrent" in f["name"])
    assert streams["met"] is True, streams
    stored = next(f for f in figures if f["group"] == "memory" and f["name"].startswith("RSS with"))
    assert stored["value"] and stored["detail"]["requests"] == 200 and stored["detail"]["errors"] == 0
    readme = (tmp_path / "README.md").read_text()
    assert "hand-written text" in readme and readme.rstrip().endswith("after")
    assert "old table" not in readme and "retrieve assistant: requests/s" in readme
    assert "bench: " in proc.stdout


@pytest.mark.slow
def test_bench_run_quick_suite_section(tmp_path: Path) -> None:
    _, results = _bench(tmp_path, "--only", "suite")
    figures = _well_formed(results)
    names = {(f["group"], f["name"]) for f in figures}
    assert ("suite", "emulator, serial (quick selection): wall time") in names, names
    requests = next(f for f in figures if f["group"] == "cost" and f["unit"] == "requests")
    assert requests["value"] > 0  # the selection sends requests; zero would mean nothing was counted


def test_bench_run_rejects_unknown_section(tmp_path: Path) -> None:
    proc = subprocess.run([str(RUN), "--only", "nope", "--out", str(tmp_path / "r.json")], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "BENCH_NO_INSTALL": "1"})
    assert proc.returncode == 2
    assert "unknown section nope" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "r.json").exists()


def test_loadgen_count_bounded_against_emulator(emulator: RunningEmulator) -> None:
    url = emulator.url
    body = json.dumps({"model": "gpt-4o"}).encode()
    result = loadgen.asyncio.run(loadgen.run(url, [f"/openai/assistants?api-version={VERSION}"], "POST", body,
                                             ["api-key: emulator-key"], connections=3, count=17))
    assert result["requests"] == 17 and result["errors"] == 0
    assert result["statuses"] == {"200": 17} or result["statuses"] == {"201": 17}, result["statuses"]
    listed = loadgen.asyncio.run(loadgen.run(url, [f"/openai/assistants?api-version={VERSION}&limit=100"],
                                             headers=["api-key: emulator-key"], connections=1, count=1))
    assert listed["statuses"] == {"200": 1}


def test_loadgen_counts_errors(emulator: RunningEmulator) -> None:
    url = emulator.url
    result = loadgen.asyncio.run(loadgen.run(url, [f"/openai/assistants?api-version={VERSION}"],
                                             headers=["api-key: wrong"], connections=2, count=4))
    assert result["errors"] == 4 and result["statuses"] == {"401": 4}


def test_loadgen_refuses_non_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    code = loadgen.main(["--url", "http://example.com", "--path", "/", "--count", "1"])
    assert code == 2 and "loopback only" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed (apt-get install -y wrk)")
def test_wrk_output_parses_against_emulator(emulator: RunningEmulator) -> None:
    url = emulator.url
    op = Op("list", "GET", f"/openai/assistants?api-version={VERSION}")
    result, shown = run_load(url, op, {"api-key": "emulator-key"}, duration=1, connections=1)
    assert result["requests"] > 0 and result["errors"] == 0 and result["rps"] > 0
    assert 0 < result["p50_ms"] <= result["p99_ms"]
    assert shown.startswith("wrk ")
    bad, _ = run_load(url, op, {"api-key": "wrong"}, duration=1, connections=1)
    assert bad["errors"] == bad["requests"] > 0  # wrk's non-2xx count is read as errors


def test_parse_wrk_rejects_output_without_figures() -> None:
    with pytest.raises(ValueError, match="no figures"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_percentile_and_targets() -> None:
    samples = [float(x) for x in range(1, 101)]
    assert percentile(samples, 50) == 50.0 and percentile(samples, 99) == 99.0 and percentile([3.0], 99) == 3.0
    assert check(1600, ">= 1500") is True and check(900, ">= 1500") is False
    assert check(399, "< 400") is True and check(400, "< 400") is False
    assert check(None, "< 400") is None and check(5, "") is None


def test_readme_update_appends_block_when_markers_missing(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Bench\n")
    results = {"finished_at": "t", "command": "bench/run", "seconds": 1.0, "figures": [
        Figure("suite", "x: wall time", 1.5, "s", "cmd", "note").as_json(),
        Figure("fuzz", "cases/s", None, "cases/s", "cmd2", "absent").as_json()],
        "machine": {"nproc": "2", "memory": "1Gi", "python": "3.11", "platform": "p", "loadavg_at_start": "0",
                    "git_commit": "abc"}}
    update(readme, results)
    update(readme, results)  # idempotent: one block, replaced
    text = readme.read_text()
    assert text.count(START) == 1 and "**1.5** s" in text and "| cases/s | — |" in text and "absent" in text


def test_run_load_without_wrk_uses_loadgen_process(emulator: RunningEmulator) -> None:
    op = Op("create", "POST", f"/openai/assistants?api-version={VERSION}", json.dumps({"model": "gpt-4o"}))
    result, shown = run_load(emulator.url, op, {"api-key": "emulator-key"}, duration=1, connections=2,
                             prefer_wrk=False)
    assert result["generator"].startswith("bench/loadgen.py") and shown.startswith("python bench/loadgen.py")
    assert result["requests"] > 0 and result["errors"] == 0 and result["p50_ms"] <= result["p99_ms"]


def test_partial_rerun_keeps_other_sections(tmp_path: Path) -> None:
    from bench.main import _kept_figures

    out = tmp_path / "results.json"
    figures = [Figure("suite", "a: wall time", 1.0, "s", "c").as_json(),
               Figure("cost", "a: requests", 9, "requests", "c").as_json(),
               Figure("prism", "retrieve assistant: requests/s", 5.0, "req/s", "c").as_json(),
               Figure("ratio", "r", 2.0, "x", "c").as_json()]
    out.write_text(json.dumps({"quick": False, "figures": figures, "finished_at": "T1",
                               "sections_measured": {"suite": "T0", "prism": "T1"}}))
    kept, dates = _kept_figures(out, ["suite"])
    assert [(f.group, f.name) for f in kept] == [("prism", "retrieve assistant: requests/s")]
    assert dates == {"prism": "T1"}
    out.write_text(json.dumps({"quick": True, "figures": figures}))
    assert _kept_figures(out, ["suite"]) == ([], {})  # quick figures are never mixed into a real table
