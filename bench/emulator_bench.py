"""The emulator under load: request rates and latency, streamed runs, memory with many messages.

The emulator runs as its own process (`python -m conformance.emulator --port 0`); the load comes
from another process (wrk or bench/loadgen.py); the streamed runs from this one, over loopback.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.common import API_KEY, BENCH, PYTHON, Server, percentile, start_emulator
from bench.figures import Figure, check
from bench.load import Op, run_load

VERSION = "2024-08-01-preview"
HEADERS = {"api-key": API_KEY}
RETRIEVE_TARGET = ">= 1500"
EMU_CMD = "python -m conformance.emulator --port 0"


@dataclass(frozen=True)
class Bounds:
    duration: float = 3.0  # seconds per measured load
    repeats: int = 3  # loads per operation; the median one is reported (the machine is shared and noisy)
    connections: int = 8
    streams_serial: int = 20
    streams_concurrent: int = 200
    messages: int = 100_000
    threads_for_messages: int = 100


QUICK = Bounds(duration=1.0, repeats=1, connections=2, streams_serial=2, streams_concurrent=5, messages=200,
               threads_for_messages=4)


def _q(extra: str = "") -> str:
    return f"?api-version={VERSION}" + (f"&{extra}" if extra else "")


def setup_objects(base: str) -> dict[str, str]:
    """An assistant to retrieve and a thread holding 100 messages to list."""
    with httpx.Client(base_url=base + "/openai", headers=HEADERS, timeout=30) as client:
        assistant = client.post(f"/assistants{_q()}", json={"model": "gpt-4o", "name": "bench"})
        assistant.raise_for_status()
        thread = client.post(f"/threads{_q()}", json={})
        thread.raise_for_status()
        thread_id = thread.json()["id"]
        for i in range(100):
            client.post(f"/threads/{thread_id}/messages{_q()}",
                        json={"role": "user", "content": f"message {i}"}).raise_for_status()
        listed = client.get(f"/threads/{thread_id}/messages{_q('limit=100')}").json()
        if len(listed["data"]) != 100:
            raise RuntimeError(f"list of 100 returned {len(listed['data'])} items")
    return {"assistant_id": assistant.json()["id"], "thread_id": thread_id}


def operations(ids: dict[str, str], prefix: str = "/openai") -> list[Op]:
    return [
        Op("retrieve assistant", "GET", f"{prefix}/assistants/{ids['assistant_id']}{_q()}"),
        Op("list 100 messages", "GET", f"{prefix}/threads/{ids['thread_id']}/messages{_q('limit=100')}"),
        Op("create assistant", "POST", f"{prefix}/assistants{_q()}", json.dumps({"model": "gpt-4o", "name": "b"})),
    ]


def measure_ops(group: str, server_cmd: str, base: str, ops: list[Op], bounds: Bounds, note: str,
                with_target: bool) -> list[Figure]:
    figures: list[Figure] = []
    for op in ops:
        runs = [run_load(base, op, HEADERS, bounds.duration, bounds.connections) for _ in range(bounds.repeats)]
        runs.sort(key=lambda r: float(str(r[0]["rps"])))
        result, shown = runs[len(runs) // 2]
        runs_rps = [float(str(r[0]["rps"])) for r in runs]
        result = {**result, "all_rps": runs_rps, "errors": sum(int(str(r[0]["errors"])) for r in runs)}
        shown = _placeholders(shown, base)
        target = RETRIEVE_TARGET if with_target and op.name.startswith("retrieve") else ""
        rps = float(result["rps"])  # type: ignore[arg-type]
        detail = dict(result)
        figures.append(Figure(group, f"{op.name}: requests/s", rps, "req/s", f"{server_cmd}; {shown}",
                              note=f"{note}; {result['generator']}, {bounds.connections} connections; median "
                                   f"of {bounds.repeats} loads of {bounds.duration:g} s (req/s: "
                                   f"{', '.join(f'{x:g}' for x in runs_rps)}); {result['errors']} errors",
                              target=target, met=check(rps, target), detail=detail))
        for q in ("p50", "p99"):
            figures.append(Figure(group, f"{op.name}: {q} latency", float(result[f"{q}_ms"]),  # type: ignore[arg-type]
                                  "ms", f"{server_cmd}; {shown}", note=f"at {bounds.connections} connections"))
    return figures


def _placeholders(shown: str, base: str) -> str:
    """Commands in the table name no ephemeral port or generated id, so they read the same every run."""
    shown = shown.replace(base, "http://127.0.0.1:PORT")
    shown = re.sub(r"asst_[A-Za-z0-9]+", "ASSISTANT_ID", shown)
    return re.sub(r"thread_[A-Za-z0-9]+", "THREAD_ID", shown)


def load_figures(bounds: Bounds) -> list[Figure]:
    """Retrieve / list of 100 / create against the emulator as shipped (httptools + uvloop, uvicorn's
    auto choice) and with uvicorn's pure-Python parser (h11 + asyncio), for the difference they make."""
    figures: list[Figure] = []
    variants = [("emulator", "auto", "one worker, as shipped: httptools + uvloop"),
                ("emulator+h11", "h11", "same emulator with --http h11 (pure-Python parser, asyncio loop)")]
    for group, http, note in variants:
        server = start_emulator(http=http)
        try:
            ids = setup_objects(server.url)
            cmd = EMU_CMD + (" --http h11" if http == "h11" else "")
            figures += measure_ops(group, cmd, server.url, operations(ids), bounds, note, with_target=http == "auto")
        finally:
            server.stop()
    return figures


# -- streamed runs ---------------------------------------------------------------------------------

STREAM_BODY = {"stream": True, "thread": {"messages": [{"role": "user", "content": "Say hello to the benchmark."}]}}


async def one_stream(client: httpx.AsyncClient, assistant_id: str) -> dict[str, Any]:
    """POST /threads/runs with stream: true; time to the first event, total, and whether it ended well."""
    started = time.perf_counter()
    first: float | None = None
    events: list[str] = []
    async with client.stream("POST", f"/threads/runs{_q()}", json={"assistant_id": assistant_id, **STREAM_BODY}) as rsp:
        status = rsp.status_code
        async for line in rsp.aiter_lines():
            if line.startswith("event:"):
                if first is None:
                    first = time.perf_counter() - started
                events.append(line.split(":", 1)[1].strip())
    total = time.perf_counter() - started
    ok = status == 200 and bool(events) and events[-1] == "done" and "thread.run.completed" in events
    return {"ttfe": first if first is not None else total, "total": total, "ok": ok, "status": status,
            "events": len(events), "last": events[-1] if events else ""}


async def _streams(base: str, assistant_id: str, serial: int, concurrent: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=concurrent, max_keepalive_connections=concurrent)
    async with httpx.AsyncClient(base_url=base + "/openai", headers=HEADERS, timeout=120, limits=limits) as client:
        sequential = [await one_stream(client, assistant_id) for _ in range(serial)]
        started = time.perf_counter()
        together = await asyncio.gather(*(one_stream(client, assistant_id) for _ in range(concurrent)),
                                        return_exceptions=True)
        wall = time.perf_counter() - started
    failures = [r for r in together
                if isinstance(r, BaseException) or not r["ok"]]
    return {"serial": sequential, "concurrent_wall": wall, "concurrent_n": concurrent,
            "concurrent_failures": [repr(f) if isinstance(f, BaseException) else f for f in failures[:5]],
            "concurrent_failed": len(failures),
            "concurrent_totals": [r["total"] for r in together if not isinstance(r, BaseException)]}


def stream_figures(bounds: Bounds) -> list[Figure]:
    server = start_emulator()
    try:
        ids = setup_objects(server.url)
        result = asyncio.run(_streams(server.url, ids["assistant_id"], bounds.streams_serial,
                                      bounds.streams_concurrent))
    finally:
        server.stop()
    cmd = f"{EMU_CMD} (--run-speed fast); POST /openai/threads/runs stream:true via httpx from bench/emulator_bench.py"
    serial = result["serial"]
    ttfe = [r["ttfe"] * 1000 for r in serial]
    total = [r["total"] * 1000 for r in serial]
    n = bounds.streams_concurrent
    failed = int(result["concurrent_failed"])
    note = f"{len(serial)} sequential create-thread-and-run streams; the emulator computes a stream's events before sending"
    totals = result["concurrent_totals"]
    return [
        Figure("streams", "time to first event (p50)", round(percentile(ttfe, 50), 2), "ms", cmd, note),
        Figure("streams", "time to first event (p99)", round(percentile(ttfe, 99), 2), "ms", cmd, note),
        Figure("streams", "whole stream to done (p50)", round(percentile(total, 50), 2), "ms", cmd, note),
        Figure("streams", f"{n} concurrent streams: completed without error", n - failed, "streams", cmd,
               f"{failed} failed; all {n} started at once, wall {result['concurrent_wall']:.2f} s; slowest "
               f"{max(totals) if totals else 0:.2f} s", target=f">= {n}", met=failed == 0,
               detail={"failures": result["concurrent_failures"]}),
    ]


# -- memory --------------------------------------------------------------------------------------

def fill_messages(server: Server, bounds: Bounds) -> tuple[dict[str, Any], str, list[str]]:
    """Create threads, then bounds.messages messages round-robin over them from a loadgen process."""
    with httpx.Client(base_url=server.url + "/openai", headers=HEADERS, timeout=30) as client:
        threads = [client.post(f"/threads{_q()}", json={}).json()["id"] for _ in range(bounds.threads_for_messages)]
    cmd = [PYTHON, str(BENCH / "loadgen.py"), "--url", server.url, "--method", "POST", "--connections", "8",
           "--count", str(bounds.messages), "--max-seconds", "240", "--header", f"api-key: {API_KEY}",
           "--body", json.dumps({"role": "user", "content": "A stored message of a typical short length."})]
    for thread in threads:
        cmd += ["--path", f"/openai/threads/{thread}/messages{_q()}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip() or f"loadgen exited {out.returncode}")
    shown = (f"python bench/loadgen.py --method POST --count {bounds.messages} --connections 8 "
             f"--path /openai/threads/<id>/messages (x{bounds.threads_for_messages} threads, round robin)")
    return json.loads(out.stdout), shown, threads


def memory_figures(bounds: Bounds) -> list[Figure]:
    server = start_emulator()
    try:
        before = server.rss_mib()
        result, shown, threads = fill_messages(server, bounds)
        after = server.rss_mib()
        # still answering, and a page of 100 stays cheap when every thread holds many messages
        timings: list[float] = []
        with httpx.Client(base_url=server.url + "/openai", headers=HEADERS, timeout=30) as client:
            for i in range(50):
                started = time.perf_counter()
                client.get(f"/threads/{threads[i % len(threads)]}/messages{_q('limit=100')}").raise_for_status()
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        server.stop()
    stored = int(result["requests"]) - int(result["errors"])
    cmd = f"{EMU_CMD}; {shown}"
    per_msg = (after - before) * 1024 * 1024 / stored if stored else 0.0
    return [
        Figure("memory", "RSS before filling", round(before, 1), "MiB", cmd, "emulator process, /proc/PID/status VmRSS"),
        Figure("memory", f"RSS with {stored:,} stored messages", round(after, 1), "MiB", cmd,
               f"{per_msg:,.0f} bytes per message; {result['errors']} errors; filled at {result['rps']} req/s "
               f"(create message, 8 connections)", detail=result),
        Figure("memory", "list 100 messages when full (p50, sequential)", round(percentile(timings, 50), 2), "ms",
               cmd, f"50 sequential GETs with httpx, threads of ~{stored // len(threads):,} messages each"),
        Figure("memory", "create message while filling: requests/s", float(result["rps"]), "req/s", cmd,
               f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms; bench/loadgen.py (asyncio, 1 process)"),
    ]
