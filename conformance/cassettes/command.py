"""`aoai-conformance record`: run the hand-written suite against a target and keep one cassette per test.

It is `aoai-conformance run` with ``--record-cassettes`` and a fixed run id (so request bodies, which
carry the run tag, stay the same from one recording to the next), followed by the verdicts of the
recording run, written next to the cassettes: replay must reach the same verdicts.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from conformance.cassettes.store import default_dir
from conformance.results import RESULTS_FILE, read_records
from conformance.versions import API_VERSIONS

VERDICTS_FILE = "verdicts.json"
RECORD_RUN_ID = "recorded"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aoai-conformance record",
        description="Run the suite against a target and write one cassette per test "
                    "(cassettes/<api-version>/<module>/<test>.yaml), sanitised.",
        epilog="Without -k the api-version folders are recorded afresh (stale cassettes go). "
               "Arguments after `--` go to pytest unchanged.",
    )
    parser.add_argument("--target", default="emulator", help="emulator (default), url, live, or a targets.toml section")
    parser.add_argument("--base-url", default=None, help="endpoint (env AZURE_OPENAI_ENDPOINT)")
    parser.add_argument("--api-key", default=None, help="api-key (prefer AZURE_OPENAI_API_KEY)")
    parser.add_argument("--auth", choices=("key", "entra", "none"), default=None)
    parser.add_argument("--targets-file", default=None)
    parser.add_argument("--api-version", action="append", default=None, help="repeatable; default: all supported")
    parser.add_argument("--cassette-dir", default=None, help="default ./cassettes (env AOAI_CONFORMANCE_CASSETTES)")
    parser.add_argument("--report-dir", default="reports/record", help="results and report of the recording run")
    parser.add_argument("-k", dest="keyword", default=None, help="record only the tests this pytest -k selects")
    parser.add_argument("-q", "--quiet", action="store_true")
    return parser


def _versions(options: argparse.Namespace) -> list[str]:
    versions: list[str] = []
    for raw in options.api_version or ["all"]:
        for part in raw.split(","):
            versions.extend(API_VERSIONS if part.strip() == "all" else [part.strip()])
    return [v for v in dict.fromkeys(versions) if v]


def write_verdicts(root: Path, results: Path) -> list[Path]:
    """Merge the recording run's outcomes into `<root>/<api-version>/verdicts.json` (test id -> outcome)."""
    by_version: dict[str, dict[str, str]] = {}
    for record in read_records(results):
        by_version.setdefault(record.api_version, {})[record.id] = record.outcome
    written = []
    for version, outcomes in by_version.items():
        path = root / version / VERDICTS_FILE
        old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        merged = {**old, **outcomes}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    from conformance import runner

    argv, extra = runner.split_passthrough(argv)
    options = build_parser().parse_args(argv)
    if options.target == "replay":
        print("aoai-conformance record: --target replay records nothing; use emulator, url or live", file=sys.stderr)
        return 2
    versions = _versions(options)
    unknown = [v for v in versions if v not in API_VERSIONS]
    if unknown:
        print(f"aoai-conformance record: api-version {unknown[0]!r} is not covered; supported: "
              f"{', '.join(API_VERSIONS)}", file=sys.stderr)
        return 2
    root = Path(options.cassette_dir) if options.cassette_dir else default_dir()
    if not options.keyword:
        for version in versions:  # a full recording replaces the folder: no stale cassettes survive
            shutil.rmtree(root / version, ignore_errors=True)
    report_dir = Path(options.report_dir)
    (report_dir / RESULTS_FILE).unlink(missing_ok=True)
    run_argv = ["--target", options.target, "--report-dir", str(report_dir)]
    for flag, value in (("--base-url", options.base_url), ("--api-key", options.api_key), ("--auth", options.auth),
                        ("--targets-file", options.targets_file), ("-k", options.keyword)):
        if value:
            run_argv += [flag, value]
    for version in versions:
        run_argv += ["--api-version", version]
    if options.quiet:
        run_argv.append("-q")
    code = runner.main([*run_argv, "--", "--record-cassettes", "--cassette-dir", str(root),
                        "--run-id", RECORD_RUN_ID, *extra])
    results = report_dir / RESULTS_FILE
    if results.exists():
        for path in write_verdicts(root, results):
            print(f"aoai-conformance record: verdicts written to {path}")
        print(f"aoai-conformance record: cassettes in {root}; review them with `git diff --stat {root}`")
    return code
