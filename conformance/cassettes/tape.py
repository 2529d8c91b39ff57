"""One vcrpy cassette around one test: record it, or replay it with nothing sent.

Requests match on method + path + query (bodies carry run tags and other incidentals); identical
requests (a polled run) are answered in recorded order, each recorded answer once. Ids the suite
makes up itself (``..._aoaic<hex>``, for "unknown object" calls) differ per run and match any such id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

from conformance.cassettes.sanitize import NO_SECRETS, Secrets, scrub_headers, scrub_response, scrub_uri
from conformance.cassettes.store import CassetteError, Persister, Provenance, dump_cassette, read_provenance

_MADE_UP_ID = re.compile(r"aoaic[0-9a-f]{8,}")
MATCHER = "aoai_path_query"


def request_key(method: str, path: str, query: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """What identifies a request for replay: method, path and query, made-up ids blanked."""
    pairs = sorted((k, _MADE_UP_ID.sub("aoaic*", v)) for k, v in parse_qsl(query, keep_blank_values=True))
    return method.upper(), _MADE_UP_ID.sub("aoaic*", path), tuple(pairs)


def _match(r1: Any, r2: Any) -> None:
    # vcrpy matchers signal a mismatch by raising AssertionError
    a = request_key(r1.method, r1.path, r1.parsed_uri.query)
    b = request_key(r2.method, r2.path, r2.parsed_uri.query)
    if a != b:  # a plain raise: pytest would rewrite an assert here and spend its time explaining it
        raise AssertionError("method, path or query differ")


def _scrub_request(secrets: Secrets) -> Any:
    def scrub(request: Any) -> Any:
        request.uri = scrub_uri(request.uri, secrets)
        request.headers = scrub_headers(dict(request.headers), secrets)
        body = request.body
        if isinstance(body, bytes):
            from conformance.cassettes.sanitize import scrub_body

            request.body = scrub_body(body, secrets)
        return request

    return scrub


def _scrub_response(secrets: Secrets) -> Any:
    def scrub(response: dict[str, Any]) -> dict[str, Any]:
        return scrub_response(response, secrets)

    return scrub


def missing_message(path: Path, api_version: str, test_name: str) -> str:
    return (f"no cassette {path}: record it with `aoai-conformance record --target emulator "
            f"--api-version {api_version} -k '{test_name.partition('[')[0]}'`")


@contextmanager
def cassette(path: Path, provenance: Provenance, *, record: bool, secrets: Secrets = NO_SECRETS) -> Iterator[Any]:
    """Record into `path` (replacing it) or replay from it (`CassetteError` when missing or foreign)."""
    import vcr

    if record:
        path.unlink(missing_ok=True)
    else:
        if not path.is_file():
            raise CassetteError(missing_message(path, provenance.api_version, provenance.test.partition("::")[2]))
        found = read_provenance(path)
        if found is not None and found.api_version != provenance.api_version:
            raise CassetteError(f"cassette {path} was recorded for api-version {found.api_version}, "
                                f"not {provenance.api_version}: re-record it")
    # Scrubbing hooks only when recording: on replay the persister has sanitised every interaction
    # already, and vcrpy would run the hooks again for each loaded interaction and each lookup.
    hooks: dict[str, Any] = {"before_record_request": _scrub_request(secrets),
                             "before_record_response": _scrub_response(secrets),
                             "decode_compressed_response": True,  # readable, scrubbable text, not gzip
                             } if record else {}
    recorder = vcr.VCR(record_mode="all" if record else "none", match_on=["method", MATCHER], **hooks)
    recorder.register_matcher(MATCHER, _match)
    recorder.register_persister(Persister(provenance))
    with recorder.use_cassette(str(path), allow_playback_repeats=False) as tape:
        yield tape
    if record and not path.exists():  # a test that sent nothing still gets its (empty) cassette
        dump_cassette(path, provenance, [])


def no_wait(seconds: float) -> None:
    """Replay's sleep: every wait (retry-after, backoff) already happened when the answers were recorded."""


class ReplayMiss(AssertionError):
    """The test sent a request its cassette does not hold (the suite changed since the recording)."""


class _NoNetwork(httpx.HTTPTransport):
    """Replay's transport: vcrpy (patched onto `httpx.HTTPTransport`) answers; a miss becomes one line."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        from vcr.errors import CannotOverwriteExistingCassetteException

        try:
            # looked up now, so it is vcrpy's patched method while a cassette is in use
            response: httpx.Response = httpx.HTTPTransport.handle_request(self, request)
        except CannotOverwriteExistingCassetteException as exc:
            cassette_file = getattr(getattr(exc, "cassette", None), "_path", "the test's cassette")
            reason = "was already answered (sent more often than recorded)" if getattr(
                exc, "reason", "") == "already_played" else "is not in it"
            raise ReplayMiss(
                f"replay: {request.method} {request.url.path}?{request.url.query.decode()} {reason} "
                f"({cassette_file}): the test no longer sends what was recorded (re-record it with "
                "`aoai-conformance record`), or it makes a set its module shares, recorded by an earlier "
                "test (replay the whole module: no -k, and -n only with --dist loadfile)"
            ) from None
        return response


def offline_transport() -> httpx.HTTPTransport:
    """An `httpx.HTTPTransport` (so vcrpy still intercepts it) whose connection pool cannot connect."""
    import httpcore

    class Blocked(httpcore.NetworkBackend):
        def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                        local_address: str | None = None, socket_options: Any = None) -> httpcore.NetworkStream:
            raise httpcore.ConnectError(f"replay is offline: refused to connect to {host}:{port}")

        def connect_unix_socket(self, path: str, timeout: float | None = None,
                                socket_options: Any = None) -> httpcore.NetworkStream:
            raise httpcore.ConnectError("replay is offline")

        def sleep(self, seconds: float) -> None:
            return None

    transport = _NoNetwork(retries=0)
    # httpx has no public switch for the network backend; the pool is rebuilt with a refusing one.
    transport._pool = httpcore.ConnectionPool(network_backend=Blocked())
    return transport
