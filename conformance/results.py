"""The machine-readable results file: one JSON record per test, written as JSON lines.

Every producer (hand-written suite, fuzzer, traffic validator) writes `TestRecord`s to
``<report-dir>/results.jsonl`` and a `RunInfo` to ``<report-dir>/run.json``; the report builder
reads any number of such directories (shards, targets, api-versions) and merges them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Outcome = Literal["passed", "failed", "skipped", "xfailed", "xpassed", "error", "unavailable"]
Kind = Literal["suite", "fuzz", "validate"]

RESULTS_FILE = "results.jsonl"
RUN_FILE = "run.json"


@dataclass
class TestRecord:
    id: str  # stable test id (pytest node id without the path prefix)
    area: str  # lifecycle, pagination, streaming, content_filter, errors, crud, versions, fuzz, ...
    operation: str  # contract operationId, or "" when a test spans several
    api_version: str
    target: str  # emulator | url | live | replay | validate
    outcome: Outcome
    duration: float
    message: str = ""  # failure / skip / xfail reason, first lines
    rules: list[str] = field(default_factory=list)  # finding rule ids behind a failure
    kind: Kind = "suite"
    run_id: str = ""
    seed: int | None = None  # fuzz failures: the seed that reproduces them
    request: str = ""  # sanitised excerpt of the failing request (e.g. as curl)
    response: str = ""  # sanitised excerpt of the failing response
    operations: list[str] = field(default_factory=list)  # every operation the test called
    requests: int = 0  # requests the test sent
    tokens: int = 0  # tokens the target reported as used


@dataclass
class RunInfo:
    run_id: str
    target: str
    api_versions: list[str]
    started_at: str  # ISO 8601 UTC
    finished_at: str = ""
    package_version: str = ""
    command: str = ""
    requests: int = 0
    tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def write_records(path: Path, records: Iterable[TestRecord]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(asdict(record), sort_keys=True) + "\n")


def read_records(path: Path) -> Iterator[TestRecord]:
    known = set(TestRecord.__dataclass_fields__)
    with path.open(encoding="utf-8") as src:
        for number, line in enumerate(src, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not a JSON line ({exc.msg})") from None
            yield TestRecord(**{k: v for k, v in raw.items() if k in known})


def write_run_info(path: Path, info: RunInfo) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(info), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_run_info(path: Path) -> RunInfo:
    raw = json.loads(path.read_text(encoding="utf-8"))
    known = set(RunInfo.__dataclass_fields__)
    return RunInfo(**{k: v for k, v in raw.items() if k in known})
