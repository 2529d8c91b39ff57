"""Answer bodies of the inference operations, built from a (validated) request body.

Pure functions: no HTTP, no state. The routes module parses the request, checks the deployment and
the triggers, and calls these. Ids are derived from a digest of the request so the same request gets
the same answer (streamed or not).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from conformance.emulator import inference_filter
from conformance.emulator.inference_model import (
    audio_duration,
    chat_prompt_texts,
    count_tokens,
    embedding_base64,
    embedding_vector,
    last_user_text,
    png_bytes,
    reply_for,
    token_logprobs,
    transcript_for,
    truncate_words,
    wav_bytes,
)
from conformance.emulator.inference_stream import StreamPlan
from conformance.emulator.inference_tools import tool_calls_for, tool_results_reply

# Embedding width per deployment name; unknown embeddings deployments get DEFAULT_DIMENSIONS.
EMBEDDING_DIMENSIONS: dict[str, int] = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
DEFAULT_DIMENSIONS = 1536
# Only the text-embedding-3 family accepts `dimensions` (service: "only supported in text-embedding-3").
SHORTENABLE_PREFIX = "text-embedding-3"
# Which harm category an output-filter trigger marks as filtered.
FILTERED_OUTPUT_CATEGORY = "violence"


class AnswerError(ValueError):
    """The request is valid by schema but not answerable; `param` names the field."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


def request_id(prefix: str, body: Any) -> str:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return f"{prefix}-{digest[:29]}"


@dataclass(frozen=True)
class TextAnswer:
    """The facts of a chat or completions answer, shared by the JSON body and the stream."""

    kind: str
    id: str
    created: int
    model: str
    texts: list[str]
    finish_reasons: list[str]
    prompt_tokens: int
    completion_tokens: int
    prompt_count: int
    filtered: bool
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # same calls on every choice
    top_logprobs: int | None = None  # chat `logprobs: true`: how many alternatives per token

    def usage(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }

    def stream_plan(self, include_usage: bool) -> StreamPlan:
        return StreamPlan(
            kind=self.kind,
            id=self.id,
            created=self.created,
            model=self.model,
            texts=self.texts,
            finish_reasons=self.finish_reasons,
            filtered_category=FILTERED_OUTPUT_CATEGORY if self.filtered else None,
            prompt_count=self.prompt_count,
            usage=self.usage() if include_usage else None,
            tool_calls=self.tool_calls,
            top_logprobs=self.top_logprobs,
        )


def as_int(value: Any) -> int | None:
    """An integer, also from an integral float (JSON Schema counts 3.0 as an integer); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _choice_count(body: dict[str, Any]) -> int:
    n = as_int(body.get("n"))
    return n if n is not None and n > 0 else 1


def _max_tokens(body: dict[str, Any]) -> int | None:
    for key in ("max_completion_tokens", "max_tokens"):
        value = as_int(body.get(key))
        if value is not None and value >= 0:
            return value
    return None


def _answer(kind: str, body: dict[str, Any], model: str, created: int, prompts: list[str],
            base: str, filtered: bool, tool_calls: list[dict[str, Any]] | None = None) -> TextAnswer:
    limit = _max_tokens(body)
    texts: list[str] = []
    reasons: list[str] = []
    for index in range(_choice_count(body) * max(1, len(prompts) if kind == "completions" else 1)):
        text = base if index == 0 else f"{base} (choice {index})"
        if tool_calls:
            text = ""
            reasons.append("tool_calls")
        elif filtered:
            # The filter cuts the answer after a few words, as the service does mid-generation.
            text, _ = truncate_words(text, 3)
            reasons.append("content_filter")
        else:
            text, cut = truncate_words(text, limit)
            reasons.append("length" if cut else "stop")
        texts.append(text)
    call_tokens = sum(count_tokens(f"{c['function']['name']} {c['function']['arguments']}") for c in tool_calls or [])
    return TextAnswer(
        kind=kind,
        id=request_id("chatcmpl" if kind == "chat" else "cmpl", body),
        created=created,
        model=model,
        texts=texts,
        finish_reasons=reasons,
        prompt_tokens=sum(count_tokens(p) for p in prompts),
        completion_tokens=sum(count_tokens(t) if t else 0 for t in texts) + call_tokens * len(texts),
        prompt_count=len(prompts) if kind == "completions" else 1,
        filtered=filtered,
        tool_calls=list(tool_calls or []),
    )


def _json_mode(body: dict[str, Any]) -> bool:
    response_format = body.get("response_format")
    return isinstance(response_format, dict) and response_format.get("type") in ("json_object", "json_schema")


def chat_answer(body: dict[str, Any], model: str, created: int, *, filtered: bool) -> TextAnswer:
    messages = body.get("messages")
    messages = messages if isinstance(messages, list) else []
    prompts = chat_prompt_texts(messages) or [""]
    last = last_user_text(messages)
    base = tool_results_reply(messages) or reply_for(last)
    if _json_mode(body):
        base = json.dumps({"answer": base})  # JSON mode: the answer is a JSON document
    # Call ids ignore the stream switches, so a streamed request calls with the same ids as a plain one.
    seed = request_id("call", {k: v for k, v in body.items() if k not in ("stream", "stream_options")})
    calls = [] if filtered else tool_calls_for(body, last, seed)
    answer = _answer("chat", body, model, created, prompts, base, filtered, calls)
    if body.get("logprobs") is True:
        top = as_int(body.get("top_logprobs")) or 0
        answer = replace(answer, top_logprobs=max(0, top))
    return answer


def chat_logprobs(text: str, top: int | None) -> dict[str, Any] | None:
    """A choice's (or a chunk's) `logprobs`: null unless the request asked for them."""
    if top is None:
        return None
    return {"content": token_logprobs(text, top), "refusal": None}


def completion_prompts(body: dict[str, Any]) -> list[str]:
    prompt = body.get("prompt")
    if isinstance(prompt, list):
        return [p if isinstance(p, str) else " ".join(map(str, p)) for p in prompt] or [""]
    return [prompt if isinstance(prompt, str) else ""]


def completions_answer(body: dict[str, Any], model: str, created: int, *, filtered: bool) -> TextAnswer:
    prompts = completion_prompts(body)
    return _answer("completions", body, model, created, prompts, reply_for(prompts[0]), filtered)


def _message(answer: TextAnswer, text: str) -> dict[str, Any]:
    if answer.tool_calls:
        return {"role": "assistant", "content": None, "refusal": None, "tool_calls": answer.tool_calls}
    return {"role": "assistant", "content": text, "refusal": None}


def chat_body(answer: TextAnswer) -> dict[str, Any]:
    choices = []
    for index, text in enumerate(answer.texts):
        choices.append(
            {
                "index": index,
                "finish_reason": answer.finish_reasons[index],
                "message": _message(answer, text),
                "logprobs": chat_logprobs(text, answer.top_logprobs),
                "content_filter_results": inference_filter.choice_results(
                    filtered_category=FILTERED_OUTPUT_CATEGORY if answer.filtered else None
                ),
            }
        )
    return {
        "id": answer.id,
        "object": "chat.completion",
        "created": answer.created,
        "model": answer.model,
        "system_fingerprint": "fp_emulator",
        "prompt_filter_results": inference_filter.prompt_filter_results(1),
        "choices": choices,
        "usage": answer.usage(),
    }


def completions_body(answer: TextAnswer) -> dict[str, Any]:
    choices = []
    for index, text in enumerate(answer.texts):
        choices.append(
            {
                "index": index,
                "text": text,
                "finish_reason": answer.finish_reasons[index],
                "logprobs": None,
                "content_filter_results": inference_filter.choice_results(
                    filtered_category=FILTERED_OUTPUT_CATEGORY if answer.filtered else None
                ),
            }
        )
    return {
        "id": answer.id,
        "object": "text_completion",
        "created": answer.created,
        "model": answer.model,
        "system_fingerprint": "fp_emulator",
        "prompt_filter_results": inference_filter.prompt_filter_results(answer.prompt_count),
        "choices": choices,
        "usage": answer.usage(),
    }


def embeddings_body(body: dict[str, Any], deployment: str) -> dict[str, Any]:
    raw = body.get("input")
    inputs = raw if isinstance(raw, list) else [raw if raw is not None else ""]
    texts = [item if isinstance(item, str) else json.dumps(item) for item in inputs]
    native = EMBEDDING_DIMENSIONS.get(deployment, DEFAULT_DIMENSIONS)
    raw_dimensions = body.get("dimensions")
    requested = as_int(raw_dimensions) if raw_dimensions is not None else None
    size = native
    if raw_dimensions is not None:
        if not deployment.startswith(SHORTENABLE_PREFIX):
            raise AnswerError(f"This model does not support specifying dimensions: {deployment}.", "dimensions")
        if requested is None or not 1 <= requested <= native:
            raise AnswerError(
                f"Invalid value for dimensions: {raw_dimensions!r}; it must be between 1 and {native}.",
                "dimensions",
            )
        size = requested
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise AnswerError(f"Invalid value for encoding_format: {encoding!r}; use float or base64.",
                          "encoding_format")
    data = []
    for index, text in enumerate(texts):
        vector = embedding_vector(text, size)
        embedding: Any = embedding_base64(vector) if encoding == "base64" else vector
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = sum(count_tokens(t) for t in texts)
    return {
        "object": "list",
        "model": deployment,
        "data": data,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


# ---- audio ----

AUDIO_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")


def _stamp(seconds: float, comma: bool) -> str:
    millis = round(seconds * 1000)
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    sep = "," if comma else "."
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def audio_answer(fields: dict[str, str | list[str]], filename: str, data: bytes, *,
                 translate: bool) -> tuple[Any, str]:
    """(body, media type) for transcriptions / translations in the requested `response_format`."""
    text = transcript_for(filename, data, translate=translate)
    duration = audio_duration(data)
    fmt = fields.get("response_format") or "json"
    if fmt == "json":
        return {"text": text}, "application/json"
    if fmt == "text":
        return text + "\n", "text/plain"
    if fmt == "srt":
        return f"1\n{_stamp(0, True)} --> {_stamp(duration, True)}\n{text}\n\n", "text/plain"
    if fmt == "vtt":
        return f"WEBVTT\n\n{_stamp(0, False)} --> {_stamp(duration, False)}\n{text}\n\n", "text/plain"
    if fmt == "verbose_json":
        segment = {
            "id": 0, "seek": 0, "start": 0.0, "end": duration, "text": text,
            "tokens": list(range(50364, 50364 + count_tokens(text))), "temperature": 0.0,
            "avg_logprob": -0.25, "compression_ratio": 1.0, "no_speech_prob": 0.01,
        }
        verbose: dict[str, Any] = {
            "task": "translate" if translate else "transcribe",
            "language": "english",
            "duration": duration,
            "text": text,
            "segments": [segment],
        }
        granularities = fields.get("timestamp_granularities[]") or []
        if isinstance(granularities, str):
            granularities = [granularities]
        if "word" in granularities and not translate:
            words = text.split()
            step = duration / max(1, len(words))
            verbose["words"] = [
                {"word": w, "start": round(i * step, 3), "end": round((i + 1) * step, 3)}
                for i, w in enumerate(words)
            ]
        return verbose, "application/json"
    raise AnswerError(f"Invalid value for response_format: {fmt!r}; use one of {', '.join(AUDIO_FORMATS)}.",
                      "response_format")


# ---- speech ----

SPEECH_MEDIA_TYPES: dict[str, str] = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
_MAGIC: dict[str, bytes] = {"mp3": b"ID3\x04\x00\x00", "opus": b"OggS\x00\x02", "aac": b"\xff\xf1\x50\x80",
                            "flac": b"fLaC\x00\x00"}


def speech_answer(body: dict[str, Any]) -> tuple[bytes, str]:
    text = body.get("input")
    if not isinstance(text, str) or not text:
        raise AnswerError("'input' is required and must be a non-empty string.", "input")
    fmt = body.get("response_format") or "mp3"
    if fmt not in SPEECH_MEDIA_TYPES:
        raise AnswerError(f"Invalid value for response_format: {fmt!r}.", "response_format")
    wav = wav_bytes(text)
    if fmt == "wav":
        audio = wav
    elif fmt == "pcm":
        audio = wav[44:]
    else:
        audio = _MAGIC[fmt] + hashlib.sha256(text.encode()).digest() + wav[44:]
    return audio, SPEECH_MEDIA_TYPES[fmt]


# ---- images ----


def image_answer(body: dict[str, Any], created: int, image_url: str) -> dict[str, Any]:
    raw = body.get("prompt")
    prompt = raw if isinstance(raw, str) else ""
    item: dict[str, Any] = {"revised_prompt": f"An emulated image of: {prompt}"}
    if (body.get("response_format") or "url") == "b64_json":
        item["b64_json"] = base64.b64encode(png_bytes(prompt)).decode("ascii")
    else:
        item["url"] = image_url
    item["content_filter_results"] = {name: {"filtered": False, "severity": "safe"}
                                      for name in inference_filter.HARM_CATEGORIES}
    item["prompt_filter_results"] = inference_filter.prompt_results()
    n = as_int(body.get("n"))
    return {"created": created, "data": [item] * (n if n is not None and n > 0 else 1)}
