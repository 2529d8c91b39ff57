"""Drive a time-bounded load from a separate process: wrk when installed, else bench/loadgen.py."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.common import BENCH, PYTHON


@dataclass(frozen=True)
class Op:
    name: str  # "retrieve assistant"
    method: str
    path: str  # request target incl. query
    body: str = ""  # JSON text for POST


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not found:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def parse_wrk(output: str) -> dict[str, object]:
    """Requests/s, p50/p99 (from --latency), request and error counts out of wrk's text output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    if not (rps and total and p50 and p99):
        raise ValueError("wrk printed no figures: " + " | ".join(output.strip().splitlines()[-3:]))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    return {"rps": float(rps.group(1)), "requests": int(total.group(1)),
            "seconds": round(_ms(total.group(2) + total.group(3)) / 1000, 3),
            "p50_ms": round(_ms(p50.group(1)), 3), "p99_ms": round(_ms(p99.group(1)), 3), "errors": errors}


def _lua(op: Op, headers: dict[str, str]) -> str:
    lines = [f'wrk.method = "{op.method}"']
    for key, value in headers.items():
        lines.append(f'wrk.headers["{key}"] = "{value}"')
    if op.body:
        lines.append('wrk.headers["content-type"] = "application/json"')
        lines.append(f"wrk.body = {json.dumps(op.body)}")
    return "\n".join(lines) + "\n"


def run_load(base_url: str, op: Op, headers: dict[str, str], duration: float, connections: int,
             prefer_wrk: bool = True) -> tuple[dict[str, object], str]:
    """One bounded load; returns (figures, the command that produced them)."""
    url = base_url + op.path
    seconds = max(1, round(duration))
    if prefer_wrk and shutil.which("wrk") and not os.environ.get("BENCH_NO_WRK"):
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(_lua(op, headers))
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
        finally:
            Path(script.name).unlink(missing_ok=True)
        result = parse_wrk(out.stdout)
        result["generator"] = "wrk (1 thread)"
        shown = f"wrk -t1 -c{connections} -d{seconds}s --latency -s <{op.method} script> '{url}'"
        return result, shown
    cmd = [PYTHON, str(BENCH / "loadgen.py"), "--url", base_url, "--path", op.path, "--method", op.method,
           "--connections", str(connections), "--duration", str(seconds)]
    cmd += [arg for key, value in headers.items() for arg in ("--header", f"{key}: {value}")]
    if op.body:
        cmd += ["--body", op.body]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip() or f"loadgen exited {out.returncode}")
    result = json.loads(out.stdout)
    result["generator"] = "bench/loadgen.py (asyncio, 1 process)"
    shown = " ".join(shlex.quote(c) for c in ["python", "bench/loadgen.py", *cmd[2:]])
    return result, shown
