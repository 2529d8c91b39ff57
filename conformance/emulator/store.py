"""In-memory state: assistants, threads, messages, runs and run steps.

Records are slotted dataclasses (a stored message is a few hundred bytes, so 100,000 are fine)
and are rendered to JSON only when answered (`render.py`). Everything runs on uvicorn's single
event loop and no handler awaits between reading and writing state, so no locks are needed.
Lists are kept in creation order, i.e. by (created_at, seq), which is what pagination relies on.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

JSON = dict[str, Any]


@dataclass(slots=True)
class Assistant:
    id: str
    created_at: int
    seq: int
    model: str
    name: str | None = None
    description: str | None = None
    instructions: str | None = None
    tools: list[JSON] = field(default_factory=list)
    tool_resources: JSON | None = None
    metadata: dict[str, str] | None = None
    temperature: float | None = None
    top_p: float | None = None
    response_format: Any = None


@dataclass(slots=True)
class Message:
    id: str
    thread_id: str
    created_at: int
    seq: int
    role: str
    text: str
    assistant_id: str | None = None
    run_id: str | None = None
    attachments: list[JSON] | None = None
    metadata: dict[str, str] | None = None
    status: str = "completed"
    incomplete_reason: str | None = None
    completed_at: int | None = None
    incomplete_at: int | None = None


@dataclass(slots=True)
class Step:
    id: str
    run_id: str
    thread_id: str
    assistant_id: str
    created_at: int
    seq: int
    type: str  # message_creation | tool_calls
    status: str = "in_progress"
    message_id: str | None = None
    tool_calls: list[JSON] = field(default_factory=list)
    completed_at: int | None = None
    cancelled_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    last_error: JSON | None = None
    usage: JSON | None = None
    metadata: dict[str, str] | None = None


@dataclass(slots=True)
class Run:
    id: str
    thread_id: str
    assistant_id: str
    created_at: int
    seq: int
    model: str
    instructions: str
    tools: list[JSON]
    options: JSON  # the create-run fields echoed back (temperature, tool_choice, ...)
    status: str = "queued"
    started_at: int | None = None
    completed_at: int | None = None
    cancelled_at: int | None = None
    failed_at: int | None = None
    expires_at: int | None = None
    last_error: JSON | None = None
    incomplete_details: JSON | None = None
    required_action: JSON | None = None
    usage: JSON | None = None
    metadata: dict[str, str] | None = None
    steps: list[Step] = field(default_factory=list)
    # engine bookkeeping, never rendered
    phase_since: float = 0.0  # clock time the current status began
    outcome: Any = None  # the scripted model's decision (model.Outcome)
    tool_outputs: list[tuple[str, str]] = field(default_factory=list)  # (function name, output)
    reads: int = 0  # Get_Run reads (run_backwards fault)
    terminal_reads: int = 0  # Get_Run reads after it ended (run_terminal_reverts fault)


@dataclass(slots=True)
class Thread:
    id: str
    created_at: int
    seq: int
    metadata: dict[str, str] | None = None
    tool_resources: JSON | None = None
    messages: list[Message] = field(default_factory=list)
    message_index: dict[str, Message] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    active_run: Run | None = None


class Store:
    """All emulator state for one app instance."""

    def __init__(self, seed: int = 0, clock: Callable[[], float] = time.time) -> None:
        self._seed = seed
        self._clock = clock
        self._seq = 0
        self._last = 0.0
        self.assistants: dict[str, Assistant] = {}
        self.threads: dict[str, Thread] = {}
        self.runs: dict[str, Run] = {}
        # Other route modules (vector stores, files) keep their state here under their own key.
        self.extras: dict[str, Any] = {}

    def now(self) -> float:
        """The clock, never going backwards (keeps creation order == (created_at, seq) order)."""
        self._last = max(self._last, self._clock())
        return self._last

    def timestamp(self) -> int:
        return int(self.now())

    def new_id(self, prefix: str) -> tuple[str, int]:
        """`asst_` + 24 alphanumerics, deterministic from (seed, counter); also returns the counter."""
        self._seq += 1
        digest = hashlib.blake2b(f"{self._seed}:{self._seq}".encode(), digest_size=18).digest()
        number = int.from_bytes(digest, "big")
        chars = []
        for _ in range(24):
            number, rest = divmod(number, 62)
            chars.append(_ALNUM[rest])
        return f"{prefix}_{''.join(chars)}", self._seq
