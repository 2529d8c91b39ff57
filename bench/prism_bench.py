"""Stoplight Prism serving our contract as a mock, under the same loads as the emulator.

Prism is installed by bench/run into bench/.prism/ (npm, git-ignored). It mounts the contract's
paths at the root (it ignores the `/openai` path of our templated server URL), so the same
operations are addressed without the prefix. Its mock answers are the schema's examples or
generated placeholders (a "list" holds one item, whatever `limit` says): the comparison is of
serving speed, not of behaviour.
"""

from __future__ import annotations

import socket
import subprocess
import time

import httpx

from bench.common import PRISM_BIN, ROOT, Server
from bench.emulator_bench import HEADERS, Bounds, measure_ops, operations
from bench.figures import Figure, missing

CONTRACT = "schemas/bundled/2024-08-01-preview.json"


def prism_cmd(port: int) -> list[str]:
    # -v warn: no per-request log line (the emulator logs no access lines either)
    return [str(PRISM_BIN), "mock", CONTRACT, "-p", str(port), "-h", "127.0.0.1", "-v", "warn"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_prism(timeout: float = 90.0) -> Server:
    """Start Prism and wait (bounded) until it answers a request of the contract."""
    port = _free_port()
    proc = subprocess.Popen(prism_cmd(port), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    server = Server(proc=proc, url=f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
            raise RuntimeError(f"prism exited {proc.returncode}: {' '.join(err.strip().splitlines()[-3:])[:400]}")
        try:
            httpx.get(f"{server.url}/assistants?api-version=2024-08-01-preview", headers=HEADERS, timeout=2)
            return server
        except httpx.HTTPError:
            time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"prism did not answer within {timeout:.0f} s")


def _probe(server: Server, ids: dict[str, str]) -> str:
    """What Prism answers for the list of 100, so the table says what was really compared."""
    path = operations(ids, prefix="")[1].path
    answer = httpx.get(server.url + path, headers=HEADERS, timeout=10)
    items = len(answer.json().get("data", [])) if answer.status_code == 200 else 0
    return f"Prism's list answer holds {items} item(s) (status {answer.status_code})"


def prism_figures(bounds: Bounds) -> list[Figure]:
    shown = f"bench/.prism/node_modules/.bin/prism mock {CONTRACT} -p PORT -h 127.0.0.1 -v warn"
    if not PRISM_BIN.exists():
        return [missing("prism", "retrieve assistant: requests/s", "req/s", shown,
                        "Prism not installed (bench/run installs it with npm into bench/.prism/; npm missing?)")]
    try:
        server = start_prism()
    except RuntimeError as exc:
        return [missing("prism", "retrieve assistant: requests/s", "req/s", shown, f"Prism could not serve our contract: {exc}")]
    try:
        ids = {"assistant_id": "asst_bench", "thread_id": "thread_bench"}
        probe = _probe(server, ids)
        return measure_ops("prism", shown, server.url, operations(ids, prefix=""), bounds,
                           f"Prism {_version()} mock of our 3.1 contract, one node process; {probe}",
                           with_target=False)
    finally:
        server.stop()


def _version() -> str:
    import json

    manifest = PRISM_BIN.parents[1] / "@stoplight" / "prism-cli" / "package.json"
    try:
        return str(json.loads(manifest.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "?"


def ratios(figures: list[Figure]) -> list[Figure]:
    """Emulator / Prism for each operation's requests/s and p50 (both measured in this run)."""
    by_key = {(f.group, f.name): f for f in figures if f.value is not None}
    out: list[Figure] = []
    for f in figures:
        if f.group != "prism" or f.value is None or not (f.name.endswith("requests/s") or "p50" in f.name):
            continue
        emu = by_key.get(("emulator", f.name))
        if emu is None or not emu.value or not f.value:
            continue
        out.append(Figure("ratio", f"{f.name} (emulator / Prism)", round(emu.value / f.value, 2), "x",
                          "bench/run (same run, same load, same machine)",
                          f"emulator {emu.value:g} vs Prism {f.value:g} {f.unit}"
                          + ("; > 1 means the emulator is faster" if f.unit == "req/s" else "; < 1 means the emulator answers sooner")))
    return out
