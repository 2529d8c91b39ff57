"""Chat and completions streams: the chunk sequence Azure sends, as data-only server-sent events.

Order (Azure): a first chunk with empty `choices` carrying `prompt_filter_results`; for chat a role
delta; one chunk per text piece (annotated with `content_filter_results`); a final chunk with
`finish_reason`; with `stream_options.include_usage` a usage chunk (empty `choices`); `data: [DONE]`.
The content deltas concatenate to the non-streamed answer for the same request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.emulator import inference_filter
from conformance.emulator.inference_model import text_pieces, token_logprobs

DONE = b"data: [DONE]\n\n"


@dataclass(frozen=True)
class StreamPlan:
    """What to stream: the same facts a non-streamed answer is built from."""

    kind: str  # "chat" | "completions"
    id: str
    created: int
    model: str
    texts: Sequence[str]  # one answer per choice
    finish_reasons: Sequence[str]
    filtered_category: str | None  # output filtered for this harm category, or None
    prompt_count: int
    usage: dict[str, int] | None  # set when stream_options.include_usage asked for it
    tool_calls: Sequence[dict[str, Any]] = ()  # chat: the calls every choice makes instead of text
    top_logprobs: int | None = None  # chat `logprobs: true`: alternatives per token


def encode(chunk: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


def _envelope(plan: StreamPlan, choices: list[dict[str, Any]]) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": plan.id,
        "object": "chat.completion.chunk" if plan.kind == "chat" else "text_completion",
        "created": plan.created,
        "model": plan.model,
        "system_fingerprint": "fp_emulator",
        "choices": choices,
    }
    if plan.usage is not None:
        # With include_usage every chunk but the last carries `usage: null` (OpenAI behaviour).
        chunk["usage"] = None
    return chunk


def _choice(plan: StreamPlan, index: int, text: str | None, *, role: bool, finish: str | None,
            annotate: bool) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": index, "finish_reason": finish, "logprobs": None}
    if plan.kind == "chat":
        delta: dict[str, Any] = {}
        if role:
            delta = {"role": "assistant", "content": "", "refusal": None}
        elif text is not None:
            delta = {"content": text}
            if plan.top_logprobs is not None:
                choice["logprobs"] = {"content": token_logprobs(text, plan.top_logprobs), "refusal": None}
        choice["delta"] = delta
    else:
        choice["text"] = text or ""
    if annotate:
        filtered = plan.filtered_category if finish == "content_filter" else None
        choice["content_filter_results"] = inference_filter.choice_results(filtered_category=filtered)
    else:
        choice["content_filter_results"] = {}
    return choice


def _tool_call_chunks(plan: StreamPlan, index: int, call_index: int,
                      call: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A call opens with its id and name (empty arguments); the arguments follow in a second delta."""
    function = call["function"]
    opening = {"index": call_index, "id": call["id"], "type": "function",
               "function": {"name": function["name"], "arguments": ""}}
    rest = {"index": call_index, "function": {"arguments": function["arguments"]}}
    for delta in (opening, rest):
        yield _envelope(plan, [{"index": index, "delta": {"tool_calls": [delta]}, "finish_reason": None,
                                "logprobs": None}])


def chunks(plan: StreamPlan) -> Iterator[dict[str, Any]]:
    """Every chunk of the stream, in order (without the final `[DONE]`)."""
    first = _envelope(plan, [])
    first["prompt_filter_results"] = inference_filter.prompt_filter_results(plan.prompt_count)
    yield first
    for index, text in enumerate(plan.texts):
        if plan.kind == "chat":
            yield _envelope(plan, [_choice(plan, index, None, role=True, finish=None, annotate=False)])
        for call_index, call in enumerate(plan.tool_calls):
            yield from _tool_call_chunks(plan, index, call_index, call)
        for piece in text_pieces(text) if text else []:
            yield _envelope(plan, [_choice(plan, index, piece, role=False, finish=None, annotate=True)])
        finish = plan.finish_reasons[index]
        yield _envelope(plan, [_choice(plan, index, None, role=False, finish=finish, annotate=True)])
    if plan.usage is not None:
        last = _envelope(plan, [])
        last["usage"] = dict(plan.usage)
        yield last


def sse_body(plan: StreamPlan) -> Iterator[bytes]:
    for chunk in chunks(plan):
        yield encode(chunk)
    yield DONE
