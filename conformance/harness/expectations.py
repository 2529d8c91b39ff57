"""Known deviations as data: `conformance/expectations/<target>.toml` or `--expectations PATH`.

    [[deviation]]
    test = "test_messages_list_run_id_filter"   # a test name, or a full id with [params]
    api_version = "2024-05-01-preview"          # optional: only for this version
    reason = "the proxy drops run_id"           # required: shown in reports

Matching tests become strict xfails: a deviation that disappears fails the run (XPASS strict), so a
fixed deviation is noticed and its entry removed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from conformance.config import SettingsError


@dataclass(frozen=True)
class Expectation:
    test: str
    reason: str
    api_version: str | None = None

    def matches(self, name: str, nodeid: str, api_version: str | None) -> bool:
        if self.api_version is not None and self.api_version != api_version:
            return False
        return self.test in (name, nodeid) or nodeid.endswith("::" + self.test)


def parse_expectations(text: str, source: str) -> list[Expectation]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"expectations file {source} is not valid TOML: {exc}") from None
    entries = data.get("deviation", [])
    if not isinstance(entries, list):
        raise SettingsError(f"expectations file {source}: use [[deviation]] tables")
    result: list[Expectation] = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not entry.get("test") or not entry.get("reason"):
            raise SettingsError(f"expectations file {source}: deviation #{number} needs `test` and `reason`")
        version = entry.get("api_version")
        result.append(Expectation(str(entry["test"]), str(entry["reason"]), str(version) if version else None))
    return result


def load_expectations(target: str, path: str | None) -> list[Expectation]:
    """The user's file when given, else the packaged file for this target name, else none."""
    if path:
        file = Path(path)
        if not file.exists():
            raise SettingsError(f"expectations file {file} does not exist")
        return parse_expectations(file.read_text(encoding="utf-8"), str(file))
    packaged = resources.files("conformance.expectations").joinpath(f"{target}.toml")
    if packaged.is_file():
        return parse_expectations(packaged.read_text(encoding="utf-8"), f"conformance/expectations/{target}.toml")
    return []
