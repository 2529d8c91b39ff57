"""Emulator settings: one frozen value built once (CLI, tests) and read by every layer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from conformance.emulator.chaos import Chaos

# deployment name -> kind. The kind tells a route which deployments it serves
# (a chat deployment cannot answer embeddings), as a real resource does.
DEFAULT_DEPLOYMENTS: Mapping[str, str] = MappingProxyType(
    {
        "gpt-4o": "chat",
        "gpt-4o-mini": "chat",
        "gpt-35-turbo": "chat",
        "gpt-35-turbo-instruct": "completions",
        "text-embedding-3-small": "embeddings",
        "text-embedding-ada-002": "embeddings",
        "whisper": "transcription",
        "tts": "speech",
        "dall-e-3": "images",
    }
)

# Seconds per run-lifecycle phase for the CLI's --run-speed names.
RUN_SPEEDS: Mapping[str, float] = MappingProxyType({"fast": 0.05, "normal": 0.5, "slow": 1.0})

DEFAULT_API_KEY = "emulator-key"


@dataclass(frozen=True)
class EmulatorSettings:
    api_keys: tuple[str, ...] = (DEFAULT_API_KEY,)
    # Empty: any non-empty bearer token is accepted (Entra tokens cannot be checked offline).
    bearer_tokens: tuple[str, ...] = ()
    faults: frozenset[str] = frozenset()
    # Per-request faults from the `x-emulator-faults: a,b` header; off so a shared emulator stays honest.
    fault_header: bool = False
    run_pace: float = RUN_SPEEDS["fast"]
    region: str = "emulator"
    max_body_bytes: int = 25 * 1024 * 1024
    deployments: Mapping[str, str] = field(default_factory=lambda: DEFAULT_DEPLOYMENTS)
    # Seed of the id generator: same seed + same calls -> same ids.
    seed: int = 0
    # Runs expire this many seconds after creation while active (service: 600).
    run_expiry_seconds: int = 600
    # A busy, flaky resource on purpose (429/503 rates, latency, drops, expiring tokens); off by default.
    chaos: Chaos = field(default_factory=Chaos)

    def __post_init__(self) -> None:
        # A typo in a fault name or a negative pace would otherwise fail silently later.
        from conformance.emulator.faults import check_faults

        check_faults(self.faults)
        if self.run_pace < 0:
            raise ValueError(f"run_pace must be >= 0 seconds, got {self.run_pace}")
        if self.max_body_bytes <= 0:
            raise ValueError(f"max_body_bytes must be positive, got {self.max_body_bytes}")
