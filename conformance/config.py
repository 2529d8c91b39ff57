"""Target settings: from command-line flags, environment variables and an optional targets.toml.

Precedence: flag > environment > named section of targets.toml > built-in default. A missing
setting stops the run with one `SettingsError` that names the flag and the variable to set.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from conformance.versions import API_VERSIONS, UnknownApiVersion, check_version

TargetKind = Literal["emulator", "url", "live", "replay"]
AuthMode = Literal["key", "entra", "none"]
TARGET_KINDS: tuple[TargetKind, ...] = ("emulator", "url", "live", "replay")

# The key the embedded emulator accepts; not a secret.
EMULATOR_API_KEY = "emulator-key"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the fix."""


@dataclass(frozen=True)
class Deployments:
    """Deployment names the tests address (Azure routes inference calls by deployment)."""

    chat: str = "gpt-4o"
    completions: str = "gpt-35-turbo-instruct"
    embeddings: str = "text-embedding-3-small"
    transcription: str = "whisper"
    speech: str = "tts"
    images: str = "dall-e-3"
    assistants_model: str = "gpt-4o"  # the `model` of assistants: a chat deployment name


DEPLOYMENT_ENV: dict[str, str] = {
    "chat": "AZURE_OPENAI_CHAT_DEPLOYMENT",
    "completions": "AZURE_OPENAI_COMPLETIONS_DEPLOYMENT",
    "embeddings": "AZURE_OPENAI_EMBEDDINGS_DEPLOYMENT",
    "transcription": "AZURE_OPENAI_TRANSCRIPTION_DEPLOYMENT",
    "speech": "AZURE_OPENAI_SPEECH_DEPLOYMENT",
    "images": "AZURE_OPENAI_IMAGES_DEPLOYMENT",
    "assistants_model": "AZURE_OPENAI_ASSISTANTS_DEPLOYMENT",
}


@dataclass(frozen=True)
class TargetSettings:
    kind: TargetKind
    name: str  # the target's display name: the kind, or the section name in targets.toml
    endpoint: str | None  # as Azure users write it, without /openai; None for the embedded emulator
    api_key: str | None = field(default=None, repr=False)
    auth: AuthMode = "key"
    api_versions: tuple[str, ...] = API_VERSIONS
    deployments: Deployments = Deployments()
    filter_prompt: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    strict_reference: bool = False

    @property
    def is_live(self) -> bool:
        return self.kind == "live"


def _split_versions(raw: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    versions: list[str] = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if part == "all":
                versions.extend(API_VERSIONS)
            elif part:
                versions.append(part)
    try:
        return tuple(dict.fromkeys(check_version(v) for v in versions))
    except UnknownApiVersion as exc:
        raise SettingsError(f"{exc} (set with --api-version or AZURE_OPENAI_API_VERSION)") from None


def load_targets_file(path: Path) -> dict[str, dict[str, Any]]:
    """Read targets.toml: `[targets.<name>]` sections; errors name the file and the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"targets file {path} does not exist (see targets.example.toml)") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"targets file {path} is not valid TOML: {exc}") from None
    targets = data.get("targets", {})
    if not isinstance(targets, dict) or not all(isinstance(v, dict) for v in targets.values()):
        raise SettingsError(f"targets file {path}: expected [targets.<name>] tables")
    return targets


def _normalise_endpoint(endpoint: str) -> str:
    endpoint = endpoint.strip().rstrip("/")
    if endpoint.endswith("/openai"):
        endpoint = endpoint[: -len("/openai")]
    if not endpoint.startswith(("http://", "https://")):
        raise SettingsError(
            f"endpoint {endpoint!r} must start with https:// (or http:// for a local emulator); "
            "set --base-url or AZURE_OPENAI_ENDPOINT, e.g. https://<resource>.openai.azure.com"
        )
    return endpoint


def resolve_settings(
    options: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
) -> TargetSettings:
    """Build the settings for one run.

    `options` holds the command-line values (None when not given): target, base_url, api_key,
    api_versions (list), auth, targets_file, strict_reference, timeout.
    """
    env = os.environ if env is None else env
    target = str(options.get("target") or env.get("AOAI_CONFORMANCE_TARGET") or "emulator")
    section: dict[str, Any] = {}
    targets_file = options.get("targets_file") or env.get("AOAI_CONFORMANCE_TARGETS")
    if target not in TARGET_KINDS:
        if not targets_file and Path("targets.toml").exists():
            targets_file = "targets.toml"
        if not targets_file:
            raise SettingsError(
                f"unknown target {target!r}: use one of {', '.join(TARGET_KINDS)}, or name a section of a "
                "targets.toml given with --targets-file (or AOAI_CONFORMANCE_TARGETS)"
            )
        targets = load_targets_file(Path(targets_file))
        if target not in targets:
            raise SettingsError(
                f"target {target!r} is not in {targets_file}; it has: {', '.join(sorted(targets)) or 'none'}"
            )
        section = targets[target]
    kind_raw = str(section.get("kind", target))
    if kind_raw not in TARGET_KINDS:
        raise SettingsError(f"target {target!r}: kind must be one of {', '.join(TARGET_KINDS)}")
    kind: TargetKind = kind_raw

    def pick(option: str, variable: str, key: str) -> Any:
        value = options.get(option)
        if value in (None, "", []):
            value = env.get(variable) or None
        if value is None:
            value = section.get(key)
            if value is None and key == "api_key" and section.get("api_key_env"):
                value = env.get(str(section["api_key_env"]))
        return value

    versions_raw = pick("api_versions", "AZURE_OPENAI_API_VERSION", "api_versions")
    versions = _split_versions(versions_raw) if versions_raw else API_VERSIONS
    deployments = Deployments(
        **{
            name: str(env.get(variable) or section.get("deployments", {}).get(name) or getattr(Deployments(), name))
            for name, variable in DEPLOYMENT_ENV.items()
        }
    )
    endpoint_raw = pick("base_url", "AZURE_OPENAI_ENDPOINT", "endpoint")
    api_key = pick("api_key", "AZURE_OPENAI_API_KEY", "api_key")
    auth_raw = options.get("auth") or section.get("auth")
    timeout = float(options.get("timeout") or section.get("timeout") or 60.0)
    settings = TargetSettings(
        kind=kind,
        name=target,
        endpoint=None,
        api_versions=versions,
        deployments=deployments,
        filter_prompt=env.get("AOAI_CONFORMANCE_FILTER_PROMPT") or section.get("filter_prompt"),
        timeout=timeout,
        strict_reference=bool(options.get("strict_reference")),
    )
    if kind == "emulator":
        # The embedded emulator is started by the plugin; its URL is filled in then.
        return replace(settings, api_key=api_key or EMULATOR_API_KEY, auth="key")
    if kind == "replay":
        return replace(settings, endpoint="https://replay.invalid", api_key="replay", auth="key")
    if not endpoint_raw:
        raise SettingsError(
            f"target {target!r} needs an endpoint: pass --base-url or set AZURE_OPENAI_ENDPOINT "
            "(e.g. https://<resource>.openai.azure.com, or http://127.0.0.1:8080 for an emulator)"
        )
    endpoint = _normalise_endpoint(str(endpoint_raw))
    auth: AuthMode
    if auth_raw in ("key", "entra", "none"):
        auth = auth_raw
    elif auth_raw:
        raise SettingsError(f"--auth must be key, entra or none, not {auth_raw!r}")
    else:
        auth = "key" if api_key else ("entra" if kind == "live" else "none")
    if auth == "key" and not api_key:
        raise SettingsError(
            f"target {target!r} needs a key: pass --api-key or set AZURE_OPENAI_API_KEY "
            "(or use --auth entra for Microsoft Entra ID)"
        )
    return replace(settings, endpoint=endpoint, api_key=api_key, auth=auth)
