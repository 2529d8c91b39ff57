"""Trigger phrases: put one in user content to make the emulator misbehave on purpose.

The suite imports these constants instead of repeating strings. A phrase works anywhere in the
text of a message (thread messages, additional_messages, chat messages, prompts, input).
"""

from __future__ import annotations

from typing import Literal

# Any POST whose body contains it answers 429 with retry-after / retry-after-ms.
RATE_LIMIT = "[[emulator:rate_limit]]"
# Any POST whose body contains it answers a 500 envelope.
SERVER_ERROR = "[[emulator:server_error]]"

# Assistants: the run ends per ASSISTANT_CONTENT_FILTER (both forms clients must handle, per facts).
CONTENT_FILTER = "[[emulator:content_filter]]"
CONTENT_FILTER_FAILED = "[[emulator:content_filter_failed]]"
ASSISTANT_CONTENT_FILTER: dict[str, Literal["incomplete", "failed"]] = {
    CONTENT_FILTER: "incomplete",  # incomplete_details.reason = content_filter
    CONTENT_FILTER_FAILED: "failed",  # last_error.code = content_filter
}

# Assistants: the run fails with last_error rate_limit_exceeded (as seen live).
RUN_FAILED = "[[emulator:run_failed]]"
# Assistants: the run expires instead of completing.
RUN_EXPIRED = "[[emulator:run_expired]]"

# Chat / completions (emulator-inference routes): the prompt is blocked with the 400
# content-filter envelope; CONTENT_FILTER_COMPLETION makes the answer itself filtered
# (200, finish_reason content_filter).
CHAT_CONTENT_FILTER_PROMPT = CONTENT_FILTER
CONTENT_FILTER_COMPLETION = "[[emulator:content_filter_completion]]"

# Vector stores (emulator-inference routes): a file id containing this text ends `failed` with
# `last_error` (the contract has no files API, so any id is accepted and the id is the trigger).
VECTOR_STORE_FILE_FAILS = "fail"

RATE_LIMIT_RETRY_SECONDS = 1

ALL: tuple[str, ...] = (
    RATE_LIMIT,
    SERVER_ERROR,
    CONTENT_FILTER,
    CONTENT_FILTER_FAILED,
    RUN_FAILED,
    RUN_EXPIRED,
    CONTENT_FILTER_COMPLETION,
)
