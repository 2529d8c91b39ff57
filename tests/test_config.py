from __future__ import annotations

from pathlib import Path

import pytest

from conformance.config import EMULATOR_API_KEY, SettingsError, resolve_settings
from conformance.versions import API_VERSIONS


def test_default_is_the_embedded_emulator_on_every_version() -> None:
    settings = resolve_settings({}, env={})
    assert settings.kind == "emulator"
    assert settings.api_key == EMULATOR_API_KEY
    assert settings.api_versions == API_VERSIONS


def test_url_target_needs_an_endpoint_and_names_the_fix() -> None:
    with pytest.raises(SettingsError, match=r"--base-url or set AZURE_OPENAI_ENDPOINT"):
        resolve_settings({"target": "url"}, env={})


def test_url_target_needs_a_key_unless_entra() -> None:
    with pytest.raises(SettingsError, match=r"--api-key or set AZURE_OPENAI_API_KEY"):
        resolve_settings(
            {"target": "url", "base_url": "http://127.0.0.1:9", "auth": "key"}, env={}
        )
    settings = resolve_settings({"target": "live"}, env={"AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com"})
    assert settings.auth == "entra"


def test_flags_beat_environment_and_openai_suffix_is_dropped() -> None:
    env = {"AZURE_OPENAI_ENDPOINT": "https://env.openai.azure.com", "AZURE_OPENAI_API_KEY": "env-key"}
    settings = resolve_settings({"target": "url", "base_url": "http://127.0.0.1:8080/openai/"}, env=env)
    assert settings.endpoint == "http://127.0.0.1:8080"
    assert settings.api_key == "env-key"


def test_endpoint_without_scheme_is_rejected() -> None:
    with pytest.raises(SettingsError, match="must start with https://"):
        resolve_settings({"target": "url", "base_url": "myresource.openai.azure.com", "api_key": "k"}, env={})


def test_api_versions_from_env_list_and_unknown_version() -> None:
    settings = resolve_settings({}, env={"AZURE_OPENAI_API_VERSION": "2024-05-01-preview"})
    assert settings.api_versions == ("2024-05-01-preview",)
    settings = resolve_settings({"api_versions": ["all"]}, env={})
    assert settings.api_versions == API_VERSIONS
    with pytest.raises(SettingsError, match="'2023-01-01' is not covered; supported"):
        resolve_settings({"api_versions": ["2023-01-01"]}, env={})


def test_named_target_from_targets_file(tmp_path: Path) -> None:
    file = tmp_path / "targets.toml"
    file.write_text(
        '[targets.gw]\nkind = "url"\nendpoint = "http://127.0.0.1:8080"\napi_key_env = "GW_KEY"\n'
        'api_versions = ["2024-05-01-preview"]\n[targets.gw.deployments]\nchat = "my-chat"\n'
    )
    settings = resolve_settings({"target": "gw", "targets_file": str(file)}, env={"GW_KEY": "secret"})
    assert (settings.kind, settings.name, settings.api_key) == ("url", "gw", "secret")
    assert settings.deployments.chat == "my-chat"
    assert settings.api_versions == ("2024-05-01-preview",)
    with pytest.raises(SettingsError, match=r"'nope' is not in .*it has: gw"):
        resolve_settings({"target": "nope", "targets_file": str(file)}, env={})


def test_bad_targets_file_is_one_clear_message(tmp_path: Path) -> None:
    file = tmp_path / "targets.toml"
    file.write_text("[targets.gw\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        resolve_settings({"target": "gw", "targets_file": str(file)}, env={})
    with pytest.raises(SettingsError, match="does not exist"):
        resolve_settings({"target": "gw", "targets_file": str(tmp_path / "missing.toml")}, env={})


def test_key_is_not_in_the_repr() -> None:
    settings = resolve_settings({"target": "url", "base_url": "http://127.0.0.1:1", "api_key": "s3cr3t-key"}, env={})
    assert "s3cr3t-key" not in repr(settings)
