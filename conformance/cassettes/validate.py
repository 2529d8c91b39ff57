"""`aoai-conformance validate FILE...`: check captured traffic offline (vcrpy YAML cassettes, HAR files).

Nothing is sent. Findings are printed grouped by operation and written as `TestRecord`s of kind
"validate" to ``<report-dir>/results.jsonl`` (plus ``run.json``), so the report builder shows them.
Exit status: 0 conforming, 1 something non-conformant, 2 a file could not be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from conformance import __version__
from conformance.cassettes.checks import Verdict, judge
from conformance.cassettes.traffic import TrafficError, load_traffic
from conformance.results import (
    RESULTS_FILE,
    RUN_FILE,
    Outcome,
    RunInfo,
    TestRecord,
    write_records,
    write_run_info,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aoai-conformance validate",
        description="Check captured Azure OpenAI traffic (vcrpy YAML cassettes or HAR files) against the "
                    "contract and the invariants, without sending anything.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="a .yaml/.yml cassette or a .har file")
    parser.add_argument("--report-dir", default="reports/validate", help="where results.jsonl and run.json go")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only non-conformant groups")
    return parser


def to_record(verdict: Verdict, run_id: str) -> TestRecord:
    errors = verdict.errors
    outcome: Outcome
    if verdict.unchecked:
        outcome, message = "skipped", verdict.unchecked
    elif errors:
        outcome, message = "failed", "\n".join(str(f) for f in errors)[:2000]
    else:
        outcome, message = "passed", ""
    return TestRecord(
        id=verdict.id, area=verdict.area, operation=verdict.operation, api_version=verdict.api_version,
        target="validate", outcome=outcome, duration=0.0, message=message,
        rules=sorted({f.rule for f in errors}), kind="validate", run_id=run_id,
        request=verdict.request, response=verdict.response if errors else "",
        operations=[verdict.operation] if verdict.operation else [], requests=0,
    )


def render(records: Sequence[TestRecord], quiet: bool = False) -> list[str]:
    """Records grouped by operation (unknown ones last), one line per non-conformant finding."""
    groups: dict[str, list[TestRecord]] = {}
    for record in records:
        groups.setdefault(record.operation or "(unknown operation or api-version)", []).append(record)
    lines: list[str] = []
    for name in sorted(groups, key=lambda n: (n.startswith("("), n)):
        items = groups[name]
        failed = [r for r in items if r.outcome == "failed"]
        skipped = [r for r in items if r.outcome == "skipped"]
        if quiet and not failed:
            continue
        versions = ", ".join(sorted({r.api_version for r in items if r.api_version})) or "no api-version"
        lines.append(f"{name} ({versions}): {len(items)} checked, {len(failed)} non-conformant"
                     + (f", {len(skipped)} not judged" if skipped else ""))
        for record in failed:
            lines.append(f"  {record.id}  {record.request}")
            lines.extend(f"    {line}" for line in record.message.splitlines())
        for record in skipped:
            lines.append(f"  {record.id}  {record.request}: {record.message}")
    return lines


def main(argv: Sequence[str]) -> int:
    options = build_parser().parse_args(list(argv))
    started = datetime.now(UTC).isoformat(timespec="seconds")
    run_id = "validate-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    verdicts: list[Verdict] = []
    for name in options.files:
        try:
            exchanges = load_traffic(Path(name))
        except TrafficError as exc:
            print(f"aoai-conformance validate: {exc}", file=sys.stderr)
            return 2
        if not exchanges:
            print(f"aoai-conformance validate: {name}: no exchanges to check", file=sys.stderr)
        verdicts += judge(exchanges)
    records = [to_record(v, run_id) for v in verdicts]
    for line in render(records, options.quiet):
        print(line)
    failed = sum(1 for r in records if r.outcome == "failed")
    unjudged = sum(1 for r in records if r.outcome == "skipped")
    out = Path(options.report_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / RESULTS_FILE).unlink(missing_ok=True)
    write_records(out / RESULTS_FILE, records)
    write_run_info(out / RUN_FILE, RunInfo(
        run_id=run_id, target="validate",
        api_versions=sorted({r.api_version for r in records if r.api_version}), started_at=started,
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"), package_version=__version__,
        command="aoai-conformance validate " + " ".join(options.files),
    ))
    print(f"aoai-conformance validate: {len(records)} checks, {failed} non-conformant, {unjudged} not judged; "
          f"results in {out / RESULTS_FILE}")
    return 1 if failed else 0
