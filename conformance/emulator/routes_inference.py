"""Inference operations under `/deployments/{deployment-id}/...`: chat, completions, embeddings,
audio (transcriptions, translations, speech) and image generations.

Each handler checks the deployment (unknown -> 404 DeploymentNotFound, wrong kind -> 400
OperationNotSupported, as the service answers), applies the content-filter triggers, and builds its
answer with `inference_answers` (pure functions). Request bodies were already checked against the
contract by the app; multipart bodies are parsed and checked here with the same validation call.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from conformance.emulator import inference_answers as answers
from conformance.emulator import inference_filter, triggers
from conformance.emulator.context import EmuRequest, ok
from conformance.emulator.errors import ApiError, bad_request
from conformance.emulator.inference_model import chat_prompt_texts, png_bytes
from conformance.emulator.inference_multipart import FormData, MultipartError, parse_form
from conformance.emulator.inference_stream import sse_body
from conformance.emulator.routing import EmuRoute
from conformance.emulator.validation import validate_request
from conformance.versions import at_least

DEPLOYMENT_NOT_FOUND = (
    "The API deployment for this resource does not exist. If you created the deployment within the "
    "last 5 minutes, please wait a moment and try again."
)
# The emulator never throttles; these are the quota figures its rate-limit headers report.
RATE_LIMIT_REQUESTS = 1000
RATE_LIMIT_TOKENS = 1_000_000
# `stream_options` exists from this version on (contract: x-since).
STREAM_OPTIONS_SINCE = "2024-08-01-preview"

# operation id -> the deployment kind (settings.deployments values) that serves it
OPERATION_KINDS: dict[str, str] = {
    "ChatCompletions_Create": "chat",
    "Completions_Create": "completions",
    "embeddings_create": "embeddings",
    "Transcriptions_Create": "transcription",
    "Translations_Create": "transcription",
    "Speech_Create": "speech",
    "ImageGenerations_Create": "images",
}
_OPERATION_WORDS: dict[str, str] = {
    "chat": "chatCompletion",
    "completions": "completion",
    "embeddings": "embeddings",
    "transcription": "audio",
    "speech": "speech",
    "images": "image generation",
}


def _deployment(ctx: EmuRequest) -> str:
    """The deployment name, after checking it exists and serves this operation."""
    name = ctx.params.get("deployment-id", "")
    kind = ctx.settings.deployments.get(name)
    if kind is None:
        raise ApiError(404, DEPLOYMENT_NOT_FOUND, code="DeploymentNotFound", bare=True)
    wanted = OPERATION_KINDS[ctx.operation_id]
    if kind != wanted:
        raise ApiError(
            400,
            f"The {_OPERATION_WORDS[wanted]} operation does not work with the specified model, {name}. "
            "Please choose different model and try again.",
            code="OperationNotSupported",
            bare=True,
        )
    return name


def _blocked(ctx: EmuRequest) -> ApiError:
    body = inference_filter.blocked_prompt_body(
        include_innererror="content_filter_no_innererror" not in ctx.faults
    )
    err = ApiError(400, body["error"]["message"])
    err.body = body
    return err


def _filter_state(ctx: EmuRequest, texts: list[str]) -> bool:
    """Raise the content-filter 400 for a blocked prompt; True when the output must be filtered."""
    joined = "\n".join(texts)
    if triggers.CHAT_CONTENT_FILTER_PROMPT in joined:
        raise _blocked(ctx)
    return triggers.CONTENT_FILTER_COMPLETION in joined


def _with_rate_headers(response: Response, tokens: int) -> Response:
    """Token-spending answers carry the rate-limit headers the service sends on chat (SERVICE-FACTS)."""
    response.headers["x-ratelimit-remaining-requests"] = str(RATE_LIMIT_REQUESTS - 1)
    response.headers["x-ratelimit-remaining-tokens"] = str(max(0, RATE_LIMIT_TOKENS - tokens))
    return response


def _stream_response(ctx: EmuRequest, answer: answers.TextAnswer, body: dict[str, Any]) -> Response:
    options = body.get("stream_options")
    include_usage = (
        at_least(ctx.api_version, STREAM_OPTIONS_SINCE)
        and isinstance(options, dict)
        and options.get("include_usage") is True
    )
    response = StreamingResponse(sse_body(answer.stream_plan(include_usage)), media_type="text/event-stream")
    return _with_rate_headers(response, answer.usage()["total_tokens"])


async def chat_completions(ctx: EmuRequest) -> Response:
    deployment = _deployment(ctx)
    body = ctx.json_body()
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("'messages' is a required property and must be a non-empty array.", param="messages")
    filtered = _filter_state(ctx, chat_prompt_texts(messages))
    answer = answers.chat_answer(body, deployment, ctx.store.timestamp(), filtered=filtered)
    if body.get("stream") is True:
        return _stream_response(ctx, answer, body)
    return _with_rate_headers(ok(answers.chat_body(answer)), answer.usage()["total_tokens"])


async def completions(ctx: EmuRequest) -> Response:
    deployment = _deployment(ctx)
    body = ctx.json_body()
    filtered = _filter_state(ctx, answers.completion_prompts(body))
    answer = answers.completions_answer(body, deployment, ctx.store.timestamp(), filtered=filtered)
    if body.get("stream") is True:
        return _stream_response(ctx, answer, body)
    return _with_rate_headers(ok(answers.completions_body(answer)), answer.usage()["total_tokens"])


async def embeddings(ctx: EmuRequest) -> Response:
    deployment = _deployment(ctx)
    try:
        body = answers.embeddings_body(ctx.json_body(), deployment)
    except answers.AnswerError as exc:
        raise bad_request(str(exc), param=exc.param) from None
    return _with_rate_headers(ok(body), body["usage"]["total_tokens"])


def _form(ctx: EmuRequest) -> FormData:
    """Parse the multipart upload and check it against the contract, as JSON bodies are."""
    if not ctx.content_type.lower().startswith("multipart/form-data"):
        raise bad_request(
            f"Unsupported content type '{ctx.content_type or 'none'}': this operation takes multipart/form-data.",
        )
    try:
        form = parse_form(ctx.content_type, ctx.raw_body)
    except MultipartError as exc:
        raise bad_request(f"Invalid multipart body: {exc}.") from None
    _validate(ctx, form.as_json_like(), "multipart/form-data")
    return form


def _validate(ctx: EmuRequest, body: Any, content_type: str) -> None:
    """The app's contract check, for bodies the app could not parse itself."""
    if "bad_request_accepted" in ctx.faults:
        return
    validate_request(
        ctx.api_version,
        ctx.request.method,
        _contract_path(ctx),
        query=dict(ctx.request.query_params),  # the contract requires api-version itself
        body=body,
        content_type=content_type,
    )


def _contract_path(ctx: EmuRequest) -> str:
    path = ctx.request.url.path
    return path[len("/openai"):] if path.startswith("/openai") else path


async def _audio(ctx: EmuRequest, *, translate: bool) -> Response:
    _deployment(ctx)
    form = _form(ctx)
    if "file" not in form.files:
        raise bad_request("'file' is a required property: upload the audio as a form file.", param="file")
    filename, data = form.files["file"]
    fields: dict[str, str | list[str]] = {k: (v if k.endswith("[]") else v[0]) for k, v in form.fields.items()}
    try:
        content, media_type = answers.audio_answer(fields, filename, data, translate=translate)
    except answers.AnswerError as exc:
        raise bad_request(str(exc), param=exc.param) from None
    if media_type == "application/json":
        return JSONResponse(content)
    return PlainTextResponse(content)


async def transcriptions(ctx: EmuRequest) -> Response:
    return await _audio(ctx, translate=False)


async def translations(ctx: EmuRequest) -> Response:
    return await _audio(ctx, translate=True)


def _json_object(ctx: EmuRequest) -> dict[str, Any]:
    try:
        parsed = json.loads(ctx.raw_body) if ctx.raw_body.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise bad_request(f"We could not parse the JSON body of your request: {exc}.") from None
    if not isinstance(parsed, dict):
        raise bad_request("The request body must be a JSON object.")
    return parsed


async def speech(ctx: EmuRequest) -> Response:
    _deployment(ctx)
    # Clients send JSON (the openai package does); a form upload is accepted too.
    if ctx.content_type.lower().startswith("multipart/form-data"):
        body: dict[str, Any] = dict(_form(ctx).as_json_like())
        if isinstance(body.get("speed"), str):
            try:
                body["speed"] = float(body["speed"])
            except ValueError:
                raise bad_request("'speed' must be a number.", param="speed") from None
    else:
        body = _json_object(ctx)
        _validate(ctx, body, "application/json")
    try:
        audio, media_type = answers.speech_answer(body)
    except answers.AnswerError as exc:
        raise bad_request(str(exc), param=exc.param) from None
    return Response(audio, media_type=media_type)


async def image_generations(ctx: EmuRequest) -> Response:
    _deployment(ctx)
    body = ctx.json_body()
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        _filter_state(ctx, [prompt])
    # No blob storage here: the url form is a data URL of the same image b64_json would carry.
    url = "data:image/png;base64," + base64.b64encode(png_bytes(prompt if isinstance(prompt, str) else "")).decode()
    return ok(answers.image_answer(body, ctx.store.timestamp(), url))


_BASE = "/deployments/{deployment-id}"

ROUTES: list[EmuRoute] = [
    EmuRoute("POST", f"{_BASE}/chat/completions", "ChatCompletions_Create", chat_completions),
    EmuRoute("POST", f"{_BASE}/completions", "Completions_Create", completions),
    EmuRoute("POST", f"{_BASE}/embeddings", "embeddings_create", embeddings),
    EmuRoute("POST", f"{_BASE}/audio/transcriptions", "Transcriptions_Create", transcriptions, body="multipart"),
    EmuRoute("POST", f"{_BASE}/audio/translations", "Translations_Create", translations, body="multipart"),
    EmuRoute("POST", f"{_BASE}/audio/speech", "Speech_Create", speech, body="multipart"),
    EmuRoute("POST", f"{_BASE}/images/generations", "ImageGenerations_Create", image_generations),
]
