"""A small server-sent-events parser (WHATWG rules) for validating recorded or live streams."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINES = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class SseEvent:
    event: str | None  # None for data-only events (chat completions)
    data: str


def parse_events(raw: bytes | str) -> list[SseEvent]:
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    events: list[SseEvent] = []
    name: str | None = None
    data: list[str] = []
    for line in [*_LINES.split(text), ""]:
        if line == "":
            if data:
                events.append(SseEvent(name, "\n".join(data)))
            name, data = None, []
            continue
        if line.startswith(":"):
            continue  # comment / keep-alive
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    return events
