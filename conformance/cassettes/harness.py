"""What the pytest plugin calls to record and replay: options, the recorded target kind, the cassette
around each suite test. Kept here so the plugin only gains a few lines."""

from __future__ import annotations

import random
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from conformance import __version__
from conformance.cassettes.sanitize import PLACEHOLDER_HOST, Secrets
from conformance.cassettes.store import CassetteError, Provenance, cassette_path, default_dir, read_provenance
from conformance.cassettes.tape import cassette


def add_options(group: Any) -> None:
    group.addoption("--record-cassettes", action="store_true", default=False,
                    help="record one cassette per suite test (see `aoai-conformance record`)")
    group.addoption("--cassette-dir", default=None,
                    help="cassettes folder (default ./cassettes, env AOAI_CONFORMANCE_CASSETTES)")


def cassette_root(config: pytest.Config) -> Path:
    raw = config.getoption("cassette_dir", None)
    return Path(raw) if raw else default_dir()


def recorded_kind(root: Path, api_versions: Sequence[str]) -> str:
    """The target kind the cassettes to replay came from (the suite adapts to it, e.g. emulator-only tests)."""
    kinds: set[str] = set()
    for version in api_versions:
        for path in sorted((root / version).glob("*/*.yaml")):
            provenance = read_provenance(path)
            if provenance is not None:
                kinds.add(provenance.target)
    if len(kinds) > 1:
        raise CassetteError(f"cassettes in {root} come from several targets ({', '.join(sorted(kinds))}): "
                            "replay one recording at a time (--cassette-dir)")
    kind = kinds.pop() if kinds else "emulator"
    if kind not in ("emulator", "url", "live"):
        raise CassetteError(f"cassettes in {root} name an unknown target kind {kind!r}")
    return kind


@contextmanager
def test_cassette(item: pytest.Item, *, api_version: str, record: bool, target_kind: str,
                  endpoint: str | None, api_key: str | None, root: Path) -> Iterator[None]:
    """The cassette of one suite test; a missing or foreign one fails the test with one line."""
    module = getattr(item, "module", None)
    short = module.__name__.rsplit(".", 1)[-1] if module is not None else "unknown"
    path = cassette_path(root, api_version, short, item.name)
    provenance = Provenance(target=target_kind, api_version=api_version,
                            recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
                            package_version=__version__, test=f"{short}::{item.name}")
    if record and endpoint is not None and PLACEHOLDER_HOST in endpoint:
        pytest.fail("--record-cassettes records from a target (emulator, url, live), not from replay", pytrace=False)
    secrets = Secrets.for_endpoint(endpoint, api_key) if record else Secrets()
    with ExitStack() as stack:
        try:
            stack.enter_context(cassette(path, provenance, record=record, secrets=secrets))
        except CassetteError as exc:
            pytest.fail(str(exc), pytrace=False)
        # Ids the suite makes up (file ids for the emulator, unknown ids) must be the same when
        # recording and replaying, or echoed values would differ: uuid4 is seeded by the test.
        stack.enter_context(mock.patch("uuid.uuid4", _seeded_uuid4(f"{short}::{item.name}")))
        if not record:
            # The recorded answers already carry the outcome of every wait (polls, retry-after).
            stack.enter_context(mock.patch("time.sleep", _no_sleep))
        yield


def _seeded_uuid4(seed: str) -> Any:
    generator = random.Random(seed)
    real = uuid.uuid4

    def uuid4() -> uuid.UUID:
        # only the suite's own calls: plugins (allure, ...) draw uuids too, and only when enabled
        if not str(sys._getframe(1).f_globals.get("__name__", "")).startswith("conformance.suite"):
            return real()
        return uuid.UUID(int=generator.getrandbits(128), version=4)

    return uuid4


def _no_sleep(seconds: float) -> None:
    return None
