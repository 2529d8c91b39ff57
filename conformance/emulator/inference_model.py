"""The scripted model behind the inference operations: every answer is a pure function of the request.

Why deterministic: the suite compares a streamed answer with the non-streamed one, checks usage
arithmetic and replays cassettes; none of that works with randomness. Tokens are counted as
whitespace-separated words (at least one per message), a rule users can reproduce by hand.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

# How many words of the prompt the reply quotes back.
_QUOTED_WORDS = 12


def count_tokens(text: str) -> int:
    """Word count, at least 1: the emulator's stand-in for a tokenizer."""
    return max(1, len(text.split()))


def message_text(content: Any) -> str:
    """The text of a chat message `content`: a string, or the text parts of a content-part array."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return " ".join(parts)
    return ""


def chat_prompt_texts(messages: Sequence[Any]) -> list[str]:
    """Every message's text, in order (non-dict entries count as empty)."""
    return [message_text(m.get("content")) if isinstance(m, dict) else "" for m in messages]


def last_user_text(messages: Sequence[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return message_text(message.get("content"))
    return ""


def reply_for(prompt: str) -> str:
    """The scripted answer: quotes the first words of the prompt so answers differ per prompt."""
    words = prompt.split()[:_QUOTED_WORDS]
    quoted = " ".join(words) if words else "nothing"
    return f"This is the emulator answering: {quoted}"


def truncate_words(text: str, max_tokens: int | None) -> tuple[str, bool]:
    """Cut `text` to `max_tokens` words; returns (text, was_cut) so callers can answer `length`."""
    if max_tokens is None:
        return text, False
    words = text.split(" ")
    if len(words) <= max_tokens:
        return text, False
    return " ".join(words[: max(0, max_tokens)]), True


def text_pieces(text: str) -> list[str]:
    """Split `text` into stream deltas (a word with its leading space) that concatenate back to it."""
    pieces: list[str] = []
    for index, word in enumerate(text.split(" ")):
        pieces.append(word if index == 0 else " " + word)
    return [p for p in pieces if p] or [text]


def embedding_vector(text: str, dimensions: int) -> list[float]:
    """A unit-length vector derived from the text's SHA-256 stream: same text, same vector."""
    values: list[float] = []
    counter = 0
    while len(values) < dimensions:
        block = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        for offset in range(0, len(block), 4):
            (raw,) = struct.unpack_from("<I", block, offset)
            values.append(raw / 0xFFFFFFFF * 2.0 - 1.0)
        counter += 1
    values = values[:dimensions]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 8) for v in values]


def embedding_base64(vector: Iterable[float]) -> str:
    """The `encoding_format: base64` form: little-endian float32 values, base64-encoded."""
    floats = list(vector)
    return base64.b64encode(struct.pack(f"<{len(floats)}f", *floats)).decode("ascii")


def transcript_for(filename: str, data: bytes, *, translate: bool) -> str:
    """A transcript that depends on the upload, so two different files give two different texts."""
    digest = hashlib.sha256(data).hexdigest()[:8]
    verb = "translation" if translate else "transcription"
    return f"Emulated {verb} of {filename or 'audio'} ({len(data)} bytes, digest {digest})."


def audio_duration(data: bytes) -> float:
    """A stand-in duration: one second per 16 kB, at least one second."""
    return max(1.0, round(len(data) / 16000, 2))


def wav_bytes(text: str, sample_rate: int = 8000) -> bytes:
    """A valid mono 8-bit PCM WAV of silence whose length follows the text (0.05 s per character)."""
    samples = max(1, min(len(text), 4096)) * sample_rate // 20
    data = bytes([128]) * samples
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate, 1, 8)
    return header + fmt + b"data" + struct.pack("<I", len(data)) + data


def png_bytes(prompt: str) -> bytes:
    """A valid 1x1 PNG whose colour is derived from the prompt."""
    red, green, blue = hashlib.sha256(prompt.encode()).digest()[:3]

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes([0, red, green, blue]))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def token_logprobs(text: str, top: int) -> list[dict[str, Any]]:
    """Chat `logprobs.content` for `text`: one entry per stream piece, with `top` alternatives.

    The values are made up but stable: the chosen token is always the most likely one.
    """
    entries: list[dict[str, Any]] = []
    for piece in text_pieces(text) if text else []:
        chosen = -round((len(piece) % 7) / 10 + 0.01, 4)
        alternatives = [{"token": piece, "logprob": chosen, "bytes": list(piece.encode())}]
        for rank in range(1, top):
            other = f"{piece}#{rank}"
            alternatives.append({"token": other, "logprob": round(chosen - rank, 4), "bytes": list(other.encode())})
        entries.append({"token": piece, "logprob": chosen, "bytes": list(piece.encode()),
                        "top_logprobs": alternatives[:top]})
    return entries
