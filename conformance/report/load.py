"""Find and read results directories, and merge their records into one `Build`.

Every ``results.jsonl`` directly in or under each given directory is read, so CI shards downloaded
into sub-folders merge without configuration. Problems become `ReportInputError` with a message that
names the file and the fix; the command prints it instead of a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from conformance.report.model import Build, record_key
from conformance.results import RESULTS_FILE, RUN_FILE, RunInfo, TestRecord, read_records, read_run_info

VALID_OUTCOMES = frozenset({"passed", "failed", "skipped", "xfailed", "xpassed", "error", "unavailable"})
# When one test appears twice in one run (shards overlapping, a retried job), the worse outcome
# is kept: a flaky failure must not be hidden by a lucky pass.
_SEVERITY = {"error": 6, "failed": 5, "xpassed": 4, "unavailable": 3, "xfailed": 2, "passed": 1, "skipped": 0}


class ReportInputError(Exception):
    """Bad input for the report: the message says which file and what to do."""


def find_results(dirs: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for directory in dirs:
        if not directory.exists():
            raise ReportInputError(
                f"results directory {directory} does not exist; pass --results DIR pointing at a "
                f"report directory (one written by `aoai-conformance run --report-dir DIR`)"
            )
        if directory.is_file():
            raise ReportInputError(
                f"{directory} is a file; --results takes a directory that contains {RESULTS_FILE}"
            )
        found.extend(sorted(directory.rglob(RESULTS_FILE)))
    if not found:
        where = ", ".join(str(d) for d in dirs)
        raise ReportInputError(
            f"no {RESULTS_FILE} found in or under {where}; run the suite first "
            f"(`aoai-conformance run --report-dir DIR`) or pass --results DIR where the results were downloaded"
        )
    return sorted(set(found))


def _read_file(path: Path) -> list[TestRecord]:
    try:
        records = list(read_records(path))
    except ValueError as exc:  # read_records names file:line for a line that is not JSON
        raise ReportInputError(f"{exc}; fix or delete that line, or re-run the suite to rewrite {path}") from None
    except (TypeError, AttributeError) as exc:  # not an object, or missing a required field
        raise ReportInputError(
            f"{path}: a line is not a test record ({exc}); the file may be from another tool or truncated"
        ) from None
    except UnicodeDecodeError:
        raise ReportInputError(f"{path}: not UTF-8 text; is it really a {RESULTS_FILE}?") from None
    for number, record in enumerate(records, 1):
        problem = _type_problem(record)
        if problem:
            raise ReportInputError(
                f"{path}: record {number} {problem}; the file may be from another tool or hand-edited"
            )
        if record.outcome not in VALID_OUTCOMES:
            raise ReportInputError(
                f"{path}: record {number} ({record.id!r}) has unknown outcome {record.outcome!r}; "
                f"expected one of {', '.join(sorted(VALID_OUTCOMES))}"
            )
        if not record.id:
            raise ReportInputError(f"{path}: record {number} has no test id")
    return records


_STR_FIELDS = ("id", "area", "operation", "api_version", "target", "outcome", "message", "kind", "run_id",
               "request", "response")


def _type_problem(record: TestRecord) -> str:
    """Records come from servers under test and CI artefacts: check types before rendering them."""
    for name in _STR_FIELDS:
        if not isinstance(getattr(record, name), str):
            return f"field {name!r} is not a string"
    if isinstance(record.duration, bool) or not isinstance(record.duration, int | float):
        return "field 'duration' is not a number"
    for name in ("rules", "operations"):
        value = getattr(record, name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"field {name!r} is not a list of strings"
    if record.seed is not None and (isinstance(record.seed, bool) or not isinstance(record.seed, int)):
        return "field 'seed' is not an integer"
    for name in ("requests", "tokens"):
        value = getattr(record, name)
        if isinstance(value, bool) or not isinstance(value, int):
            return f"field {name!r} is not an integer"
    return ""


def _read_run(directory: Path) -> RunInfo | None:
    path = directory / RUN_FILE
    if not path.exists():
        return None  # optional: records carry their run id
    try:
        run = read_run_info(path)
    except (json.JSONDecodeError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise ReportInputError(f"{path}: not a valid run file ({exc}); delete it or re-run the suite") from None
    texts = (run.run_id, run.target, run.started_at, run.finished_at, run.package_version, run.command)
    numbers = (run.requests, run.tokens)
    if not all(isinstance(t, str) for t in texts) or not all(
        isinstance(n, int) and not isinstance(n, bool) for n in numbers
    ) or not isinstance(run.api_versions, list):
        raise ReportInputError(f"{path}: a field has the wrong type; delete the file or re-run the suite")
    return run


def load_build(dirs: Sequence[Path]) -> Build:
    runs: list[RunInfo] = []
    records: list[TestRecord] = []
    files = find_results(dirs)
    for path in files:
        run = _read_run(path.parent)
        if run is not None:
            runs.append(run)
        for record in _read_file(path):
            if not record.run_id and run is not None:
                record.run_id = run.run_id
            records.append(record)
    if not records:
        raise ReportInputError(
            f"the results files hold no test records ({', '.join(str(p) for p in files)}); "
            f"did the run select any test? Check -k / -m / --api-version"
        )
    return Build(records=merge(records, runs), runs=runs)


def merge(records: Sequence[TestRecord], runs: Sequence[RunInfo]) -> list[TestRecord]:
    """One record per (target, api-version, test id), chosen the same way whatever the input order.

    Newest run first (a later run supersedes an older one left in the same folder); within one run
    the worse outcome; then the record's own JSON as a last, stable tie-break.
    """
    finished = {r.run_id: r.finished_at or r.started_at for r in runs}

    def rank(record: TestRecord) -> tuple[str, int, str]:
        return (
            finished.get(record.run_id, ""),
            _SEVERITY.get(record.outcome, 0),
            json.dumps(asdict(record), sort_keys=True),
        )

    chosen: dict[str, TestRecord] = {}
    for record in records:
        key = record_key(record)
        if key not in chosen or rank(record) > rank(chosen[key]):
            chosen[key] = record
    return sorted(chosen.values(), key=lambda r: (r.target, r.api_version, r.area, r.id))
