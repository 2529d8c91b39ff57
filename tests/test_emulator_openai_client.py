"""The official `openai` package (1.x `AzureOpenAI`) against a real emulator server on 127.0.0.1.

What users do with the emulator is point their existing client at it; these flows prove the wire
format is close enough to the service for the client's parsers, pollers, stream helpers and
auto-pagination to work unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai import AssistantEventHandler, AzureOpenAI

from conformance.emulator import triggers
from conformance.emulator.server import start_in_thread
from conformance.emulator.settings import DEFAULT_API_KEY, EmulatorSettings

API_VERSION = "2024-08-01-preview"
POLL_MS = 20
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture(scope="module")
def client() -> Iterator[AzureOpenAI]:
    server = start_in_thread(EmulatorSettings(run_pace=0.02), host="127.0.0.1", port=0)
    try:
        yield AzureOpenAI(azure_endpoint=server.url, api_key=DEFAULT_API_KEY, api_version=API_VERSION,
                          max_retries=0, timeout=20)
    finally:
        server.stop()


@pytest.fixture
def assistant_id(client: AzureOpenAI) -> Iterator[str]:
    assistant = client.beta.assistants.create(model="gpt-4o", name="helper", instructions="Be brief.",
                                              tools=[WEATHER_TOOL])  # type: ignore[list-item]
    yield assistant.id
    client.beta.assistants.delete(assistant.id)


class Collector(AssistantEventHandler):
    """Records what the stream helper hands to user code."""

    def __init__(self) -> None:
        super().__init__()
        self.deltas: list[str] = []
        self.messages: list[str] = []
        self.events: list[str] = []

    def on_event(self, event: Any) -> None:
        self.events.append(event.event)

    def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.deltas.append(delta.value or "")

    def on_message_done(self, message: Any) -> None:
        self.messages.append("".join(part.text.value for part in message.content if part.type == "text"))


def message_texts(client: AzureOpenAI, thread_id: str, role: str = "assistant") -> list[str]:
    listed = client.beta.threads.messages.list(thread_id=thread_id, order="asc")
    return ["".join(p.text.value for p in m.content if p.type == "text") for m in listed if m.role == role]


def test_assistant_crud(client: AzureOpenAI) -> None:
    made = client.beta.assistants.create(model="gpt-4o", name="crud", metadata={"suite": "client"})
    assert made.id.startswith("asst_") and made.model == "gpt-4o"
    got = client.beta.assistants.retrieve(made.id)
    assert got.name == "crud" and got.metadata == {"suite": "client"}
    updated = client.beta.assistants.update(made.id, name="renamed")
    assert updated.name == "renamed" and client.beta.assistants.retrieve(made.id).name == "renamed"
    deleted = client.beta.assistants.delete(made.id)
    assert deleted.deleted and deleted.id == made.id
    with pytest.raises(openai.NotFoundError):
        client.beta.assistants.retrieve(made.id)


def test_threads_and_messages(client: AzureOpenAI) -> None:
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "first"}])
    added = client.beta.threads.messages.create(thread_id=thread.id, role="user", content="second")
    assert added.thread_id == thread.id and added.content[0].text.value == "second"  # type: ignore[union-attr]
    assert message_texts(client, thread.id, role="user") == ["first", "second"]
    updated = client.beta.threads.messages.update(message_id=added.id, thread_id=thread.id, metadata={"k": "v"})
    assert updated.metadata == {"k": "v"}
    assert client.beta.threads.update(thread.id, metadata={"t": "1"}).metadata == {"t": "1"}
    assert client.beta.threads.delete(thread.id).deleted


def test_create_and_poll_completes_with_a_reply(client: AzureOpenAI, assistant_id: str) -> None:
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "hello emulator"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant_id,
                                                   poll_interval_ms=POLL_MS)
    assert run.status == "completed" and run.completed_at is not None
    assert run.usage is not None and run.usage.total_tokens == run.usage.prompt_tokens + run.usage.completion_tokens
    replies = message_texts(client, thread.id)
    assert len(replies) == 1 and "hello emulator" in replies[0]
    steps = list(client.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id))
    assert steps and all(step.run_id == run.id for step in steps)


def test_run_stream_delivers_deltas_and_the_final_message(client: AzureOpenAI, assistant_id: str) -> None:
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "stream this answer"}])
    handler = Collector()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant_id,
                                         event_handler=handler) as stream:
        stream.until_done()
    assert handler.messages and "".join(handler.deltas) == handler.messages[-1]
    assert handler.events[0] == "thread.run.created" and handler.events[-1] == "thread.run.completed"
    assert message_texts(client, thread.id) == handler.messages


def test_requires_action_round_trip(client: AzureOpenAI, assistant_id: str) -> None:
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "call get_weather for Paris"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant_id,
                                                   poll_interval_ms=POLL_MS)
    assert run.status == "requires_action" and run.required_action is not None
    calls = run.required_action.submit_tool_outputs.tool_calls
    assert calls and calls[0].function.name == "get_weather"
    done = client.beta.threads.runs.submit_tool_outputs_and_poll(
        tool_outputs=[{"tool_call_id": c.id, "output": "sunny"} for c in calls],
        run_id=run.id, thread_id=thread.id, poll_interval_ms=POLL_MS,
    )
    assert done.status == "completed"
    assert any("sunny" in text for text in message_texts(client, thread.id))


def test_requires_action_round_trip_streaming(client: AzureOpenAI, assistant_id: str) -> None:
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "please get_weather in Oslo"}])
    first = Collector()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant_id,
                                         event_handler=first) as stream:
        stream.until_done()
        run = stream.current_run
    assert first.events[-1] == "thread.run.requires_action"
    assert run is not None and run.required_action is not None
    calls = run.required_action.submit_tool_outputs.tool_calls
    second = Collector()
    with client.beta.threads.runs.submit_tool_outputs_stream(
        tool_outputs=[{"tool_call_id": c.id, "output": "snow"} for c in calls],
        run_id=run.id, thread_id=thread.id, event_handler=second,
    ) as stream:
        stream.until_done()
    assert second.events[-1] == "thread.run.completed"
    assert second.messages and "snow" in second.messages[-1]
    assert "".join(second.deltas) == second.messages[-1]


def test_list_auto_pagination_crosses_pages(client: AzureOpenAI) -> None:
    made = {client.beta.assistants.create(model="gpt-4o", name=f"page-{i}").id for i in range(5)}
    try:
        page = client.beta.assistants.list(limit=2)
        assert len(page.data) == 2 and page.has_more
        seen = [a.id for a in client.beta.assistants.list(limit=2)]
        assert made <= set(seen) and len(seen) == len(set(seen))
    finally:
        for assistant_id in made:
            client.beta.assistants.delete(assistant_id)


def test_vector_store_and_file_batch(client: AzureOpenAI) -> None:
    store = client.vector_stores.create(name="docs")
    batch = client.vector_stores.file_batches.create_and_poll(
        vector_store_id=store.id, file_ids=["file-one", "file-two", "file-fail-three"], poll_interval_ms=POLL_MS
    )
    assert batch.status == "completed"
    assert (batch.file_counts.completed, batch.file_counts.failed, batch.file_counts.total) == (2, 1, 3)
    files = list(client.vector_stores.file_batches.list_files(batch_id=batch.id, vector_store_id=store.id))
    assert sorted(f.id for f in files) == ["file-fail-three", "file-one", "file-two"]
    failed = client.vector_stores.files.retrieve(file_id="file-fail-three", vector_store_id=store.id)
    assert failed.status == "failed" and failed.last_error is not None
    single = client.vector_stores.files.create_and_poll(file_id="file-single", vector_store_id=store.id,
                                                         poll_interval_ms=POLL_MS)
    assert single.status == "completed" and single.usage_bytes > 0
    refreshed = client.vector_stores.retrieve(store.id)
    assert refreshed.status == "completed" and refreshed.usage_bytes > 0
    assert client.vector_stores.delete(store.id).deleted


def test_chat_completions_plain_and_streamed(client: AzureOpenAI) -> None:
    messages: Any = [{"role": "user", "content": "how are parrots"}]
    plain = client.chat.completions.create(model="gpt-4o", messages=messages)
    text = plain.choices[0].message.content
    assert text and "parrots" in text and plain.usage is not None
    stream = client.chat.completions.create(model="gpt-4o", messages=messages, stream=True,
                                            stream_options={"include_usage": True})
    pieces: list[str] = []
    usage = None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        if chunk.usage is not None:
            usage = chunk.usage
    assert "".join(pieces) == text
    assert usage is not None and usage.total_tokens == plain.usage.total_tokens


def test_embeddings_with_dimensions(client: AzureOpenAI) -> None:
    result = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"], dimensions=16)
    assert [len(item.embedding) for item in result.data] == [16, 16]


def test_content_filter_surfaces_as_bad_request_with_body(client: AzureOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": triggers.CHAT_CONTENT_FILTER_PROMPT}]
        )
    error = caught.value
    assert error.code == "content_filter"
    body = error.body
    assert isinstance(body, dict) and body["param"] == "prompt"
    assert body["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert body["innererror"]["content_filter_result"]["jailbreak"]["filtered"] is True
