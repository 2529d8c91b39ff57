"""One measured figure, as written to bench/results.json and rendered into bench/README.md."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Figure:
    group: str  # suite | emulator | streams | memory | prism | fuzz | cost
    name: str  # what was measured, e.g. "retrieve assistant"
    value: float | None  # None: not measured (see note)
    unit: str  # req/s, ms, s, tests/s, MiB, requests, tokens, ...
    command: str  # the command that produced it (copy-paste to reproduce)
    note: str = ""  # conditions, or why there is no value
    target: str = ""  # the goal the issues set, e.g. ">= 1500", "" when none
    met: bool | None = None  # target met? None when no target or no value
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def missing(group: str, name: str, unit: str, command: str, why: str, target: str = "") -> Figure:
    """A figure that could not be measured: the table says why instead of a number."""
    return Figure(group=group, name=name, value=None, unit=unit, command=command, note=why, target=target)


def check(value: float | None, target: str) -> bool | None:
    """Evaluate a target like '>= 1500' or '< 400' against a value."""
    if value is None or not target:
        return None
    op, _, bound = target.partition(" ")
    limit = float(bound.replace(",", ""))
    return {"<": value < limit, "<=": value <= limit, ">": value > limit, ">=": value >= limit}[op]
