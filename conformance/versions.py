"""The api-versions the contract covers, and how to compare them."""

from __future__ import annotations

API_VERSIONS: tuple[str, ...] = ("2024-05-01-preview", "2024-08-01-preview")
DEFAULT_API_VERSION = API_VERSIONS[-1]


class UnknownApiVersion(ValueError):
    """An api-version this project has no contract for."""


def check_version(version: str) -> str:
    """Return `version` if we have a contract for it, else raise with the supported list."""
    if version not in API_VERSIONS:
        raise UnknownApiVersion(
            f"api-version {version!r} is not covered; supported: {', '.join(API_VERSIONS)}"
        )
    return version


def version_key(version: str) -> tuple[str, int]:
    """Sort key: the date first, then GA after preview of the same date."""
    date, _, label = version.partition("-preview")
    return (date, 0 if version.endswith("-preview") or label else 1)


def at_least(version: str, minimum: str) -> bool:
    """True when `version` is `minimum` or later."""
    return version_key(version) >= version_key(minimum)
