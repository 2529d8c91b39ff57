"""Inference basics: chat, completions, embeddings, audio and images answer contract-valid.

One small request per operation (each spends tokens or compute on a live resource). Chat answers
must also carry Azure's content-filter annotations.
"""

from __future__ import annotations

import io
import wave
from typing import Any

import httpx
import pytest

from conformance.client import ConformanceClient
from conformance.config import DEPLOYMENT_ENV, TargetSettings
from conformance.findings import require
from conformance.invariants.errors import check_chat_annotations
from conformance.spec import Contract
from conformance.suite.support import expect

pytestmark = [pytest.mark.inference, pytest.mark.expensive]


def _call(client: ConformanceClient, settings: TargetSettings, kind: str, path: str, **kwargs: Any) -> httpx.Response:
    """POST to the `kind` deployment (chat, embeddings, ...); a real resource without it skips with
    the setting to fix rather than failing."""
    deployment = getattr(settings.deployments, kind)
    response = client.post(f"/deployments/{deployment}/{path}", **kwargs)
    if settings.kind != "emulator" and response.status_code == 404 and "DeploymentNotFound" in response.text:
        pytest.skip(f"the target has no {kind} deployment {deployment!r}: set {DEPLOYMENT_ENV[kind]} to one it has")
    return response


def _silence_wav(seconds: float = 0.5, rate: int = 16000) -> bytes:
    """A short mono 16-bit silent WAV: the smallest audio every transcription model accepts."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x00\x00" * int(seconds * rate))
    return out.getvalue()


def _audio() -> dict[str, Any]:
    return {"files": {"file": ("silence.wav", _silence_wav(), "audio/wav")}, "data": {"response_format": "json"}}


@pytest.mark.smoke
@pytest.mark.operation("ChatCompletions_Create")
def test_chat_completion_answers_contract_valid_with_annotations(client: ConformanceClient, contract: Contract,
                                                                  aoai_settings: TargetSettings) -> None:
    body = {"messages": [{"role": "user", "content": "Say hello in one word."}], "max_tokens": 16}
    response = _call(client, aoai_settings, "chat", "chat/completions", json=body)
    answer = expect(contract, "ChatCompletions_Create", response)
    require(check_chat_annotations(answer), "chat completion content-filter annotations")


@pytest.mark.operation("Completions_Create")
def test_completion_answers_contract_valid(client: ConformanceClient, contract: Contract,
                                           aoai_settings: TargetSettings) -> None:
    body = {"prompt": "Say hello in one word.", "max_tokens": 8}
    expect(contract, "Completions_Create", _call(client, aoai_settings, "completions", "completions", json=body))


@pytest.mark.operation("embeddings_create")
def test_embeddings_answer_contract_valid(client: ConformanceClient, contract: Contract,
                                          aoai_settings: TargetSettings) -> None:
    response = _call(client, aoai_settings, "embeddings", "embeddings", json={"input": ["hello", "world"]})
    answer = expect(contract, "embeddings_create", response)
    assert len(answer["data"]) == 2, f"two inputs answered {len(answer['data'])} embeddings"


@pytest.mark.operation("Transcriptions_Create")
def test_transcription_answers_contract_valid(client: ConformanceClient, contract: Contract,
                                              aoai_settings: TargetSettings) -> None:
    response = _call(client, aoai_settings, "transcription", "audio/transcriptions", **_audio())
    expect(contract, "Transcriptions_Create", response)


@pytest.mark.operation("Translations_Create")
def test_translation_answers_contract_valid(client: ConformanceClient, contract: Contract,
                                            aoai_settings: TargetSettings) -> None:
    response = _call(client, aoai_settings, "transcription", "audio/translations", **_audio())
    expect(contract, "Translations_Create", response)


@pytest.mark.operation("Speech_Create")
def test_speech_answers_audio(client: ConformanceClient, contract: Contract, aoai_settings: TargetSettings) -> None:
    body = {"model": aoai_settings.deployments.speech, "input": "Hello.", "voice": "alloy"}
    response = _call(client, aoai_settings, "speech", "audio/speech", json=body)
    expect(contract, "Speech_Create", response)
    assert response.content, "speech answered an empty body"


@pytest.mark.operation("ImageGenerations_Create")
def test_image_generation_answers_contract_valid(client: ConformanceClient, contract: Contract,
                                                 aoai_settings: TargetSettings) -> None:
    body = {"prompt": "A plain red circle on a white background.", "n": 1, "size": "1024x1024"}
    answer = expect(contract, "ImageGenerations_Create",
                    _call(client, aoai_settings, "images", "images/generations", json=body))
    assert len(answer["data"]) == 1, f"n=1 answered {len(answer['data'])} images"
