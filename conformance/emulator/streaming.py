"""Server-sent events for streamed runs, in the service's exact order, with the stream faults.

The engine reports each change through an `EventCollector`, which renders the object at that very
moment (a later change must not alter an event already "sent"); `sse_response` frames the events.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse

from conformance.emulator import render
from conformance.emulator.store import Message, Run, Step, Thread

SSE_MEDIA_TYPE = "text/event-stream; charset=utf-8"
DONE = "event: done\ndata: [DONE]\n\n"


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


class EventCollector:
    """Callable as the engine's `emit`; keeps (event name, data JSON) pairs in order."""

    def __init__(self, faults: frozenset[str]) -> None:
        self.faults = faults
        self.events: list[tuple[str, str]] = []
        self._annotated: set[str] = set()  # messages whose first delta (with annotations) was sent

    def __call__(self, name: str, payload: Any) -> None:
        self.events.append((name, _compact(self._data(payload))))

    def _data(self, payload: Any) -> dict[str, Any]:
        faults = self.faults
        if isinstance(payload, Run):
            return render.run(payload, faults)
        if isinstance(payload, Step):
            return render.step(payload, faults)
        if isinstance(payload, Message):
            return render.message(payload, faults)
        if isinstance(payload, Thread):
            return render.thread(payload, faults)
        kind, record, chunk = payload
        if kind == "message":
            return self._message_delta(record, chunk)
        return self._step_delta(record)

    def _message_delta(self, message: Message, chunk: str) -> dict[str, Any]:
        text: dict[str, Any] = {"value": chunk}
        if message.id not in self._annotated:
            self._annotated.add(message.id)
            text["annotations"] = []  # the service sends it on the first delta only
            if "stream_delta_mismatch" in self.faults:
                text["value"] = chunk + "~"
        part = {"index": 0, "type": "text", "text": text}
        return {"id": message.id, "object": "thread.message.delta", "delta": {"content": [part]}}

    @staticmethod
    def _step_delta(step: Step) -> dict[str, Any]:
        calls = [
            {"index": index, "id": call["id"], "type": "function",
             "function": {"name": call["function"]["name"], "arguments": call["function"]["arguments"],
                          "output": None}}
            for index, call in enumerate(step.tool_calls)
        ]
        return {"id": step.id, "object": "thread.run.step.delta",
                "delta": {"step_details": {"type": "tool_calls", "tool_calls": calls}}}


def _apply_faults(events: list[tuple[str, str]], faults: frozenset[str]) -> list[tuple[str, str]]:
    if "stream_no_step_events" in faults:
        events = [e for e in events if not e[0].startswith("thread.run.step.")]
    if "stream_out_of_order" in faults:
        names = [name for name, _ in events]
        if "thread.run.queued" in names and "thread.run.in_progress" in names:
            i, j = names.index("thread.run.queued"), names.index("thread.run.in_progress")
            events[i], events[j] = events[j], events[i]
    if "stream_bad_json" in faults and events:
        name, data = events[0]
        events[0] = (name, data[:-1])  # cut the closing brace
    return events


def frame(events: list[tuple[str, str]], faults: frozenset[str]) -> list[str]:
    """The wire text of each event, `done` last (unless a fault drops it)."""
    chunks = [f"event: {name}\ndata: {data}\n\n" for name, data in _apply_faults(list(events), faults)]
    if "stream_no_done" not in faults:
        chunks.append(DONE)
    return chunks


def sse_response(collector: EventCollector) -> StreamingResponse:
    faults = collector.faults
    chunks = frame(collector.events, faults)

    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk.encode("utf-8")
            await asyncio.sleep(0)  # one chunk per event, as the service sends them

    media = "application/json" if "stream_wrong_content_type" in faults else SSE_MEDIA_TYPE
    return StreamingResponse(body(), media_type=media, headers={"cache-control": "no-cache"})
