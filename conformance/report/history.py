"""history.jsonl: one summary line per report build, for the pass-rate chart.

A line holds the build's identity (its run ids), when it finished, and per (target, api-version,
area) the outcome counts and pass rate. Rebuilding the report for the same runs replaces the last
line instead of adding one, so re-running `aoai-conformance report` never skews the chart.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance.report.load import ReportInputError
from conformance.report.model import Build

HistoryLine = dict[str, Any]


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def build_identity(build: Build) -> str:
    """The run ids of a build; a content hash when the records carry none (hand-made results)."""
    if build.run_ids:
        return "+".join(build.run_ids)
    digest = hashlib.sha256()
    for record in build.records:
        digest.update(f"{record.target}\t{record.api_version}\t{record.id}\t{record.outcome}\n".encode())
    return "sha256:" + digest.hexdigest()[:16]


def summary_line(build: Build, built_at: str) -> HistoryLine:
    cells = []
    for cell in build.cells:
        for area in build.areas:
            counts = build.counts(cell, area)
            if not counts.total:
                continue
            rate = counts.pass_rate
            cells.append({
                "target": cell.target,
                "api_version": cell.api_version,
                "area": area,
                "counts": counts.as_dict(),
                "pass_rate": None if rate is None else round(rate, 4),
            })
    return {
        "build": build_identity(build),
        "run_ids": build.run_ids,
        "finished_at": build.finished_at or built_at,
        "built_at": built_at,
        "cells": cells,
    }


def read_history(path: Path) -> list[HistoryLine]:
    if not path.exists():
        return []
    lines: list[HistoryLine] = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ReportInputError(f"{path}: not UTF-8 text; point --history at a history.jsonl file") from None
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ReportInputError(
                f"{path}:{number}: not a JSON line ({exc.msg}); delete that line (the chart loses one point)"
            ) from None
        if not isinstance(line, dict) or not isinstance(line.get("cells"), list):
            raise ReportInputError(
                f"{path}:{number}: not a report history line; delete that line or pass --no-history"
            )
        lines.append(line)
    return lines


def record_build(path: Path, line: HistoryLine) -> list[HistoryLine]:
    """Append `line` (or replace the last one when it is the same build); return the whole history."""
    lines = read_history(path)
    if lines and lines[-1].get("build") == line["build"]:
        lines[-1] = line
        path.write_text("".join(json.dumps(x, sort_keys=True) + "\n" for x in lines), encoding="utf-8")
    else:
        lines.append(line)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A hand-edited file may lack its final newline; never glue two lines together.
        lead = "\n" if path.exists() and path.stat().st_size and not path.read_bytes().endswith(b"\n") else ""
        with path.open("a", encoding="utf-8") as out:
            out.write(lead + json.dumps(line, sort_keys=True) + "\n")
    return lines
