"""`aoai-conformance cleanup`: delete what interrupted runs left on a target, and only that.

Two sources, both limited to objects this tool made: the local ledger of created objects (the only
way to find threads, which the API cannot list), and listing assistants and vector stores whose
metadata carries the `conformance_run` tag.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

from conformance.client import ClientError, ConformanceClient
from conformance.config import SettingsError, TargetSettings, resolve_settings
from conformance.harness.target import token_provider_for
from conformance.harness.tracker import TAG_KEY, Created, Ledger, delete_all, state_dir

LISTABLE = (("assistant", "/assistants"), ("vector_store", "/vector_stores"))


def _walk(client: ConformanceClient, path: str) -> Iterator[dict[str, Any]]:
    after: str | None = None
    for _ in range(1000):  # bounded: 100,000 objects at most
        response = client.get(path, params={"limit": 100, "order": "asc", "after": after})
        if response.status_code != 200:
            raise ClientError(f"GET {path} answered {response.status_code}: {response.text[:300]}")
        page = response.json()
        yield from page.get("data", [])
        if not page.get("has_more") or not page.get("last_id"):
            return
        after = page["last_id"]


def tagged(client: ConformanceClient, run_id: str | None) -> list[Created]:
    """Listable objects carrying our tag (for one run, or any run)."""
    found: list[Created] = []
    for kind, path in LISTABLE:
        for obj in _walk(client, path):
            tag = (obj.get("metadata") or {}).get(TAG_KEY)
            if tag and (run_id is None or tag == run_id):
                found.append(Created(kind, obj["id"], f"{path}/{obj['id']}"))
    return found


def sweep(client: ConformanceClient, settings: TargetSettings, run_id: str | None) -> tuple[int, list[str]]:
    """Delete ledger leftovers and tagged objects; returns (deleted count, paths that failed)."""
    ledger = Ledger(state_dir() / "ledger.jsonl")
    from_ledger = [item for rid, item in ledger.outstanding(settings.name) if run_id is None or rid == run_id]
    targets = {item.delete_path: item for item in [*from_ledger, *tagged(client, run_id)]}
    failed = delete_all(client, targets.values())
    for rid, item in ledger.outstanding(settings.name):
        if item.delete_path in targets and item.delete_path not in failed:
            ledger.remove(settings.name, rid, item)
    return len(targets) - len(failed), failed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="aoai-conformance cleanup", description=__doc__)
    parser.add_argument("--target", default=None)
    parser.add_argument("--base-url", default=None)
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--auth", choices=("key", "entra", "none"), default=None)
    parser.add_argument("--targets-file", default=None)
    parser.add_argument("--api-version", default=None)
    parser.add_argument("--run-id", default=None, help="only this run's objects (default: every run's)")
    options = parser.parse_args(argv)
    try:
        settings = resolve_settings({
            "target": options.target, "base_url": options.base_url, "api_key": options.api_key,
            "auth": options.auth, "targets_file": options.targets_file,
            "api_versions": [options.api_version] if options.api_version else None,
        })
        if settings.kind in ("emulator", "replay") or settings.endpoint is None:
            raise SettingsError("cleanup needs a running target: use --target url|live with --base-url")
        client = ConformanceClient(
            settings.endpoint, settings.api_versions[-1],
            api_key=settings.api_key if settings.auth == "key" else None,
            token_provider=token_provider_for(settings), timeout=settings.timeout,
        )
        with client:
            deleted, failed = sweep(client, settings, options.run_id)
    except (SettingsError, ClientError) as exc:
        print(f"aoai-conformance cleanup: {exc}", file=sys.stderr)
        return 2
    print(f"aoai-conformance cleanup: deleted {deleted} object(s)" + (f"; could not delete {len(failed)}: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0
