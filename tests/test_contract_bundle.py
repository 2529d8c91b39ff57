"""The bundler and the bundled contracts it writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from openapi_spec_validator import validate

from conformance.spec import bundle
from conformance.spec.paths import bundled_path
from conformance.spec.sourceyaml import SourceError
from conformance.spec.versioning import select_version
from conformance.versions import API_VERSIONS

OLD, NEW = API_VERSIONS
EXPECTED_OPERATIONS = 42
METHODS = ("get", "put", "post", "delete", "patch")


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, item[method]) for path, item in document["paths"].items()
            for method in METHODS if method in item]


@pytest.fixture(scope="module", params=API_VERSIONS)
def bundled(request: pytest.FixtureRequest) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(bundled_path(request.param).read_text(encoding="utf-8"))
    return document


# -- the committed files --------------------------------------------------------------------------

def test_bundled_files_are_current() -> None:
    stale = bundle.stale_files()
    assert not stale, f"run `aoai-conformance bundle`: {', '.join(str(p) for p in stale)} not current"


def test_bundle_check_command_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert bundle.main(["--check"]) == 0, capsys.readouterr().err


def test_bundle_check_command_lists_stale_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = bundle.stale_files(out_dir=tmp_path)
    assert sorted(p.name for p in stale) == sorted(f"{v}.json" for v in API_VERSIONS)
    bundle.write_all(out_dir=tmp_path)
    assert bundle.stale_files(out_dir=tmp_path) == []
    (tmp_path / f"{NEW}.json").write_text("{}\n", encoding="utf-8")
    assert bundle.stale_files(out_dir=tmp_path) == [tmp_path / f"{NEW}.json"]


def test_bundle_output_is_stable_sorted_and_indented() -> None:
    text = bundle.render(bundle.build(NEW))
    assert text == bundle.render(bundle.build(NEW))
    document = json.loads(text)
    assert text == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_every_version_has_all_operations(bundled: dict[str, Any]) -> None:
    operations = _operations(bundled)
    ids = [op["operationId"] for _, _, op in operations]
    assert len(operations) == EXPECTED_OPERATIONS
    assert len(set(ids)) == len(ids), "operationIds must be unique"


def test_every_operation_has_one_tag_and_shared_parts(bundled: dict[str, Any]) -> None:
    declared_tags = {t["name"] for t in bundled["tags"]}
    for path, method, op in _operations(bundled):
        where = f"{method.upper()} {path}"
        assert len(op.get("tags", [])) == 1 and op["tags"][0] in declared_tags, where
        assert {"$ref": "#/components/parameters/ApiVersion"} in op["parameters"], where
        for status in ("400", "401", "404", "429", "500"):
            assert status in op["responses"], f"{where} lacks {status}"


def test_no_version_markers_survive(bundled: dict[str, Any]) -> None:
    text = json.dumps(bundled)
    assert '"x-since"' not in text and '"x-until"' not in text


def test_api_version_is_pinned(bundled: dict[str, Any]) -> None:
    version = bundled["x-api-version"]
    assert bundled["components"]["parameters"]["ApiVersion"]["schema"]["enum"] == [version]


def test_versions_differ_where_the_api_changed() -> None:
    old, new = bundle.build(OLD), bundle.build(NEW)
    old_chat = old["components"]["schemas"]["createChatCompletionRequest"]["properties"]
    new_chat = new["components"]["schemas"]["createChatCompletionRequest"]["properties"]
    assert "stream_options" not in old_chat and "stream_options" in new_chat
    assert "ResponseFormatJsonSchema" not in old["components"]["schemas"]
    assert "ResponseFormatJsonSchema" in new["components"]["schemas"]


def test_bundled_documents_are_valid_openapi(bundled: dict[str, Any]) -> None:
    validate(bundled)  # raises with the offending location


def test_schemathesis_loads_every_operation_from_dict(bundled: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_dict(bundled)
    results = list(schema.get_all_operations())
    problems = [str(r.err()) for r in results if not r.ok()]
    assert not problems, problems[:3]
    assert len(results) == EXPECTED_OPERATIONS


@pytest.mark.parametrize("version", API_VERSIONS)
def test_schemathesis_loads_every_operation_from_path(version: str) -> None:
    schema = schemathesis.openapi.from_path(str(bundled_path(version)))
    labels = {r.ok().label for r in schema.get_all_operations()}
    assert len(labels) == EXPECTED_OPERATIONS
    assert "POST /deployments/{deployment-id}/chat/completions" in labels


# -- x-since / x-until ----------------------------------------------------------------------------

SAMPLE: dict[str, Any] = {
    "type": "object",
    "required": ["a", "new_field", "old_field"],
    "properties": {
        "a": {"type": "string"},
        "new_field": {"type": "integer", "x-since": NEW},
        "old_field": {"type": "integer", "x-until": NEW},
        "bound": {"type": "integer", "allOf": [{"x-until": NEW, "maximum": 5}, {"x-since": NEW, "maximum": 20}]},
    },
}


def test_x_since_drops_a_node_before_its_version() -> None:
    old = select_version(SAMPLE, OLD)
    assert "new_field" not in old["properties"]
    assert old["required"] == ["a", "old_field"]


def test_x_until_drops_a_node_from_its_version_on() -> None:
    new = select_version(SAMPLE, NEW)
    assert "old_field" not in new["properties"]
    assert new["required"] == ["a", "new_field"]
    assert new["properties"]["new_field"] == {"type": "integer"}  # marker removed


def test_version_markers_work_in_lists() -> None:
    assert select_version(SAMPLE, OLD)["properties"]["bound"]["allOf"] == [{"maximum": 5}]
    assert select_version(SAMPLE, NEW)["properties"]["bound"]["allOf"] == [{"maximum": 20}]


def test_required_is_removed_when_every_name_was_dropped() -> None:
    node = {"type": "object", "required": ["x"], "properties": {"x": {"x-since": NEW}}}
    assert "required" not in select_version(node, OLD)
    assert select_version(node, NEW)["required"] == ["x"]


# -- merging fragments ----------------------------------------------------------------------------

def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


ROOT_YAML = """
openapi: 3.1.0
info: {title: t, version: '0'}
components:
  parameters:
    ApiVersion: {name: api-version, in: query, required: true, schema: {type: string}}
"""
FRAGMENT = """
paths:
  /things:
    get:
      operationId: List_Things
      responses:
        '200': {description: ok}
        '404': {description: custom}
components:
  schemas:
    thing: {type: object}
"""


def test_build_merges_fragments_and_injects_shared_parts(tmp_path: Path) -> None:
    _write(tmp_path, "root.yaml", ROOT_YAML)
    _write(tmp_path, "things.yaml", FRAGMENT)
    document = bundle.build(NEW, tmp_path)
    op = document["paths"]["/things"]["get"]
    assert op["parameters"] == [{"$ref": "#/components/parameters/ApiVersion"}]
    assert op["responses"]["404"] == {"description": "custom"}  # declared: kept
    assert op["responses"]["429"] == {"$ref": "#/components/responses/TooManyRequests"}
    assert "thing" in document["components"]["schemas"]
    assert "ApiVersion" in document["components"]["parameters"]


def test_an_operation_outside_the_version_is_dropped_with_its_path(tmp_path: Path) -> None:
    _write(tmp_path, "root.yaml", ROOT_YAML)
    _write(tmp_path, "new.yaml", f"""
paths:
  /new-thing:
    parameters: [{{name: id, in: query, schema: {{type: string}}}}]
    get:
      x-since: {NEW}
      operationId: Get_New_Thing
      responses: {{'200': {{description: ok}}}}
""")
    assert "/new-thing" not in bundle.build(OLD, tmp_path)["paths"]
    assert "get" in bundle.build(NEW, tmp_path)["paths"]["/new-thing"]


def test_a_key_defined_by_two_fragments_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "root.yaml", ROOT_YAML)
    _write(tmp_path, "a.yaml", FRAGMENT)
    _write(tmp_path, "b.yaml", "components:\n  schemas:\n    thing: {type: string}\n")
    with pytest.raises(SourceError, match="thing"):
        bundle.build(NEW, tmp_path)


def test_a_key_written_twice_in_one_file_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "root.yaml", ROOT_YAML)
    _write(tmp_path, "a.yaml", "components:\n  schemas:\n    x: {}\n    x: {}\n")
    with pytest.raises(SourceError, match=r"a\.yaml:4: key 'x' is defined twice"):
        bundle.build(NEW, tmp_path)


def test_version_strings_stay_strings(tmp_path: Path) -> None:
    _write(tmp_path, "root.yaml", ROOT_YAML)
    _write(tmp_path, "a.yaml", "components:\n  schemas:\n    x: {type: string, example: 2024-08-01}\n")
    assert bundle.build(NEW, tmp_path)["components"]["schemas"]["x"] == {"type": "string", "example": "2024-08-01"}


def test_bundle_reports_source_errors_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, "root.yaml", "openapi: [unclosed\n")
    assert bundle.main(["--check", "--source", str(tmp_path), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "root.yaml" in err and "Traceback" not in err and len(err.strip().splitlines()) <= 6


def test_bundle_check_exits_1_naming_stale_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, out = tmp_path / "src", tmp_path / "out"
    source.mkdir()
    _write(source, "root.yaml", ROOT_YAML)
    assert bundle.main(["--source", str(source), "--out", str(out)]) == 0
    assert bundle.main(["--check", "--source", str(source), "--out", str(out)]) == 0
    _write(source, "things.yaml", FRAGMENT)
    capsys.readouterr()
    assert bundle.main(["--check", "--source", str(source), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert all(f"{v}.json" in err for v in API_VERSIONS)


# -- chat streams through Schemathesis (how the fuzz layer sees them) -----------------------------

def _stream_response(body: bytes) -> Any:
    import datetime

    import httpx

    response = httpx.Response(200, headers={"content-type": "text/event-stream; charset=utf-8"}, content=body,
                              request=httpx.Request("POST", "https://example.invalid/openai/deployments/d/chat/completions"))
    response.read()
    response.elapsed = datetime.timedelta(0)  # Schemathesis reads it; only a sent request sets it
    return response


def _chunk(content: Any) -> bytes:
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]}
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


FILTER_CHUNK = (b'data: {"id":"","object":"","created":0,"model":"","choices":[],'
                b'"prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}\n\n')


@pytest.mark.parametrize("version", API_VERSIONS)
def test_schemathesis_validates_chat_streams_chunk_by_chunk(version: str) -> None:
    schema = schemathesis.openapi.from_dict(json.loads(bundled_path(version).read_text(encoding="utf-8")))
    op = schema.find_operation_by_id("ChatCompletions_Create")
    op.validate_response(_stream_response(FILTER_CHUNK + _chunk("Hel") + _chunk("lo") + b"data: [DONE]\n\n"))
    for bad in (_chunk(5), b"data: {not json}\n\n", b'data: {"object": "chat.completion.chunk"}\n\n'):
        with pytest.raises(Exception, match="SSE event"):
            op.validate_response(_stream_response(bad + b"data: [DONE]\n\n"))
