"""`aoai-conformance bundle`: schemas/source/*.yaml -> schemas/bundled/<api-version>.json.

Fragments are deep-merged (a key defined twice is an error), filtered to one api-version
(`x-since` / `x-until`), and completed with what every operation shares (the api-version
parameter and the standard error responses), so the fragments stay short.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance.spec.paths import BUNDLED_DIR, SOURCE_DIR
from conformance.spec.sourceyaml import SourceError, load_yaml
from conformance.spec.versioning import select_version
from conformance.versions import API_VERSIONS, check_version

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
# status -> shared response component, injected unless the operation declares the status itself.
STANDARD_ERRORS = {
    "400": "BadRequest",
    "401": "Unauthorized",
    "404": "NotFound",
    "429": "TooManyRequests",
    "500": "ServerError",
}
API_VERSION_REF = "#/components/parameters/ApiVersion"
# root.yaml first so the document's top-level keys come from it; the rest in name order.
ROOT_FRAGMENT = "root.yaml"


def deep_merge(into: dict[str, Any], other: dict[str, Any], where: str, origin: str) -> None:
    for key, value in other.items():
        path = f"{where}/{key}"
        if key not in into:
            into[key] = value
        elif isinstance(into[key], dict) and isinstance(value, dict):
            deep_merge(into[key], value, path, origin)
        else:
            raise SourceError(f"{origin}: {path} is already defined by another fragment")


def source_files(source_dir: Path = SOURCE_DIR) -> list[Path]:
    files = sorted(source_dir.glob("*.yaml"), key=lambda p: (p.name != ROOT_FRAGMENT, p.name))
    if not files or files[0].name != ROOT_FRAGMENT:
        raise SourceError(f"{source_dir}: no {ROOT_FRAGMENT} (the contract's root fragment)")
    return files


def merged_source(source_dir: Path = SOURCE_DIR) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for path in source_files(source_dir):
        fragment = load_yaml(path)
        if fragment is None:
            continue
        if not isinstance(fragment, dict):
            raise SourceError(f"{path}: a fragment must be a mapping, got {type(fragment).__name__}")
        deep_merge(document, fragment, "", path.name)
    return document


def inject_shared(document: dict[str, Any], api_version: str) -> None:
    """Add the api-version parameter and standard error responses to every operation."""
    for item in document.get("paths", {}).values():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            params = operation.setdefault("parameters", [])
            if not any(p.get("$ref") == API_VERSION_REF for p in params):
                params.insert(0, {"$ref": API_VERSION_REF})
            responses = operation.setdefault("responses", {})
            for status, name in STANDARD_ERRORS.items():
                responses.setdefault(status, {"$ref": f"#/components/responses/{name}"})
    # The contract for one version accepts exactly that api-version.
    param = document.get("components", {}).get("parameters", {}).get("ApiVersion")
    if isinstance(param, dict):
        param["schema"] = {"type": "string", "enum": [api_version], "default": api_version}
        param["example"] = api_version
    document.setdefault("info", {})["version"] = api_version
    document["x-api-version"] = api_version


def build(version: str, source_dir: Path = SOURCE_DIR) -> dict[str, Any]:
    """The bundled contract document for `version`."""
    check_version(version)
    document: dict[str, Any] = select_version(merged_source(source_dir), version)
    # A path whose every operation is outside this version does not exist in it.
    paths = document.get("paths", {})
    for path in [p for p, item in paths.items() if not any(m in item for m in HTTP_METHODS)]:
        del paths[path]
    inject_shared(document, version)
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def stale_files(versions: Sequence[str] = API_VERSIONS, source_dir: Path = SOURCE_DIR,
                out_dir: Path = BUNDLED_DIR) -> list[Path]:
    stale = []
    for version in versions:
        target = out_dir / f"{version}.json"
        wanted = render(build(version, source_dir))  # built first: a broken source is an error, not "stale"
        if not target.exists() or target.read_text(encoding="utf-8") != wanted:
            stale.append(target)
    return stale


def write_all(versions: Sequence[str] = API_VERSIONS, source_dir: Path = SOURCE_DIR,
              out_dir: Path = BUNDLED_DIR) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for version in versions:
        target = out_dir / f"{version}.json"
        target.write_text(render(build(version, source_dir)), encoding="utf-8")
        written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="aoai-conformance bundle",
        description="Rebuild schemas/bundled/<api-version>.json from schemas/source/*.yaml.",
    )
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 listing the bundled files that are not current")
    parser.add_argument("--source", type=Path, default=SOURCE_DIR, metavar="DIR",
                        help=f"the source fragments (default: {SOURCE_DIR})")
    parser.add_argument("--out", type=Path, default=BUNDLED_DIR, metavar="DIR",
                        help=f"where the bundled files go (default: {BUNDLED_DIR})")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        if args.check:
            stale = stale_files(source_dir=args.source, out_dir=args.out)
            for path in stale:
                print(f"stale: {path} (run `aoai-conformance bundle`)", file=sys.stderr)
            return 1 if stale else 0
        for path in write_all(source_dir=args.source, out_dir=args.out):
            print(f"wrote {path}")
    except SourceError as exc:
        print(f"aoai-conformance bundle: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
