"""Shared plumbing: the machine description, servers started as child processes, percentiles.

Every server the benchmarks start listens on 127.0.0.1 and is a child process that is stopped by
its own pid (SIGINT, then SIGKILL after a bounded wait), never by name.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
VENV_PY = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PY) if VENV_PY.exists() else sys.executable
PRISM_BIN = BENCH / ".prism" / "node_modules" / ".bin" / "prism"
API_KEY = "emulator-key"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _text(cmd: Sequence[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> dict[str, object]:
    """What the figures were measured on; the load average says how busy the shared machine was."""
    free = _text(["free", "-h"])
    mem = next((line.split()[1] for line in free.splitlines() if line.startswith("Mem:")), "")
    return {
        "nproc": _text(["nproc"]) or str(os.cpu_count()),
        "memory": mem,
        "free_h": free,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "date": now_iso(),
        "git_commit": _text(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "wrk": _text(["wrk", "--version"]).splitlines()[0] if shutil.which("wrk") else "",
    }


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of non-empty samples."""
    if not samples:
        raise ValueError("percentile of no samples")
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


@dataclass
class Server:
    """A child process serving HTTP on 127.0.0.1, started and stopped by pid."""

    proc: subprocess.Popen[bytes]
    url: str
    lines: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_mib(self) -> float:
        """Resident set size of the server process, from /proc (Linux)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmRSS for pid {self.pid}")

    def stop(self, wait: float = 10.0) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=wait / 2)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGINT)  # uvicorn: a second Ctrl-C skips the graceful wait
            try:
                self.proc.wait(timeout=wait / 2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def start_server(cmd: Sequence[str], ready: str, timeout: float, env: Mapping[str, str] | None = None,
                 cwd: Path = ROOT) -> Server:
    """Start `cmd` and wait (bounded) for an output line containing `ready`; the URL is its last word."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.Popen(list(cmd), cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    seen: list[str] = []
    buffer = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sel.select(timeout=0.2):
                if proc.poll() is not None:
                    break
                continue
            chunk = proc.stdout.read() or b""
            if not chunk and proc.poll() is not None:
                break
            buffer += chunk
            *done, buffer = buffer.split(b"\n")
            for raw in done:
                line = raw.decode("utf-8", "replace").strip()
                seen.append(line)
                if ready in line:
                    # keep draining output in the background so a chatty server never blocks on a full pipe
                    _drain(proc)
                    url = line.split()[-1].rstrip("/")
                    return Server(proc=proc, url=url, lines=seen)
    finally:
        sel.close()
    server = Server(proc=proc, url="", lines=seen)
    server.stop()
    tail = " | ".join(seen[-3:]) or "no output"
    raise RuntimeError(f"{cmd[0]} did not print {ready!r} within {timeout:.0f} s ({tail})")


def _drain(proc: subprocess.Popen[bytes]) -> None:
    import threading

    def pump() -> None:
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), True)
        for _ in iter(lambda: proc.stdout.read(65536) if proc.stdout else b"", b""):
            pass

    threading.Thread(target=pump, daemon=True).start()


def start_emulator(run_speed: str = "fast", http: str = "auto", timeout: float = 30.0) -> Server:
    """`python -m conformance.emulator --port 0`; `http="h11"` forces the pure-Python parser."""
    env = {"PYTHONPATH": str(ROOT)}
    cmd = [PYTHON, "-m", "conformance.emulator", "--host", "127.0.0.1", "--port", "0",
           "--run-speed", run_speed, "--http", http]
    return start_server(cmd, "emulator listening on", timeout, env=env)
