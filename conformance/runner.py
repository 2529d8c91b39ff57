"""`aoai-conformance run`: the suite through pytest, then the report.

A thin wrapper: every option is the plugin's own (`pytest --pyargs conformance.suite ...` does the
same), plus the report built at the end.
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

import pytest

from conformance.config import TARGET_KINDS
from conformance.fuzz.plugin import EMULATOR_BUDGET, LIVE_BUDGET
from conformance.report import ReportInputError, build_report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aoai-conformance run",
        description="Run the conformance suite against a target and write reports.",
        epilog="Arguments after `--` go to pytest unchanged.",
    )
    parser.add_argument("--target", default=None, help=f"{', '.join(TARGET_KINDS)} or a targets.toml section (default emulator)")
    parser.add_argument("--base-url", default=None, help="endpoint, e.g. https://<resource>.openai.azure.com")
    parser.add_argument("--api-key", default=None, help="api-key (prefer AZURE_OPENAI_API_KEY)")
    parser.add_argument("--api-version", action="append", default=None, help="repeatable; default: all supported")
    parser.add_argument("--auth", choices=("key", "entra", "none"), default=None)
    parser.add_argument("--targets-file", default=None)
    parser.add_argument("--expectations", default=None, help="known-deviations TOML for this target")
    parser.add_argument("--cassette-dir", default=None, help="cassettes for --target replay (default ./cassettes)")
    parser.add_argument("--strict-reference", action="store_true")
    parser.add_argument("-k", dest="keyword", default=None, help="pytest -k selection")
    parser.add_argument("-m", dest="markexpr", default=None, help="pytest -m selection (areas, expensive, ...)")
    parser.add_argument("-n", dest="workers", default=None, help="parallel workers (pytest-xdist)")
    parser.add_argument("--report-dir", default="reports", help="where results, JUnit, Allure and the report go")
    parser.add_argument("--history", default=None, help="history file (default <report-dir>/history.jsonl)")
    parser.add_argument("--no-report", action="store_true", help="skip the HTML/Markdown report")
    parser.add_argument("--profile", choices=("full", "smoke"), default=None,
                        help="smoke: a small, cheap subset (under 40 requests) for a new resource")
    parser.add_argument("--max-requests", type=int, default=None, help="stop cleanly after this many requests")
    parser.add_argument("--max-tokens", type=int, default=None, help="stop cleanly after this many tokens")
    parser.add_argument("--max-rps", type=float, default=None, help="request starts per second, all workers")
    parser.add_argument("--max-concurrency", type=int, default=None, help="requests in flight, all workers")
    parser.add_argument("-q", "--quiet", action="store_true")
    fuzz = parser.add_argument_group("fuzzing (conformance.fuzz, Schemathesis)")
    fuzz.add_argument("--fuzz", action="store_true", help="also fuzz every operation of the contract")
    fuzz.add_argument("--fuzz-budget", type=int, default=None, metavar="N",
                      help=f"generated cases per operation and mode (default {EMULATOR_BUDGET} on the emulator, "
                           f"{LIVE_BUDGET} elsewhere)")
    fuzz.add_argument("--allow-expensive", action="store_true",
                      help="fuzz operations that spend tokens or create runs on a live target")
    fuzz.add_argument("--seed", type=int, default=None, metavar="N", help="fuzzing seed (reproduces a failure)")
    fuzz.add_argument("--spec", default=None, metavar="PATH",
                      help="fuzz from this OpenAPI file (corrections overlay applied) instead of the contract")
    return parser


def pytest_args(options: argparse.Namespace, extra: list[str]) -> list[str]:
    report_dir = Path(options.report_dir)
    ini = resources.files("conformance.suite").joinpath("suite.ini")
    packages = ["conformance.suite", "conformance.fuzz"] if getattr(options, "fuzz", False) else ["conformance.suite"]
    args = ["-c", str(ini), "--pyargs", *packages, "--report-dir", str(report_dir),
            f"--junitxml={report_dir / 'junit.xml'}", f"--alluredir={report_dir / 'allure-results'}",
            "--clean-alluredir", "-p", "no:randomly"]
    for flag, value in (("--target", options.target), ("--base-url", options.base_url),
                        ("--api-key", options.api_key), ("--auth", options.auth),
                        ("--targets-file", options.targets_file), ("--expectations", options.expectations),
                        ("--cassette-dir", options.cassette_dir),
                        ("-k", options.keyword), ("-m", options.markexpr), ("-n", options.workers),
                        ("--profile", options.profile), ("--max-requests", options.max_requests),
                        ("--max-tokens", options.max_tokens), ("--max-rps", options.max_rps),
                        ("--max-concurrency", options.max_concurrency)):
        if value:
            args += [flag, str(value)]
    for version in options.api_version or []:
        args += ["--api-version", version]
    if options.strict_reference:
        args.append("--strict-reference")
    args += _fuzz_args(options)
    args.append("-q" if options.quiet else "-rfEX")
    return args + extra


def _fuzz_args(options: argparse.Namespace) -> list[str]:
    """The fuzz plugin's options (conformance/fuzz/plugin.py); they only matter with --fuzz."""
    args: list[str] = []
    for flag, value in (("--fuzz-budget", getattr(options, "fuzz_budget", None)),
                        ("--seed", getattr(options, "seed", None)), ("--spec", getattr(options, "spec", None))):
        if value is not None:
            args += [flag, str(value)]
    if getattr(options, "allow_expensive", False):
        args.append("--allow-expensive")
    return args


def split_passthrough(argv: list[str]) -> tuple[list[str], list[str]]:
    """(our arguments, the ones after `--` that go to pytest unchanged)."""
    if "--" not in argv:
        return argv, []
    split = argv.index("--")
    return argv[:split], argv[split + 1 :]


def main(argv: list[str]) -> int:
    argv, extra = split_passthrough(argv)
    options = build_parser().parse_args(argv)
    code = int(pytest.main(pytest_args(options, extra)))
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("aoai-conformance: no test matched the selection (-k / -m / --api-version)", file=sys.stderr)
        return code
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.INTERRUPTED) or options.no_report:
        return code
    report_dir = Path(options.report_dir)
    if not (report_dir / "results.jsonl").exists():
        return code
    history = Path(options.history) if options.history else report_dir / "history.jsonl"
    try:
        html = build_report([report_dir], report_dir, history)
    except ReportInputError as exc:
        print(f"aoai-conformance: the report could not be built: {exc}", file=sys.stderr)
        return code or 2
    print(f"aoai-conformance: report written to {html}")
    return code
