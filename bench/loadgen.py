"""A small HTTP/1.1 keep-alive load generator on raw asyncio streams, run as its own process.

Used where wrk is missing, and for count-bounded loads (filling the emulator with 100,000 messages),
which wrk (time-bounded) cannot do. Raw streams instead of httpx: the client must cost far less CPU
than the server it measures, on the same 2-core machine. Only 127.0.0.1 / localhost targets.

    python bench/loadgen.py --url http://127.0.0.1:PORT --path '/openai/x?api-version=V' \
        [--path ...] [--method POST --body '{...}'] [--header 'api-key: K'] \
        [--connections 8] [--duration 5] [--count N] [--max-seconds 300]

Prints one JSON object: requests, errors, statuses, seconds, rps, p50_ms, p99_ms.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    sent: int = 0


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one response (Content-Length or chunked body); return its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


def _requests(host: str, paths: list[str], method: str, body: bytes, headers: list[str]) -> Iterator[bytes]:
    extra = "".join(f"{h}\r\n" for h in headers)
    length = f"content-type: application/json\r\ncontent-length: {len(body)}\r\n" if body else ""
    templates = [
        f"{method} {path} HTTP/1.1\r\nhost: {host}\r\n{extra}{length}\r\n".encode() + body for path in paths
    ]
    return itertools.cycle(templates)


async def _worker(host: str, port: int, source: Iterator[bytes], tally: Tally, stop_at: float,
                  budget: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at and budget[0] != 0:
            budget[0] -= 1  # negative budgets never reach 0: time-bounded only
            request = next(source)
            started = time.perf_counter()
            tally.sent += 1
            writer.write(request)
            try:
                status = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                tally.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            tally.latencies.append(time.perf_counter() - started)
            tally.statuses[status] += 1
            if status >= 400:
                tally.errors += 1
    finally:
        writer.close()


async def run(url: str, paths: list[str], method: str = "GET", body: bytes = b"", headers: list[str] | None = None,
              connections: int = 8, duration: float = 5.0, count: int | None = None,
              max_seconds: float = 300.0) -> dict[str, object]:
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 80
    if host not in LOOPBACK:
        raise ValueError(f"loadgen targets loopback only, not {host!r}")
    # a count-bounded load still stops after max_seconds; a time-bounded one after duration
    stop_at = time.perf_counter() + (max_seconds if count is not None else min(duration, max_seconds))
    budget = [count if count is not None else -1]
    tally = Tally()
    source = _requests(f"{host}:{port}", paths, method, body, headers or [])
    started = time.perf_counter()
    await asyncio.gather(*(_worker(host, port, source, tally, stop_at, budget) for _ in range(connections)))
    seconds = time.perf_counter() - started
    done = len(tally.latencies)
    ordered = sorted(tally.latencies)

    def pct(q: float) -> float | None:
        return round(ordered[min(done - 1, int(q / 100 * done))] * 1000, 3) if done else None

    return {"requests": done, "errors": tally.errors, "statuses": {str(k): v for k, v in tally.statuses.items()},
            "seconds": round(seconds, 3), "rps": round(done / seconds, 1) if seconds else 0.0,
            "p50_ms": pct(50), "p99_ms": pct(99), "connections": connections,
            "bounded_by": "count" if count is not None else "time", "stopped_early": count is not None and done < count}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/loadgen.py", description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--path", action="append", required=True, help="request target; several: round robin")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body", default="", help="JSON body (sent as application/json)")
    parser.add_argument("--header", action="append", default=[], help="'name: value'")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds (time-bounded load)")
    parser.add_argument("--count", type=int, default=None, help="requests (count-bounded load)")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="hard stop for any load")
    args = parser.parse_args(argv)
    if not 1 <= args.connections <= 512 or (args.count is not None and args.count < 1):
        print("bench/loadgen.py: --connections must be 1..512 and --count >= 1", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(run(args.url, args.path, args.method.upper(), args.body.encode(), args.header,
                                 args.connections, args.duration, args.count, args.max_seconds))
    except (ValueError, OSError) as exc:
        print(f"bench/loadgen.py: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
