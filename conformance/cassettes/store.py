"""Where cassettes live, their provenance header, and the vcrpy persister that reads and writes them.

Layout: ``<dir>/<api-version>/<module>/<test>.yaml``. A file is vcrpy's YAML (``version``,
``interactions``) with one extra top-level key, ``provenance`` (target kind, api-version, recorded
at, package version: never a host), which vcrpy ignores. Loading sanitises every interaction again.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from conformance.cassettes.sanitize import (
    NO_SECRETS,
    Secrets,
    scrub_body,
    scrub_headers,
    scrub_response,
    scrub_uri,
)

CASSETTE_DIR_ENV = "AOAI_CONFORMANCE_CASSETTES"
HEADER_LINE = "# aoai-conformance cassette: review with `git diff`; re-record with `aoai-conformance record`\n"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.=+\[\]-]+")


class CassetteError(Exception):
    """A cassette is missing, unreadable or for another api-version; the message names the fix."""


@dataclass(frozen=True)
class Provenance:
    target: str  # the target kind it was recorded from: emulator | url | live
    api_version: str
    recorded_at: str  # ISO 8601 UTC
    package_version: str
    test: str = ""  # module::test name


def default_dir() -> Path:
    return Path(os.environ.get(CASSETTE_DIR_ENV) or "cassettes")


def cassette_file_name(name: str, api_version: str) -> str:
    """`test_x[2024-05-01-preview]` -> `test_x`; `test_x[asc-2024-05-01-preview]` -> `test_x[asc]`."""
    base, _, params = name.partition("[")
    inner = params[:-1] if params.endswith("]") else params
    rest = inner.replace(api_version, "").replace("--", "-").strip("-")
    label = f"{base}[{rest}]" if rest else base
    return _UNSAFE.sub("_", label) + ".yaml"


def cassette_path(root: Path, api_version: str, module: str, test_name: str) -> Path:
    return root / api_version / module / cassette_file_name(test_name, api_version)


def read_provenance(path: Path) -> Provenance | None:
    """The header only (the lines before `interactions:`), without parsing the whole file."""
    head: list[str] = []
    with path.open(encoding="utf-8") as src:
        for line in src:
            if line.startswith("interactions:"):
                break
            head.append(line)
    data = yaml.safe_load("".join(head)) or {}
    raw = data.get("provenance") if isinstance(data, dict) else None
    if not isinstance(raw, dict):
        return None
    known = set(Provenance.__dataclass_fields__)
    try:
        return Provenance(**{k: str(v) for k, v in raw.items() if k in known})
    except TypeError:
        return None


def dump_cassette(path: Path, provenance: Provenance, interactions: list[dict[str, Any]]) -> None:
    from vcr.serializers import yamlserializer

    # provenance first so a reviewer (and read_provenance) sees it at the top
    text = yamlserializer.serialize({"provenance": asdict(provenance)}) + yamlserializer.serialize(
        {"interactions": interactions, "version": 1}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER_LINE + text, encoding="utf-8")


def load_interactions(path: Path) -> tuple[Provenance | None, list[dict[str, Any]]]:
    """Provenance and sanitised raw interactions (request/response dicts) of one cassette file."""
    from vcr.serializers import yamlserializer

    try:
        data = yamlserializer.deserialize(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CassetteError(f"{path}: not a readable cassette ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f"{path}: not a vcrpy cassette (no `interactions` list)")
    raw = data.get("provenance")
    provenance = None
    if isinstance(raw, dict):
        known = set(Provenance.__dataclass_fields__)
        provenance = Provenance(**{k: str(raw.get(k, "")) for k in known})
    return provenance, [sanitise_interaction(i) for i in data["interactions"] if isinstance(i, dict)]


def sanitise_interaction(interaction: dict[str, Any], secrets: Secrets = NO_SECRETS) -> dict[str, Any]:
    request = dict(interaction.get("request") or {})
    if "uri" in request:
        request["uri"] = scrub_uri(str(request["uri"]), secrets)
    request["headers"] = scrub_headers(dict(request.get("headers") or {}), secrets)
    request["body"] = scrub_body(request.get("body"), secrets)
    response = scrub_response(dict(interaction.get("response") or {}), secrets)
    return {"request": request, "response": response}


class Persister:
    """vcrpy persister: writes the provenance header, sanitises on load, checks the api-version."""

    def __init__(self, provenance: Provenance) -> None:
        self.provenance = provenance

    def load_cassette(self, cassette_path: str | Path, serializer: Any) -> tuple[list[Any], list[Any]]:
        from vcr.persisters.filesystem import CassetteNotFoundError
        from vcr.request import Request
        from vcr.serializers import compat

        path = Path(cassette_path)
        if not path.is_file():
            raise CassetteNotFoundError()
        provenance, interactions = load_interactions(path)
        if provenance is not None and provenance.api_version != self.provenance.api_version:
            raise CassetteError(
                f"{path} was recorded for api-version {provenance.api_version}, not {self.provenance.api_version}"
            )
        requests = [Request._from_dict(i["request"]) for i in interactions]
        responses = [compat.convert_to_bytes(i["response"]) for i in interactions]
        return requests, responses

    def save_cassette(self, cassette_path: str | Path, cassette_dict: dict[str, Any], serializer: Any) -> None:
        from vcr.serializers import compat

        interactions = [
            {"request": compat.convert_to_unicode(req._to_dict()), "response": compat.convert_to_unicode(resp)}
            for req, resp in zip(cassette_dict["requests"], cassette_dict["responses"], strict=True)
        ]
        dump_cassette(Path(cassette_path), self.provenance, [sanitise_interaction(i) for i in interactions])
