"""The hand-written suite: wall time and tests/s per target and worker count, and what a run costs.

Each run is `aoai-conformance run ... --report-dir bench/out/<name> --no-report` in a child process;
test counts come from its results.jsonl, request and token counts from its run.json (what the
harness counted against the emulator, the same counting it does against a live resource).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.common import API_KEY, BENCH, PYTHON, ROOT, start_emulator
from bench.figures import Figure, check, missing

VERSIONS = ("2024-05-01-preview", "2024-08-01-preview")
OUT = BENCH / "out"


@dataclass(frozen=True)
class SuiteRun:
    name: str  # report-dir name under bench/out/
    label: str  # table row
    args: tuple[str, ...]  # after `aoai-conformance run`
    time_target: str = ""  # e.g. "< 60" (seconds)
    cost: bool = False  # also report requests/tokens of this run
    cost_targets: tuple[str, str] = ("", "")  # requests, tokens
    # live-like: `--target url` against an emulator of ours at this run speed, so the harness polls at
    # the pace it uses for live resources (the embedded emulator is polled quickly, with fewer requests)
    live_like: str | None = None


@dataclass
class Outcome:
    code: int
    wall: float
    outcomes: Counter[str]
    requests: int
    tokens: int
    tail: list[str]
    by_area: Counter[str]


def plan(quick: bool) -> list[SuiteRun]:
    if quick:  # smoke test of the plumbing: a handful of tests, one version
        return [SuiteRun("quick", "emulator, serial (quick selection)",
                         ("--api-version", VERSIONS[1], "-k", "test_assistant_retrieve"), cost=True)]
    runs = [SuiteRun(f"serial-{v}", f"emulator, serial, {v}", ("--api-version", v), cost=True) for v in VERSIONS]
    runs.append(SuiteRun("n2-both", "emulator, -n 2, both api-versions",
                         ("--api-version", VERSIONS[0], "--api-version", VERSIONS[1], "-n", "2"), time_target="< 60"))
    runs.append(SuiteRun("serial-both", "emulator, serial, both api-versions",
                         ("--api-version", VERSIONS[0], "--api-version", VERSIONS[1])))
    replay = ("--target", "replay", "--api-version", VERSIONS[0], "--api-version", VERSIONS[1])
    runs.append(SuiteRun("replay-both", "replay (cassettes), serial, both api-versions", replay, time_target="< 20"))
    # modules share recorded sets, so a module must stay on one worker (the cassettes layer's rule)
    runs.append(SuiteRun("replay-n2-both", "replay (cassettes), -n 2 --dist loadfile, both api-versions",
                         (*replay, "-n", "2", "--", "--dist", "loadfile"), time_target="< 20"))
    runs += [SuiteRun(f"livelike-{v}", f"live-like full suite, -n 2, {v}", ("--api-version", v, "-n", "2"),
                      cost=True, cost_targets=("< 400", "< 30000"), live_like="normal") for v in VERSIONS]
    runs += [SuiteRun(f"smoke-{v}", f"live-like smoke profile, {v}", ("--api-version", v, "--", "--profile", "smoke"),
                      cost=True, cost_targets=("< 40", ""), live_like="normal") for v in VERSIONS]
    return runs


def command(run: SuiteRun, base_url: str = "") -> list[str]:
    args = list(run.args)
    if run.live_like:
        args = ["--target", "url", "--base-url", base_url or "http://127.0.0.1:PORT", "--api-key", API_KEY, *args]
    extra: list[str] = []
    if "--" in args:
        split = args.index("--")
        args, extra = args[:split], args[split:]
    return [PYTHON, "-m", "conformance.cli", "run", *args, "--report-dir", str(OUT / run.name),
            "--no-report", "-q", *extra]


def shown(run: SuiteRun) -> str:
    cmd = command(run)[3:]
    cmd = [c if not c.startswith(str(ROOT)) else str(Path(c).relative_to(ROOT)) for c in cmd]
    text = "aoai-conformance " + " ".join(shlex.quote(c) for c in cmd)
    if run.live_like:
        text = f"python -m conformance.emulator --port 0 --run-speed {run.live_like}; {text}"
    return text


def execute(run: SuiteRun, timeout: float) -> Outcome:
    report = OUT / run.name
    for name in ("results.jsonl", "run.json"):
        (report / name).unlink(missing_ok=True)
    server = start_emulator(run_speed=run.live_like) if run.live_like else None
    try:
        started = time.perf_counter()
        proc = subprocess.run(command(run, server.url if server else ""), cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)
        wall = time.perf_counter() - started
    finally:
        if server is not None:
            server.stop()
    outcomes: Counter[str] = Counter()
    by_area: Counter[str] = Counter()  # requests per area: where a run's cost goes
    if (report / "results.jsonl").exists():
        for line in (report / "results.jsonl").read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                outcomes[record["outcome"]] += 1
                by_area[record.get("area", "other")] += int(record.get("requests", 0))
    requests = tokens = 0
    if (report / "run.json").exists():
        info = json.loads((report / "run.json").read_text())
        requests, tokens = int(info.get("requests", 0)), int(info.get("tokens", 0))
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    return Outcome(proc.returncode, wall, outcomes, requests, tokens, lines[-5:] or ["no output"], by_area)


def _why_not(out: Outcome) -> str:
    first = next((line for line in out.tail if "no cassette" in line), out.tail[-1])
    return f"{first[:300]}" if out.outcomes else f"exit {out.code}, no results: {first[:300]}"


def suite_figures(quick: bool, timeout: float = 300.0) -> list[Figure]:
    figures: list[Figure] = []
    for run in plan(quick):
        cmd = shown(run)
        try:
            out = execute(run, timeout)
        except subprocess.TimeoutExpired:
            figures.append(missing("suite", f"{run.label}: wall time", "s", cmd, f"stopped after {timeout:.0f} s"))
            continue
        tests = sum(out.outcomes.values())
        passed = out.outcomes.get("passed", 0)
        summary = ", ".join(f"{n} {k}" for k, n in sorted(out.outcomes.items()))
        if passed == 0:
            # exit 5: pytest selected nothing (e.g. no test carries the smoke marker yet)
            label = "not available yet" if "replay" in run.name or out.code == 5 else "did not pass"
            figures.append(missing("suite", f"{run.label}: wall time", "s", cmd, f"{label}: {_why_not(out)}",
                                   target=run.time_target))
        else:
            note = f"{summary}; includes interpreter start and collection"
            met = check(out.wall, run.time_target)
            if out.code != 0:  # a timing of the tests that ran; the target is not judged on an unclean run
                note += f"; exit {out.code}, target not judged: e.g. {_why_not(out)}"
                met = None
            figures.append(Figure("suite", f"{run.label}: wall time", round(out.wall, 2), "s", cmd, note,
                                  target=run.time_target, met=met,
                                  detail={"outcomes": dict(out.outcomes), "exit": out.code}))
            figures.append(Figure("suite", f"{run.label}: tests/s", round(tests / out.wall, 2), "tests/s", cmd,
                                  f"{tests} tests"))
        if run.cost and passed:  # a run that selected or passed nothing has no meaningful cost
            req_t, tok_t = run.cost_targets
            note = ("counted by the harness against the emulator, whose scripted replies are short: a live "
                    "model spends more completion tokens on the same prompts")
            areas = ", ".join(f"{area} {n}" for area, n in out.by_area.most_common())
            figures.append(Figure("cost", f"{run.label}: requests", out.requests, "requests", cmd,
                                  f"by area: {areas}" if areas else note, target=req_t,
                                  met=check(out.requests, req_t), detail={"by_area": dict(out.by_area)}))
            figures.append(Figure("cost", f"{run.label}: tokens", out.tokens, "tokens", cmd, note,
                                  target=tok_t, met=check(out.tokens, tok_t)))
    return figures
