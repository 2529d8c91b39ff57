"""Assistants surface: assistants, threads, messages, runs, run steps.

Each handler parses with `requestdata`, changes state through the store / engine and answers
with `render`; errors are raised as `ApiError`. Routes are registered in `ROUTES` at the bottom.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from conformance.emulator import render
from conformance.emulator import requestdata as rd
from conformance.emulator.context import EmuRequest, ok
from conformance.emulator.engine import TERMINAL
from conformance.emulator.errors import bad_request, not_found
from conformance.emulator.pagination import paginate
from conformance.emulator.routing import EmuRoute
from conformance.emulator.store import Assistant, Message, Run, Step, Thread
from conformance.emulator.streaming import EventCollector, sse_response

# ---- lookups --------------------------------------------------------------------------------


def _assistant(ctx: EmuRequest, assistant_id: str) -> Assistant:
    found = ctx.store.assistants.get(assistant_id)
    if found is None:
        raise not_found("assistant", assistant_id, ctx.faults)
    return found


def _thread(ctx: EmuRequest) -> Thread:
    thread_id = ctx.params["thread_id"]
    found = ctx.store.threads.get(thread_id)
    if found is None:
        raise not_found("thread", thread_id, ctx.faults)
    return found


def _message(ctx: EmuRequest, thread: Thread) -> Message:
    message_id = ctx.params["message_id"]
    found = thread.message_index.get(message_id)
    if found is None:
        raise not_found("message", message_id, ctx.faults)
    return found


def _run(ctx: EmuRequest, thread: Thread) -> Run:
    run_id = ctx.params["run_id"]
    found = ctx.store.runs.get(run_id)
    if found is None or found.thread_id != thread.id:
        raise not_found("run", run_id, ctx.faults)
    return ctx.state.engine.refresh(found)


def _step(ctx: EmuRequest, run: Run) -> Step:
    step_id = ctx.params["step_id"]
    for step in run.steps:
        if step.id == step_id:
            return step
    raise not_found("run step", step_id, ctx.faults)


def _id(item: Any) -> str:
    return str(item.id)


def _deleted(object_id: str, kind: str) -> Response:
    return ok({"id": object_id, "object": f"{kind}.deleted", "deleted": True})


def _modifiable(ctx: EmuRequest) -> bool:
    return "modify_ignored" not in ctx.faults


def _modify_metadata(ctx: EmuRequest, record: Message | Run) -> None:
    """Modify message / modify run: metadata is all that changes (`modify_ignored` keeps it)."""
    body = ctx.json_body()
    if _modifiable(ctx) and "metadata" in body:
        record.metadata = rd.metadata(body)


# ---- assistants -----------------------------------------------------------------------------


def _apply_assistant_fields(record: Assistant, body: dict[str, Any]) -> None:
    for key in ("name", "description", "instructions"):
        if key in body:
            setattr(record, key, rd.text(body, key))
    if (model := rd.text(body, "model")) is not None:
        record.model = model
    if (tools := rd.objects(body, "tools")) is not None:
        record.tools = tools
    if "tool_resources" in body:
        record.tool_resources = rd.mapping(body, "tool_resources")
    if "metadata" in body:
        record.metadata = rd.metadata(body)
    for key in ("temperature", "top_p"):
        if key in body:
            setattr(record, key, rd.number(body, key))
    if "response_format" in body:
        record.response_format = body["response_format"]


async def create_assistant(ctx: EmuRequest) -> Response:
    body = ctx.json_body()
    model = rd.text(body, "model")
    if not model and "bad_request_accepted" not in ctx.faults:
        raise bad_request("Missing required parameter: 'model'.", param="model")
    assistant_id, seq = ctx.store.new_id("asst")
    record = Assistant(id=assistant_id, created_at=ctx.store.timestamp(), seq=seq, model=model or "")
    _apply_assistant_fields(record, body)
    ctx.store.assistants[assistant_id] = record
    return ok(render.assistant(record, ctx.faults))


async def list_assistants(ctx: EmuRequest) -> Response:
    items = list(ctx.store.assistants.values())
    return ok(paginate(items, ctx.query, id_of=_id, render=lambda a: render.assistant(a, ctx.faults),
                       faults=ctx.faults))


async def get_assistant(ctx: EmuRequest) -> Response:
    return ok(render.assistant(_assistant(ctx, ctx.params["assistant_id"]), ctx.faults))


async def modify_assistant(ctx: EmuRequest) -> Response:
    record = _assistant(ctx, ctx.params["assistant_id"])
    if _modifiable(ctx):
        _apply_assistant_fields(record, ctx.json_body())
    return ok(render.assistant(record, ctx.faults))


async def delete_assistant(ctx: EmuRequest) -> Response:
    record = _assistant(ctx, ctx.params["assistant_id"])
    if "delete_not_deleted" not in ctx.faults:
        del ctx.store.assistants[record.id]
    return _deleted(record.id, "assistant")


# ---- threads and messages -------------------------------------------------------------------


def _add_message(ctx: EmuRequest, thread: Thread, body: dict[str, Any]) -> Message:
    role = rd.text(body, "role") or "user"
    message_id, seq = ctx.store.new_id("msg")
    ts = ctx.store.timestamp()
    record = Message(id=message_id, thread_id=thread.id, created_at=ts, seq=seq, role=role,
                     text=rd.content_text(body.get("content")), attachments=rd.objects(body, "attachments"),
                     metadata=rd.metadata(body), completed_at=None)
    thread.messages.append(record)
    thread.message_index[message_id] = record
    return record


def _check_messages(ctx: EmuRequest, messages: list[dict[str, Any]], where: str) -> None:
    if "bad_request_accepted" in ctx.faults:
        return
    for index, message in enumerate(messages):
        if message.get("role") not in ("user", "assistant"):
            raise bad_request(f"Invalid value for '{where}[{index}].role': expected 'user' or 'assistant'.",
                              param="role")
        if "content" not in message:
            raise bad_request(f"Missing required parameter: '{where}[{index}].content'.", param="content")


def _new_thread(ctx: EmuRequest, body: dict[str, Any]) -> Thread:
    messages = rd.objects(body, "messages") or []
    _check_messages(ctx, messages, "messages")
    thread_id, seq = ctx.store.new_id("thread")
    thread = Thread(id=thread_id, created_at=ctx.store.timestamp(), seq=seq, metadata=rd.metadata(body),
                    tool_resources=rd.mapping(body, "tool_resources"))
    ctx.store.threads[thread_id] = thread
    for message in messages:
        _add_message(ctx, thread, message)
    return thread


async def create_thread(ctx: EmuRequest) -> Response:
    return ok(render.thread(_new_thread(ctx, ctx.json_body()), ctx.faults))


async def get_thread(ctx: EmuRequest) -> Response:
    return ok(render.thread(_thread(ctx), ctx.faults))


async def modify_thread(ctx: EmuRequest) -> Response:
    thread = _thread(ctx)
    body = ctx.json_body()
    if _modifiable(ctx):
        if "metadata" in body:
            thread.metadata = rd.metadata(body)
        if "tool_resources" in body:
            thread.tool_resources = rd.mapping(body, "tool_resources")
    return ok(render.thread(thread, ctx.faults))


async def delete_thread(ctx: EmuRequest) -> Response:
    thread = _thread(ctx)
    if "delete_not_deleted" not in ctx.faults:
        del ctx.store.threads[thread.id]
    return _deleted(thread.id, "thread")


def _no_active_run(ctx: EmuRequest, thread: Thread, conflict: str) -> None:
    active = ctx.state.engine.active_run(thread.id)
    if active is not None:
        raise bad_request(conflict.format(thread=thread.id, run=active.id))


async def create_message(ctx: EmuRequest) -> Response:
    thread = _thread(ctx)
    body = ctx.json_body()
    _check_messages(ctx, [body], "body")
    _no_active_run(ctx, thread, "Can't add messages to {thread} while a run {run} is active.")
    return ok(render.message(_add_message(ctx, thread, body), ctx.faults))


async def list_messages(ctx: EmuRequest) -> Response:
    thread = _thread(ctx)
    if thread.active_run is not None:
        ctx.state.engine.refresh(thread.active_run)
    items: list[Message] = thread.messages
    run_id = ctx.query.get("run_id")
    if run_id:
        items = [m for m in items if m.run_id == run_id]
    return ok(paginate(items, ctx.query, id_of=_id, render=lambda m: render.message(m, ctx.faults),
                       faults=ctx.faults))


async def get_message(ctx: EmuRequest) -> Response:
    return ok(render.message(_message(ctx, _thread(ctx)), ctx.faults))


async def modify_message(ctx: EmuRequest) -> Response:
    record = _message(ctx, _thread(ctx))
    _modify_metadata(ctx, record)
    return ok(render.message(record, ctx.faults))


# ---- runs -----------------------------------------------------------------------------------

def _first_set(*values: float | None) -> float | None:
    """The first value that is not None (0.0 counts: `or` would skip it)."""
    return next((v for v in values if v is not None), None)


def _new_run(ctx: EmuRequest, thread: Thread, body: dict[str, Any]) -> Run:
    assistant_id = rd.text(body, "assistant_id")
    if not assistant_id:
        if "bad_request_accepted" not in ctx.faults:
            raise bad_request("Missing required parameter: 'assistant_id'.", param="assistant_id")
        assistant = Assistant(id="asst_unknown", created_at=0, seq=0, model="")
    else:
        assistant = _assistant(ctx, assistant_id)
    instructions = rd.text(body, "instructions")
    if instructions is None:
        instructions = assistant.instructions or ""
    if extra := rd.text(body, "additional_instructions"):
        instructions = f"{instructions} {extra}".strip()
    tools = rd.objects(body, "tools")
    temperature, top_p = rd.number(body, "temperature"), rd.number(body, "top_p")
    truncation = rd.mapping(body, "truncation_strategy") or {"type": "auto", "last_messages": None}
    options: dict[str, Any] = {
        "temperature": _first_set(temperature, assistant.temperature, 1.0),
        "top_p": _first_set(top_p, assistant.top_p, 1.0),
        "max_prompt_tokens": body.get("max_prompt_tokens"),
        "max_completion_tokens": body.get("max_completion_tokens"),
        "truncation_strategy": {"last_messages": None, **truncation},
        "tool_choice": body.get("tool_choice") if body.get("tool_choice") is not None else "auto",
        "response_format": body.get("response_format") or assistant.response_format or "auto",
        "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
    }
    run_id, seq = ctx.store.new_id("run")
    run = Run(id=run_id, thread_id=thread.id, assistant_id=assistant.id, created_at=ctx.store.timestamp(),
              seq=seq, model=rd.text(body, "model") or assistant.model, instructions=instructions,
              tools=tools if tools is not None else list(assistant.tools), options=options,
              metadata=rd.metadata(body))
    thread.runs.append(run)
    ctx.store.runs[run_id] = run
    ctx.state.engine.start(run)
    return run


def _stream(ctx: EmuRequest, run: Run, collector: EventCollector) -> Response:
    """Drive the run to its next resting state (terminal or requires_action), streaming each change."""
    engine = ctx.state.engine
    while run.status not in TERMINAL and run.status != "requires_action":
        engine.advance(run, collector)
    return sse_response(collector)


async def create_run(ctx: EmuRequest) -> Response:
    thread = _thread(ctx)
    body = ctx.json_body()
    extra = rd.objects(body, "additional_messages") or []
    _check_messages(ctx, extra, "additional_messages")
    _no_active_run(ctx, thread, "Thread {thread} already has an active run {run}.")
    if body.get("assistant_id") is not None:
        _assistant(ctx, str(body.get("assistant_id")))  # 404 before anything is added
    for message in extra:
        _add_message(ctx, thread, message)
    run = _new_run(ctx, thread, body)
    if body.get("stream") is True:
        collector = EventCollector(ctx.faults)
        collector("thread.run.created", run)
        collector("thread.run.queued", run)
        return _stream(ctx, run, collector)
    return ok(render.run(run, ctx.faults))


async def create_thread_and_run(ctx: EmuRequest) -> Response:
    body = ctx.json_body()
    if rd.text(body, "assistant_id"):
        _assistant(ctx, str(body["assistant_id"]))
    elif "bad_request_accepted" not in ctx.faults:
        raise bad_request("Missing required parameter: 'assistant_id'.", param="assistant_id")
    thread = _new_thread(ctx, rd.mapping(body, "thread") or {})
    run = _new_run(ctx, thread, body)
    if body.get("stream") is True:
        collector = EventCollector(ctx.faults)
        collector("thread.created", thread)
        collector("thread.run.created", run)
        collector("thread.run.queued", run)
        return _stream(ctx, run, collector)
    return ok(render.run(run, ctx.faults))


async def list_runs(ctx: EmuRequest) -> Response:
    thread = _thread(ctx)
    for run in thread.runs:
        ctx.state.engine.refresh(run)
    return ok(paginate(thread.runs, ctx.query, id_of=_id, render=lambda r: render.run(r, ctx.faults),
                       faults=ctx.faults))


def _read_status(ctx: EmuRequest, run: Run) -> str | None:
    """The status a GET reports under the read-time lifecycle faults (None: the truth)."""
    run.reads += 1
    if run.status in TERMINAL:
        run.terminal_reads += 1
        if "run_terminal_reverts" in ctx.faults and run.terminal_reads >= 2:
            return "in_progress"
    if "run_backwards" in ctx.faults and run.reads <= 2:
        return "in_progress" if run.reads == 1 else "queued"
    return None


async def get_run(ctx: EmuRequest) -> Response:
    run = _run(ctx, _thread(ctx))
    status = _read_status(ctx, run) if ctx.faults else None
    return ok(render.run(run, ctx.faults, status=status))


async def modify_run(ctx: EmuRequest) -> Response:
    run = _run(ctx, _thread(ctx))
    _modify_metadata(ctx, run)
    return ok(render.run(run, ctx.faults))


async def submit_tool_outputs(ctx: EmuRequest) -> Response:
    run = _run(ctx, _thread(ctx))
    body = ctx.json_body()
    outputs = rd.objects(body, "tool_outputs")
    if outputs is None:
        raise bad_request("Missing required parameter: 'tool_outputs'.", param="tool_outputs")
    if body.get("stream") is True:
        collector = EventCollector(ctx.faults)
        ctx.state.engine.submit_tool_outputs(run, outputs, collector)
        return _stream(ctx, run, collector)
    ctx.state.engine.submit_tool_outputs(run, outputs, lambda _n, _p: None)
    return ok(render.run(run, ctx.faults))


async def cancel_run(ctx: EmuRequest) -> Response:
    run = _run(ctx, _thread(ctx))
    ctx.state.engine.cancel(run)
    return ok(render.run(run, ctx.faults))


async def list_run_steps(ctx: EmuRequest) -> Response:
    run = _run(ctx, _thread(ctx))
    return ok(paginate(run.steps, ctx.query, id_of=_id, render=lambda s: render.step(s, ctx.faults),
                       faults=ctx.faults))


async def get_run_step(ctx: EmuRequest) -> Response:
    run = _run(ctx, _thread(ctx))
    return ok(render.step(_step(ctx, run), ctx.faults))


ROUTES: list[EmuRoute] = [
    EmuRoute("GET", "/assistants", "List_Assistants", list_assistants, body="none"),
    EmuRoute("POST", "/assistants", "Create_Assistant", create_assistant),
    EmuRoute("GET", "/assistants/{assistant_id}", "Get_Assistant", get_assistant, body="none"),
    EmuRoute("POST", "/assistants/{assistant_id}", "Modify_Assistant", modify_assistant),
    EmuRoute("DELETE", "/assistants/{assistant_id}", "Delete_Assistant", delete_assistant, body="none"),
    EmuRoute("POST", "/threads", "Create_Thread", create_thread),
    EmuRoute("POST", "/threads/runs", "Create_Thread_And_Run", create_thread_and_run),
    EmuRoute("GET", "/threads/{thread_id}", "Get_Thread", get_thread, body="none"),
    EmuRoute("POST", "/threads/{thread_id}", "Modify_Thread", modify_thread),
    EmuRoute("DELETE", "/threads/{thread_id}", "Delete_Thread", delete_thread, body="none"),
    EmuRoute("GET", "/threads/{thread_id}/messages", "List_Messages", list_messages, body="none"),
    EmuRoute("POST", "/threads/{thread_id}/messages", "Create_Message", create_message),
    EmuRoute("GET", "/threads/{thread_id}/messages/{message_id}", "Get_Message", get_message, body="none"),
    EmuRoute("POST", "/threads/{thread_id}/messages/{message_id}", "Modify_Message", modify_message),
    EmuRoute("GET", "/threads/{thread_id}/runs", "List_Runs", list_runs, body="none"),
    EmuRoute("POST", "/threads/{thread_id}/runs", "Create_Run", create_run),
    EmuRoute("GET", "/threads/{thread_id}/runs/{run_id}", "Get_Run", get_run, body="none"),
    EmuRoute("POST", "/threads/{thread_id}/runs/{run_id}", "Modify_Run", modify_run),
    EmuRoute("POST", "/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", "Submit_Tool_Outputs_To_Run",
             submit_tool_outputs),
    EmuRoute("POST", "/threads/{thread_id}/runs/{run_id}/cancel", "Cancel_Run", cancel_run),
    EmuRoute("GET", "/threads/{thread_id}/runs/{run_id}/steps", "List_Run_Steps", list_run_steps, body="none"),
    EmuRoute("GET", "/threads/{thread_id}/runs/{run_id}/steps/{step_id}", "Get_Run_Step", get_run_step,
             body="none"),
]
