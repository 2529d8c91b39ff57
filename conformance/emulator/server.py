"""`aoai-conformance emulator`: serve the emulator with uvicorn on 127.0.0.1, or in a thread for tests."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import os
import socket
import sys
import threading
from dataclasses import dataclass

import uvicorn

from conformance.emulator.app import create_app
from conformance.emulator.chaos import Chaos
from conformance.emulator.faults import FAULTS, UnknownFault, check_faults
from conformance.emulator.settings import DEFAULT_API_KEY, RUN_SPEEDS, EmulatorSettings


class UsageError(ValueError):
    """A bad command line; the message says what to change."""


def _run_pace(value: str) -> float:
    if value in RUN_SPEEDS:
        return RUN_SPEEDS[value]
    try:
        seconds = float(value)
    except ValueError:
        raise UsageError(
            f"--run-speed {value!r}: use fast, normal, slow or a number of seconds per phase"
        ) from None
    if not 0 <= seconds <= 60:
        raise UsageError(f"--run-speed {value!r}: seconds per phase must be between 0 and 60")
    return seconds


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aoai-conformance emulator",
                                     description="Serve the reference emulator of the Azure OpenAI data-plane API.")
    parser.add_argument("--host", default="127.0.0.1", help="interface (loopback only unless --allow-remote)")
    parser.add_argument("--port", type=int, default=8000, help="port; 0 picks a free one (default 8000)")
    parser.add_argument("--api-key", action="append", dest="api_keys", metavar="KEY",
                        help=f"accepted api-key (repeatable; default {DEFAULT_API_KEY})")
    parser.add_argument("--fault", action="append", dest="faults", default=[], metavar="NAME",
                        help="switch a fault on (repeatable; --list-faults shows them)")
    parser.add_argument("--fault-header", action="store_true",
                        help="accept per-request faults in the x-emulator-faults header")
    parser.add_argument("--run-speed", default="fast", metavar="SPEED",
                        help="seconds per run phase: fast (0.05), normal (0.5), slow (1.0) or a number")
    parser.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    parser.add_argument("--http", choices=("auto", "h11", "httptools"), default="auto",
                        help="uvicorn's HTTP parser (auto: httptools when installed, else the pure-Python h11)")
    chaos = parser.add_argument_group("chaos (a busy, flaky resource on purpose)")
    chaos.add_argument("--chaos-429", type=float, default=0.0, metavar="RATE", help="share of requests answered 429")
    chaos.add_argument("--chaos-503", type=float, default=0.0, metavar="RATE", help="share of requests answered 503")
    chaos.add_argument("--chaos-drop", type=float, default=0.0, metavar="RATE",
                       help="share of connections dropped mid-response")
    chaos.add_argument("--chaos-latency-ms", type=float, default=0.0, metavar="MS", help="added latency per request")
    chaos.add_argument("--expiring-tokens", action="store_true",
                       help="bearer tokens must be emulator-token.<unix expiry> and unexpired")
    chaos.add_argument("--seed", type=int, default=0, help="seed of ids and chaos draws")
    parser.add_argument("--list-faults", action="store_true", help="print the fault catalogue and exit")
    return parser


def settings_from_args(args: argparse.Namespace) -> EmulatorSettings:
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: must be between 0 and 65535")
    if not args.allow_remote and not _loopback(args.host):
        raise UsageError(f"--host {args.host}: refusing a non-loopback interface without --allow-remote")
    keys = tuple(k for k in (args.api_keys or [DEFAULT_API_KEY]) if k)
    if not keys:
        raise UsageError("--api-key: a key cannot be empty")
    try:
        faults = check_faults(args.faults)
    except UnknownFault as exc:
        raise UsageError(str(exc)) from None
    rates = (args.chaos_429, args.chaos_503, args.chaos_drop)
    if any(not 0 <= rate <= 1 for rate in rates) or sum(rates) > 1 or args.chaos_latency_ms < 0:
        raise UsageError("--chaos-429/-503/-drop are shares between 0 and 1 (together at most 1); latency >= 0")
    chaos = Chaos(rate_429=args.chaos_429, rate_503=args.chaos_503, drop_rate=args.chaos_drop,
                  latency_ms=args.chaos_latency_ms, expiring_tokens=args.expiring_tokens, seed=args.seed)
    return EmulatorSettings(api_keys=keys, faults=faults, fault_header=args.fault_header,
                            run_pace=_run_pace(args.run_speed), chaos=chaos, seed=args.seed)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # asyncio only sets TCP_NODELAY on sockets created with proto IPPROTO_TCP; without it Nagle and
    # delayed ACKs add ~40 ms to every response (inherited by accepted connections on Linux).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _config(settings: EmulatorSettings, http: str = "auto") -> uvicorn.Config:
    # no `server: uvicorn` header: the gateway's 401 carries only apim-request-id, content-type, date
    return uvicorn.Config(create_app(settings), log_level="warning", access_log=False, lifespan="off",
                          server_header=False, http=http, loop="asyncio" if http == "h11" else "auto")


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list_faults:
        try:
            for fault in FAULTS.values():
                print(f"{fault.name:<30} {fault.area:<11} {fault.breaks:<30} {fault.description}")
            sys.stdout.flush()
        except BrokenPipeError:  # the reader went away (`| head`): not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    try:
        settings = settings_from_args(args)
        sock = _bind(args.host, args.port)
    except UsageError as exc:
        print(f"aoai-conformance emulator: {exc}", file=sys.stderr)
        return 2
    port = sock.getsockname()[1]
    print(f"aoai-conformance emulator listening on {_url(args.host, port)}", flush=True)
    print(f"api-key: {settings.api_keys[0]}  base path: /openai  faults: "
          f"{', '.join(sorted(settings.faults)) or 'none'}", flush=True)
    server = uvicorn.Server(_config(settings, args.http))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve(sockets=[sock]))
    sock.close()
    return 0


@dataclass
class RunningEmulator:
    url: str  # e.g. http://127.0.0.1:54321 (append /openai for clients)
    settings: EmulatorSettings
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def start_in_thread(settings: EmulatorSettings | None = None, host: str = "127.0.0.1",
                    port: int = 0) -> RunningEmulator:
    """Serve in a daemon thread (tests, the suite's embedded target); returns once it accepts connections."""
    settings = settings or EmulatorSettings()
    if not _loopback(host):
        raise UsageError(f"host {host}: the embedded emulator listens on loopback only")
    sock = _bind(host, port)
    server = uvicorn.Server(_config(settings))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])),
                              name="aoai-emulator", daemon=True)
    thread.start()
    for _ in range(500):  # bounded wait (5 s) for startup
        if server.started:
            break
        threading.Event().wait(0.01)
    else:
        server.should_exit = True
        raise RuntimeError("the emulator did not start within 5 s")
    return RunningEmulator(url=_url(host, sock.getsockname()[1]), settings=settings, _server=server,
                           _thread=thread)
