"""The run engine: a declared transition table, driven by time and computed lazily.

A run's status is not advanced by background tasks: every read calls `refresh`, which replays
the transitions whose deadline (phase start + pace) has passed, each stamped with its own
deadline, so the result depends only on the clock and is the same however often it is polled.
Streams call `advance` instead, which takes the next transition at once and reports each change
through `emit` in the service's event order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.emulator import model
from conformance.emulator.errors import bad_request
from conformance.emulator.store import Message, Run, Step, Store

# Legal edges (SERVICE-FACTS "Run lifecycle"); terminal statuses have none.
TRANSITIONS: dict[str, frozenset[str]] = {
    "queued": frozenset({"in_progress", "cancelling", "cancelled", "failed", "expired"}),
    "in_progress": frozenset(
        {"requires_action", "cancelling", "completed", "failed", "incomplete", "expired", "cancelled"}
    ),
    "requires_action": frozenset({"queued", "in_progress", "cancelling", "expired", "failed", "cancelled"}),
    "cancelling": frozenset({"cancelled", "completed", "failed", "expired", "incomplete"}),
    "completed": frozenset(),
    "failed": frozenset(),
    "cancelled": frozenset(),
    "incomplete": frozenset(),
    "expired": frozenset(),
}
TERMINAL = frozenset(status for status, nexts in TRANSITIONS.items() if not nexts)

# emit(event name, payload): payload is the changed Run / Step / Message, or for deltas a
# ("message", Message, text) / ("step", Step, None) tuple.
Emit = Callable[[str, Any], None]


def _ignore(_name: str, _payload: Any) -> None:
    return None


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class Engine:
    def __init__(self, store: Store, pace: float, expiry_seconds: int = 600) -> None:
        self.store = store
        self.pace = pace
        self.expiry = expiry_seconds

    # ---- creation -------------------------------------------------------------------------
    def start(self, run: Run) -> None:
        now = self.store.now()
        run.phase_since = now
        run.expires_at = run.created_at + self.expiry
        thread = self.store.threads.get(run.thread_id)
        if thread is not None:
            thread.active_run = run

    # ---- time -----------------------------------------------------------------------------
    def _deadline(self, run: Run) -> float | None:
        if run.status in ("queued", "in_progress", "cancelling"):
            return run.phase_since + self.pace
        if run.status == "requires_action" and run.expires_at is not None:
            return float(run.expires_at)
        return None

    def refresh(self, run: Run) -> Run:
        """Apply every transition whose time has come (what a poll at `now` would see)."""
        now = self.store.now()
        while True:
            deadline = self._deadline(run)
            if deadline is None or deadline > now:
                return run
            self._next(run, deadline, _ignore)

    def advance(self, run: Run, emit: Emit) -> None:
        """Take the next transition now (streams); no-op for terminal / requires_action runs."""
        if run.status in TERMINAL or run.status == "requires_action":
            return
        self._next(run, self.store.now(), emit)

    def active_run(self, thread_id: str) -> Run | None:
        thread = self.store.threads.get(thread_id)
        if thread is None or thread.active_run is None:
            return None
        self.refresh(thread.active_run)
        return thread.active_run

    # ---- transitions ----------------------------------------------------------------------
    def _move(self, run: Run, new: str, t: float, emit: Emit) -> None:
        if new not in TRANSITIONS[run.status]:
            raise RuntimeError(f"engine bug: illegal transition {run.status} -> {new} for {run.id}")
        run.status = new
        run.phase_since = t
        if new != "requires_action":
            run.required_action = None  # set only while waiting for tool outputs (lifecycle.required_action)
        if new in TERMINAL:
            run.expires_at = None
            run.required_action = None
            prompt = sum(s.usage["prompt_tokens"] for s in run.steps if s.usage)
            completion = sum(s.usage["completion_tokens"] for s in run.steps if s.usage)
            run.usage = _usage(prompt, completion)
            thread = self.store.threads.get(run.thread_id)
            if thread is not None and thread.active_run is run:
                thread.active_run = None
        emit(f"thread.run.{new}", run)

    def _next(self, run: Run, t: float, emit: Emit) -> None:
        if run.status == "queued":
            self._begin(run, t, emit)
        elif run.status == "in_progress":
            self._finish(run, t, emit)
        elif run.status == "cancelling":
            self._close_steps(run, "cancelled", int(t), emit)
            run.cancelled_at = int(t)
            self._move(run, "cancelled", t, emit)
        elif run.status == "requires_action":
            self._close_steps(run, "expired", int(t), emit)
            self._move(run, "expired", t, emit)

    def _decide(self, run: Run) -> model.Outcome:
        thread = self.store.threads.get(run.thread_id)
        messages = thread.messages if thread is not None else []
        conversation = [(m.role, m.text) for m in messages if m.run_id != run.id]
        options = run.options
        truncation = options.get("truncation_strategy")
        last = truncation.get("last_messages") if isinstance(truncation, dict) else None
        return model.decide(
            model.RunInput(
                instructions=run.instructions or "",
                conversation=conversation,
                tools=[t for t in run.tools if isinstance(t, dict)],
                tool_choice=options.get("tool_choice"),
                parallel_tool_calls=options.get("parallel_tool_calls") is not False,
                max_prompt_tokens=_int_or_none(options.get("max_prompt_tokens")),
                max_completion_tokens=_int_or_none(options.get("max_completion_tokens")),
                truncation_last_messages=_int_or_none(last),
                tool_outputs=tuple(run.tool_outputs),
            ),
            lambda: self.store.new_id("call")[0],
        )

    def _new_step(self, run: Run, kind: str, ts: int) -> Step:
        step_id, seq = self.store.new_id("step")
        step = Step(id=step_id, run_id=run.id, thread_id=run.thread_id, assistant_id=run.assistant_id,
                    created_at=ts, seq=seq, type=kind)
        run.steps.append(step)
        return step

    def _begin(self, run: Run, t: float, emit: Emit) -> None:
        ts = int(t)
        run.started_at = ts  # re-stamped when a run resumes after tool outputs
        self._move(run, "in_progress", t, emit)
        outcome = run.outcome = self._decide(run)
        if outcome.kind == "tool_calls":
            step = self._new_step(run, "tool_calls", ts)
            step.tool_calls = [
                {**call, "function": {**call["function"], "output": None}} for call in outcome.tool_calls
            ]
            emit("thread.run.step.created", step)
            emit("thread.run.step.in_progress", step)
            emit("thread.run.step.delta", ("step", step, None))
        elif outcome.kind in ("reply", "incomplete") and outcome.text:
            self._write_reply(run, outcome, ts, emit)

    def _write_reply(self, run: Run, outcome: model.Outcome, ts: int, emit: Emit) -> None:
        step = self._new_step(run, "message_creation", ts)
        message_id, seq = self.store.new_id("msg")
        message = Message(id=message_id, thread_id=run.thread_id, created_at=ts, seq=seq, role="assistant",
                          text="", assistant_id=run.assistant_id, run_id=run.id, status="in_progress")
        step.message_id = message_id
        thread = self.store.threads.get(run.thread_id)
        if thread is not None:
            thread.messages.append(message)
            thread.message_index[message_id] = message
        emit("thread.run.step.created", step)
        emit("thread.run.step.in_progress", step)
        emit("thread.message.created", message)
        emit("thread.message.in_progress", message)
        for chunk in model.chunks(outcome.text):
            message.text += chunk
            emit("thread.message.delta", ("message", message, chunk))
        message.text = outcome.text
        if outcome.kind == "incomplete":
            message.status, message.incomplete_at = "incomplete", ts
            message.incomplete_reason = outcome.reason
            emit("thread.message.incomplete", message)
        else:
            message.status, message.completed_at = "completed", ts
            emit("thread.message.completed", message)

    def _finish(self, run: Run, t: float, emit: Emit) -> None:
        ts = int(t)
        outcome = run.outcome if isinstance(run.outcome, model.Outcome) else self._decide(run)
        if outcome.kind == "tool_calls":
            run.required_action = {
                "type": "submit_tool_outputs",
                "submit_tool_outputs": {"tool_calls": [dict(call) for call in outcome.tool_calls]},
            }
            self._move(run, "requires_action", t, emit)
            return
        for step in run.steps:
            if step.status == "in_progress" and step.type == "message_creation":
                step.status, step.completed_at = "completed", ts
                step.usage = _usage(outcome.prompt_tokens, outcome.completion_tokens)
                emit("thread.run.step.completed", step)
        if outcome.kind == "reply":
            run.completed_at = ts
            self._move(run, "completed", t, emit)
        elif outcome.kind == "incomplete":
            run.incomplete_details = {"reason": outcome.reason}
            self._move(run, "incomplete", t, emit)
        elif outcome.kind == "failed":
            run.failed_at, run.last_error = ts, dict(outcome.error or {})
            self._move(run, "failed", t, emit)
        else:
            self._move(run, "expired", t, emit)

    def _close_steps(self, run: Run, status: str, ts: int, emit: Emit) -> None:
        for step in run.steps:
            if step.status == "in_progress":
                step.status = status
                if status == "cancelled":
                    step.cancelled_at = ts
                else:
                    step.expired_at = ts
                emit(f"thread.run.step.{status}", step)

    # ---- client actions -------------------------------------------------------------------
    def cancel(self, run: Run) -> None:
        self.refresh(run)
        if run.status in TERMINAL:
            raise bad_request(f"Cannot cancel run with status '{run.status}'.")
        if run.status != "cancelling":
            self._move(run, "cancelling", self.store.now(), _ignore)

    def submit_tool_outputs(self, run: Run, outputs: list[dict[str, Any]], emit: Emit) -> None:
        self.refresh(run)
        if run.status != "requires_action" or run.required_action is None:
            raise bad_request(
                f"Runs in status \"{run.status}\" do not accept tool outputs.", param="tool_outputs"
            )
        pending = {call["id"]: call for call in run.required_action["submit_tool_outputs"]["tool_calls"]}
        given: dict[str, str] = {}
        for output in outputs:
            call_id = output.get("tool_call_id")
            if not isinstance(call_id, str) or call_id not in pending:
                raise bad_request(f"Invalid tool_call_id: {call_id!r}; no such pending tool call.",
                                  param="tool_outputs")
            if call_id in given:
                raise bad_request(f"Duplicate tool_call_id: {call_id}.", param="tool_outputs")
            value = output.get("output")
            given[call_id] = value if isinstance(value, str) else ""
        missing = sorted(set(pending) - set(given))
        if missing:
            raise bad_request(f"Expected tool outputs for call_ids {missing}.", param="tool_outputs")
        ts = self.store.timestamp()
        outcome = run.outcome if isinstance(run.outcome, model.Outcome) else None
        for step in run.steps:
            if step.type == "tool_calls" and step.status == "in_progress":
                for call in step.tool_calls:
                    call["function"]["output"] = given.get(call["id"])
                step.status, step.completed_at = "completed", ts
                step.usage = _usage(outcome.prompt_tokens if outcome else 0, outcome.tool_tokens if outcome else 0)
                emit("thread.run.step.completed", step)
        run.tool_outputs.extend(
            (str(pending[call_id]["function"]["name"]), output) for call_id, output in given.items()
        )
        run.outcome = None
        run.required_action = None
        self._move(run, "queued", self.store.now(), emit)


def _int_or_none(value: Any) -> int | None:
    """An integer option; 256.0 counts (JSON Schema calls it an integer too), anything else is unset."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if float(value).is_integer() else None
