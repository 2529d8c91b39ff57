"""Chat tool calls of the scripted model: which functions a chat request calls, and their arguments.

The rule is the Assistants model's (README "The scripted model"), so a user learns it once:
`tool_choice` naming a function calls it; `"required"` calls the functions named in the last user
message (else the first); `"auto"` / unset calls the functions whose name appears in the last user
message; `"none"` never. `parallel_tool_calls: false` keeps the first call. A conversation whose
last message is a tool result is answered with text ("Tool results: ...").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from conformance.emulator.inference_model import message_text

# Placeholder argument values per JSON type, so the arguments satisfy simple parameter schemas.
_PLACEHOLDERS: dict[str, Any] = {"string": "emulated", "integer": 1, "number": 1.0, "boolean": True}


def _functions(tools: Any) -> list[dict[str, Any]]:
    if not isinstance(tools, list):
        return []
    found = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            found.append(function)
    return found


def tool_results_reply(messages: Sequence[Any]) -> str | None:
    """The reply after tool outputs (the last message has role `tool`), else None."""
    if not messages or not isinstance(messages[-1], dict) or messages[-1].get("role") != "tool":
        return None
    outputs = []
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "tool":
            break
        outputs.append(message_text(message.get("content")))
    return "Tool results: " + "; ".join(reversed(outputs))


def arguments_for(function: dict[str, Any]) -> str:
    """JSON arguments: a placeholder for each required parameter of a simple type."""
    parameters = function.get("parameters")
    values: dict[str, Any] = {}
    if isinstance(parameters, dict) and isinstance(parameters.get("properties"), dict):
        required = parameters.get("required")
        for name in required if isinstance(required, list) else []:
            schema = parameters["properties"].get(name)
            kind = schema.get("type") if isinstance(schema, dict) else None
            values[str(name)] = _PLACEHOLDERS.get(kind) if isinstance(kind, str) else None
    return json.dumps(values)


def tool_calls_for(body: dict[str, Any], last_user: str, seed: str) -> list[dict[str, Any]]:
    """The tool calls a chat request makes (empty: it answers with text)."""
    functions = _functions(body.get("tools"))
    messages = body.get("messages")
    choice = body.get("tool_choice")
    if not functions or choice == "none" or tool_results_reply(messages if isinstance(messages, list) else []):
        return []
    by_name = {f["name"]: f for f in functions}
    if isinstance(choice, dict):
        function = choice.get("function")
        wanted = function.get("name") if isinstance(function, dict) else None
        called = [wanted] if isinstance(wanted, str) and wanted in by_name else []
    else:
        called = [name for name in by_name if name in last_user]
        if choice == "required":
            called = called or list(by_name)[:1]
    if body.get("parallel_tool_calls") is False:
        called = called[:1]
    calls = []
    for index, name in enumerate(called):
        digest = hashlib.sha256(f"{seed}:{index}:{name}".encode()).hexdigest()[:24]
        calls.append(
            {"id": f"call_{digest}", "type": "function",
             "function": {"name": name, "arguments": arguments_for(by_name[name])}}
        )
    return calls
