"""Inference operations on the emulator (chat, completions, embeddings, audio, speech, images):
contract-valid answers in both api-versions, determinism, usage arithmetic, deployments, the Azure
content filter (annotations, the 400 envelope, output filtering, the no-innererror fault) and streams.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from conformance.emulator import triggers
from conformance.emulator.app import create_app
from conformance.emulator.settings import EmulatorSettings
from conformance.spec import load_contract
from conformance.versions import API_VERSIONS

KEY = "emulator-key"
CHAT = "/deployments/gpt-4o/chat/completions"
COMPLETIONS = "/deployments/gpt-35-turbo-instruct/completions"
EMBEDDINGS = "/deployments/text-embedding-3-small/embeddings"
HARM = ("hate", "self_harm", "sexual", "violence")


class Api:
    def __init__(self, client: TestClient, version: str) -> None:
        self.client = client
        self.version = version
        self.contract = load_contract(version)

    def send(self, path: str, *, json_body: Any = None, files: Any = None, data: Any = None,
             expect: int = 200) -> httpx.Response:
        response = self.client.post("/openai" + path, params={"api-version": self.version}, json=json_body,
                                    files=files, data=data, headers={"api-key": KEY})
        assert response.status_code == expect, response.text
        self.check(path, response)
        return response

    def check(self, path: str, response: httpx.Response) -> None:
        matched = self.contract.match("POST", path)
        assert matched is not None, f"POST {path} is not in the {self.version} contract"
        media = response.headers.get("content-type", "")
        body: Any = response.content if not media.startswith("application/json") else response.json()
        findings = self.contract.validate_response(matched[0], response.status_code, response.headers, body)
        errors = [f for f in findings if f.severity == "error"]
        assert not errors, "\n".join(map(str, errors))

    def post(self, path: str, body: Any, expect: int = 200) -> Any:
        return self.send(path, json_body=body, expect=expect).json()


def make_api(version: str, settings: EmulatorSettings | None = None) -> Iterator[Api]:
    with TestClient(create_app(settings or EmulatorSettings())) as client:
        yield Api(client, version)


@pytest.fixture(params=API_VERSIONS)
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    yield from make_api(request.param)


def chat_body(text: str, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": text}], **extra}


def sse_chunks(raw: bytes) -> list[str]:
    """The data payloads of a data-only event stream, checking the framing on the way."""
    text = raw.decode()
    assert text.endswith("\n\n"), "the stream must end with a blank line"
    events = text[:-2].split("\n\n")
    assert all(event.startswith("data: ") for event in events), events
    return [event[len("data: "):] for event in events]


def assert_safe_annotations(results: dict[str, Any]) -> None:
    for name in HARM:
        assert results[name] == {"filtered": False, "severity": "safe"}


# ---- chat ----


def test_chat_answer_is_annotated_and_counts_usage(api: Api) -> None:
    body = api.post(CHAT, chat_body("tell me about parrots"))
    assert body["object"] == "chat.completion" and body["model"] == "gpt-4o"
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["message"]["role"] == "assistant"
    assert "parrots" in choice["message"]["content"]
    assert_safe_annotations(choice["content_filter_results"])
    prompt = body["prompt_filter_results"][0]
    assert prompt["prompt_index"] == 0
    assert_safe_annotations(prompt["content_filter_results"])
    assert prompt["content_filter_results"]["jailbreak"] == {"filtered": False, "detected": False}
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    prompt_words = [*"be brief".split(), *"tell me about parrots".split()]  # noqa: SIM905 - the rule, spelled out
    assert usage["prompt_tokens"] == len(prompt_words)
    assert usage["completion_tokens"] == len(choice["message"]["content"].split())


def test_token_spending_answers_carry_rate_limit_headers(api: Api) -> None:
    for path, body in ((CHAT, chat_body("hi")), (COMPLETIONS, {"prompt": "hi"}), (EMBEDDINGS, {"input": "hi"})):
        headers = api.send(path, json_body=body).headers
        assert int(headers["x-ratelimit-remaining-requests"]) >= 0
        assert int(headers["x-ratelimit-remaining-tokens"]) >= 0
        assert headers["apim-request-id"] and headers["x-ms-region"]


def test_chat_is_deterministic_per_prompt(api: Api) -> None:
    first = api.post(CHAT, chat_body("alpha"))
    again = api.post(CHAT, chat_body("alpha"))
    other = api.post(CHAT, chat_body("beta"))
    assert first["choices"][0]["message"]["content"] == again["choices"][0]["message"]["content"]
    assert first["choices"][0]["message"]["content"] != other["choices"][0]["message"]["content"]


def test_chat_max_tokens_cuts_with_length(api: Api) -> None:
    body = api.post(CHAT, chat_body("a long question about many things", max_tokens=3, n=2))
    assert [c["finish_reason"] for c in body["choices"]] == ["length", "length"]
    assert [c["index"] for c in body["choices"]] == [0, 1]
    assert body["usage"]["completion_tokens"] == 6


def test_chat_blocked_prompt_is_the_service_400(api: Api) -> None:
    body = api.post(CHAT, chat_body(f"please {triggers.CHAT_CONTENT_FILTER_PROMPT}"), expect=400)
    error = body["error"]
    assert (error["code"], error["status"], error["param"], error["type"]) == ("content_filter", 400, "prompt", None)
    assert "content management policy" in error["message"]
    inner = error["innererror"]
    assert inner["code"] == "ResponsibleAIPolicyViolation"
    assert_safe_annotations(inner["content_filter_result"])
    assert inner["content_filter_result"]["jailbreak"] == {"filtered": True, "detected": True}
    assert api.contract.validate_schema("contentFilterErrorResponse", body) == []


def test_fault_drops_innererror() -> None:
    for api in make_api(API_VERSIONS[-1], EmulatorSettings(faults=frozenset({"content_filter_no_innererror"}))):
        error = api.post(CHAT, chat_body(triggers.CHAT_CONTENT_FILTER_PROMPT), expect=400)["error"]
        assert error["code"] == "content_filter" and "innererror" not in error


def test_chat_filtered_output_answers_200_content_filter(api: Api) -> None:
    body = api.post(CHAT, chat_body(f"write {triggers.CONTENT_FILTER_COMPLETION}"))
    choice = body["choices"][0]
    assert choice["finish_reason"] == "content_filter"
    assert any(choice["content_filter_results"][name]["filtered"] for name in HARM)


def test_unknown_deployment_is_deployment_not_found(api: Api) -> None:
    body = api.post("/deployments/nope/chat/completions", chat_body("hi"), expect=404)
    assert body["error"]["code"] == "DeploymentNotFound"
    assert body["error"]["message"].startswith("The API deployment for this resource does not exist.")


def test_wrong_kind_of_deployment_is_rejected(api: Api) -> None:
    body = api.post("/deployments/text-embedding-3-small/chat/completions", chat_body("hi"), expect=400)
    assert body["error"]["code"] == "OperationNotSupported"
    assert "text-embedding-3-small" in body["error"]["message"]


def test_chat_invalid_body_is_400_not_500(api: Api) -> None:
    body = api.post(CHAT, {"messages": "not a list"}, expect=400)
    assert body["error"]["message"]


# ---- streams ----


def test_chat_stream_matches_the_plain_answer(api: Api) -> None:
    plain = api.post(CHAT, chat_body("stream me please"))
    response = api.send(CHAT, json_body=chat_body("stream me please", stream=True))
    assert response.headers["content-type"].startswith("text/event-stream")
    payloads = sse_chunks(response.content)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert len({c["id"] for c in chunks}) == 1
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"] == [] and chunks[0]["prompt_filter_results"][0]["prompt_index"] == 0
    assert chunks[1]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == plain["choices"][0]["message"]["content"]
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}
    annotated = [c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
    assert annotated and all(c["choices"][0]["content_filter_results"]["hate"] for c in annotated)


def test_chat_stream_usage_chunk_only_from_2024_08(api: Api) -> None:
    body = chat_body("count me", stream=True, stream_options={"include_usage": True})
    if api.version < "2024-08-01-preview":
        # The option does not exist before 2024-08-01-preview; the contract decides whether it is refused.
        response = api.client.post("/openai" + CHAT, params={"api-version": api.version}, json=body,
                                   headers={"api-key": KEY})
        if response.status_code == 400:
            return
        chunks = [json.loads(p) for p in sse_chunks(response.content)[:-1]]
        assert not any(c.get("usage") for c in chunks)
        return
    plain = api.post(CHAT, chat_body("count me"))
    chunks = [json.loads(p) for p in sse_chunks(api.send(CHAT, json_body=body).content)[:-1]]
    last = chunks[-1]
    assert last["choices"] == [] and last["usage"] == plain["usage"]
    assert all(c["usage"] is None for c in chunks[:-1])


def test_chat_stream_filtered_output_ends_content_filter(api: Api) -> None:
    response = api.send(CHAT, json_body=chat_body(triggers.CONTENT_FILTER_COMPLETION, stream=True))
    chunks = [json.loads(p) for p in sse_chunks(response.content)[:-1]]
    assert chunks[-1]["choices"][0]["finish_reason"] == "content_filter"


def test_chat_stream_blocked_prompt_is_still_a_400(api: Api) -> None:
    error = api.post(CHAT, chat_body(triggers.CHAT_CONTENT_FILTER_PROMPT, stream=True), expect=400)["error"]
    assert error["code"] == "content_filter"


# ---- completions ----


def test_completions_answer_and_stream(api: Api) -> None:
    plain = api.post(COMPLETIONS, {"prompt": "once upon a time", "max_tokens": 50})
    assert plain["object"] == "text_completion" and plain["choices"][0]["finish_reason"] == "stop"
    assert_safe_annotations(plain["choices"][0]["content_filter_results"])
    assert plain["prompt_filter_results"][0]["prompt_index"] == 0
    usage = plain["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    response = api.send(COMPLETIONS, json_body={"prompt": "once upon a time", "max_tokens": 50, "stream": True})
    payloads = sse_chunks(response.content)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    text = "".join(c["choices"][0]["text"] for c in chunks if c["choices"])
    assert text == plain["choices"][0]["text"]


def test_completions_prompt_filter(api: Api) -> None:
    error = api.post(COMPLETIONS, {"prompt": triggers.CHAT_CONTENT_FILTER_PROMPT}, expect=400)["error"]
    assert error["code"] == "content_filter" and error["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    filtered = api.post(COMPLETIONS, {"prompt": triggers.CONTENT_FILTER_COMPLETION})
    assert filtered["choices"][0]["finish_reason"] == "content_filter"


# ---- embeddings ----


def test_embeddings_have_the_deployment_dimension(api: Api) -> None:
    body = api.post(EMBEDDINGS, {"input": ["one two", "three"]})
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert all(len(d["embedding"]) == 1536 for d in body["data"])
    assert body["data"][0]["embedding"] != body["data"][1]["embedding"]
    assert body["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    again = api.post(EMBEDDINGS, {"input": "one two"})
    assert again["data"][0]["embedding"] == body["data"][0]["embedding"]


def test_embeddings_dimensions_and_base64(api: Api) -> None:
    short = api.post(EMBEDDINGS, {"input": "hello", "dimensions": 8})
    assert len(short["data"][0]["embedding"]) == 8
    packed = api.post(EMBEDDINGS, {"input": "hello", "dimensions": 8, "encoding_format": "base64"})
    raw = base64.b64decode(packed["data"][0]["embedding"])
    floats = struct.unpack("<8f", raw)
    assert floats == pytest.approx(short["data"][0]["embedding"], rel=1e-6)
    error = api.post(EMBEDDINGS, {"input": "hello", "dimensions": 5000}, expect=400)["error"]
    assert error["param"] == "dimensions"
    legacy = api.post("/deployments/text-embedding-ada-002/embeddings", {"input": "x", "dimensions": 8}, expect=400)
    assert legacy["error"]["param"] == "dimensions"


# ---- audio ----

AUDIO = ("whisper.wav", b"RIFF....WAVEfmt fake audio bytes", "audio/wav")


@pytest.mark.parametrize("operation", ["transcriptions", "translations"])
@pytest.mark.parametrize("fmt", ["json", "text", "srt", "verbose_json", "vtt"])
def test_audio_response_formats(api: Api, operation: str, fmt: str) -> None:
    path = f"/deployments/whisper/audio/{operation}"
    response = api.send(path, files={"file": AUDIO}, data={"response_format": fmt})
    if fmt in ("json", "verbose_json"):
        body = response.json()
        assert "whisper.wav" in body["text"]
        if fmt == "verbose_json":
            assert body["task"] == ("transcribe" if operation == "transcriptions" else "translate")
            assert body["segments"][0]["text"] == body["text"] and body["duration"] > 0
    else:
        assert response.headers["content-type"].startswith("text/plain")
        text = response.text
        assert "whisper.wav" in text
        if fmt == "vtt":
            assert text.startswith("WEBVTT\n\n") and " --> " in text
        if fmt == "srt":
            assert text.startswith("1\n00:00:00,000 --> ")


def test_transcription_word_timestamps(api: Api) -> None:
    body = api.send("/deployments/whisper/audio/transcriptions", files={"file": AUDIO},
                    data={"response_format": "verbose_json", "timestamp_granularities[]": ["word", "segment"]}).json()
    assert [w["word"] for w in body["words"]] == body["text"].split()
    assert all(w["start"] <= w["end"] for w in body["words"])


def test_audio_without_file_is_400(api: Api) -> None:
    response = api.client.post("/openai/deployments/whisper/audio/transcriptions",
                               params={"api-version": api.version}, data={"response_format": "json"},
                               files={"other": ("x.txt", b"x")}, headers={"api-key": KEY})
    assert response.status_code == 400
    assert response.json()["error"]["message"]


def test_speech_returns_audio_bytes(api: Api) -> None:
    path = "/deployments/tts/audio/speech"
    wav = api.client.post("/openai" + path, params={"api-version": api.version},
                          json={"model": "tts", "input": "hello there", "voice": "alloy", "response_format": "wav"},
                          headers={"api-key": KEY})
    assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav"
    api.check(path, wav)
    assert wav.content[:4] == b"RIFF" and wav.content[8:12] == b"WAVE"
    assert struct.unpack("<I", wav.content[4:8])[0] == len(wav.content) - 8
    mp3 = api.client.post("/openai" + path, params={"api-version": api.version},
                          json={"model": "tts", "input": "hello there", "voice": "alloy"}, headers={"api-key": KEY})
    assert mp3.status_code == 200 and mp3.headers["content-type"] == "audio/mpeg" and mp3.content
    api.check(path, mp3)
    form = api.client.post("/openai" + path, params={"api-version": api.version},
                           files={"input": (None, "from a form"), "voice": (None, "alloy")}, headers={"api-key": KEY})
    assert form.status_code == 200, form.text
    api.check(path, form)
    empty = api.client.post("/openai" + path, params={"api-version": api.version}, json={"voice": "alloy"},
                            headers={"api-key": KEY})
    assert empty.status_code == 400 and empty.json()["error"]["message"]


# ---- images ----


def test_image_generation_url_and_b64(api: Api) -> None:
    path = "/deployments/dall-e-3/images/generations"
    by_url = api.post(path, {"prompt": "a corgi", "n": 1})
    assert by_url["data"][0]["url"] and by_url["data"][0]["revised_prompt"]
    assert_safe_annotations(by_url["data"][0]["content_filter_results"])
    inline = api.post(path, {"prompt": "a corgi", "response_format": "b64_json"})
    png = base64.b64decode(inline["data"][0]["b64_json"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert isinstance(inline["created"], int)


# ---- chat tools and JSON mode ----

WEATHER = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                       "required": ["city"]}},
}


def test_chat_calls_a_function_named_in_the_prompt(api: Api) -> None:
    body = api.post(CHAT, chat_body("use get_weather please", tools=[WEATHER]))
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    call = choice["message"]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather" and json.loads(call["function"]["arguments"]) == {"city": "emulated"}
    plain = api.post(CHAT, chat_body("no tools wanted", tools=[WEATHER]))
    assert plain["choices"][0]["finish_reason"] == "stop"
    forced = api.post(CHAT, chat_body("anything", tools=[WEATHER],
                                      tool_choice={"type": "function", "function": {"name": "get_weather"}}))
    assert forced["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
    never = api.post(CHAT, chat_body("use get_weather", tools=[WEATHER], tool_choice="none"))
    assert never["choices"][0]["finish_reason"] == "stop"


def test_chat_answers_tool_results_and_streams_calls(api: Api) -> None:
    first = api.post(CHAT, chat_body("use get_weather", tools=[WEATHER]))
    call = first["choices"][0]["message"]["tool_calls"][0]
    messages = [*chat_body("use get_weather")["messages"], first["choices"][0]["message"],
                {"role": "tool", "tool_call_id": call["id"], "content": "sunny and warm"}]
    answer = api.post(CHAT, {"messages": messages, "tools": [WEATHER]})
    assert answer["choices"][0]["finish_reason"] == "stop"
    assert "sunny and warm" in answer["choices"][0]["message"]["content"]
    streamed = api.send(CHAT, json_body=chat_body("use get_weather", tools=[WEATHER], stream=True))
    chunks = [json.loads(p) for p in sse_chunks(streamed.content)[:-1]]
    deltas = [d for c in chunks if c["choices"] for d in c["choices"][0]["delta"].get("tool_calls", [])]
    assert deltas[0]["id"] == call["id"] and deltas[0]["function"]["name"] == "get_weather"
    assert "".join(d["function"]["arguments"] for d in deltas) == call["function"]["arguments"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_chat_json_mode_answers_json(api: Api) -> None:
    body = api.post(CHAT, chat_body("reply in json", response_format={"type": "json_object"}))
    assert "reply in json" in json.loads(body["choices"][0]["message"]["content"])["answer"]


def test_integral_floats_count_as_integers(api: Api) -> None:
    # JSON Schema calls 8.0 an integer, so the contract lets it through; the emulator must too.
    body = api.post(EMBEDDINGS, {"input": "x", "dimensions": 8.0})
    assert len(body["data"][0]["embedding"]) == 8
    assert len(api.post(CHAT, chat_body("two please", n=2.0))["choices"]) == 2


def test_audio_form_fields_sent_as_file_parts_are_fields(api: Api) -> None:
    # Only `file` is an upload; a client that sends other fields with a filename still means a field.
    files = {"file": AUDIO, "response_format": ("rf.txt", b"text", "text/plain")}
    response = api.send("/deployments/whisper/audio/transcriptions", files=files)
    assert response.headers["content-type"].startswith("text/plain")


# ---- the invariants library agrees (the suite's own checks pass on the emulator) ----


def test_invariants_accept_chat_answers_streams_and_filter_errors(api: Api) -> None:
    from conformance.invariants.errors import check_chat_annotations, check_content_filter_error
    from conformance.invariants.sse import check_content_type, parse_sse
    from conformance.invariants.streams import check_chat_stream

    def errors(findings: list[Any]) -> list[str]:
        return [str(f) for f in findings if f.severity == "error"]

    assert errors(check_chat_annotations(api.post(CHAT, chat_body("annotate me")))) == []
    assert errors(check_chat_annotations(api.post(CHAT, chat_body(triggers.CONTENT_FILTER_COMPLETION)))) == []
    blocked = api.post(CHAT, chat_body(triggers.CHAT_CONTENT_FILTER_PROMPT), expect=400)
    assert errors(check_content_filter_error(400, blocked, strict=True)) == []
    streamed = api.send(CHAT, json_body=chat_body("stream for the checks", stream=True))
    assert errors(check_content_type(streamed.headers.get("content-type"))) == []
    events, framing = parse_sse(streamed.content)
    assert errors(framing) == []
    assert errors(check_chat_stream(events)) == []


def test_chat_logprobs_cover_the_answer(api: Api) -> None:
    body = api.post(CHAT, chat_body("score my words", logprobs=True, top_logprobs=2))
    choice = body["choices"][0]
    entries = choice["logprobs"]["content"]
    assert "".join(e["token"] for e in entries) == choice["message"]["content"]
    for entry in entries:
        assert len(entry["top_logprobs"]) == 2 and entry["top_logprobs"][0]["token"] == entry["token"]
        assert entry["logprob"] >= entry["top_logprobs"][1]["logprob"]
    assert api.post(CHAT, chat_body("score my words"))["choices"][0]["logprobs"] is None
    streamed = api.send(CHAT, json_body=chat_body("score my words", logprobs=True, top_logprobs=2, stream=True))
    chunks = [json.loads(p) for p in sse_chunks(streamed.content)[:-1]]
    tokens = [e["token"] for c in chunks if c["choices"] and c["choices"][0].get("logprobs")
              for e in c["choices"][0]["logprobs"]["content"]]
    assert "".join(tokens) == choice["message"]["content"]
