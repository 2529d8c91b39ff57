"""The compatibility report: results.jsonl files in, index.html + summary.md + history line out.

`build_report(result_dirs, out_dir, history)` is the library entry point (the runner calls it);
`aoai-conformance report` is the command (`conformance.report.command.main`).
"""

from conformance.report.command import build_report
from conformance.report.load import ReportInputError

__all__ = ["ReportInputError", "build_report"]
