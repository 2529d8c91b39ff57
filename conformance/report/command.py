"""`aoai-conformance report`: merge results directories into index.html, summary.md and history.

    aoai-conformance report [--results DIR ...] [--history reports/history.jsonl] [--out reports/]
                            [--title T] [--no-history]

`build_report` is the same thing as a library call; the suite runner calls it at the end of
`aoai-conformance run`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance.report import changes as change_store
from conformance.report import markdown, page
from conformance.report.coverage import coverage
from conformance.report.history import build_identity, now_iso, record_build, summary_line
from conformance.report.load import ReportInputError, load_build

DEFAULT_TITLE = "Azure OpenAI compatibility report"
HTML_FILE = "index.html"
SUMMARY_FILE = "summary.md"


def build_report(result_dirs: Sequence[Path], out_dir: Path, history: Path | None,
                 title: str = DEFAULT_TITLE) -> Path:
    """Write ``out_dir/index.html`` and ``out_dir/summary.md``; return the HTML path.

    With `history`, append this build's summary line to it and keep the per-test outcomes beside it
    (``last-results.json``) for the next build's change list. Raises `ReportInputError` (a message
    fit for users) on bad input.
    """
    build = load_build([Path(d) for d in result_dirs])
    built_at = now_iso()
    found_changes = None
    lines = []
    if history is not None:
        identity = build_identity(build)
        # Read-only checks of both files first, so bad input never leaves one updated and not the other.
        change_store.load_snapshots(change_store.snapshot_path(history))
        lines = record_build(history, summary_line(build, built_at))
        found_changes = change_store.update(change_store.snapshot_path(history), build, identity, built_at)
    items = coverage(build)
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / HTML_FILE
    # errors="replace": a lone surrogate from a server under test must not abort the report.
    html_path.write_text(page.render(page.PageInput(title, built_at, build, found_changes, lines, items)),
                         encoding="utf-8", errors="replace")
    (out_dir / SUMMARY_FILE).write_text(markdown.render(title, build, found_changes, html_path),
                                        encoding="utf-8", errors="replace")
    return html_path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aoai-conformance report",
        description="Merge results.jsonl files (shards, targets, api-versions) into an HTML report, "
                    "a Markdown summary and a history line.",
    )
    parser.add_argument("--results", action="append", type=Path, metavar="DIR",
                        help="directory holding results.jsonl, directly or in sub-folders; repeatable "
                             "(default: reports/)")
    parser.add_argument("--history", type=Path, default=Path("reports/history.jsonl"),
                        help="history file to append one line per build to (default: %(default)s); "
                             "last-results.json beside it keeps the outcomes the change list compares with")
    parser.add_argument("--no-history", action="store_true", help="neither read nor write history")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="output directory (default: %(default)s)")
    parser.add_argument("--title", default=DEFAULT_TITLE, help="report title")
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    results = args.results or [Path("reports")]
    try:
        html_path = build_report(results, args.out, None if args.no_history else args.history, args.title)
    except ReportInputError as exc:
        print(f"aoai-conformance report: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # --out / --history unwritable, or a directory where a file belongs
        print(f"aoai-conformance report: cannot use {exc.filename}: {exc.strerror}; check --out and --history",
              file=sys.stderr)
        return 2
    print(html_path)
    return 0
