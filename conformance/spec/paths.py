"""Where the contract lives in the repository."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
SOURCE_DIR = SCHEMAS / "source"
BUNDLED_DIR = SCHEMAS / "bundled"


def bundled_path(api_version: str) -> Path:
    return BUNDLED_DIR / f"{api_version}.json"
