"""Objects the suite creates on a target: tagged, remembered, and always deleted.

Every object carries the run's tag (metadata `conformance_run` where the API takes metadata, a
name prefix as well where it has names). Each creation is written to a ledger file before the test
goes on, and removed from it once deleted, so `aoai-conformance cleanup` can find what an
interrupted run left behind, including threads, which the API cannot list.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from conformance.client import ClientError, ConformanceClient

TAG_KEY = "conformance_run"
NAME_PREFIX = "aoaic-"
LEDGER_DIR_ENV = "AOAI_CONFORMANCE_STATE_DIR"


class SetupFailed(AssertionError):
    """A create call the test depends on did not succeed; the message shows the answer."""


@dataclass(frozen=True)
class Created:
    kind: str  # assistant | thread | vector_store | vector_store_file
    id: str
    delete_path: str


def state_dir() -> Path:
    return Path(os.environ.get(LEDGER_DIR_ENV, ".aoai-conformance"))


class Ledger:
    """Append-only JSON lines: `{"op": "add"|"remove", "target", "run_id", "kind", "id", "delete_path"}`."""

    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path

    def _write(self, entry: dict[str, str]) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry, sort_keys=True) + "\n")

    def add(self, target: str, run_id: str, item: Created) -> None:
        self._write({"op": "add", "target": target, "run_id": run_id, "kind": item.kind, "id": item.id,
                     "delete_path": item.delete_path})

    def remove(self, target: str, run_id: str, item: Created) -> None:
        self._write({"op": "remove", "target": target, "run_id": run_id, "kind": item.kind, "id": item.id,
                     "delete_path": item.delete_path})

    def outstanding(self, target: str) -> list[tuple[str, Created]]:
        """(run id, object) pairs added and never removed, for one target."""
        if not self.path.exists():
            return []
        live: dict[str, tuple[str, Created]] = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a killed process
            if entry.get("target") != target:
                continue
            key = entry["delete_path"]
            if entry["op"] == "add":
                live[key] = (entry["run_id"], Created(entry["kind"], entry["id"], key))
            else:
                live.pop(key, None)
        return list(live.values())


def deletion_ok(response: httpx.Response) -> bool:
    """Deleted now, or already gone (a thread deleted takes its runs and messages with it)."""
    return response.status_code in (200, 204, 404)


class Tracker:
    """Creates tagged objects for one test and deletes them, newest first, at teardown."""

    def __init__(
        self,
        client: ConformanceClient,
        run_id: str,
        *,
        target: str,
        ledger: Ledger | None = None,
        model: str = "gpt-4o",
        on_register: Callable[[Created], None] | None = None,
    ) -> None:
        self.client = client
        self.run_id = run_id
        self.target = target
        self.ledger = ledger
        self.model = model
        self.created: list[Created] = []
        self._on_register = on_register

    @property
    def metadata(self) -> dict[str, str]:
        return {TAG_KEY: self.run_id}

    def name(self, label: str) -> str:
        return f"{NAME_PREFIX}{self.run_id}-{label}"

    def register(self, kind: str, object_id: str, delete_path: str) -> Created:
        item = Created(kind, object_id, delete_path)
        self.created.append(item)
        if self.ledger is not None:
            self.ledger.add(self.target, self.run_id, item)
        if self._on_register is not None:
            self._on_register(item)
        return item

    def _create(self, path: str, body: dict[str, Any], kind: str, delete_path: Callable[[str], str]) -> dict[str, Any]:
        response = self.client.post(path, json=body)
        if response.status_code != 200:
            raise SetupFailed(f"creating a {kind} failed: POST {path} answered {response.status_code} {response.text[:500]}")
        obj: dict[str, Any] = response.json()
        self.register(kind, str(obj["id"]), delete_path(str(obj["id"])))
        return obj

    def assistant(self, **fields: Any) -> dict[str, Any]:
        body = {"model": self.model, "name": self.name("assistant"), "metadata": self.metadata, **fields}
        return self._create("/assistants", body, "assistant", lambda i: f"/assistants/{i}")

    def thread(self, **fields: Any) -> dict[str, Any]:
        body = {"metadata": self.metadata, **fields}
        return self._create("/threads", body, "thread", lambda i: f"/threads/{i}")

    def vector_store(self, **fields: Any) -> dict[str, Any]:
        body = {"name": self.name("store"), "metadata": self.metadata, **fields}
        return self._create("/vector_stores", body, "vector_store", lambda i: f"/vector_stores/{i}")

    def thread_and_run_created(self, run: dict[str, Any]) -> None:
        """Register the thread a create-thread-and-run made."""
        thread_id = str(run["thread_id"])
        self.register("thread", thread_id, f"/threads/{thread_id}")

    def cleanup(self) -> list[str]:
        """Delete everything, newest first; returns what could not be deleted."""
        leftovers = delete_all(self.client, reversed(self.created))
        for item in self.created:
            if item.delete_path not in leftovers and self.ledger is not None:
                self.ledger.remove(self.target, self.run_id, item)
        self.created.clear()
        return leftovers


def delete_all(client: ConformanceClient, items: Iterable[Created]) -> list[str]:
    failed: list[str] = []
    for item in items:
        try:
            if not deletion_ok(client.delete(item.delete_path)):
                failed.append(item.delete_path)
        except ClientError:
            failed.append(item.delete_path)
    return failed
