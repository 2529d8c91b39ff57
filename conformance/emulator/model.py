"""The scripted Assistants model: a run's outcome is a pure function of what the run sees.

Rules (also in README.md):
- tokens are whitespace-separated words; prompt = instructions + the messages the truncation
  strategy keeps (+ tool outputs when resuming); completion = the reply's words.
- reply: "You said: <the last user message>" (up to 4096 words) (or a greeting when there is none);
  after tool outputs: "Tool results: <name>: <output>; ...".
- function calls (never when resuming, never with tool_choice "none"): tool_choice naming a function
  calls it; "required" calls every function named in the last user message, else the first one;
  "auto"/unset calls the functions whose name appears in the last user message. With
  parallel_tool_calls false only the first is called.
- trigger phrases (triggers.py) in the last user message: failed / content filter / expired.
- max_prompt_tokens below the prompt -> incomplete (max_prompt_tokens); max_completion_tokens below
  the reply -> the reply is cut to that many words and the run ends incomplete (max_completion_tokens).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from conformance.emulator import triggers

Kind = Literal["reply", "tool_calls", "incomplete", "failed", "expired"]

QUOTED_WORDS = 4096  # long enough to exceed max_*_tokens (minimum 256) on purpose
GREETING = "Hello! How can I help you today?"
RATE_LIMIT_ERROR = {"code": "rate_limit_exceeded", "message": "Rate limit is exceeded. Try again in 60 seconds."}
CONTENT_FILTER_ERROR = {
    "code": "content_filter",
    "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
}


def words(text: str) -> int:
    return len(text.split())


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    text: str = ""
    tool_calls: tuple[dict[str, Any], ...] = ()
    reason: str | None = None  # incomplete_details.reason
    error: dict[str, str] | None = None  # last_error
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tool_tokens: int = 0  # completion tokens of the tool-calls step (its arguments)


@dataclass(frozen=True)
class RunInput:
    instructions: str
    conversation: Sequence[tuple[str, str]]  # (role, text) in thread order
    tools: Sequence[dict[str, Any]]
    tool_choice: Any = None
    parallel_tool_calls: bool = True
    max_prompt_tokens: int | None = None
    max_completion_tokens: int | None = None
    truncation_last_messages: int | None = None
    tool_outputs: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (function name, output)


def _last_user_text(conversation: Sequence[tuple[str, str]]) -> str:
    for role, text in reversed(conversation):
        if role == "user":
            return text
    return ""


def _functions(tools: Sequence[dict[str, Any]]) -> list[str]:
    names = []
    for tool in tools:
        function = tool.get("function") if tool.get("type") == "function" else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            names.append(function["name"])
    return names


def _called(run: RunInput, last: str) -> list[str]:
    names = _functions(run.tools)
    choice = run.tool_choice
    if not names or choice == "none" or run.tool_outputs:
        return []
    if isinstance(choice, dict):
        function = choice.get("function")
        wanted = function.get("name") if isinstance(function, dict) else None
        return [wanted] if wanted in names else []
    mentioned = [name for name in names if name in last]
    if choice == "required":
        mentioned = mentioned or names[:1]
    return mentioned if run.parallel_tool_calls else mentioned[:1]


def decide(run: RunInput, new_call_id: Callable[[], str]) -> Outcome:
    """What the run does; `new_call_id` mints tool-call ids (from the store, so they are deterministic)."""
    conversation = list(run.conversation)
    if run.truncation_last_messages is not None:
        conversation = conversation[-run.truncation_last_messages:] if run.truncation_last_messages > 0 else []
    last = _last_user_text(run.conversation)
    prompt = words(run.instructions) + sum(words(text) for _, text in conversation)
    prompt += sum(words(output) for _, output in run.tool_outputs)
    if run.max_prompt_tokens is not None and prompt > run.max_prompt_tokens:
        return Outcome("incomplete", reason="max_prompt_tokens", prompt_tokens=prompt)
    if triggers.RUN_FAILED in last:
        return Outcome("failed", error=dict(RATE_LIMIT_ERROR), prompt_tokens=prompt)
    if triggers.RUN_EXPIRED in last:
        return Outcome("expired", prompt_tokens=prompt)
    for phrase, form in triggers.ASSISTANT_CONTENT_FILTER.items():
        if phrase in last:
            if form == "failed":
                return Outcome("failed", error=dict(CONTENT_FILTER_ERROR), prompt_tokens=prompt)
            text = "I can't"
            return Outcome("incomplete", text=text, reason="content_filter", prompt_tokens=prompt,
                           completion_tokens=words(text))
    called = _called(run, last)
    if called:
        arguments = json.dumps({"input": " ".join(last.split()[:16])})
        calls = tuple(
            {"id": new_call_id(), "type": "function", "function": {"name": name, "arguments": arguments}}
            for name in called
        )
        return Outcome("tool_calls", tool_calls=calls, prompt_tokens=prompt,
                       tool_tokens=max(1, words(arguments)) * len(calls))
    if run.tool_outputs:
        text = "Tool results: " + "; ".join(f"{name}: {output}" for name, output in run.tool_outputs)
    elif last.strip():
        text = "You said: " + " ".join(last.split()[:QUOTED_WORDS])
    else:
        text = GREETING
    if run.max_completion_tokens is not None and words(text) > run.max_completion_tokens:
        cut = " ".join(text.split()[: run.max_completion_tokens])
        return Outcome("incomplete", text=cut, reason="max_completion_tokens", prompt_tokens=prompt,
                       completion_tokens=words(cut))
    return Outcome("reply", text=text, prompt_tokens=prompt, completion_tokens=words(text))


def chunks(text: str) -> list[str]:
    """The stream deltas of a reply: one per word, whitespace kept, so they concatenate exactly."""
    parts: list[str] = []
    for piece in text.split(" "):
        parts.append(piece if not parts else " " + piece)
    return [p for p in parts if p] or ([text] if text else [])
