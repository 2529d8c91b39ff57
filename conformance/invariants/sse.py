"""Server-sent events on the wire: an incremental parser (WHATWG event-stream format) that also
reports where the bytes leave Azure's grammar (``event:`` line, ``data:`` line, blank line).

Correct at any split of the input: a chunk may end inside a UTF-8 sequence or between ``\\r``
and ``\\n``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from conformance.findings import Finding
from conformance.invariants import rules as R
from conformance.invariants._common import show

FIELDS: Final = frozenset({"event", "data", "id", "retry"})
_MAX_UTF8_FINDINGS: Final = 5


@dataclass(frozen=True)
class SseEvent:
    event: str | None  # None when the block had no event line (the "message" type)
    data: str
    id: str | None = None  # the last event id in force when the event was dispatched


class SseParser:
    """Feed bytes as they arrive; collect dispatched events; `close` at end of stream for findings."""

    def __init__(self) -> None:
        # Two lists, each in stream order, so the findings never depend on where chunks split.
        self._framing: list[Finding] = []
        self._encoding: list[Finding] = []
        self._pending = b""  # an incomplete UTF-8 sequence at the end of the last chunk
        self._offset = 0  # bytes decoded so far, for invalid UTF-8 positions
        self._line = ""  # the current, not yet terminated line
        self._after_cr = False  # the last character was \r: a following \n belongs to it
        self._line_no = 0
        self._started = False  # a leading byte-order mark is dropped once
        self._utf8_errors = 0
        self._event: str | None = None
        self._data: list[str] = []
        self._last_id: str | None = None
        self._block_lines = 0  # non-blank lines in the current block
        self._data_line: int | None = None  # where the block's first data line was

    @property
    def findings(self) -> list[Finding]:
        return [*self._framing, *self._encoding]

    def feed(self, chunk: bytes) -> list[SseEvent]:
        return self._lines(self._decode(self._pending + chunk, final=False))

    def close(self) -> list[Finding]:
        """End of stream: flush, report an unterminated final event; returns all findings."""
        self._lines(self._decode(self._pending, final=True))
        if self._line:
            self._framing.append(Finding(R.SSE_FRAMING, f"line {self._line_no + 1}: stream ends inside a line "
                                         f"{show(self._line)} (no line terminator)"))
            self._line = ""
        if self._block_lines:
            self._framing.append(Finding(R.SSE_FRAMING, "stream ends without the blank line that terminates its "
                                         "last event (the event is discarded)"))
            self._reset_block()
        return self.findings

    # decoding ---------------------------------------------------------------------------------

    def _decode(self, raw: bytes, final: bool) -> str:
        self._pending = b""
        parts: list[str] = []
        pos = 0
        while pos < len(raw):
            try:
                parts.append(raw[pos:].decode("utf-8"))
                break
            except UnicodeDecodeError as exc:
                parts.append(raw[pos : pos + exc.start].decode("utf-8"))
                if not final and exc.reason == "unexpected end of data" and pos + exc.end == len(raw):
                    self._pending = raw[pos + exc.start :]  # wait for the rest of the sequence
                    break
                self._invalid_utf8(self._offset + pos + exc.start, raw[pos + exc.start : pos + exc.end])
                parts.append("\ufffd")
                pos += exc.end
        self._offset += len(raw) - len(self._pending)
        text = "".join(parts)
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        return text

    def _invalid_utf8(self, offset: int, bad: bytes) -> None:
        self._utf8_errors += 1
        if self._utf8_errors <= _MAX_UTF8_FINDINGS:
            self._encoding.append(Finding(R.SSE_FRAMING, f"byte {offset}: invalid UTF-8 {bad.hex(' ')}"))

    # lines ------------------------------------------------------------------------------------

    def _lines(self, text: str) -> list[SseEvent]:
        events: list[SseEvent] = []
        start = 0
        for index, char in enumerate(text):
            if char == "\n" and self._after_cr and index == start and not self._line:
                self._after_cr = False  # the \n of a \r\n split across chunks
                start = index + 1
                continue
            if char in "\r\n":
                line = self._line + text[start:index]
                self._line = ""
                self._after_cr = char == "\r"
                start = index + 1
                event = self._process(line)
                if event is not None:
                    events.append(event)
            elif self._after_cr:
                self._after_cr = False
        if start < len(text):
            self._line += text[start:]
            self._after_cr = False
        return events

    def _process(self, line: str) -> SseEvent | None:
        self._line_no += 1
        if not line:
            return self._dispatch()
        self._block_lines += 1
        if line.startswith(":"):
            return None  # comment
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name not in FIELDS:
            self._framing.append(Finding(R.SSE_FRAMING, f"line {self._line_no}: {show(line)} is not a field line "
                                         "(event, data, id, retry or a comment)"))
        elif name == "event":
            if self._data_line is not None:
                self._framing.append(Finding(R.SSE_FRAMING, f"line {self._line_no}: event {show(value)} comes after "
                                             f"the data line {self._data_line} of the same event"))
            self._event = value
        elif name == "data":
            self._data.append(value)
            if self._data_line is None:
                self._data_line = self._line_no
        elif name == "id" and "\0" not in value:
            self._last_id = value
        return None

    def _dispatch(self) -> SseEvent | None:
        if not self._data and self._event is not None:
            self._framing.append(Finding(R.SSE_FRAMING, f"line {self._line_no}: event {show(self._event)} has no "
                                         "data line (the event is discarded)"))
        event = SseEvent(self._event, "\n".join(self._data), self._last_id) if self._data else None
        self._reset_block()
        return event

    def _reset_block(self) -> None:
        self._event, self._data, self._block_lines, self._data_line = None, [], 0, None


def parse_sse(raw: bytes) -> tuple[list[SseEvent], list[Finding]]:
    """Parse a whole stream body at once."""
    parser = SseParser()
    events = parser.feed(raw)
    return events, parser.close()


def check_content_type(value: str | None) -> list[Finding]:
    """``text/event-stream``, optionally with ``charset=utf-8`` (what the service sends)."""
    if value is None:
        return [Finding(R.SSE_CONTENT_TYPE, "Content-Type is missing, expected text/event-stream")]
    media, *params = (part.strip() for part in value.split(";"))
    if media.lower() != "text/event-stream":
        return [Finding(R.SSE_CONTENT_TYPE, f"Content-Type is {show(value)}, expected text/event-stream")]
    for param in params:
        name, _, arg = param.partition("=")
        if name.strip().lower() == "charset" and arg.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return [Finding(R.SSE_CONTENT_TYPE, f"Content-Type is {show(value)}: an event stream is always UTF-8")]
    return []
