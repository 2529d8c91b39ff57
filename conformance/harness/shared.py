"""State shared by every process of one run (pytest-xdist workers): a pace, a concurrency cap and
a budget, kept in small files under a per-run folder and guarded by `fcntl` locks.

Processes that cannot lock (no fcntl) fall back to per-process limits, which only makes them
stricter per worker, never looser overall for a single process.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_local_lock = threading.Lock()


def run_state_dir(run_id: str) -> Path:
    path = Path(tempfile.gettempdir()) / f"aoai-conformance-{run_id}"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[Any]:
    with _local_lock, path.open("a+", encoding="utf-8") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            yield handle
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _update(path: Path, change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    with _locked(path) as handle:
        text = handle.read()
        state: dict[str, Any] = json.loads(text) if text.strip() else {}
        state = change(state)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(state))
        handle.flush()
        return state


class Pacer:
    """At most `rps` request starts per second across the run: each start books the next free slot."""

    def __init__(self, folder: Path, rps: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self.path = folder / "pace.json"
        self.spacing = 1.0 / rps
        self._sleep = sleep

    def acquire(self) -> None:
        now = time.time()
        state = _update(self.path, lambda s: {"next": max(now, float(s.get("next", 0.0))) + self.spacing})
        wait = float(state["next"]) - self.spacing - now
        if wait > 0:
            self._sleep(wait)


class ConcurrencyCap:
    """At most `limit` requests in flight across the run: one lock file per slot."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.slots = [folder / f"slot-{i}.lock" for i in range(limit)]

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        if fcntl is None:
            yield
            return
        while True:
            for path in self.slots:
                handle = path.open("a+")
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    handle.close()
                    continue
                try:
                    yield
                    return
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
                    handle.close()
            time.sleep(0.01)


class Budget:
    """Requests and tokens spent by the whole run, against optional caps."""

    def __init__(self, folder: Path, max_requests: int | None, max_tokens: int | None) -> None:
        self.path = folder / "budget.json"
        self.max_requests = max_requests
        self.max_tokens = max_tokens

    def charge(self, requests: int = 0, tokens: int = 0) -> dict[str, int]:
        def add(state: dict[str, Any]) -> dict[str, Any]:
            return {"requests": int(state.get("requests", 0)) + requests,
                    "tokens": int(state.get("tokens", 0)) + tokens}
        state = _update(self.path, add)
        return {"requests": int(state["requests"]), "tokens": int(state["tokens"])}

    def spent(self) -> dict[str, int]:
        return self.charge()  # charging nothing reads the totals under the lock

    def exhausted(self) -> str | None:
        """Why the run must stop, or None while within budget."""
        spent = self.spent()
        if self.max_requests is not None and spent["requests"] >= self.max_requests:
            return f"request budget reached ({spent['requests']} of --max-requests {self.max_requests})"
        if self.max_tokens is not None and spent["tokens"] >= self.max_tokens:
            return f"token budget reached ({spent['tokens']} of --max-tokens {self.max_tokens})"
        return None


