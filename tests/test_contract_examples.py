"""Every response example of the published reference validates against our contract.

The reference (`../shared/reference-docs/001_*.txt`, api-version 2024-05-01-preview) lists, per
operation, examples laid out as: the request line `METHOD https://{endpoint}/openai/<path>?...`,
an optional request body, then `Responses: Status Code: <n>` followed by a JSON document whose
`body` is the response. Each such example is one test. Examples that are not a JSON response object
(plain-text or binary answers) are reported as skipped with the reason, never dropped; examples that
contradict what the service does are expected failures with the recorded reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.findings import errors
from conformance.spec import load_contract

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DOC_VERSION = "2024-05-01-preview"
_REQUEST_LINE = re.compile(r"^(GET|POST|DELETE|PUT|PATCH) https://\{endpoint\}/openai(/[^?\s]*)", re.M)
_RESPONSE_LINE = re.compile(r"^Responses: Status Code: (\d{3})\s*$", re.M)

# Reference examples that disagree with the contract, why, and the fields concerned. Keyed by example
# id. Such a test is an expected failure only while its findings concern exactly these fields: any
# other finding fails it, and so does an entry whose fields no longer produce findings (remove it).
# No example currently contradicts a recorded service deviation (schemas/deviations.yaml); the ones
# below are the reference contradicting itself.
FILE_BATCH_NAME = ("the reference's examples say object vector_store.file_batch; its own object table "
                   "(vectorStoreFileBatchObject) says vector_store.files_batch, which the contract follows")


MISSING = "missing required field"


def abridged(*fields: str) -> tuple[str, tuple[str, ...], str]:
    return (f"abridged reference example: omits {', '.join(fields)}, which the reference's object tables "
            "mark required and the contract requires", fields, MISSING)


# id -> (reason, the fields concerned, what every finding must say: "" for anything)
EXAMPLE_DEFECTS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "POST /deployments/{deployment-id}/completions #1": abridged("model", "object"),
    "POST /deployments/{deployment-id}/embeddings #1": abridged("model", "object"),
    "POST /deployments/{deployment-id}/chat/completions #1": abridged("model", "object"),
    "POST /deployments/{deployment-id}/chat/completions #2": abridged("model", "object"),
    "POST /deployments/{deployment-id}/chat/completions #3": abridged("model", "object"),
    "POST /deployments/{deployment-id}/chat/completions #4": abridged("model", "object"),
    "POST /deployments/{deployment-id}/chat/completions #5": abridged("model", "object"),
    "POST /deployments/{deployment-id}/chat/completions #6": abridged("model", "object"),
    "POST /deployments/{deployment-id}/chat/completions #7": abridged("model", "object"),
    "POST /deployments/{deployment-id}/chat/completions #8": abridged("model", "object"),
    "POST /threads #1": abridged("tool_resources"),
    "GET /threads/{thread_id}/messages/{message_id} #1": abridged("attachments"),
    "POST /threads/{thread_id}/messages/{message_id} #1": abridged("attachments"),
    "GET /threads/{thread_id}/runs #1": abridged("required_action"),
    "POST /threads/{thread_id}/runs #1": abridged("required_action"),
    "GET /threads/{thread_id}/runs/{run_id} #1": abridged("incomplete_details", "max_completion_tokens", "max_prompt_tokens", "required_action", "response_format", "tool_choice", "truncation_strategy", "usage"),
    "POST /threads/{thread_id}/runs/{run_id} #1": abridged("required_action"),
    "POST /threads/{thread_id}/runs/{run_id}/submit_tool_outputs #1": abridged("incomplete_details", "required_action"),
    "POST /threads/{thread_id}/runs/{run_id}/cancel #1": abridged("incomplete_details", "max_completion_tokens", "max_prompt_tokens", "required_action", "tool_choice", "truncation_strategy"),
    "GET /threads/{thread_id}/runs/{run_id}/steps #1": abridged("metadata"),
    "GET /threads/{thread_id}/runs/{run_id}/steps/{step_id} #1": abridged("metadata"),
    "GET /vector_stores #1": abridged("last_active_at", "metadata", "status", "usage_bytes"),
    "POST /vector_stores #1": abridged("last_active_at", "metadata", "status", "usage_bytes"),
    "GET /vector_stores/{vector_store_id} #1": abridged("file_counts", "last_active_at", "metadata", "name", "status", "usage_bytes"),
    "POST /vector_stores/{vector_store_id} #1": abridged("last_active_at", "metadata", "status", "usage_bytes"),
    "GET /vector_stores/{vector_store_id}/files #1": abridged("last_error", "status", "usage_bytes"),
    "GET /vector_stores/{vector_store_id}/files/{file_id} #1": abridged("usage_bytes"),
    "POST /vector_stores/{vector_store_id}/file_batches #1": (FILE_BATCH_NAME, ("object",), 'got "vector_store.file_batch"'),
    "GET /vector_stores/{vector_store_id}/file_batches/{batch_id} #1": (FILE_BATCH_NAME, ("object",), 'got "vector_store.file_batch"'),
    "POST /vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel #1": (FILE_BATCH_NAME, ("object",), 'got "vector_store.file_batch"'),
    "GET /vector_stores/{vector_store_id}/file_batches/{batch_id}/files #1": abridged("last_error", "status", "usage_bytes"),
}


@dataclass(frozen=True)
class DocExample:
    id: str
    method: str
    path: str
    status: int
    document: Any  # the parsed JSON after "Responses: Status Code"; None when it does not parse
    problem: str = ""


def _doc_file() -> Path | None:
    found = sorted((SHARED / "reference-docs").glob("001_*.txt")) if SHARED.is_dir() else []
    return found[0] if found else None


def extract_examples(text: str) -> list[DocExample]:
    requests = [(m.start(), m.group(1), m.group(2)) for m in _REQUEST_LINE.finditer(text)]
    decoder = json.JSONDecoder()
    examples: list[DocExample] = []
    counts: dict[str, int] = {}
    for match in _RESPONSE_LINE.finditer(text):
        before = [r for r in requests if r[0] < match.start()]
        if not before:
            continue
        _, method, path = before[-1]
        start = text.find("{", match.end())
        base = f"{method} {path}"
        counts[base] = counts.get(base, 0) + 1
        example_id = f"{method} {path} #{counts[base]}"
        try:
            document, _ = decoder.raw_decode(text, start)
            problem = ""
        except json.JSONDecodeError as exc:
            document, problem = None, f"the example is not valid JSON ({exc.msg})"
        examples.append(DocExample(example_id, method, path, int(match.group(1)), document, problem))
    return examples


def _examples() -> list[Any]:
    doc = _doc_file()
    if doc is None:
        return [pytest.param(None, id="reference-doc-absent")]
    params = []
    for example in extract_examples(doc.read_text(encoding="utf-8")):
        params.append(pytest.param(example, id=example.id))
    return params


def test_reference_doc_has_examples() -> None:
    doc = _doc_file()
    if doc is None:
        pytest.skip(f"the reference docs are not available ({SHARED} is absent)")
    examples = extract_examples(doc.read_text(encoding="utf-8"))
    # One per "Responses: Status Code" heading: the extractor must not lose any.
    assert len(examples) == len(_RESPONSE_LINE.findall(doc.read_text(encoding="utf-8")))
    assert len(examples) > 40


@pytest.mark.parametrize("example", _examples())
def test_reference_example_matches_contract(example: DocExample | None) -> None:
    if example is None:
        pytest.skip(f"the reference docs are not available ({SHARED} is absent)")
    assert not example.problem, example.problem
    contract = load_contract(DOC_VERSION)
    matched = contract.match(example.method, example.path)
    assert matched is not None, f"{example.method} {example.path} is not an operation of the contract"
    op, _ = matched
    document = example.document
    if isinstance(document, dict) and set(document) == {"type", "example"}:
        pytest.skip(f"not a response object example but a schema sketch: {json.dumps(document)[:80]}")
    # Most examples wrap the answer as {"body": ...}; a few give the object itself.
    body = document["body"] if isinstance(document, dict) and "body" in document else document
    if not isinstance(body, dict | list):
        pytest.skip(f"{op.operation_id} answers binary/plain content; the example body is {json.dumps(body)[:40]}")
    findings = errors(contract.validate_response(op, example.status, {"content-type": "application/json"}, body))
    report = "\n".join(str(f) for f in findings)
    if example.id not in EXAMPLE_DEFECTS:
        assert not findings, report
        return
    reason, fields, says = EXAMPLE_DEFECTS[example.id]
    found = {f.where.rsplit(".", 1)[-1] for f in findings}
    assert found, f"recorded defect no longer reproduces ({reason}): remove {example.id!r} from EXAMPLE_DEFECTS"
    assert found <= set(fields), f"findings beyond the recorded defect ({', '.join(fields)}):\n{report}"
    assert all(says in f.message for f in findings), f"findings other than {says!r}:\n{report}"
    pytest.xfail(reason)


# -- request examples -----------------------------------------------------------------------------

def extract_request_examples(text: str) -> list[tuple[str, str, str, Any]]:
    """(id, method, path, body) for every example request carrying a JSON body.

    An example's request line is followed by its body (if any) and then its `Responses:` line; an
    operation's own heading line is followed by its parameter tables instead, and is not an example.
    """
    decoder = json.JSONDecoder()
    found: list[tuple[str, str, str, Any]] = []
    counts: dict[str, int] = {}
    for match in _REQUEST_LINE.finditer(text):
        following = _RESPONSE_LINE.search(text, match.end())
        if following is None:
            continue
        between = text[match.end():following.start()]
        if "URI Parameters" in between:
            continue
        start = between.find("{")
        if start < 0:
            continue  # no body, or a multipart sketch written as a string
        body, _ = decoder.raw_decode(between, start)
        base = f"{match.group(1)} {match.group(2)}"
        counts[base] = counts.get(base, 0) + 1
        found.append((f"{base} request #{counts[base]}", match.group(1), match.group(2), body))
    return found


def _request_examples() -> list[Any]:
    doc = _doc_file()
    if doc is None:
        return [pytest.param(None, id="reference-doc-absent")]
    return [pytest.param(example, id=example[0])
            for example in extract_request_examples(doc.read_text(encoding="utf-8"))]


def test_reference_doc_has_request_examples() -> None:
    doc = _doc_file()
    if doc is None:
        pytest.skip(f"the reference docs are not available ({SHARED} is absent)")
    assert len(extract_request_examples(doc.read_text(encoding="utf-8"))) >= 20


@pytest.mark.parametrize("example", _request_examples())
def test_reference_request_example_is_accepted(example: tuple[str, str, str, Any] | None) -> None:
    if example is None:
        pytest.skip(f"the reference docs are not available ({SHARED} is absent)")
    _, method, path, body = example
    contract = load_contract(DOC_VERSION)
    matched = contract.match(method, path)
    assert matched is not None, f"{method} {path} is not an operation of the contract"
    findings = errors(contract.validate_request(matched[0], query={"api-version": DOC_VERSION}, body=body,
                                                content_type="application/json"))
    assert not findings, "\n".join(str(f) for f in findings)
