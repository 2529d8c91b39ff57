"""What the fuzzer sends that is not generated: base URL, api-version, credentials and path ids.

`fuzz_schema` turns a contract document into a Schemathesis schema whose only security scheme is
the one the target authenticates with (the api-version and credentials are injected per call, so
Schemathesis never generates them, and its ignored-auth probes test the scheme really used).
`Provisioner` creates the objects an operation's path names, through the suite's `Tracker`, so
generated requests reach the handlers instead of stopping at 404.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import schemathesis

from conformance.config import TargetSettings
from conformance.harness.tracker import SetupFailed, Tracker
from conformance.spec import Operation

API_VERSION = "api-version"
SCHEMES = {"key": "apiKey", "entra": "bearer"}

# Inference path -> the deployment kind that serves it (Azure routes by deployment).
DEPLOYMENT_KINDS: tuple[tuple[str, str], ...] = (
    ("/chat/completions", "chat"),
    ("/completions", "completions"),
    ("/embeddings", "embeddings"),
    ("/audio/transcriptions", "transcription"),
    ("/audio/translations", "transcription"),
    ("/audio/speech", "speech"),
    ("/images/generations", "images"),
)
RUN_WAIT_SECONDS = 20.0
MAX_STREAM_EVENTS = 5000


def base_url(endpoint: str) -> str:
    """The templated `https://{endpoint}/openai` is not resolved for a loaded spec: always explicit."""
    return endpoint.rstrip("/") + "/openai"


def fuzz_document(document: Mapping[str, Any], settings: TargetSettings) -> dict[str, Any]:
    """A copy of `document` with a concrete server and the target's security scheme only."""
    doc = copy.deepcopy(dict(document))
    assert settings.endpoint is not None
    doc["servers"] = [{"url": base_url(settings.endpoint)}]
    scheme = SCHEMES.get(settings.auth)
    schemes = doc.get("components", {}).get("securitySchemes", {})
    if scheme is None or scheme not in schemes:
        doc.pop("security", None)
        for item in doc.get("paths", {}).values():
            for op in item.values() if isinstance(item, dict) else ():
                if isinstance(op, dict):
                    op.pop("security", None)
    else:
        doc["security"] = [{scheme: []}]
        for item in doc.get("paths", {}).values():
            for op in item.values() if isinstance(item, dict) else ():
                if isinstance(op, dict) and "security" in op:
                    op["security"] = [{scheme: []}]
    return doc


# Schema-valid data may name objects that do not exist (cursors, file ids), ask more than the
# deployment offers (embedding dimensions) or come at the wrong time (tool outputs for a run that
# is not waiting): the service answers 400, which no schema can express. Any other 4xx still fails.
POSITIVE_STATUSES = ["2xx", "400", "401", "403", "404", "409", "429"]


def fuzz_config() -> Any:
    """Explicit config (no schemathesis.toml of the cwd leaks in)."""
    return schemathesis.Config.from_dict({
        "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES}},
        # Azure ignores query parameters it does not know: an extra one is not invalid data.
        "generation": {"allow-extra-parameters": False},
        # Our SSE check reads the whole stream (Schemathesis stops after 20 events by default).
        "max-stream-events": MAX_STREAM_EVENTS,
    })


def fuzz_schema(document: Mapping[str, Any], settings: TargetSettings) -> Any:
    return schemathesis.openapi.from_dict(fuzz_document(document, settings), config=fuzz_config())


def auth_headers(settings: TargetSettings, token: str | None = None) -> dict[str, str]:
    if settings.auth == "key" and settings.api_key:
        return {"api-key": settings.api_key}
    if settings.auth == "entra" and token:
        return {"Authorization": f"Bearer {token}"}
    return {}


# Objects a generated create makes, by `object`: how the tracker deletes them (children go with them).
DELETE_PATHS = {"assistant": "/assistants/{id}", "thread": "/threads/{id}", "vector_store": "/vector_stores/{id}"}


def track_created(tracker: Tracker, case: Any, response: Any) -> None:
    """Hand what a generated create made to the tracker, so a live target is left clean."""
    if response.status_code != 200 or case.method.upper() != "POST":
        return
    try:
        body = response.json()
    except ValueError:
        return
    if not isinstance(body, dict):
        return
    kind, object_id = body.get("object"), body.get("id")
    if kind == "thread.run" and isinstance(body.get("thread_id"), str) and not case.path_parameters:
        kind, object_id = "thread", body["thread_id"]  # create-thread-and-run made a thread
    elif case.path_parameters:
        return  # a child (message, run, file) goes with its parent; a modify made nothing
    if kind in DELETE_PATHS and isinstance(object_id, str):
        tracker.register(str(kind), object_id, DELETE_PATHS[str(kind)].format(id=object_id))


def deployment_for(op: Operation, settings: TargetSettings) -> str:
    for suffix, kind in DEPLOYMENT_KINDS:
        if op.path.endswith(suffix):
            return str(getattr(settings.deployments, kind))
    return settings.deployments.chat


def needs_run(op: Operation) -> bool:
    return "run_id" in op.path_params


def destructive(op: Operation) -> bool:
    """Calls after which the provisioned object no longer serves: deletes and cancels."""
    return op.method == "DELETE" or op.path.endswith("/cancel")


@dataclass
class Provisioner:
    """Creates, per test, the objects an operation's path parameters name; `fresh()` forgets them."""

    tracker: Tracker
    settings: TargetSettings
    cache: dict[str, str] = field(default_factory=dict)

    def fresh(self) -> None:
        self.cache.clear()

    def path_parameters(self, op: Operation) -> dict[str, str]:
        values: dict[str, str] = {}
        for name in op.path_params:
            if name == "deployment-id":
                values[name] = deployment_for(op, self.settings)
            else:
                values[name] = self._id(name, op)
        return values

    # -- one id per parameter name, creating parents first --

    def _id(self, name: str, op: Operation) -> str:
        if name not in self.cache:
            maker = getattr(self, f"_make_{name}", None)
            if maker is None:
                raise SetupFailed(f"{op.operation_id}: no way to provision path parameter {name!r}")
            self.cache[name] = str(maker(op))
        return self.cache[name]

    def _make_assistant_id(self, op: Operation) -> str:
        return str(self.tracker.assistant()["id"])

    def _make_thread_id(self, op: Operation) -> str:
        return str(self.tracker.thread()["id"])

    def _make_message_id(self, op: Operation) -> str:
        thread_id = self._id("thread_id", op)
        return str(self._post(f"/threads/{thread_id}/messages", {"role": "user", "content": "fuzz"})["id"])

    def _make_run_id(self, op: Operation) -> str:
        thread_id = self._id("thread_id", op)
        body = {"assistant_id": self._id("assistant_id", op)}
        run = self._post(f"/threads/{thread_id}/runs", body)
        if not destructive(op):  # steps and most run calls want a settled run; cancel wants an active one
            run = self._settle(thread_id, str(run["id"]))
        return str(run["id"])

    def _make_step_id(self, op: Operation) -> str:
        thread_id, run_id = self._id("thread_id", op), self._id("run_id", op)
        steps = self._get(f"/threads/{thread_id}/runs/{run_id}/steps")
        data = steps.get("data") or []
        if not data:
            raise SetupFailed(f"run {run_id} has no steps to fuzz {op.operation_id} with")
        return str(data[0]["id"])

    def _make_vector_store_id(self, op: Operation) -> str:
        return str(self.tracker.vector_store()["id"])

    def _make_file_id(self, op: Operation) -> str:
        from conformance.suite.resources import file_ids

        store = self._id("vector_store_id", op)
        file_id = file_ids(self.tracker.client, self.tracker, self.settings, 1)[0]
        return str(self._post(f"/vector_stores/{store}/files", {"file_id": file_id})["id"])

    def _make_batch_id(self, op: Operation) -> str:
        from conformance.suite.resources import file_ids

        store = self._id("vector_store_id", op)
        ids = file_ids(self.tracker.client, self.tracker, self.settings, 2)
        return str(self._post(f"/vector_stores/{store}/file_batches", {"file_ids": ids})["id"])

    # -- HTTP helpers --

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.tracker.client.post(path, json=body)
        if response.status_code != 200:
            raise SetupFailed(f"provisioning: POST {path} answered {response.status_code} {response.text[:300]}")
        result: dict[str, Any] = response.json()
        return result

    def _get(self, path: str) -> dict[str, Any]:
        response = self.tracker.client.get(path)
        if response.status_code != 200:
            raise SetupFailed(f"provisioning: GET {path} answered {response.status_code} {response.text[:300]}")
        result: dict[str, Any] = response.json()
        return result

    def _settle(self, thread_id: str, run_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + RUN_WAIT_SECONDS
        while True:
            run = self._get(f"/threads/{thread_id}/runs/{run_id}")
            if run.get("status") not in ("queued", "in_progress", "cancelling") or time.monotonic() > deadline:
                return run
            time.sleep(0.1)
