"""SSE wire parsing: WHATWG event-stream semantics, Azure framing findings, any byte split."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.findings import Finding, errors
from conformance.invariants import SseEvent, SseParser, check_content_type, parse_sse

# The service's framing (SERVICE-FACTS "Wire"), with multi-byte text so splits land inside UTF-8.
RECORDED = (
    b'event: thread.run.created\ndata: {"id":"run_1","object":"thread.run","status":"queued"}\n\n'
    b'event: thread.message.delta\ndata: {"id":"msg_1","delta":{"content":[{"index":0,"type":"text",'
    + '"text":{"value":"Grüße 👋 世界"}}]}}\n\n'.encode()
    + b"event: done\ndata: [DONE]\n\n"
)


def names(events: list[SseEvent]) -> list[str | None]:
    return [e.event for e in events]


def parse_in_chunks(raw: bytes, cuts: list[int]) -> tuple[list[SseEvent], list[Finding]]:
    parser = SseParser()
    events: list[SseEvent] = []
    edges = [0, *sorted(set(cuts)), len(raw)]
    for start, stop in itertools.pairwise(edges):
        events.extend(parser.feed(raw[start:stop]))
    return events, parser.close()


def rules_of(findings: list[Finding]) -> set[str]:
    return {f.rule for f in errors(findings)}


def test_recorded_stream_parses_cleanly() -> None:
    events, findings = parse_sse(RECORDED)
    assert findings == []
    assert names(events) == ["thread.run.created", "thread.message.delta", "done"]
    assert "Grüße 👋 世界" in events[1].data
    assert events[2] == SseEvent("done", "[DONE]", None)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_every_single_split_gives_the_same_events(newline: bytes) -> None:
    raw = RECORDED.replace(b"\n", newline)
    whole = parse_sse(raw)
    assert len(whole[0]) == 3
    for cut in range(len(raw) + 1):
        assert parse_in_chunks(raw, [cut]) == whole, cut


def test_byte_by_byte_feed() -> None:
    parser = SseParser()
    events = [e for byte in RECORDED for e in parser.feed(bytes([byte]))]
    assert (events, parser.close()) == parse_sse(RECORDED)


@pytest.mark.parametrize("newline", [b"\r\n", b"\r", b"\n"])
def test_all_line_terminators(newline: bytes) -> None:
    raw = RECORDED.replace(b"\n", newline)
    assert parse_sse(raw) == parse_sse(RECORDED)


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    raw = b"event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\n\r\n"
    cuts = [i + 1 for i, byte in enumerate(raw) if byte == 0x0D]  # cut right after every \r
    events, findings = parse_in_chunks(raw, cuts)
    assert findings == []
    assert events == [SseEvent("a", "1"), SseEvent("b", "2")]


def test_whatwg_field_rules() -> None:
    raw = (b"\xef\xbb\xbf: a comment\n"  # BOM dropped, comment ignored
           b"id: 7\nevent:tight\ndata:no space\ndata:  two spaces\nretry: 10\n\n"
           b"data\n\n"  # a field name alone: empty data
           b"event: keep-id\ndata: x\n\n")
    events, findings = parse_sse(raw)
    assert findings == []
    assert events == [SseEvent("tight", "no space\n two spaces", "7"), SseEvent(None, "", "7"),
                      SseEvent("keep-id", "x", "7")]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, len(RECORDED)), max_size=12))
def test_any_split_gives_the_same_events(cuts: list[int]) -> None:
    assert parse_in_chunks(RECORDED, cuts) == parse_sse(RECORDED)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=120), st.lists(st.integers(0, 120), max_size=8))
def test_any_bytes_any_split_agree_with_whole_parse(raw: bytes, cuts: list[int]) -> None:
    # Including invalid UTF-8 and bare \r: findings and events never depend on chunking.
    assert parse_in_chunks(raw, [c for c in cuts if c <= len(raw)]) == parse_sse(raw)


FRAGMENTS = [b"\r", b"\n", b"\r\n", b"data: ", b"data:x", b"event: a", b"id: 1", b":c", b"zz", b"x",
             "é".encode(), "👋".encode(), b"\xff", b"\xe2\x82", b"\xef\xbb\xbf", b"retry: 5"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30).map(b"".join), st.lists(st.integers(0, 200), max_size=10))
def test_sse_shaped_bytes_any_split_agree_with_whole_parse(raw: bytes, cuts: list[int]) -> None:
    assert parse_in_chunks(raw, [c for c in cuts if c <= len(raw)]) == parse_sse(raw)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"event: a\nthis is not a field\ndata: 1\n\n", "is not a field line"),
        (b"data: {}\nevent: thread.run.created\n\n", "comes after the data line"),
        (b"event: done\ndata: [DONE]\n", "without the blank line"),
        (b"event: done\ndata: [DONE]", "inside a line"),
        (b"event: a\ndata: caf\xe9\n\n", "invalid UTF-8 e9"),
        (b"event: a\ndata: \xe2\x82\n\n", "invalid UTF-8"),
        (b"event: lonely\n\n", "has no data line"),
    ],
)
def test_framing_findings(raw: bytes, fragment: str) -> None:
    _, findings = parse_sse(raw)
    assert rules_of(findings) == {"sse.framing"}
    assert any(fragment in f.message for f in findings), findings


def test_truncated_utf8_at_end_of_stream() -> None:
    events, findings = parse_sse(b"data: ok\n\ndata: \xf0\x9f")
    assert events == [SseEvent(None, "ok")]
    assert any("invalid UTF-8 f0 9f" in f.message for f in findings)


@pytest.mark.parametrize(
    "value", ["text/event-stream", "text/event-stream; charset=utf-8", "Text/Event-Stream;charset=UTF-8"]
)
def test_good_content_types(value: str) -> None:
    assert check_content_type(value) == []


@pytest.mark.parametrize(
    "value", [None, "application/json", "text/plain; charset=utf-8", "text/event-stream; charset=latin-1"]
)
def test_bad_content_types(value: str | None) -> None:
    assert rules_of(check_content_type(value)) == {"sse.content_type"}
